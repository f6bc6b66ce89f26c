"""Ordered consumers (ADR-17 on ADR-37 pull requests): every message once, in order.

An ordered consumer is a series of short-lived ephemeral pull consumers with acks off,
one delivery per message, memory storage and one replica. The client tracks the last
consumer and stream sequence it accepted (:class:`SequenceTracker`). A delivered
message whose consumer sequence is not the next one means something was missed (a
gap): it is dropped and the consumer is *reset*, i.e. the old one deleted and a new one
created that starts at the stream sequence after the last accepted message. A consumer
deleted under it, or missed heartbeats, reset it the same way. The user therefore sees
each stored message exactly once and in stream order, whatever happened on the way.

Only one reader at a time: use either ``fetch``/``next`` or one ``messages()`` /
``consume()`` / ``observe()`` at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING

from rxnats.errors import InvalidInputError
from rxnats.errors import TimeoutError as NatsTimeoutError
from rxnats.jetstream.consume import MissedHeartbeatsError
from rxnats.jetstream.consumer import PullConsumerBase
from rxnats.jetstream.errors import (
    ConsumerDeletedError,
    FetchStatusError,
    JetStreamError,
    NotJSMessageError,
)
from rxnats.jetstream.models import AckPolicy, ConsumerConfig, DeliverPolicy
from rxnats.jetstream.push import PushSubscription

if TYPE_CHECKING:
    from rxnats.jetstream.context import JetStreamContext
    from rxnats.msg import Msg
    from rxnats.subscription import MessageCallback, Subscription

__all__ = ["OrderedConsumer", "OrderedPushSubscription", "SequenceTracker", "subscribe_ordered"]

# Fields an ordered consumer sets itself; a user value for them is an error.
_FIXED = (
    "name",
    "durable_name",
    "ack_policy",
    "max_deliver",
    "mem_storage",
    "num_replicas",
    "deliver_subject",
    "deliver_group",
    "flow_control",
    "idle_heartbeat",
    "max_ack_pending",
    "ack_wait",
    "backoff",
)
_DEFAULT_INACTIVE = 300.0


class SequenceTracker:
    """The last accepted (consumer, stream) sequence pair of an ordered consumer.

    Pure bookkeeping, no I/O: :meth:`accept` says whether a delivery is the next one.
    """

    __slots__ = ("consumer_seq", "stream_seq")

    def __init__(self) -> None:
        self.consumer_seq = 0  # of the current server-side consumer (restarts at 1)
        self.stream_seq = 0  # of the last message handed to the user (0: none yet)

    def accept(self, consumer_seq: int, stream_seq: int) -> bool:
        """Record a delivery and return ``True`` if it is the expected next one.

        A delivery out of order (a gap, or a repeat) is not recorded: the caller must
        :meth:`restart` the consumer.
        """
        if consumer_seq != self.consumer_seq + 1:
            return False
        self.consumer_seq = consumer_seq
        self.stream_seq = stream_seq
        return True

    def restart(self) -> int | None:
        """Forget the consumer sequence (a new consumer starts at 1).

        Returns:
            The stream sequence the new consumer must start at, or ``None`` to keep the
            configured start (nothing was accepted yet).
        """
        self.consumer_seq = 0
        return self.stream_seq + 1 if self.stream_seq else None


class OrderedConsumer(PullConsumerBase):
    """An ordered consumer (``await stream.ordered_consumer(...)``)."""

    def __init__(
        self,
        js: JetStreamContext,
        stream: str,
        config: ConsumerConfig | None = None,
        **params: object,
    ) -> None:
        super().__init__(js, stream)
        try:
            base = (config or ConsumerConfig()).evolve(**params)
        except TypeError as exc:
            raise InvalidInputError(f"unknown ConsumerConfig field: {exc}") from None
        defaults = ConsumerConfig()
        for name in _FIXED:
            given = name in params or getattr(base, name) != getattr(defaults, name)
            if given and not (name == "ack_policy" and base.ack_policy is AckPolicy.NONE):
                raise InvalidInputError(f"an ordered consumer sets {name} itself")
        self._base = base.evolve(
            ack_policy=AckPolicy.NONE,
            max_deliver=1,
            mem_storage=True,
            num_replicas=1,
            inactive_threshold=base.inactive_threshold or _DEFAULT_INACTIVE,
        )
        self._tracker = SequenceTracker()
        self._name = ""
        self._resets = 0
        self._gap = False

    @property
    def consumer_name(self) -> str:
        """The current server-side consumer's name (it changes on each reset)."""
        return self._name

    @property
    def resettable(self) -> bool:
        """Always ``True``: a gap recreates the consumer."""
        return True

    @property
    def acks(self) -> bool:
        """Always ``False``: ordered consumers take no acknowledgements."""
        return False

    @property
    def resets(self) -> int:
        """How many consumers were created after the first (gaps, deletions, silences)."""
        return max(self._resets - 1, 0)

    @property
    def tracker(self) -> SequenceTracker:
        """The sequence bookkeeping (read it, do not change it)."""
        return self._tracker

    def accept(self, msg: Msg) -> bool:
        """Whether ``msg`` is the next in order (it is then recorded)."""
        try:
            meta = msg.metadata
        except NotJSMessageError:
            ok = False
        else:
            ok = self._tracker.accept(meta.sequence.consumer, meta.sequence.stream)
        self._gap = self._gap or not ok
        return ok

    async def _pull_once(
        self,
        max_messages: int,
        *,
        max_wait: float,
        max_bytes: int | None = None,
        heartbeat: float | None = None,
        on_msg: Callable[[Msg], None],
    ) -> None:
        """One pull request, in order: a gap or a deleted consumer resets the consumer.

        Only the in-order messages before a gap are handed on; the next call continues
        after the last of them. A deleted consumer or missed heartbeats end the request
        quietly (and reset it), other error statuses are raised.
        """
        if self._gap:
            await self.reset()
        try:
            await super()._pull_once(
                max_messages,
                max_wait=max_wait,
                max_bytes=max_bytes,
                heartbeat=heartbeat,
                on_msg=on_msg,
            )
        except (ConsumerDeletedError, MissedHeartbeatsError):
            await self.reset()
            return
        except FetchStatusError as exc:
            if exc.status != 503:  # 503: nobody serves the pull, the consumer is gone
                raise
            await self.reset()
            return
        if self._gap:
            await self.reset()

    async def reset(self) -> None:
        """Delete the current consumer (if any) and create one after the last message.

        Raises:
            StreamNotFoundError: the stream is gone.
            APIError: the consumer could not be created.

        Cancelling it may leave an unused consumer that expires by itself
        (``inactive_threshold``).
        """
        if self._name:
            with contextlib.suppress(JetStreamError):
                await self._js.delete_consumer(self._stream, self._name)
        self._gap = False
        start = self._tracker.restart()
        config = self._base
        if start is not None:
            config = config.evolve(
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                opt_start_seq=start,
                opt_start_time=None,
            )
        info = await self._js.add_consumer(self._stream, config)
        self._name = info.name
        self._resets += 1

    async def delete(self) -> None:
        """Delete the current server-side consumer; a later read creates none.

        Deleting a consumer that is already gone is not an error.
        """
        if self._name:
            with contextlib.suppress(JetStreamError):
                await self._js.delete_consumer(self._stream, self._name)

    def __repr__(self) -> str:
        return f"<OrderedConsumer {self._stream}/{self._name} after stream seq {self._tracker.stream_seq}>"


