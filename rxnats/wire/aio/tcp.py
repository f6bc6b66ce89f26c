"""The TCP (and TLS) transport: a :class:`~rxnats.wire.aio.transport.Transport` on asyncio.

:class:`TcpTransport` is a :class:`~rxnats.wire.aio.transport.FrameTransport` whose bytes
travel over an asyncio transport: its protocol feeds what arrives, and asyncio's
``pause_writing``/``resume_writing`` are the write backpressure. :func:`open_tcp` opens one
(TLS first when asked), completes the handshake and returns it up.

TLS never silently degrades (the decisions are :mod:`rxnats.wire.handshake`'s): TLS asked
for of a server that offers none is :class:`SecureConnWantedError`; a server requiring
TLS of a client with none configured is :class:`SecureConnRequiredError`; any TLS
failure, including a client certificate the server rejects after the handshake, is
:class:`SecureConnFailedError` with a short reason (never the raw OpenSSL text); when an
:class:`ssl.SSLError` was the cause it is a :class:`TLSHandshakeError`, which is also an
``ssl.SSLError`` (``except ssl.SSLError`` catches it, as with nats-py).
"""

from __future__ import annotations

import asyncio
import builtins
import ssl

from rxnats.errors import SecureConnFailedError, SecureConnWantedError, TimeoutError
from rxnats.wire.aio.transport import FrameTransport, TLSSettings, handshake
from rxnats.wire.handshake import ConnectSettings, Handshake
from rxnats.wire.parser import Parser
from rxnats.wire.urls import ServerAddress

__all__ = [
    "TLSCertificateError",
    "TLSHandshakeError",
    "TcpTransport",
    "is_plaintext_answer",
    "open_tcp",
    "tls_error",
    "tls_handshake_failed",
]

# Let asyncio buffer this much before it pauses us: publishers should run ahead of the
# kernel a little, not unboundedly.
_WRITE_HIGH_WATER = 1024 * 1024
_WRITE_LOW_WATER = 256 * 1024


class _Protocol(asyncio.Protocol):
    def __init__(self, conn: TcpTransport) -> None:
        self._conn = conn
        # asyncio calls the transport's feed itself: one call less per read.
        self.data_received = conn.feed  # type: ignore[method-assign]  # same signature

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        pass

    def data_received(self, data: bytes) -> None:
        self._conn.feed(data)

    def eof_received(self) -> bool | None:
        return False  # close the transport; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self._conn.lost(exc)

    def pause_writing(self) -> None:
        self._conn.pause()

    def resume_writing(self) -> None:
        self._conn.resume()


class TcpTransport(FrameTransport):
    """One connection to a server over TCP, maybe TLS. Create it with :func:`open_tcp`."""

    def __init__(self, address: ServerAddress, parser: Parser, tls: TLSSettings) -> None:
        super().__init__(address, parser)
        self.tls = tls
        self._secure = False
        self._transport: asyncio.Transport | None = None
        self._protocol = _Protocol(self)

    @property
    def secure(self) -> bool:
        """Whether TLS is up on the connection."""
        return self._secure

    @property
    def transport(self) -> asyncio.Transport | None:
        """The asyncio transport carrying the bytes (None before :meth:`connect`)."""
        return self._transport

    @property
    def connected(self) -> bool:
        """Whether the TCP (and TLS-first) connection was made."""
        return self._transport is not None

    @property
    def is_closing(self) -> bool:
        """Whether the connection is closed or closing."""
        return self._closed or self._transport is None or self._transport.is_closing()

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Queue ``data`` on the socket (never blocks; see :meth:`wait_writable`)."""
        # FrameTransport.write in one call: this runs once per batch of publishes.
        if self._transport is not None and not self._closed:
            self._transport.write(data)

    def offer(self, data: bytes | bytearray | memoryview) -> bool:
        """Queue ``data`` unless the connection is closing; return whether it was taken."""
        # is_closing and write in one call: this runs once per request and reply.
        transport = self._transport
        if self._closed or transport is None or transport.is_closing():
            return False
        transport.write(data)
        return True

    def send_bytes(self, data: bytes | bytearray | memoryview) -> None:
        if self._transport is not None:
            self._transport.write(data)

    def close(self) -> None:
        """Close after the transport's buffer is written out."""
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        """Close at once, discarding buffered data."""
        if self._transport is not None:
            self._transport.abort()

    def handshake_error(self, error: BaseException | None) -> Exception:
        if isinstance(error, ssl.SSLError):
            err = tls_error(f"TLS with {self.address} failed: {_ssl_reason(error)}", error)
            err.__cause__ = error
            return err
        return super().handshake_error(error)

    def _server_hostname(self) -> str:
        return self.tls.hostname or self.address.host

    def _context(self) -> ssl.SSLContext:
        return self.tls.context or ssl.create_default_context()

    async def connect(self) -> None:
        """Open the TCP connection, with the TLS handshake first when configured.

        Raises:
            OSError: the TCP connection failed.
            SecureConnWantedError: the server answered the TLS handshake in plaintext.
            SecureConnFailedError: the TLS handshake failed.
        """
        loop = asyncio.get_running_loop()
        address = self.address
        if self.tls.handshake_first:
            try:
                transport, _ = await loop.create_connection(
                    lambda: self._protocol, address.host, address.port,
                    ssl=self._context(), server_hostname=self._server_hostname(),
                )
            except ssl.SSLError as exc:
                if is_plaintext_answer(exc):
                    raise SecureConnWantedError(
                        f"{address} answered the TLS handshake in plaintext: it does not do "
                        "TLS handshake-first (server tls { handshake_first: true })"
                    ) from exc
                raise tls_handshake_failed(address, exc) from exc
            self._secure = True
        else:
            transport, _ = await loop.create_connection(
                lambda: self._protocol, address.host, address.port
            )
        self._transport = transport
        transport.set_write_buffer_limits(high=_WRITE_HIGH_WATER, low=_WRITE_LOW_WATER)

    async def start_tls(self) -> None:
        """Start TLS on the plaintext connection (after the server's INFO).

        Raises:
            SecureConnFailedError: the TLS handshake failed.
        """
        transport = self._transport
        assert transport is not None
        try:
            new_transport = await asyncio.get_running_loop().start_tls(
                transport, self._protocol, self._context(),
                server_hostname=self._server_hostname(),
            )
        except ssl.SSLError as exc:
            raise tls_handshake_failed(self.address, exc) from exc
        except ConnectionError as exc:
            raise SecureConnFailedError(
                f"{self.address} closed the connection during the TLS handshake"
            ) from exc
        if new_transport is None:
            raise SecureConnFailedError(f"TLS upgrade with {self.address} failed")
        self._transport = new_transport
        new_transport.set_write_buffer_limits(high=_WRITE_HIGH_WATER, low=_WRITE_LOW_WATER)
        self._secure = True


