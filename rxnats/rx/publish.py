"""``nc.publisher()``: an Rx observer that publishes what it is given.

Each ``on_next`` encodes the message into the client's coalescing writer synchronously
(the client's ``publish_nowait``), so a burst of items emitted in one loop turn leaves in one
socket write. ``on_completed`` flushes (PING/PONG) and then resolves :attr:`PublishSink.done`;
``on_error`` (or the first failed publish) stops the sink and fails ``done``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from reactivex import abc

from rxnats.contract import RxHost
from rxnats.errors import InvalidInputError
from rxnats.wire.headers import HeadersInput

__all__ = ["OutMsg", "PublishSink"]


@dataclass(frozen=True, slots=True)
class OutMsg:
    """A message to publish: its own subject, payload, optional headers and reply subject."""

    subject: str
    data: bytes = b""
    headers: HeadersInput | None = None
    reply: str = ""


class PublishSink(abc.ObserverBase[bytes | OutMsg], abc.DisposableBase):
    """Publishes each item: ``bytes`` to the sink's subject, an :class:`OutMsg` to its own.

    The sink stops (later items are ignored) after ``on_completed``, ``on_error``,
    :meth:`dispose`, or a publish that failed; ``await sink.done`` tells how it ended.
    A failed publish is also reported to the client's ``error_cb`` and event stream.

    Writes are not awaited: when the socket is slower than the source, data waits in the
    client's buffer (bounded by ``pending_size`` only while disconnected). Use
    ``await nc.publish(...)`` in a loop when the producer must slow down to the socket.
    """

    __slots__ = ("_client", "_done", "_flush_task", "_stopped", "_subject", "published")

    def __init__(self, client: RxHost, subject: str | None = None) -> None:
        """Create a sink for ``client`` (must be called with the client's loop running)."""
        self._client = client
        self._subject = subject
        self._stopped = False
        self._flush_task: asyncio.Task[None] | None = None
        self._done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # An unawaited failure is reported through the client; do not warn about it again.
        self._done.add_done_callback(lambda f: f.cancelled() or f.exception())
        self.published: int = 0

    @property
    def done(self) -> asyncio.Future[None]:
        """Resolves after ``on_completed`` and a successful flush; fails with the error
        given to ``on_error``, the failed publish's error, or the flush's error."""
        return self._done

    @property
    def is_stopped(self) -> bool:
        """Whether the sink accepts no more items."""
        return self._stopped

    def on_next(self, value: bytes | OutMsg) -> None:
        """Publish ``value`` now (into the client's write buffer)."""
        if self._stopped:
            return
        try:
            if isinstance(value, OutMsg):
                self._client.publish_nowait(value.subject, value.data, value.reply, value.headers)
            elif self._subject is None:
                raise InvalidInputError(
                    "this publisher has no subject: give it OutMsg items or a subject"
                )
            else:
                self._client.publish_nowait(self._subject, value)
        except Exception as exc:
            self._fail(exc)
            self._client.report_error(exc)
            return
        self.published += 1

    def on_error(self, error: Exception) -> None:
        """The source failed: stop and fail :attr:`done` with ``error``."""
        if not self._stopped:
            self._fail(error)

    def on_completed(self) -> None:
        """The source ended: flush, then resolve :attr:`done`."""
        if self._stopped:
            return
        self._stopped = True
        self._flush_task = asyncio.get_running_loop().create_task(
            self._flush(), name="rxnats-publisher-flush"
        )

    def dispose(self) -> None:
        """Stop accepting items; :attr:`done` is cancelled unless it already finished."""
        self._stopped = True
        if self._flush_task is not None:
            self._flush_task.cancel()
        if not self._done.done():
            self._done.cancel()

    async def _flush(self) -> None:
        try:
            await self._client.flush()
        except asyncio.CancelledError:
            if not self._done.done():
                self._done.cancel()
            raise
        except Exception as exc:
            if not self._done.done():
                self._done.set_exception(exc)
            return
        if not self._done.done():
            self._done.set_result(None)

    def _fail(self, error: Exception) -> None:
        self._stopped = True
        if not self._done.done():
            self._done.set_exception(error)
