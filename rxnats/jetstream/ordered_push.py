"""Push ordered consumers (ADR-17): every message once, in stream order, whatever happens.

``js.subscribe(subject, ordered_consumer=True)``, and the key-value and object-store
watchers, read through an :class:`OrderedPushSubscription`: a series of ephemeral push
consumers (no acks, flow control, idle heartbeats, memory storage, one replica) that all
deliver to one inbox this client subscribes to once.

Theory of operation. A :class:`~rxnats.jetstream.ordered.SequenceTracker` records the
last consumer and stream sequence handed on. The consumer is *reset* (the old one deleted,
a new one created starting at the stream sequence after the last one handed on) when

- a delivery's consumer sequence is not the next one (a message was lost);
- an idle heartbeat's ``Nats-Last-Consumer`` says the server sent more than arrived;
- nothing at all (no message, no heartbeat) arrived for two heartbeat intervals: the
  consumer is gone (deleted, or lost with a restarted server);
- the client reconnected: the server may have restarted and forgotten the consumer.

Each consumer gets its name from this client before it is created, so a delivery is
known to come from the current consumer by the name in its ack subject; deliveries of a
replaced consumer, and every delivery while a reset is pending, are dropped (the new
consumer delivers them again). A reset that fails (JetStream still starting after a
restart, the connection down) is retried with backoff by a recovery task, each failure
reported to the client's ``error_cb``; when the stream is gone the subscription ends
with :class:`~rxnats.jetstream.errors.StreamNotFoundError`. So the reader sees each
stored message exactly once, in order, with no gap and no duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING

from rxnats import events as ev
from rxnats.errors import Error, InvalidInputError
from rxnats.errors import TimeoutError as NatsTimeoutError
from rxnats.jetstream.errors import NotJSMessageError, StreamNotFoundError
from rxnats.jetstream.models import AckPolicy, ConsumerConfig, ConsumerInfo, DeliverPolicy
from rxnats.jetstream.ordered import DEFAULT_INACTIVE, FIXED_FIELDS, SequenceTracker
from rxnats.jetstream.push import PushSubscription
from rxnats.nuid import TextNUID

if TYPE_CHECKING:
    from rxnats.contract import MessageCallback, SubscriptionLike
    from rxnats.jetstream.context import JetStreamContext
    from rxnats.msg import Msg

__all__ = ["DEFAULT_HEARTBEAT", "OrderedPushSubscription", "subscribe_ordered"]

LAST_CONSUMER = "Nats-Last-Consumer"
DEFAULT_HEARTBEAT = 5.0
_RETRY_FIRST = 0.1
_RETRY_MAX = 5.0
_nuid = TextNUID()

ResetListener = Callable[[ConsumerInfo], None]


class OrderedPushSubscription(PushSubscription):
    """A push ordered consumer (``await js.subscribe(subject, ordered_consumer=True)``).

    See the module docs for how it recovers. :attr:`consumer` changes on every reset;
    :attr:`resets` counts them.
    """

    def __init__(
        self,
        js: JetStreamContext,
        sub: SubscriptionLike,
        stream: str,
        config: ConsumerConfig,
        *,
        heartbeat: float,
        on_reset: ResetListener | None = None,
    ) -> None:
        super().__init__(js, sub, stream, "", delete_on_unsubscribe=True)
        self._config = config
        self._heartbeat = heartbeat
        self._on_reset = on_reset
        self._tracker = SequenceTracker()
        self._resets = 0
        self._reset_wanted = asyncio.Event()
        self._resetting = False  # deliveries are dropped until the new consumer exists
        self._error: Exception | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._remove_listener: Callable[[], None] | None = None
        self._stopped = False

    @property
    def resets(self) -> int:
        """How many consumers were created after the first."""
        return max(self._resets - 1, 0)

    @property
    def tracker(self) -> SequenceTracker:
        """The sequence bookkeeping (read it, do not change it)."""
        return self._tracker

    @property
    def error(self) -> Exception | None:
        """What ended the subscription (the stream was deleted), if anything."""
        return self._error

    async def start(self) -> ConsumerInfo:
        """Create the first consumer; start the heartbeat watchdog and the recovery task.

        Returns:
            The first consumer's info (``num_pending`` is what it will deliver first).

        Raises:
            APIError: the consumer could not be created (the subscription is dropped).
        """
        try:
            info = await self._recreate()
        except BaseException:
            with contextlib.suppress(Error):
                await self._sub.unsubscribe()
            raise
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._watch(), name=f"rxnats-ordered-watch-{self._stream}"),
            loop.create_task(self._recover(), name=f"rxnats-ordered-recover-{self._stream}"),
        ]
        self._remove_listener = self._js._nc.add_event_listener(self._on_event)
        return info

    # -------------------------------------------------------------- (re)creating
    async def _recreate(self) -> ConsumerInfo:
        old = self._consumer
        if old:
            with contextlib.suppress(Error):
                await self._js.delete_consumer(self._stream, old)
        start = self._tracker.restart()
        config = self._config.evolve(name=_nuid.next())
        if start is not None:
            config = config.evolve(
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                opt_start_seq=start,
                opt_start_time=None,
            )
        # From here on deliveries naming the new consumer are accepted: the name is ours,
        # so its first message cannot be mistaken for a stray, whenever it arrives.
        self._consumer = config.name or ""
        self._resetting = False
        self._resets += 1  # counted now: its messages may come before the reply does
        try:
            info = await self._js.add_consumer(self._stream, config)
        except BaseException:
            self._resetting = True
            self._resets -= 1
            raise
        if self._on_reset is not None:
            self._on_reset(info)
        return info

    def _want_reset(self) -> None:
        self._resetting = True
        self._reset_wanted.set()

    async def _recover(self) -> None:
        delay = _RETRY_FIRST
        nc = self._js._nc
        while True:
            await self._reset_wanted.wait()
            self._reset_wanted.clear()
            try:
                await self._recreate()
                delay = _RETRY_FIRST
            except StreamNotFoundError as exc:
                await self._end(exc)
                return
            except Exception as exc:  # JetStream restarting, the link down: try again
                if nc.is_closed:
                    return
                nc.report_error(exc)
                self._reset_wanted.set()
                await asyncio.sleep(delay)
                delay = min(delay * 2, _RETRY_MAX)

    async def _end(self, exc: Exception) -> None:
        """End the subscription for good: the reader gets ``exc``."""
        self._error = exc
        self._js._nc.report_error(exc)
        if not self._sub.is_closed:
            with contextlib.suppress(Error):
                await self._sub.unsubscribe()

    async def _watch(self) -> None:
        """Reset when nothing, not even a heartbeat, arrived for two intervals."""
        seen = self._sub.received
        nc = self._js._nc
        while True:
            await asyncio.sleep(2 * self._heartbeat)
            now = self._sub.received
            if now == seen and nc.is_connected and not self._resetting:
                self._want_reset()
            seen = now

    def _on_event(self, event: ev.ConnectionEvent) -> None:
        if isinstance(event, ev.Reconnected):
            self._want_reset()  # a restarted server has forgotten the consumer

    # -------------------------------------------------------------- reading
    async def _admit(self, msg: Msg) -> bool:
        """Whether ``msg`` goes to the user; statuses, strays and gaps are handled here."""
        if msg.status is not None:
            if msg.status == 100 and msg.reply:  # flow control: we are keeping up
                await self._js._nc.publish(msg.reply, b"")
                return False
            headers = msg.headers
            last = headers.get(LAST_CONSUMER) if headers is not None else None
            if (
                last is not None
                and last.isdigit()
                and int(last) != self._tracker.consumer_seq
                and not self._resetting
            ):
                self._want_reset()  # the server sent more than we accepted
            return False
        try:
            meta = msg.metadata
        except NotJSMessageError:
            return False
        if self._resetting or meta.consumer != self._consumer:
            return False  # from a consumer already replaced, or while a reset is due
        if self._tracker.accept(meta.sequence.consumer, meta.sequence.stream):
            return True
        self._want_reset()
        return False

    async def next_msg(self, timeout: float | None = 1.0) -> Msg:
        """The next message in order (statuses and strays are handled and skipped).

        Raises:
            TimeoutError: none within ``timeout`` (``None``: wait forever).
            StreamNotFoundError: the stream was deleted.
            BadSubscriptionError: the subscription ended or has a callback.

        Cancelling it loses no message.
        """
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            if self._error is not None:
                raise self._error
            remaining = None if deadline is None else max(deadline - loop.time(), 0.0)
            if remaining == 0.0 and not self._sub.pending_msgs:
                raise NatsTimeoutError(f"no message on ordered consumer within {timeout} s")
            try:
                msg = await self._sub.next_msg(timeout=remaining)
            except Error:
                if self._error is not None:
                    raise self._error from None
                raise
            if await self._admit(msg):
                return msg

    async def unsubscribe(self, limit: int = 0) -> None:
        """Stop receiving and delete the current consumer.

        Raises:
            BadSubscriptionError: already unsubscribed.
        """
        await self._stop_tasks()
        if self._error is not None:
            return  # the subscription already ended with the stream
        await super().unsubscribe(limit)

    async def _stop_tasks(self) -> None:
        if self._remove_listener is not None:
            self._remove_listener()
            self._remove_listener = None
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def subscribe_ordered(
    js: JetStreamContext,
    subject: str | None,
    stream: str,
    *,
    cb: MessageCallback | None,
    config: ConsumerConfig | None,
    deliver_policy: DeliverPolicy | None,
    headers_only: bool | None,
    idle_heartbeat: float | None,
    pending_msgs_limit: int,
    pending_bytes_limit: int,
    on_reset: ResetListener | None = None,
) -> OrderedPushSubscription:
    """Build ``js.subscribe(subject, ordered_consumer=True, ...)``.

    ``subject`` is the filter unless ``config`` has ``filter_subject(s)``.

    Raises:
        InvalidInputError: a field an ordered consumer sets itself.
        APIError: the consumer could not be created.
    """
    base = config or ConsumerConfig()
    defaults = ConsumerConfig()
    for name in FIXED_FIELDS:
        if name in ("idle_heartbeat", "flow_control", "ack_policy"):
            continue
        if getattr(base, name) != getattr(defaults, name):
            raise InvalidInputError(f"an ordered consumer sets {name} itself")
    heartbeat = idle_heartbeat or base.idle_heartbeat or DEFAULT_HEARTBEAT
    changes: dict[str, object] = {
        "deliver_subject": js._nc.new_inbox(),
        "ack_policy": AckPolicy.NONE,
        "max_deliver": 1,
        "mem_storage": True,
        "num_replicas": 1,
        "flow_control": True,
        "idle_heartbeat": heartbeat,
        "inactive_threshold": base.inactive_threshold or DEFAULT_INACTIVE,
    }
    if subject and not base.filter_subject and not base.filter_subjects:
        changes["filter_subject"] = subject
    if deliver_policy is not None:
        changes["deliver_policy"] = deliver_policy
    if headers_only is not None:
        changes["headers_only"] = headers_only
    final = base.evolve(**changes)
    psub: OrderedPushSubscription | None = None
    handler: MessageCallback | None = None
    if cb is not None:
        user_cb = cb

        async def handle(msg: Msg) -> None:
            # no message comes before the consumer exists, so psub is set by then
            if psub is not None and await psub._admit(msg):
                result = user_cb(msg)
                if result is not None and inspect.isawaitable(result):
                    await result

        handler = handle
    sub = await js._nc.subscribe(
        final.deliver_subject or "",
        cb=handler,
        pending_msgs_limit=pending_msgs_limit,
        pending_bytes_limit=pending_bytes_limit,
    )
    psub = OrderedPushSubscription(
        js, sub, stream, final, heartbeat=heartbeat, on_reset=on_reset
    )
    await psub.start()
    return psub
