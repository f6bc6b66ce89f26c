"""The asyncio edge: one TCP (or TLS) connection to a NATS server and its handshake.

:class:`Connection` owns an asyncio transport and a :class:`~rxnats.wire.parser.Parser`.
Bytes are parsed in ``data_received`` and the frames handed, in order, to one frame
handler set by the owner; before a handler is set (during the handshake) frames queue
up for :meth:`Connection.next_frame`. Frames that precede a protocol error in the same
read are handed over first, then the connection is aborted. Nothing the handler raises
reaches asyncio (which would close the socket): it is logged and reading goes on.
Write backpressure comes from asyncio's ``pause_writing``/``resume_writing`` and is
exposed as :meth:`Connection.wait_writable`; PONGs owed while writing is paused
collapse into one (see :meth:`Connection.answer_ping`).

:func:`open_connection` performs the ADR-40 handshake: TCP connect (TLS first when asked),
read INFO, upgrade to TLS when the URL, a context or the server asks for it, send
``CONNECT`` and ``PING``, and wait for the ``PONG`` (or the ``-ERR`` that says why not).

TLS never silently degrades: TLS asked for (``tls://``, a context, handshake-first) of a
server that offers none is :class:`SecureConnWantedError`; a server requiring TLS of a
client with none configured is :class:`SecureConnRequiredError`; any TLS failure,
including a client certificate the server rejects after the handshake, is
:class:`SecureConnFailedError` with a short reason (never the raw OpenSSL text); when an
:class:`ssl.SSLError` was the cause it is a :class:`TLSHandshakeError`, which is also an
``ssl.SSLError`` (``except ssl.SSLError`` catches it, as with nats-py).
"""

from __future__ import annotations

import asyncio
import builtins
import logging
import ssl
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from rxnats.errors import (
    ProtocolError,
    SecureConnFailedError,
    SecureConnRequiredError,
    SecureConnWantedError,
    TimeoutError,
    UnexpectedEOF,
)
from rxnats.wire.encoder import PING, PONG, encode_connect
from rxnats.wire.frames import ErrFrame, Frame, InfoFrame, OkFrame, PingFrame, PongFrame, ServerInfo
from rxnats.wire.parser import Parser
from rxnats.wire.policy import server_error_exception
from rxnats.wire.urls import ServerAddress

__all__ = [
    "Connection",
    "TLSCertificateError",
    "TLSHandshakeError",
    "TLSSettings",
    "open_connection",
]

log = logging.getLogger("rxnats")

FrameHandler = Callable[[list[Frame]], None]
LostHandler = Callable[[BaseException | None], None]

# Let asyncio buffer this much before it pauses us: publishers should run ahead of the
# kernel a little, not unboundedly.
_WRITE_HIGH_WATER = 1024 * 1024
_WRITE_LOW_WATER = 256 * 1024


class _Protocol(asyncio.Protocol):
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        pass

    def data_received(self, data: bytes) -> None:
        self._conn._received(data)

    def eof_received(self) -> bool | None:
        return False  # close the transport; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self._conn._lost(exc)

    def pause_writing(self) -> None:
        self._conn._paused = True

    def resume_writing(self) -> None:
        self._conn._resume()


