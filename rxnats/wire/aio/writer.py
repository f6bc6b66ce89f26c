"""The coalescing writer: many publishes, one socket write per batch.

``write()`` appends encoded commands to one buffer and, for the first append of a batch,
schedules a flush with ``loop.call_soon``: everything published before the event loop
next turns goes out in a single ``transport.write``. A batch larger than
``flush_threshold`` is handed to the transport at once, and :meth:`Writer.wait_capacity`
lets a publisher wait while asyncio's own buffer is over its high-water mark, so a tight
publish loop yields to the loop instead of growing memory.

With no connection attached (while reconnecting) the buffer keeps everything, bounded by
``pending_size``; beyond that ``write()`` raises :class:`OutboundBufferLimitError` and
keeps nothing of that write. When a new connection is attached the buffer is sent after
whatever the reconnect itself must send first (CONNECT and the subscriptions).

The publish hot path may skip ``write()``: while :attr:`Writer.armed` is true (a
connection is attached and a flush is already scheduled) appending to
:attr:`Writer.batch` is all a write would do, except that a batch reaching
``flush_threshold`` must be handed over with :meth:`Writer.flush_full`.

``write_now()`` is for messages someone waits for (requests, replies): alone, it goes to
the socket at once, with no loop turn of delay. When many are coming (the reader just
handed over a batch of messages, and the callbacks and requests it woke will answer in
the next loop turn) the reader holds the writer (:meth:`Writer.hold`): ``write_now()``
then only appends, and the batch goes out in one write when the reader releases it
(:meth:`Writer.release`, or :meth:`Writer.release_after_ready`, which releases it after
the callbacks already scheduled have run). Order is that of the appends either way.
"""

from __future__ import annotations

import asyncio

from rxnats.errors import OutboundBufferLimitError
from rxnats.wire.aio.transport import Transport

__all__ = ["Writer"]

DEFAULT_FLUSH_THRESHOLD = 64 * 1024


