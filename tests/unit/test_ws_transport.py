"""The WebSocket transport against a scripted WebSocket server on a local socket.

The server side is websockets' own sans-I/O ``ServerProtocol`` (the HTTP upgrade and the
client's masked frames) plus bytes written by hand where a real nats-server would never
go: NATS operations cut across many frames and fragments, a frame over the size limit,
a close frame in the middle of the handshake.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.server import ServerProtocol

from rxnats.errors import ProtocolError, UnexpectedEOF
from rxnats.wire.aio.transport import TLSSettings
from rxnats.wire.aio.ws import MAX_FRAME_SIZE, open_ws
from rxnats.wire.frames import Frame as NatsFrame
from rxnats.wire.frames import is_msg_frame
from rxnats.wire.handshake import ConnectSettings
from rxnats.wire.urls import parse_server_url

INFO = b'INFO {"server_id":"S","version":"2.15.1","proto":1,"headers":true,"max_payload":1048576}\r\n'
SETTINGS = ConnectSettings(version="0.0.0")


class Peer:
    """The server's side of one WebSocket connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.ws = ServerProtocol()
        self.request: Request | None = None
        self.received = bytearray()

    async def accept(self) -> None:
        """Read the upgrade request and answer 101."""
        while self.request is None:
            self.ws.receive_data(await self.reader.read(65536))
            for event in self.ws.events_received():
                if isinstance(event, Request):
                    self.request = event
        self.ws.send_response(self.ws.accept(self.request))
        self._flush()

    def send_raw(self, data: bytes) -> None:
        self.writer.write(data)

    def send_binary(self, data: bytes, *, fin: bool = True, first: bool = True) -> None:
        """One unmasked frame from the server (continuation unless ``first``)."""
        opcode = Opcode.BINARY if first else Opcode.CONT
        self.send_raw(Frame(opcode, data, fin=fin).serialize(mask=False))

    async def read_until(self, marker: bytes) -> bytes:
        """The client's stream (its frames unmasked) until ``marker``."""
        while marker not in self.received:
            self.ws.receive_data(await self.reader.read(65536))
            for event in self.ws.events_received():
                if isinstance(event, Frame) and event.opcode in (Opcode.BINARY, Opcode.CONT):
                    self.received += event.data
            self._flush()
        return bytes(self.received)

    def _flush(self) -> None:
        for chunk in self.ws.data_to_send():
            if chunk:
                self.writer.write(chunk)


Script = Callable[[Peer], Awaitable[None]]


@asynccontextmanager
async def ws_server(script: Script) -> AsyncIterator[str]:
    errors: list[BaseException] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await script(Peer(reader, writer))
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except BaseException as exc:  # kept for the test to see
            errors.append(exc)
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"ws://127.0.0.1:{port}/nats"
    finally:
        server.close()
        await server.wait_closed()
    assert not errors, errors


async def test_nats_operations_cut_across_frames_and_fragments_arrive_whole() -> None:
    message = b"MSG greet 1 5\r\nhello\r\n"
    seen: dict[str, object] = {}

    async def script(peer: Peer) -> None:
        await peer.accept()
        assert peer.request is not None
        seen["path"] = peer.request.path
        seen["origin"] = peer.request.headers.get("Origin")
        seen["host"] = peer.request.headers.get("Host")
        # INFO one byte per frame; then a MSG in a fragmented message.
        for i in range(len(INFO)):
            peer.send_binary(INFO[i : i + 1])
        connect = await peer.read_until(b"PING\r\n")
        seen["connect"] = connect
        peer.send_binary(b"PO")
        peer.send_binary(b"NG\r\n" + message[:3], fin=False)
        peer.send_binary(message[3:10], fin=False, first=False)
        peer.send_binary(message[10:], fin=True, first=False)
        await peer.read_until(b"the end")

    async with ws_server(script) as url:
        address = parse_server_url(url)
        conn = await open_ws(
            address, settings=SETTINGS, tls=TLSSettings(hostname="nats.example"), timeout=5,
            headers=[("Origin", "https://app.example")],
        )
        frames: list[NatsFrame] = []
        got = asyncio.Event()

        def on_frames(batch: list[NatsFrame]) -> None:
            frames.extend(batch)
            got.set()

        conn.set_handlers(on_frames, lambda exc: None)
        await asyncio.wait_for(got.wait(), 5)
        assert len(frames) == 1 and is_msg_frame(frames[0])
        assert frames[0][0] == "greet" and frames[0][3] == b"hello"
        conn.write(b"the end")
        await asyncio.sleep(0)
        conn.close()
    assert seen["path"] == "/nats"
    assert seen["origin"] == "https://app.example"
    assert seen["host"] == f"nats.example:{address.port}"  # the configured name, not the IP
    assert isinstance(seen["connect"], bytes) and seen["connect"].startswith(b"CONNECT {")


async def test_a_frame_over_the_size_limit_is_a_protocol_error() -> None:
    async def script(peer: Peer) -> None:
        await peer.accept()
        # A header announcing one byte more than the limit; no payload needs to follow.
        peer.send_raw(bytes([0x82, 127]) + struct.pack("!Q", MAX_FRAME_SIZE + 1))
        await peer.reader.read()  # until the client closes

    async with ws_server(script) as url:
        with pytest.raises(ProtocolError, match=r"WebSocket error .*(too big|exceeds)"):
            await open_ws(parse_server_url(url), settings=SETTINGS, tls=TLSSettings(), timeout=5)


async def test_a_close_frame_during_the_handshake_says_why() -> None:
    async def script(peer: Peer) -> None:
        await peer.accept()
        peer.send_raw(Frame(Opcode.CLOSE, struct.pack("!H", 1008) + b"Authentication Failure").serialize(mask=False))
        await peer.reader.read()

    async with ws_server(script) as url:
        with pytest.raises(UnexpectedEOF, match="1008 Authentication Failure"):
            await open_ws(parse_server_url(url), settings=SETTINGS, tls=TLSSettings(), timeout=5)


async def test_an_answer_that_is_not_http_is_a_protocol_error() -> None:
    async def script(peer: Peer) -> None:
        await peer.reader.read(1)
        peer.send_raw(INFO)  # a NATS client port answers like this
        await peer.reader.read()

    async with ws_server(script) as url:
        with pytest.raises(ProtocolError, match="speaks plain NATS"):
            await open_ws(parse_server_url(url), settings=SETTINGS, tls=TLSSettings(), timeout=5)