class Connection:
    """One live connection to a server. Create it with :func:`open_connection`."""

    def __init__(self, address: ServerAddress, parser: Parser) -> None:
        self.address = address
        self.parser = parser
        self.info = ServerInfo()
        self.tls = False
        self.awaiting_info = False  # in the handshake, before the server's INFO
        self._transport: asyncio.Transport | None = None
        self._protocol = _Protocol(self)
        self._handler: FrameHandler | None = None
        self._on_lost: LostHandler | None = None
        self._queued: deque[Frame] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._paused = False
        self._pong_owed = False  # a PING came while writing was paused
        self._writable: asyncio.Future[None] | None = None
        self._closed = False
        self._error: BaseException | None = None

    # -- driven by the protocol -------------------------------------------------------
    def _received(self, data: bytes) -> None:
        parser = self.parser
        try:
            frames = parser.feed(data)
        except ProtocolError as exc:
            self._fail(exc)
            return
        handler = self._handler
        if handler is not None:
            try:
                handler(frames)
            except Exception:
                # The owner's bug, not the peer's: the connection is fine.
                log.exception("rxnats: the frame handler raised")
        else:
            self._queued.extend(frames)
            self._wake()
        error = parser.error
        if error is not None:  # the frames before it were handed over above
            self._fail(error)

    def _fail(self, error: ProtocolError) -> None:
        self._error = error
        self.abort()

    def _lost(self, exc: Exception | None) -> None:
        self._closed = True
        if self._error is None:
            self._error = exc
        self._wake()
        self._resume()
        if self._on_lost is not None:
            self._on_lost(self._error)

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _resume(self) -> None:
        self._paused = False
        if self._pong_owed:
            self._pong_owed = False
            self.write(PONG)
        waiter = self._writable
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        self._writable = None

    # -- used by the owner --------------------------------------------------------------
    @property
    def is_closing(self) -> bool:
        """Whether the connection is closed or closing."""
        return self._closed or self._transport is None or self._transport.is_closing()

    @property
    def error(self) -> BaseException | None:
        """Why the connection ended, when it has (a parse error or the socket's error)."""
        return self._error

    def set_handlers(self, on_frames: FrameHandler, on_lost: LostHandler) -> None:
        """Hand every frame from now on (queued ones first) to ``on_frames``."""
        self._handler = on_frames
        self._on_lost = on_lost
        if self._queued:
            frames = list(self._queued)
            self._queued.clear()
            on_frames(frames)
        if self._closed:
            on_lost(self._error)

    async def next_frame(self) -> Frame:
        """The next frame during the handshake (before :meth:`set_handlers`).

        Raises:
            UnexpectedEOF: the server closed the connection.
            ProtocolError: the server sent garbage.

        Cancelling it leaves the connection as it was.
        """
        while not self._queued:
            if self._closed:
                if isinstance(self._error, ProtocolError):
                    raise self._error
                if isinstance(self._error, ssl.SSLError):
                    raise _tls_error(
                        f"TLS with {self.address} failed: {_ssl_reason(self._error)}",
                        self._error,
                    ) from self._error
                raise UnexpectedEOF("server closed the connection during the handshake")
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._queued.popleft()

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Queue ``data`` on the transport (never blocks; see :meth:`wait_writable`)."""
        if self._transport is not None and not self._closed:
            self._transport.write(data)

    def answer_ping(self) -> None:
        """Answer the server's PING with a PONG.

        While asyncio is holding more than its high-water mark for this connection (a
        server that sends PINGs but reads nothing), the PONG is not queued: one is owed
        and sent when writing resumes. The server takes one PONG as the answer to every
        PING it has outstanding, so nothing is lost and the buffer stays bounded.
        """
        if self._paused:
            self._pong_owed = True
        else:
            self.write(PONG)

    @property
    def paused(self) -> bool:
        """Whether asyncio asked us to stop writing until its buffer drains."""
        return self._paused and not self._closed

    async def wait_writable(self) -> None:
        """Wait until the transport's buffer is below its low-water mark (or it closed).

        Cancelling it is safe.
        """
        if not self.paused:
            return
        if self._writable is None:
            self._writable = asyncio.get_running_loop().create_future()
        await asyncio.shield(self._writable)

    def close(self) -> None:
        """Close after the transport's buffer is written out."""
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        """Close at once, discarding buffered data."""
        if self._transport is not None:
            self._transport.abort()

    def buffered(self) -> int:
        """Bytes the transport holds that the kernel has not taken yet."""
        if self._transport is None or self._closed:
            return 0
        return self._transport.get_write_buffer_size()