class Writer:
    """Buffers outgoing bytes and writes them to the attached connection in batches."""

    __slots__ = (
        "_conn",
        "_loop",
        "_release_scheduled",
        "_scheduled",
        "armed",
        "batch",
        "flush_threshold",
        "holding",
        "pending_size",
    )

    def __init__(
        self,
        *,
        pending_size: int,
        flush_threshold: int = DEFAULT_FLUSH_THRESHOLD,
    ) -> None:
        self._loop = asyncio.get_running_loop()
        #: The batch being built. Only while ``armed`` may others append to it directly.
        self.batch: bytearray = bytearray()
        self._conn: Transport | None = None
        self._scheduled = False
        #: A connection is attached and a flush is scheduled: bytes appended to ``batch``
        #: go out on the next loop turn (or at once through flush_full at the threshold).
        self.armed: bool = False
        self.pending_size: int = pending_size
        self.flush_threshold: int = flush_threshold
        #: ``write_now()`` appends without writing (see :meth:`hold`).
        self.holding: bool = False
        self._release_scheduled = False

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop it was made on (it schedules its flushes there)."""
        return self._loop

    @property
    def pending(self) -> int:
        """Bytes accepted but not yet handed to the socket."""
        return len(self.batch)

    @property
    def connected(self) -> bool:
        """Whether a live connection is attached."""
        return self._conn is not None and not self._conn.is_closing

    def write(self, data: bytes) -> bool:
        """Append ``data`` to the outgoing buffer.

        Returns whether the publisher should now await :meth:`wait_capacity` (the same
        answer as :meth:`must_wait`, saving a call on the publish hot path).

        Raises:
            OutboundBufferLimitError: no connection is attached and the buffer would grow
                past ``pending_size``; ``data`` is not kept.
        """
        buf = self.batch
        conn = self._conn
        if conn is None:
            self._check_room(len(data))
        buf += data
        if len(buf) >= self.flush_threshold:
            return self.flush_full()
        if not self._scheduled:
            self._scheduled = True
            # Armed only with a connection, so that writes while disconnected always
            # come here and meet the pending_size check.
            self.armed = conn is not None
            self._loop.call_soon(self._scheduled_flush)
        return False

    def write_now(self, data: bytes) -> bool:
        """Append ``data`` and hand the batch to the connection at once, unless the writer
        is :attr:`holding` (then the release sends it); return :meth:`must_wait`.

        For a message someone is waiting for (a request, a reply). Unlike :meth:`write` it
        schedules no flush: one scheduled for nothing would cost the next loop turn a
        needless non-blocking poll, i.e. a wake-up per round trip. Disconnected, it keeps
        ``data`` (within ``pending_size``) for the next connection, as :meth:`write` does.

        Raises:
            OutboundBufferLimitError: as :meth:`write`.
        """
        conn = self._conn
        buf = self.batch
        if conn is None:
            self._check_room(len(data))
            buf += data
            return False
        buf += data
        # flush_now() and must_wait(), inlined: this runs once per request and reply.
        if (not self.holding or len(buf) >= self.flush_threshold) and conn.offer(buf):
            self.batch = bytearray()
        return conn.paused

    def hold(self) -> None:
        """Let :meth:`write_now` append without writing until :meth:`release`.

        For the reader while it dispatches one read's frames: the replies its inline
        callbacks send go out together, in one write.
        """
        self.holding = True

    def release(self) -> None:
        """Stop holding and hand what was held to the connection now."""
        self.holding = False
        self.flush_now()

    def release_after_ready(self) -> None:
        """Hand what is held over now, keep holding until the callbacks already scheduled
        on the loop have run, then release.

        For the reader after a read with several messages: the tasks it woke (requesters
        whose replies came, subscriptions with ``async`` callbacks) run in the next loop
        turn, each answering or requesting again; their writes go out in one write at
        the end of that turn, with no more delay than the turn itself.
        """
        self.flush_now()
        if not self._release_scheduled:
            self._release_scheduled = True
            self._loop.call_soon(self._release_scheduled_hold)

    def _release_scheduled_hold(self) -> None:
        self._release_scheduled = False
        self.release()

    def _check_room(self, size: int) -> None:
        # Only while disconnected: a connected writer hands everything to asyncio.
        held = len(self.batch)
        if held + size > self.pending_size:
            raise OutboundBufferLimitError(
                f"outbound buffer full ({held} of {self.pending_size} bytes) while "
                "disconnected; this publish was not accepted"
            )

    def flush_full(self) -> bool:
        """Hand over a batch that reached ``flush_threshold``; return :meth:`must_wait`."""
        self.flush_now()
        return self.must_wait()

    def _scheduled_flush(self) -> None:
        self._scheduled = self.armed = False
        self.flush_now()

    def flush_now(self) -> None:
        """Hand the buffer to the connection now, if one is attached."""
        conn = self._conn
        data = self.batch
        # Hand over the buffer itself and start a new one: no copy, and asyncio may
        # keep a reference to what it could not send yet (we never touch it again).
        # A closing connection takes nothing: the data is kept for the next one.
        if conn is not None and data and conn.offer(data):
            self.batch = bytearray()

    def must_wait(self) -> bool:
        """Whether a publisher should await :meth:`wait_capacity` before going on."""
        conn = self._conn
        return conn is not None and conn.paused

    async def wait_capacity(self) -> None:
        """Wait until the connection can take more (returns at once when it can).

        Cancelling it loses nothing: the data is already buffered.
        """
        conn = self._conn
        if conn is not None:
            await conn.wait_writable()

    def attach(self, conn: Transport, preamble: bytes = b"") -> None:
        """Start writing to ``conn``: ``preamble`` first, then everything buffered."""
        self._conn = conn
        if preamble:
            conn.write(preamble)
        self.flush_now()

    def detach(self) -> None:
        """Stop writing to the current connection; buffered data is kept."""
        self._conn = None
        self.armed = False  # appends must meet the pending_size check again

    def discard(self) -> int:
        """Drop everything buffered (on close); return how many bytes were dropped."""
        n = len(self.batch)
        self.batch.clear()
        return n
