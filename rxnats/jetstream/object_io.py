"""Chunk I/O of the object store: cutting inputs into chunks, publishing them with a
bounded window of outstanding acks, writing read chunks out, answering flow control.

Kept apart from :mod:`rxnats.jetstream.object_store` so the store reads as the ADR-20
operations and this module as the byte plumbing under them.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import io
from collections.abc import AsyncGenerator, AsyncIterable, Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, TextIO, runtime_checkable

from rxnats.errors import Error
from rxnats.jetstream.api import decode_json
from rxnats.jetstream.errors import NoStreamResponseError, api_error

if TYPE_CHECKING:
    from rxnats.contract import JetStreamClient, SubscriptionLike
    from rxnats.msg import Msg

__all__ = [
    "PUBLISH_WINDOW",
    "ChunkPublisher",
    "Readable",
    "Writable",
    "answer_control",
    "append_sink",
    "read_chunks",
    "write_sink",
]

PUBLISH_WINDOW = 16
"""How many chunk publishes may await their acknowledgement at once during a put."""

_STALLED = "Nats-Consumer-Stalled"


@runtime_checkable
class Readable(Protocol):
    """A binary (or text) file-like source: ``read(n)`` returns at most ``n`` bytes, ``b""`` at EOF."""

    def read(self, size: int, /) -> bytes | str: ...


@runtime_checkable
class Writable(Protocol):
    """A binary file-like sink."""

    def write(self, data: bytes, /) -> object: ...


async def answer_control(nc: JetStreamClient, msg: Msg) -> None:
    """Answer a push consumer's flow-control request or stalled heartbeat."""
    if msg.status != 100:
        return
    if msg.reply:
        await nc.publish(msg.reply, b"")
        return
    headers = msg.headers
    stalled = headers.get(_STALLED) if headers is not None else None
    if stalled:
        await nc.publish(stalled, b"")


def append_sink(parts: list[bytes]) -> Callable[[bytes], Awaitable[None]]:
    """A chunk sink that collects the chunks into ``parts``."""

    async def append(chunk: bytes) -> None:
        parts.append(chunk)

    return append


def write_sink(out: Writable | TextIO) -> Callable[[bytes], Awaitable[None]]:
    """A chunk sink writing into ``out`` (in a worker thread unless it is in memory).

    A text-mode file gets the bytes through its binary ``buffer`` (as nats-py writes
    them); a text stream without one (``io.StringIO``) gets them decoded as UTF-8, a
    character split between chunks included.
    """
    in_memory = isinstance(out, io.BytesIO | io.StringIO)
    target: Callable[[bytes], object]
    if isinstance(out, io.TextIOBase):
        raw = getattr(out, "buffer", None)
        if raw is not None:
            out.flush()  # what was written as text goes first
            target = raw.write
        else:
            decoder = codecs.getincrementaldecoder("utf-8")()
            text_out = out

            def target(chunk: bytes) -> object:
                return text_out.write(decoder.decode(chunk))

    else:
        target = out.write  # type: ignore[assignment]  # a Writable takes bytes

    async def write(chunk: bytes) -> None:
        if in_memory:
            target(chunk)
        else:
            await asyncio.to_thread(target, chunk)

    return write


async def read_chunks(
    data: bytes | bytearray | memoryview | str | Readable | AsyncIterable[bytes], size: int
) -> AsyncGenerator[bytes]:
    """Cut ``data`` into chunks of exactly ``size`` bytes (the last one shorter).

    Raises:
        TypeError: ``data`` is none of the accepted kinds.
    """
    if isinstance(data, str):
        data = data.encode()
    if isinstance(data, bytes | bytearray | memoryview):
        view = memoryview(data).cast("B")
        for start in range(0, len(view), size):
            yield bytes(view[start : start + size])
        return
    buffer = bytearray()
    if isinstance(data, AsyncIterable):
        async for part in data:
            buffer += part
            while len(buffer) >= size:
                yield bytes(buffer[:size])
                del buffer[:size]
    elif isinstance(data, Readable):
        in_memory = isinstance(data, io.BytesIO | io.StringIO)
        while True:
            want = size - len(buffer)
            piece = (
                data.read(want) if in_memory else await asyncio.to_thread(data.read, want)
            )
            if not piece:
                break
            buffer += piece.encode() if isinstance(piece, str) else piece
            while len(buffer) >= size:
                yield bytes(buffer[:size])
                del buffer[:size]
    else:
        raise TypeError(f"cannot store a {type(data).__name__} object: give bytes or a readable")
    if buffer:
        yield bytes(buffer)


class ChunkPublisher:
    """Publishes chunks in order on one subject, with a bounded number of acks awaited.

    Each chunk is a plain publish whose reply subject is a private inbox; the stream's
    acknowledgements arrive there in order. Waiting for the oldest ack before sending
    more keeps at most :data:`PUBLISH_WINDOW` chunks in flight.
    """

    def __init__(self, nc: JetStreamClient, subject: str, timeout: float) -> None:
        self._nc = nc
        self._subject = subject
        self._timeout = timeout
        self._inbox = nc.new_inbox()
        self._sub: SubscriptionLike | None = None
        self.sent: int = 0
        self._acked = 0

    async def __aenter__(self) -> ChunkPublisher:
        self._sub = await self._nc.subscribe(f"{self._inbox}.*")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Leave; after a failure or cancellation, first let the chunks in flight settle.

        The stream may store chunks still in flight after a purge request sent now (the
        server queues ingest and API requests separately), so the caller's clean-up purge
        must wait for their acks. Waiting stops at the first ack that fails or times out.
        """
        if exc is not None:
            with contextlib.suppress(Error):
                await self.wait_all()
        if self._sub is not None:
            with contextlib.suppress(Error):
                await self._sub.unsubscribe()

    async def send(self, chunk: bytes) -> None:
        """Publish the next chunk, first waiting for an ack if the window is full."""
        while self.sent - self._acked >= PUBLISH_WINDOW:
            await self._next_ack()
        await self._nc.publish(self._subject, chunk, reply=f"{self._inbox}.{self.sent}")
        self.sent += 1

    async def wait_all(self) -> None:
        """Wait until every chunk sent is acknowledged.

        Raises:
            APIError: the stream refused a chunk.
            NoStreamResponseError: no stream stored it.
            TimeoutError: an ack did not come within the timeout.
        """
        while self._acked < self.sent:
            await self._next_ack()

    async def _next_ack(self) -> None:
        assert self._sub is not None  # set by __aenter__
        msg = await self._sub.next_msg(timeout=self._timeout)
        self._acked += 1
        if msg.status == 503:
            raise NoStreamResponseError(f"no stream captures subject {self._subject!r}")
        reply = decode_json(msg.data)
        error = reply.get("error")
        if isinstance(error, dict):
            raise api_error(error)