@dataclass(frozen=True, slots=True)
class TLSSettings:
    """How to use TLS: the context, the name to verify, and handshake-first."""

    context: ssl.SSLContext | None = None
    hostname: str | None = None
    handshake_first: bool = False


ConnectBuilder = Callable[[ServerInfo, ServerAddress], Mapping[str, str | int | bool]]


async def open_connection(
    address: ServerAddress,
    *,
    build_connect: ConnectBuilder,
    tls: TLSSettings,
    timeout: float,
    parser: Parser | None = None,
) -> Connection:
    """Connect to ``address`` and complete the NATS handshake within ``timeout`` seconds.

    ``build_connect`` receives the server's INFO (for its nonce) and returns the CONNECT
    fields. The returned connection is up (PONG received) and has no frame handler yet.

    Raises:
        OSError: the TCP connection failed.
        builtins.TimeoutError: the handshake took longer than ``timeout`` (an
            :class:`rxnats.errors.TimeoutError` naming handshake-first when no INFO came).
        SecureConnWantedError: TLS was asked for but the server does not offer it.
        SecureConnRequiredError: the server requires TLS and none is configured.
        SecureConnFailedError: the TLS handshake failed.
        AuthorizationError, ServerError: the server answered CONNECT with ``-ERR``.
        ProtocolError, UnexpectedEOF: the server misbehaved or went away.

    Cancelling it closes the half-open connection.
    """
    conn = Connection(address, parser or Parser())
    try:
        async with asyncio.timeout(timeout):
            await _handshake(conn, address, build_connect, tls)
    except builtins.TimeoutError as exc:
        conn.abort()
        if conn.awaiting_info and conn._transport is not None and not tls.handshake_first:
            # A server with TLS handshake_first waits, silent, for our ClientHello.
            raise TimeoutError(
                f"{address} sent no INFO within {timeout} s (a server with TLS "
                "handshake_first needs tls_handshake_first=True)"
            ) from exc
        raise
    except BaseException:
        conn.abort()
        raise
    return conn


def _client_context(address: ServerAddress, tls: TLSSettings) -> ssl.SSLContext | None:
    if tls.context is not None:
        return tls.context
    if address.scheme == "tls":
        return ssl.create_default_context()
    return None


async def _handshake(
    conn: Connection,
    address: ServerAddress,
    build_connect: ConnectBuilder,
    tls: TLSSettings,
) -> None:
    loop = asyncio.get_running_loop()
    context = _client_context(address, tls)
    server_hostname = tls.hostname or address.host
    if tls.handshake_first:
        if context is None:
            context = ssl.create_default_context()
        try:
            transport, _ = await loop.create_connection(
                lambda: conn._protocol, address.host, address.port,
                ssl=context, server_hostname=server_hostname,
            )
        except ssl.SSLError as exc:
            if _is_plaintext_answer(exc):
                raise SecureConnWantedError(
                    f"{address} answered the TLS handshake in plaintext: it does not do "
                    "TLS handshake-first (server tls { handshake_first: true })"
                ) from exc
            raise _tls_failed(address, exc) from exc
        conn.tls = True
    else:
        transport, _ = await loop.create_connection(
            lambda: conn._protocol, address.host, address.port
        )
    conn._transport = transport
    transport.set_write_buffer_limits(high=_WRITE_HIGH_WATER, low=_WRITE_LOW_WATER)

    conn.awaiting_info = True
    frame = await conn.next_frame()
    conn.awaiting_info = False
    if not isinstance(frame, InfoFrame):
        raise ProtocolError(f"expected INFO from {address}, got {type(frame).__name__}")
    info = frame.info
    conn.info = info

    if not conn.tls:
        # Never fall back to plaintext: asked-for TLS the server lacks is an error.
        if context is not None and not (info.tls_required or info.tls_available):
            raise SecureConnWantedError(
                f"TLS was requested for {address} but the server does not offer it"
            )
        if context is None and info.tls_required:
            raise SecureConnRequiredError(
                f"{address} requires TLS: use a tls:// URL or pass tls=ssl_context"
            )
        if context is not None:
            await _upgrade(conn, context, server_hostname)

    conn.write(encode_connect(build_connect(info, address)) + PING)
    while True:
        frame = await conn.next_frame()
        match frame:
            case PongFrame():
                return
            case OkFrame():
                continue
            case PingFrame():
                conn.answer_ping()
            case InfoFrame(info=newer):
                conn.info = newer
            case ErrFrame(message=message):
                raise server_error_exception(message)
            case _:
                raise ProtocolError(f"unexpected {type(frame).__name__} before PONG")


