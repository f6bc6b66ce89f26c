"""The asyncio edge's contract: one connection to a server, whatever carries its bytes.

:class:`Transport` is what the client, its :class:`~rxnats.wire.aio.writer.Writer` and
the :class:`~rxnats.wire.aio.supervisor.Supervisor` use of a connection. The TCP/TLS
transport (:mod:`rxnats.wire.aio.tcp`) is one implementation; anything that can deliver
the server's bytes and write the client's (a WebSocket client, an in-memory pipe in
tests) can be another. An :class:`Opener` makes one and completes the handshake.

:class:`FrameTransport` is the part such transports share: it parses the bytes it is
fed (:meth:`FrameTransport.feed`), hands the frames, in order, to the one frame handler
the owner set, or queues them for :meth:`~FrameTransport.next_frame` during the
handshake. Frames that precede a protocol error in the same read are handed over first,
then the connection is aborted. Nothing the handler raises reaches the I/O layer (which
would close the connection): it is logged and reading goes on. Write backpressure is
:attr:`~FrameTransport.paused` and :meth:`~FrameTransport.wait_writable`; PONGs owed
while writing is paused collapse into one (see :meth:`~FrameTransport.answer_ping`).
A subclass writes, closes and aborts (:meth:`~FrameTransport.send_bytes`, ...), and
calls :meth:`~FrameTransport.feed`, :meth:`~FrameTransport.lost`,
:meth:`~FrameTransport.pause` and :meth:`~FrameTransport.resume` as its I/O reports.

:func:`handshake` drives the sans-I/O :class:`~rxnats.wire.handshake.Handshake` over any
transport (ADR-40: INFO, TLS when wanted, CONNECT and PING, the PONG).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from rxnats.errors import ProtocolError, SecureConnFailedError, UnexpectedEOF
from rxnats.wire.encoder import PONG
from rxnats.wire.frames import Frame, ServerInfo
from rxnats.wire.handshake import AnswerPing, Connected, Handshake, Send, StartTLS
from rxnats.wire.parser import Parser
from rxnats.wire.urls import ServerAddress

__all__ = [
    "FrameHandler",
    "FrameTransport",
    "LostHandler",
    "Opener",
    "TLSSettings",
    "Transport",
    "handshake",
]

log: logging.Logger = logging.getLogger("rxnats")

FrameHandler = Callable[[list[Frame]], None]
LostHandler = Callable[[BaseException | None], None]


@dataclass(frozen=True, slots=True)
class TLSSettings:
    """How to use TLS: the context, the name to verify, and handshake-first."""

    context: ssl.SSLContext | None = None
    hostname: str | None = None
    handshake_first: bool = False

    def wanted(self, address: ServerAddress) -> bool:
        """Whether the client asks ``address`` for TLS: a ``tls://`` or ``wss://`` URL, or a
        context."""
        return self.context is not None or address.secure_scheme


class Transport(Protocol):
    """One connection to a server, as the client, its writer and the supervisor use it.

    ``address`` is the server as configured (with its credentials); ``info`` its latest
    INFO (the client updates it as new ones arrive).
    """

    address: ServerAddress
    info: ServerInfo

    @property
    def secure(self) -> bool:
        """Whether the channel is encrypted (TLS, ``wss://``)."""
        ...

    @property
    def is_closing(self) -> bool:
        """Whether the connection is closed or closing: nothing written now goes out."""
        ...

    @property
    def paused(self) -> bool:
        """Whether the transport asked writers to wait (see :meth:`wait_writable`)."""
        ...

    def set_handlers(self, on_frames: FrameHandler, on_lost: LostHandler) -> None:
        """Hand every frame from now on (those queued first) to ``on_frames``, and the
        end of the connection (once, with its cause or None) to ``on_lost``."""
        ...

    async def next_frame(self) -> Frame:
        """The next frame, during the handshake (before :meth:`set_handlers`).

        Raises:
            UnexpectedEOF: the server closed the connection.
            ProtocolError: the server sent garbage.
            SecureConnFailedError: TLS failed.
        """
        ...

    async def start_tls(self) -> None:
        """Upgrade the channel to TLS now (after the server's INFO).

        Raises:
            SecureConnFailedError: the TLS handshake failed (or this transport cannot).
        """
        ...

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Queue ``data`` for the server; never blocks (see :meth:`wait_writable`)."""
        ...

    def offer(self, data: bytes | bytearray | memoryview) -> bool:
        """Queue ``data`` unless the connection is closing; return whether it was taken
        (:attr:`is_closing` and :meth:`write` in one call, for the writer's hot path)."""
        ...

    def answer_ping(self, count: int = 1) -> None:
        """Answer ``count`` PINGs of the server with as many PONGs, in one write (maybe
        later, see :class:`FrameTransport`)."""
        ...

    async def wait_writable(self) -> None:
        """Wait until the transport takes more (at once when it does, or when closed)."""
        ...

    def close(self) -> None:
        """Close after what is queued is written."""
        ...

    def abort(self) -> None:
        """Close at once, discarding what is queued."""
        ...


#: Opens one connection to an address and completes the handshake within a timeout:
#: ``(address, tls, timeout) -> transport``.
Opener = Callable[[ServerAddress, TLSSettings, float], Awaitable[Transport]]


class FrameTransport(ABC):
    """The frame side of a transport (see the module docstring); subclasses do the I/O."""

    def __init__(self, address: ServerAddress, parser: Parser) -> None:
        self.address = address
        self.parser = parser
        self.info: ServerInfo = ServerInfo()
        self._handler: FrameHandler | None = None
        self._on_lost: LostHandler | None = None
        self._queued: deque[Frame] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._paused = False
        #: Whether the channel asked writers to wait until its buffer drains (a plain
        #: attribute: the writer reads it after every request and reply).
        self.paused: bool = False
        self._pong_owed = False  # a PING came while writing was paused
        self._writable: asyncio.Future[None] | None = None
        self._closed = False
        self._error: BaseException | None = None

    # -- what a subclass implements -----------------------------------------------------
    @property
    @abstractmethod
    def secure(self) -> bool:
        """Whether the channel is encrypted."""

    @abstractmethod
    def send_bytes(self, data: bytes | bytearray | memoryview) -> None:
        """Queue ``data`` on the underlying channel (only called while it is open)."""

    @abstractmethod
    def close(self) -> None:
        """Close after what is queued is written."""

    @abstractmethod
    def abort(self) -> None:
        """Close at once, discarding what is queued."""

    async def start_tls(self) -> None:
        """Upgrade to TLS; this transport cannot.

        Raises:
            SecureConnFailedError: always, unless a subclass can upgrade.
        """
        raise SecureConnFailedError(f"cannot start TLS on the connection to {self.address}")

    def handshake_error(self, error: BaseException | None) -> Exception:
        """The error :meth:`next_frame` raises once the connection ended with ``error``.

        A subclass translates its channel's own errors (TLS) here.
        """
        if isinstance(error, ProtocolError):
            return error
        return UnexpectedEOF("server closed the connection during the handshake")

    # -- what a subclass calls as its I/O reports -------------------------------------
    def feed(self, data: bytes) -> None:
        """Bytes from the server: parse them and hand the frames over."""
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

    def lost(self, exc: BaseException | None) -> None:
        """The channel is closed (``exc``: why, or None for a clean close)."""
        self._closed = True
        if self._error is None:
            self._error = exc
        self._wake()
        self.resume()
        if self._on_lost is not None:
            self._on_lost(self._error)

    def pause(self) -> None:
        """The channel's buffer is full: writers should wait."""
        self._paused = True
        self.paused = not self._closed

    def resume(self) -> None:
        """The channel takes more again."""
        self._paused = self.paused = False
        if self._pong_owed:
            self._pong_owed = False
            self.write(PONG)
        waiter = self._writable
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        self._writable = None

    # -- the Transport protocol ---------------------------------------------------------
    @property
    def closed(self) -> bool:
        """Whether the channel reported its end (:meth:`lost`)."""
        return self._closed

    @property
    def is_closing(self) -> bool:
        """Whether the connection is closed or closing."""
        return self._closed

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
                raise self.handshake_error(self._error)
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._queued.popleft()

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Queue ``data`` (never blocks; see :meth:`wait_writable`)."""
        if not self._closed:
            self.send_bytes(data)

    def offer(self, data: bytes | bytearray | memoryview) -> bool:
        """Queue ``data`` unless the connection is closing; return whether it was taken."""
        if self.is_closing:
            return False
        self.send_bytes(data)
        return True

    def answer_ping(self, count: int = 1) -> None:
        """Answer ``count`` PINGs of the server (those of one read) with one PONG each,
        in one write: a write per PONG would cost a system call each, and asyncio's
        buffer a chunk each (whose size Python 3.12+ sums on every write).

        While the channel holds more than it wants to (a server that sends PINGs but
        reads nothing), the PONGs are not queued: one is owed and sent when writing
        resumes. The server takes one PONG as the answer to every PING it has
        outstanding, so nothing is lost and the buffer stays bounded (by the high-water
        mark plus the PONGs of one read).
        """
        if self._paused:
            self._pong_owed = True
        else:
            self.write(PONG * count)

    async def wait_writable(self) -> None:
        """Wait until the channel's buffer is below its low-water mark (or it closed).

        Cancelling it is safe.
        """
        if not self.paused:
            return
        if self._writable is None:
            self._writable = asyncio.get_running_loop().create_future()
        await asyncio.shield(self._writable)

    # -- internals --------------------------------------------------------------------------
    def _fail(self, error: ProtocolError) -> None:
        self._error = error
        self.abort()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


async def handshake(transport: Transport, hs: Handshake) -> ServerInfo:
    """Drive ``hs`` over ``transport`` until the PONG; return the server's INFO.

    Raises what :meth:`Handshake.receive`, :meth:`Transport.next_frame` and
    :meth:`Transport.start_tls` raise. Cancelling it leaves the transport open (the
    opener aborts it).
    """
    while True:
        steps = hs.receive(await transport.next_frame())
        transport.info = hs.info
        while steps:
            step = steps.pop(0)
            match step:
                case Send(data=data):
                    transport.write(data)
                case AnswerPing():
                    transport.answer_ping()
                case StartTLS():
                    await transport.start_tls()
                    steps.extend(hs.tls_started())
                case Connected(info=info):
                    return info