# ---------------------------------------------------------------------------------------
# Push-based ordered consumers: ``js.subscribe(subject, ordered_consumer=True)`` (ADR-17)
# ---------------------------------------------------------------------------------------
LAST_CONSUMER = "Nats-Last-Consumer"
_PUSH_HEARTBEAT = 5.0


class OrderedPushSubscription(PushSubscription):
    """A push ordered consumer (``await js.subscribe(subject, ordered_consumer=True)``).

    The deliver subject stays the same across resets; a message from an older consumer
    (its ack subject names another consumer) is dropped. Idle heartbeats carry the last
    consumer sequence sent (``Nats-Last-Consumer``): if it is ahead of the last one
    accepted, deliveries were lost and the consumer is reset; so it is when no heartbeat
    comes for two intervals. Flow-control requests are answered as messages are taken.
    """

    def __init__(
        self,
        js: JetStreamContext,
        sub: Subscription,
        stream: str,
        config: ConsumerConfig,
        *,
        heartbeat: float,
    ) -> None:
        super().__init__(js, sub, stream, "", delete_on_unsubscribe=True)
        self._config = config
        self._heartbeat = heartbeat
        self._tracker = SequenceTracker()
        self._lock = asyncio.Lock()
        self._last_seen = 0.0
        self._watchdog: asyncio.Task[None] | None = None
        self._resets = 0

    @property
    def resets(self) -> int:
        """How many consumers were created after the first."""
        return max(self._resets - 1, 0)

    @property
    def tracker(self) -> SequenceTracker:
        """The sequence bookkeeping (read it, do not change it)."""
        return self._tracker

    async def start(self) -> None:
        """Create the first consumer and start watching the heartbeats.

        Raises:
            APIError: the consumer could not be created (the subscription is dropped).
        """
        try:
            await self._recreate()
        except BaseException:
            await self._sub.unsubscribe()
            raise
        self._watchdog = asyncio.get_running_loop().create_task(
            self._watch(), name=f"rxnats-ordered-{self._stream}"
        )

    async def _recreate(self) -> None:
        async with self._lock:
            if self._consumer:
                with contextlib.suppress(JetStreamError):
                    await self._js.delete_consumer(self._stream, self._consumer)
            start = self._tracker.restart()
            config = self._config
            if start is not None:
                config = config.evolve(
                    deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                    opt_start_seq=start,
                    opt_start_time=None,
                )
            info = await self._js.add_consumer(self._stream, config)
            self._consumer = info.name
            self._resets += 1
            self._last_seen = asyncio.get_running_loop().time()

    async def _admit(self, msg: Msg) -> bool:
        """Whether ``msg`` goes to the user; statuses, strays and gaps are handled here."""
        self._last_seen = asyncio.get_running_loop().time()
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
                and not self._lock.locked()
            ):
                await self._recreate()  # the server sent more than we accepted
            return False
        try:
            meta = msg.metadata
        except NotJSMessageError:
            return False
        if meta.consumer != self._consumer or self._lock.locked():
            return False  # from a consumer already replaced, or during a reset
        if self._tracker.accept(meta.sequence.consumer, meta.sequence.stream):
            return True
        await self._recreate()
        return False

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self._heartbeat)
            if loop.time() - self._last_seen >= 2 * self._heartbeat and self._js._nc.is_connected:
                with contextlib.suppress(JetStreamError, NatsTimeoutError):
                    await self._recreate()

    async def next_msg(self, timeout: float | None = 1.0) -> Msg:
        """The next message in order (statuses and strays are handled and skipped).

        Raises:
            TimeoutError: none within ``timeout`` (``None``: wait forever).
            BadSubscriptionError: the subscription ended or has a callback.

        Cancelling it loses no message.
        """
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            remaining = None if deadline is None else max(deadline - loop.time(), 0.0)
            if remaining == 0.0 and not self._sub.pending_msgs:
                raise NatsTimeoutError(f"no message on ordered consumer within {timeout} s")
            msg = await self._sub.next_msg(timeout=remaining)
            if await self._admit(msg):
                return msg

    async def unsubscribe(self) -> None:
        """Stop receiving and delete the current consumer.

        Raises:
            BadSubscriptionError: already unsubscribed.
        """
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
            self._watchdog = None
        await super().unsubscribe()


