"""The Transport contract on an in-memory transport: the handshake driver and frame hand-over.

Nothing here is TCP: what passes is what any transport (a WebSocket one included) gets
by subclassing FrameTransport and feeding it the server's bytes.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from rxnats.errors import ProtocolError, SecureConnFailedError, UnexpectedEOF
from rxnats.testing.transport import MemoryTransport
from rxnats.wire.aio.transport import FrameTransport, Transport, handshake
from rxnats.wire.frames import Frame, PingFrame, is_msg_frame
from rxnats.wire.handshake import ConnectSettings, Handshake
from rxnats.wire.parser import Parser
from rxnats.wire.urls import parse_server_url

INFO = b'INFO {"server_id":"S","tls_available":true,"max_payload":64}\r\n'


def as_transport(conn: MemoryTransport) -> Transport:
    return conn  # the type checker verifies MemoryTransport implements the protocol


async def test_the_handshake_driver_speaks_bytes_over_any_transport() -> None:
    conn = MemoryTransport("tls://h:4222")
    hs = Handshake(conn.address, ConnectSettings(version="1"), tls_wanted=True)
    task = asyncio.create_task(handshake(as_transport(conn), hs))
    conn.feed(INFO)
    await asyncio.sleep(0)
    assert conn.tls_upgrades == 1 and conn.secure  # TLS after INFO, before CONNECT
    assert conn.written.startswith(b"CONNECT ") and conn.written.endswith(b"\r\nPING\r\n")
    assert json.loads(conn.written[8:-8])["tls_required"] is True
    conn.feed(b"+OK\r\nPING\r\nPONG\r\n")
    info = await asyncio.wait_for(task, 1)
    assert info.max_payload == 64 and conn.info is info
    assert conn.writes[-1] == b"PONG\r\n"  # the server's PING was answered


async def test_a_transport_that_cannot_start_tls_fails_the_handshake_clearly() -> None:
    class Plain(FrameTransport):
        secure = False

        def send_bytes(self, data: bytes | bytearray | memoryview) -> None:
            pass

        def close(self) -> None:
            pass

        def abort(self) -> None:
            pass

    conn = Plain(parse_server_url("tls://h:1"), Parser())
    hs = Handshake(conn.address, ConnectSettings(version="1"), tls_wanted=True)
    conn.feed(INFO)
    with pytest.raises(SecureConnFailedError, match="cannot start TLS"):
        await handshake(conn, hs)


async def test_frames_queue_until_handlers_are_set_then_go_in_order() -> None:
    conn = MemoryTransport()
    conn.feed(b"PING\r\nMSG a 1 2\r\nhi\r\n")
    got: list[Frame] = []
    lost: list[BaseException | None] = []
    conn.set_handlers(got.extend, lost.append)
    conn.feed(b"MSG b 1 0\r\n\r\n")
    assert isinstance(got[0], PingFrame)
    assert [f[0] for f in got[1:] if isinstance(f, tuple)] == ["a", "b"]
    assert all(isinstance(f, PingFrame | tuple) for f in got)
    assert lost == []


async def test_frames_before_garbage_are_handed_over_then_the_connection_ends() -> None:
    conn = MemoryTransport()
    got: list[Frame] = []
    lost: list[BaseException | None] = []
    conn.set_handlers(got.extend, lost.append)
    conn.feed(b"MSG a 1 0\r\n\r\nGARBAGE\r\n")
    assert is_msg_frame(got[0]) and got[0][0] == "a"
    assert conn.ended_by == "abort"
    await asyncio.sleep(0)
    assert len(lost) == 1 and isinstance(lost[0], ProtocolError)


async def test_next_frame_after_the_peer_left_is_unexpected_eof() -> None:
    conn = MemoryTransport()
    conn.drop(ConnectionResetError())
    with pytest.raises(UnexpectedEOF):
        await asyncio.wait_for(conn.next_frame(), 1)