async def open_tcp(
    address: ServerAddress,
    *,
    settings: ConnectSettings,
    tls: TLSSettings,
    timeout: float,
    parser: Parser | None = None,
) -> TcpTransport:
    """Connect to ``address`` and complete the NATS handshake within ``timeout`` seconds.

    ``settings`` make the CONNECT (with the credentials for this server's nonce). The
    returned transport is up (PONG received) and has no frame handler yet.

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
    conn = TcpTransport(address, parser or Parser(), tls)
    hs = Handshake(address, settings, tls_wanted=tls.wanted(address), secure=False)
    try:
        async with asyncio.timeout(timeout):
            await conn.connect()
            hs.secure = conn.secure
            await handshake(conn, hs)
    except builtins.TimeoutError as exc:
        conn.abort()
        if hs.awaiting_info and conn.connected and not tls.handshake_first:
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


class TLSHandshakeError(SecureConnFailedError, ssl.SSLError):
    """The TLS handshake failed: a :class:`SecureConnFailedError` that is also an
    :class:`ssl.SSLError` (what nats-py raises), with the SSL error's ``reason`` and
    ``library``; the message is rxnats' short one, never the raw OpenSSL text."""


class TLSCertificateError(TLSHandshakeError, ssl.SSLCertVerificationError):
    """The server's certificate did not verify; also an :class:`ssl.SSLCertVerificationError`
    (with ``verify_code`` and ``verify_message``)."""


def tls_error(message: str, exc: ssl.SSLError) -> TLSHandshakeError:
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


def tls_handshake_failed(address: ServerAddress, exc: ssl.SSLError) -> TLSHandshakeError:
    """The error for a failed TLS handshake with ``address``."""
    return tls_error(f"TLS handshake with {address} failed: {_ssl_reason(exc)}", exc)


# OpenSSL's names for "the peer's first bytes were not a TLS record": a server that
# speaks NATS in plaintext (its INFO line) when the client started with a ClientHello.
_PLAINTEXT_REASONS = frozenset(
    {"WRONG_VERSION_NUMBER", "UNKNOWN_PROTOCOL", "HTTP_REQUEST", "PACKET_LENGTH_TOO_LONG",
     "RECORD_LAYER_FAILURE"}
)


def is_plaintext_answer(exc: ssl.SSLError) -> bool:
    """Whether ``exc`` says the peer answered a ClientHello with something not TLS."""
    return not isinstance(exc, ssl.SSLCertVerificationError) and exc.reason in _PLAINTEXT_REASONS


def _ssl_reason(exc: ssl.SSLError) -> str:
    """A short, secret-free description of a TLS failure."""
    if isinstance(exc, ssl.SSLCertVerificationError) and exc.verify_message:
        return f"certificate verification failed: {exc.verify_message}"
    reason = exc.reason or type(exc).__name__
    return str(reason).replace("_", " ").lower()