async def subscribe_ordered(
    js: JetStreamContext,
    subject: str,
    stream: str,
    *,
    cb: MessageCallback | None,
    config: ConsumerConfig | None,
    deliver_policy: DeliverPolicy | None,
    headers_only: bool | None,
    idle_heartbeat: float | None,
    pending_msgs_limit: int,
    pending_bytes_limit: int,
) -> OrderedPushSubscription:
    """Build ``js.subscribe(subject, ordered_consumer=True, ...)``.

    Raises:
        InvalidInputError: a field an ordered consumer sets itself.
        APIError: the consumer could not be created.
    """
    base = config or ConsumerConfig()
    defaults = ConsumerConfig()
    for name in _FIXED:
        if name in ("idle_heartbeat", "flow_control", "ack_policy"):
            continue
        if getattr(base, name) != getattr(defaults, name):
            raise InvalidInputError(f"an ordered consumer sets {name} itself")
    heartbeat = idle_heartbeat or base.idle_heartbeat or _PUSH_HEARTBEAT
    changes: dict[str, object] = {
        "deliver_subject": js._nc.new_inbox(),
        "ack_policy": AckPolicy.NONE,
        "max_deliver": 1,
        "mem_storage": True,
        "num_replicas": 1,
        "flow_control": True,
        "idle_heartbeat": heartbeat,
        "inactive_threshold": base.inactive_threshold or _DEFAULT_INACTIVE,
    }
    if not base.filter_subject and not base.filter_subjects:
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
    psub = OrderedPushSubscription(js, sub, stream, final, heartbeat=heartbeat)
    await psub.start()
    return psub
