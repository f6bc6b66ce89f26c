"""The WebSocket transport: NATS over ``ws://`` and ``wss://`` (``pip install 'rxnats[websocket]'``).

Over a WebSocket the NATS protocol is the same byte stream as over TCP: the server's
bytes arrive in binary frames (one frame may hold many operations, or a part of one)
and the client's leave as binary frames, one per write. So :class:`WebSocketTransport`
is a :class:`~rxnats.wire.aio.transport.FrameTransport` like the TCP one: the parser,
the handshake, the writer and the supervisor above it are the same; only the framing
differs. The framing is the ``websockets`` library's sans-I/O
:class:`websockets.client.ClientProtocol`, driven from an :class:`asyncio.Protocol`
exactly as the TCP transport drives the parser: bytes in, frames out, no task, no queue
of its own, and asyncio's ``pause_writing``/``resume_writing`` as the write backpressure.

Connecting: TCP, then TLS at once for ``wss://`` (asyncio's, with the TCP transport's
error translation: a certificate that does not verify is a
:class:`~rxnats.wire.aio.tcp.TLSCertificateError`, a server that answers in plaintext a
:class:`~rxnats.errors.SecureConnWantedError`), then the HTTP upgrade (with the
``ws_connection_headers`` the client was given, at every connect), then the NATS
handshake. TLS never silently degrades: a client with a TLS context (or TLS
handshake-first) refuses a ``ws://`` URL with :class:`~rxnats.errors.SecureConnWantedError`
rather than talking plaintext; ``wss://`` is TLS by its scheme.

Limits: a frame from the server is held whole before its bytes reach the parser, so
its size is capped (:data:`MAX_FRAME_SIZE`; nats-server puts everything it has pending
for a client into one frame, which can be several times ``max_payload``). A larger
frame closes the connection (code 1009) and the client reconnects. With
``compression`` the client offers permessage-deflate; the server uses it only when
its ``websocket`` block says ``compression: true``, and inflated frames are capped the
same way.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Sequence

from websockets.client import ClientProtocol
from websockets.exceptions import InvalidMessage, InvalidStatus
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from websockets.frames import DATA_OPCODES, Frame
from websockets.http11 import Response
from websockets.protocol import State
from websockets.uri import WebSocketURI

from rxnats.errors import ProtocolError, SecureConnWantedError, UnexpectedEOF
from rxnats.wire.aio.tcp import is_plaintext_answer, tls_handshake_failed
from rxnats.wire.aio.transport import FrameTransport, TLSSettings, handshake
from rxnats.wire.handshake import ConnectSettings, Handshake
from rxnats.wire.parser import Parser
from rxnats.wire.urls import ServerAddress

__all__ = ["MAX_FRAME_SIZE", "WebSocketTransport", "open_ws"]

#: The largest frame (after inflating) the client takes from the server: a security
#: limit. nats-server's largest ``max_payload`` is 64 MiB, and it coalesces what it
#: has pending for a client into one frame.
MAX_FRAME_SIZE = 128 * 1024 * 1024

_WRITE_HIGH_WATER = 1024 * 1024
_WRITE_LOW_WATER = 256 * 1024


class _Protocol(asyncio.Protocol):
    def __init__(self, conn: WebSocketTransport) -> None:
        self._conn = conn

    def data_received(self, data: bytes) -> None:
        self._conn.received(data)

    def eof_received(self) -> bool | None:
        self._conn.received_eof()
        return False  # close the transport; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self._conn.connection_lost(exc)

    def pause_writing(self) -> None:
        self._conn.pause()

    def resume_writing(self) -> None:
        self._conn.resume()


class WebSocketTransport(FrameTransport):
    """One connection to a server over a WebSocket. Create it with :func:`open_ws`."""

    def __init__(
        self,
        address: ServerAddress,
        parser: Parser,
        tls: TLSSettings,
        *,
        headers: Sequence[tuple[str, str]] = (),
        compression: bool = False,
    ) -> None:
        super().__init__(address, parser)
        self.tls = tls
        self._headers = tuple(headers)
        self._transport: asyncio.Transport | None = None
        self._protocol = _Protocol(self)
        self._upgraded: asyncio.Future[None] | None = None
        secure = address.scheme == "wss"
        # The Host header names the server as configured (the supervisor dials an
        # address its name resolved to and says which name in tls.hostname).
        uri = WebSocketURI(secure, tls.hostname or address.host, address.port, address.path, "")
        self._ws = ClientProtocol(
            uri,
            max_size=MAX_FRAME_SIZE,
            extensions=[ClientPerMessageDeflateFactory()] if compression else None,
        )

    @property
    def secure(self) -> bool:
        """Whether the channel is encrypted (``wss://``)."""
        return self._ws.uri.secure and self._transport is not None

    @property
    def connected(self) -> bool:
        """Whether the TCP (and TLS) connection was made."""
        return self._transport is not None

    @property
    def is_closing(self) -> bool:
        """Whether the connection is closed or closing."""
        return self._closed or self._transport is None or self._transport.is_closing()

    @property
    def compressed(self) -> bool:
        """Whether the server accepted permessage-deflate."""
        return bool(self._ws.extensions)

    # -- FrameTransport -----------------------------------------------------------------
    def send_bytes(self, data: bytes | bytearray | memoryview) -> None:
        ws = self._ws
        if ws.state is State.OPEN:
            ws.send_binary(data)
            self._flush()

    def close(self) -> None:
        """Send a close frame and close after what is queued is written."""
        transport = self._transport
        if transport is None:
            return
        if self._ws.state is State.OPEN:
            self._ws.send_close(1000)
            self._flush()
        transport.close()

    def abort(self) -> None:
        """Close at once, discarding what is queued."""
        if self._transport is not None:
            self._transport.abort()

    def handshake_error(self, error: BaseException | None) -> Exception:
        if isinstance(error, ssl.SSLError):
            err = tls_handshake_failed(self.address, error)
            err.__cause__ = error
            return err
        if error is None and self._ws.close_rcvd is not None:
            close = self._ws.close_rcvd
            return UnexpectedEOF(
                f"server closed the WebSocket during the handshake ({close.code} {close.reason})"
            )
        return super().handshake_error(error)

    # -- what _Protocol reports -----------------------------------------------------------
    def received(self, data: bytes) -> None:
        """Bytes from the socket: WebSocket frames (or, first, the HTTP response)."""
        ws = self._ws
        ws.receive_data(data)
        for event in ws.events_received():
            if type(event) is Frame:
                if event.opcode in DATA_OPCODES and self._error is None:
                    payload = event.data  # a bytearray from websockets: one copy per frame
                    self.feed(payload if type(payload) is bytes else bytes(payload))
            elif isinstance(event, Response):
                self._upgrade_done(ws.handshake_exc)  # the upgrade's answer: 101 or not
        self._flush()
        if ws.handshake_exc is not None:
            self._upgrade_done(ws.handshake_exc)
        elif ws.parser_exc is not None and self._error is None:
            # websockets queued its close frame (flushed above); the server misbehaved.
            self._error = ProtocolError(f"WebSocket error from {self.address}: {ws.parser_exc}")
            self.close()
        elif ws.state is not State.OPEN and ws.state is not State.CONNECTING:
            # The server sent a close frame (answered above): do not wait for its TCP close.
            self.close()

    def received_eof(self) -> None:
        """The server closed its side."""
        self._ws.receive_eof()
        self._flush()

    def connection_lost(self, exc: Exception | None) -> None:
        """The socket is closed."""
        if exc is None and self._ws.state is State.CONNECTING:
            exc = ConnectionResetError("closed during the WebSocket upgrade")
        self._upgrade_done(exc)
        self.lost(exc)

    # -- connecting ---------------------------------------------------------------------
    async def connect(self) -> None:
        """Open the TCP connection (TLS for ``wss://``) and upgrade it to a WebSocket.

        Raises:
            OSError: the TCP connection failed or was closed during the upgrade.
            SecureConnWantedError: ``wss://`` and the server answered in plaintext, or
                TLS is configured and the URL is ``ws://``.
            SecureConnFailedError: the TLS handshake failed.
            ProtocolError: the server refused the upgrade or did not answer in HTTP.

        Cancelling it leaves the socket open (:func:`open_ws` aborts it).
        """
        loop = asyncio.get_running_loop()
        address = self.address
        tls = self.tls
        context: ssl.SSLContext | None = None
        if self._ws.uri.secure:
            context = tls.context or ssl.create_default_context()
        elif tls.context is not None or tls.handshake_first:
            raise SecureConnWantedError(
                f"TLS is configured but {address} is a plaintext WebSocket URL: use wss://"
            )
        try:
            transport, _ = await loop.create_connection(
                lambda: self._protocol, address.host, address.port,
                ssl=context, server_hostname=(tls.hostname or address.host) if context else None,
            )
        except ssl.SSLError as exc:
            if is_plaintext_answer(exc):
                raise SecureConnWantedError(
                    f"{address} answered the TLS handshake in plaintext: use ws://, or give "
                    "the server's websocket block a tls section"
                ) from exc
            raise tls_handshake_failed(address, exc) from exc
        self._transport = transport
        transport.set_write_buffer_limits(high=_WRITE_HIGH_WATER, low=_WRITE_LOW_WATER)
        request = self._ws.connect()
        for name, value in self._headers:
            request.headers[name] = value
        self._upgraded = loop.create_future()
        self._ws.send_request(request)
        self._flush()
        await self._upgraded

    def _upgrade_done(self, exc: BaseException | None) -> None:
        waiter = self._upgraded
        if waiter is None or waiter.done():
            return
        if exc is None:
            waiter.set_result(None)
        else:
            waiter.set_exception(self._upgrade_error(exc))

    def _upgrade_error(self, exc: BaseException) -> BaseException:
        address = self.address
        if isinstance(exc, InvalidStatus):
            response = exc.response
            err: BaseException = ProtocolError(
                f"{address} refused the WebSocket upgrade: HTTP {response.status_code} "
                f"{response.reason_phrase}"
            )
        elif isinstance(exc, InvalidMessage):
            cause = str(exc.__cause__ or exc)
            hint = (
                "it speaks plain NATS: this is its client port, use nats:// or tls://"
                if "INFO" in cause
                else "is this the server's websocket port?"
            )
            err = ProtocolError(f"{address} did not answer the WebSocket upgrade in HTTP ({hint})")
        elif isinstance(exc, ssl.SSLError):
            err = tls_handshake_failed(address, exc)
        elif isinstance(exc, OSError):
            return exc
        else:
            err = ProtocolError(f"WebSocket upgrade with {address} failed: {exc}")
        err.__cause__ = exc
        return err

    def _flush(self) -> None:
        transport = self._transport
        if transport is None:
            return
        for chunk in self._ws.data_to_send():
            if chunk:
                transport.write(chunk)
            elif transport.can_write_eof():
                transport.write_eof()
            else:
                transport.close()


async def open_ws(
    address: ServerAddress,
    *,
    settings: ConnectSettings,
    tls: TLSSettings,
    timeout: float,
    headers: Sequence[tuple[str, str]] = (),
    compression: bool = False,
    parser: Parser | None = None,
) -> WebSocketTransport:
    """Connect to ``address`` (``ws://`` or ``wss://``) and complete the NATS handshake.

    ``headers`` go into the HTTP upgrade request; ``compression`` offers
    permessage-deflate. The TCP connect, TLS, the upgrade and the NATS handshake
    together take at most ``timeout`` seconds. The returned transport is up (PONG
    received) and has no frame handler yet.

    Raises:
        OSError: the TCP connection failed.
        builtins.TimeoutError: it took longer than ``timeout``.
        SecureConnWantedError: TLS is configured and the URL is ``ws://``, or a
            ``wss://`` server answered in plaintext.
        SecureConnRequiredError: the server requires TLS and none is configured.
        SecureConnFailedError: the TLS handshake failed (a
            :class:`~rxnats.wire.aio.tcp.TLSHandshakeError`).
        ProtocolError: the server refused the upgrade, or sent something not NATS.
        AuthorizationError, ServerError: the server answered CONNECT with ``-ERR``.
        UnexpectedEOF: the server went away during the handshake.

    Cancelling it closes the half-open connection.
    """
    conn = WebSocketTransport(
        address, parser or Parser(), tls, headers=headers, compression=compression
    )
    hs = Handshake(address, settings, tls_wanted=tls.wanted(address), secure=False)
    try:
        async with asyncio.timeout(timeout):
            await conn.connect()
            hs.secure = conn.secure
            await handshake(conn, hs)
    except BaseException:
        conn.abort()
        raise
    return conn