async def _upgrade(conn: Connection, context: ssl.SSLContext, server_hostname: str) -> None:
    """Start TLS on the connection's plaintext transport (after the server's INFO)."""
    transport = conn._transport
    assert transport is not None
    try:
        new_transport = await asyncio.get_running_loop().start_tls(
            transport, conn._protocol, context, server_hostname=server_hostname
        )
    except ssl.SSLError as exc:
        raise _tls_failed(conn.address, exc) from exc
    except ConnectionError as exc:
        raise SecureConnFailedError(
            f"{conn.address} closed the connection during the TLS handshake"
        ) from exc
    if new_transport is None:
        raise SecureConnFailedError(f"TLS upgrade with {conn.address} failed")
    conn._transport = new_transport
    new_transport.set_write_buffer_limits(high=_WRITE_HIGH_WATER, low=_WRITE_LOW_WATER)
    conn.tls = True


class TLSHandshakeError(SecureConnFailedError, ssl.SSLError):
    """The TLS handshake failed: a :class:`SecureConnFailedError` that is also an
    :class:`ssl.SSLError` (what nats-py raises), with the SSL error's ``reason`` and
    ``library``; the message is rxnats' short one, never the raw OpenSSL text."""


class TLSCertificateError(TLSHandshakeError, ssl.SSLCertVerificationError):
    """The server's certificate did not verify; also an :class:`ssl.SSLCertVerificationError`
    (with ``verify_code`` and ``verify_message``)."""


def _tls_error(message: str, exc: ssl.SSLError) -> TLSHandshakeError:
    """A :class:`TLSHandshakeError` (or certificate error) for ``exc``, saying ``message``."""
    err: TLSHandshakeError
    # (errno, strerror) as an SSLError carries them: str() is then the message.
    if isinstance(exc, ssl.SSLCertVerificationError):
        err = TLSCertificateError(exc.errno, message)
        err.verify_code = exc.verify_code
        err.verify_message = exc.verify_message
    else:
        err = TLSHandshakeError(exc.errno, message)
    err.reason = exc.reason
    err.library = exc.library
    return err


def _tls_failed(address: ServerAddress, exc: ssl.SSLError) -> TLSHandshakeError:
    return _tls_error(f"TLS handshake with {address} failed: {_ssl_reason(exc)}", exc)


# OpenSSL's names for "the peer's first bytes were not a TLS record": a server that
# speaks NATS in plaintext (its INFO line) when the client started with a ClientHello.
_PLAINTEXT_REASONS = frozenset(
    {"WRONG_VERSION_NUMBER", "UNKNOWN_PROTOCOL", "HTTP_REQUEST", "PACKET_LENGTH_TOO_LONG",
     "RECORD_LAYER_FAILURE"}
)


def _is_plaintext_answer(exc: ssl.SSLError) -> bool:
    return not isinstance(exc, ssl.SSLCertVerificationError) and exc.reason in _PLAINTEXT_REASONS


def _ssl_reason(exc: ssl.SSLError) -> str:
    """A short, secret-free description of a TLS failure."""
    if isinstance(exc, ssl.SSLCertVerificationError) and exc.verify_message:
        return f"certificate verification failed: {exc.verify_message}"
    reason = exc.reason or type(exc).__name__
    return str(reason).replace("_", " ").lower()

