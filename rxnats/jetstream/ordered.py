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

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from rxnats.errors import InvalidInputError
from rxnats.jetstream.consume import MissedHeartbeatsError, PriorityPull
from rxnats.jetstream.consumer import PullConsumerBase
from rxnats.jetstream.errors import (
    ConsumerDeletedError,
    FetchStatusError,
    JetStreamError,
    NotJSMessageError,
)
from rxnats.jetstream.models import AckPolicy, ConsumerConfig, DeliverPolicy

if TYPE_CHECKING:
    from rxnats.jetstream.context import JetStreamContext
    from rxnats.msg import Msg

__all__ = ["DEFAULT_INACTIVE", "FIXED_FIELDS", "OrderedConsumer", "SequenceTracker"]

# Fields an ordered consumer sets itself; a user value for them is an error.
FIXED_FIELDS = (
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
DEFAULT_INACTIVE = 300.0


class SequenceTracker:
    """The last accepted (consumer, stream) sequence pair of an ordered consumer.

    Pure bookkeeping, no I/O: :meth:`accept` says whether a delivery is the next one.
    """

    __slots__ = ("consumer_seq", "stream_seq")

    def __init__(self) -> None:
        self.consumer_seq: int = 0  # of the current server-side consumer (restarts at 1)
        self.stream_seq: int = 0  # of the last message handed to the user (0: none yet)

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
        for name in FIXED_FIELDS:
            given = name in params or getattr(base, name) != getattr(defaults, name)
            if given and not (name == "ack_policy" and base.ack_policy is AckPolicy.NONE):
                raise InvalidInputError(f"an ordered consumer sets {name} itself")
        self._base = base.evolve(
            ack_policy=AckPolicy.NONE,
            max_deliver=1,
            mem_storage=True,
            num_replicas=1,
            inactive_threshold=base.inactive_threshold or DEFAULT_INACTIVE,
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
        no_wait: bool = False,
        priority: PriorityPull | None = None,
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
                no_wait=no_wait,
                priority=priority,
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
