"""JetStream as observables: demand-driven consumers and key-value watches.

``consumer.observe(batch=..., threshold=...)`` — the demand rule. ReactiveX has no
backpressure protocol, so demand is read from what downstream does with the messages:
a message is *settled* once it is acked, nak'ed or terminated (``ack``, ``ack_sync``,
``nak``, ``term``; ``in_progress`` does not settle). The observable keeps at most
``batch`` messages *in flight* — requested from the server, or emitted and not yet
settled — and asks for more only when the unsettled count has fallen to ``threshold``
(default ``batch // 2``); the next pull asks for ``batch - unsettled``. So a downstream
that buffers messages (``buffer_with_time_or_count``) and acks them later gets new
messages only as it acks, and one that never acks gets ``batch`` messages and no more.
For consumers that take no acks (``AckPolicy.NONE``, ordered consumers) a message is
settled when ``on_next`` returns.

Every emission happens on the event loop's thread, from one task per subscription; an
exception raised by an observer's ``on_next`` is reported to the client's ``error_cb``
and does not stop the stream. Disposing the subscription cancels the pull in progress
(unsettled messages are redelivered by the server after ``ack_wait``). A terminal status
(consumer deleted, ...) is ``on_error``; the stream never completes on its own.

``observe_kv(kv, keys)`` (also ``kv.observe(keys)``) emits a watch's entries: the
current values, then every change; the "initial values done" marker of the iterator API
is not emitted.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

import reactivex
from reactivex import Observable, abc
from reactivex.disposable import Disposable

from rxnats.errors import Error, InvalidInputError
from rxnats.msg import Msg

if TYPE_CHECKING:
    from rxnats.jetstream.consumer import PullConsumerBase
    from rxnats.jetstream.kv import KeyValue

__all__ = ["SettleTracker", "TrackedMsg", "observe_consumer", "observe_kv"]


class SettleTracker:
    """Counts emitted messages that are not settled yet and wakes the puller when one is."""

    __slots__ = ("_changed", "unsettled")

    def __init__(self) -> None:
        self.unsettled: int = 0
        self._changed = asyncio.Event()

    def emitted(self) -> None:
        """One more message is out with downstream."""
        self.unsettled += 1

    def settled(self) -> None:
        """A message was acked, nak'ed or terminated."""
        self.unsettled = max(self.unsettled - 1, 0)
        self._changed.set()

    async def wait_below(self, threshold: int) -> None:
        """Return once at most ``threshold`` messages are unsettled.

        Cancelling it cancels only the wait.
        """
        while self.unsettled > threshold:
            self._changed.clear()
            await self._changed.wait()


class TrackedMsg(Msg):
    """A JetStream message that tells a :class:`SettleTracker` when it is settled."""

    __slots__ = ("_tracker",)

    def __init__(self, msg: Msg, tracker: SettleTracker) -> None:
        super().__init__(
            msg._client,
            msg.subject,
            msg.reply,
            msg.data,
            msg.sid,
            msg._raw_headers,
            headers=msg._headers,
        )
        self._tracker: SettleTracker | None = tracker

    def _settle(self) -> None:
        tracker, self._tracker = self._tracker, None
        if tracker is not None:
            tracker.settled()

    async def _send_ack(self, body: bytes) -> None:
        await super()._send_ack(body)
        self._settle()

    async def ack_sync(self, timeout: float = 1.0) -> Msg:
        """As :meth:`Msg.ack_sync`; the message counts as settled once confirmed."""
        reply = await super().ack_sync(timeout)
        self._settle()
        return reply


def observe_consumer(
    consumer: PullConsumerBase,
    *,
    batch: int = 100,
    threshold: int | None = None,
    expires: float = 5.0,
) -> Observable[Msg]:
    """Build ``consumer.observe(...)`` (see the module docstring for the demand rule).

    ``expires`` is each pull request's lifetime; an expired request with nothing to
    deliver is simply followed by another.

    Raises:
        InvalidInputError: ``batch`` < 1, ``threshold`` not in ``0..batch-1``, or
            ``expires`` not positive.
    """
    if batch < 1:
        raise InvalidInputError(f"batch must be at least 1, not {batch}")
    low = batch // 2 if threshold is None else threshold
    if not 0 <= low < batch:
        raise InvalidInputError(f"threshold must be in 0..{batch - 1}, not {threshold}")
    if expires <= 0:
        raise InvalidInputError("expires must be positive")
    nc = consumer._js._nc

    def subscribe(
        observer: abc.ObserverBase[Msg], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        tracker = SettleTracker()

        async def run() -> None:
            while True:
                await tracker.wait_below(low)
                try:
                    await consumer._pull_once(
                        batch - tracker.unsettled, max_wait=expires, on_msg=emit
                    )
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    observer.on_error(exc)
                    return

        def emit(msg: Msg) -> None:
            out: Msg = msg
            if consumer.acks:
                tracker.emitted()
                out = TrackedMsg(msg, tracker)
            try:
                observer.on_next(out)
            except Exception as exc:  # an observer's bug must not stop the stream
                nc.report_error(exc)

        task = asyncio.get_running_loop().create_task(run(), name="rxnats-js-observe")

        def dispose() -> None:
            task.cancel()

        return Disposable(dispose)

    return reactivex.create(subscribe)


def observe_kv(
    kv: KeyValue,
    keys: str | list[str] = ">",
    *,
    include_history: bool = False,
    ignore_deletes: bool = False,
    meta_only: bool = False,
    updates_only: bool = False,
) -> Observable[KeyValue.Entry]:
    """The entries of a key-value watch on ``keys`` as an observable.

    Each subscription opens its own watch (an ephemeral consumer), closed when the
    subscription is disposed. Errors (the bucket deleted, the client closed) are
    ``on_error``.
    """
    def subscribe(
        observer: abc.ObserverBase[KeyValue.Entry], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        async def run() -> None:
            watcher = await kv.watch(
                keys,
                include_history=include_history,
                ignore_deletes=ignore_deletes,
                meta_only=meta_only,
                updates_only=updates_only,
            )
            try:
                while True:
                    entry = await watcher.updates(timeout=None)
                    if entry is None:
                        continue
                    try:
                        observer.on_next(entry)
                    except Exception as exc:
                        kv._js._nc.report_error(exc)
            finally:
                with contextlib.suppress(Error):
                    await asyncio.shield(watcher.stop())

        async def guarded() -> None:
            try:
                await run()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                observer.on_error(exc)

        task = asyncio.get_running_loop().create_task(guarded(), name="rxnats-kv-observe")

        def dispose() -> None:
            task.cancel()

        return Disposable(dispose)

    return reactivex.create(subscribe)
