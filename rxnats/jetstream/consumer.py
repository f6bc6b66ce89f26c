"""ADR-37 simplified consumers: stream handles and pull consumers.

``stream = await js.get_stream("ORDERS")`` (or ``js.stream("ORDERS")`` without a round
trip) gives a :class:`Stream`; ``await stream.create_consumer(durable_name="d")`` /
``await stream.consumer("d")`` a :class:`Consumer`; ``await stream.ordered_consumer()``
an :class:`~rxnats.jetstream.ordered.OrderedConsumer`. Consumers read with

- ``await consumer.fetch(10, max_wait=2)``: one pull request, a list of messages;
- ``await consumer.next(timeout=5)``: one message;
- ``await consumer.messages(...)`` / ``await consumer.consume(cb, ...)``: a buffer kept
  filled by pull requests (see :mod:`rxnats.jetstream.consume`);
- ``consumer.observe(batch=..., threshold=...)``: an ``Observable[Msg]`` that pulls only
  what downstream has settled (see :mod:`rxnats.jetstream.rx`).

Consumers are managed by the application or by tools, not created on the fly by a
subscribe call: a :class:`Consumer` only reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from rxnats.errors import InvalidInputError, TimeoutError
from rxnats.jetstream.consume import (
    DEFAULT_EXPIRES,
    ConsumeContext,
    ErrorCallback,
    MessageHandler,
    MessageStream,
    PriorityPull,
    fetch_batch,
)
from rxnats.jetstream.models import (
    AckPolicy,
    ConsumerConfig,
    ConsumerInfo,
    ConsumerPause,
    RawStreamMsg,
    StreamInfo,
)

if TYPE_CHECKING:
    from reactivex import Observable

    from rxnats.jetstream.context import JetStreamContext
    from rxnats.jetstream.ordered import OrderedConsumer
    from rxnats.msg import Msg

__all__ = ["Consumer", "PullConsumerBase", "Stream"]


class PullConsumerBase:
    """What plain and ordered consumers share: the ways to read (see the module docs)."""

    def __init__(self, js: JetStreamContext, stream: str) -> None:
        self._js = js
        self._stream = stream
        self._pins: dict[str, str] = {}  # priority group -> the pin id the server gave us

    # -- the PullTarget protocol (overridden by ordered consumers) ------------------------
    @property
    def stream_name(self) -> str:
        """The stream's name."""
        return self._stream

    @property
    def consumer_name(self) -> str:
        """The consumer's name."""
        raise NotImplementedError

    @property
    def resettable(self) -> bool:
        """Whether the consumer can be recreated after a gap (ordered consumers)."""
        return False

    def accept(self, msg: Msg) -> bool:
        """Whether ``msg`` may be delivered (always, for a plain consumer)."""
        return True

    async def reset(self) -> None:
        """Recreate the consumer (only ordered consumers can).

        Raises:
            InvalidInputError: always, for a plain consumer.
        """
        raise InvalidInputError("only an ordered consumer can be reset")

    @property
    def acks(self) -> bool:
        """Whether delivered messages expect an acknowledgement."""
        return True

    def _next_subject(self) -> str:
        return self._js._api.subject(f"CONSUMER.MSG.NEXT.{self._stream}.{self.consumer_name}")

    # -- reading -----------------------------------------------------------------------
    def pinned_id(self, group: str) -> str | None:
        """The pin id this handle holds for priority group ``group`` (ADR-42), if pinned."""
        return self._pins.get(group)

    def _priority(
        self,
        group: str | None,
        min_pending: int | None,
        min_ack_pending: int | None,
        priority: int | None,
    ) -> PriorityPull | None:
        if group is None:
            if min_pending is not None or min_ack_pending is not None or priority is not None:
                raise InvalidInputError("min_pending, min_ack_pending and priority need a group")
            return None
        return PriorityPull(
            group,
            self._pins,
            min_pending=min_pending,
            min_ack_pending=min_ack_pending,
            priority=priority,
        )

    async def fetch(
        self,
        max_messages: int = 1,
        *,
        max_wait: float = DEFAULT_EXPIRES,
        max_bytes: int | None = None,
        heartbeat: float | None = None,
        group: str | None = None,
        min_pending: int | None = None,
        min_ack_pending: int | None = None,
        priority: int | None = None,
    ) -> list[Msg]:
        """Send one pull request and return what it brings within ``max_wait`` seconds.

        The request waits until ``max_messages`` are there or ``max_wait`` is over. For a
        consumer with priority groups (ADR-42, server 2.11+) ``group`` names the group;
        ``min_pending``/``min_ack_pending`` make an ``overflow`` pull wait until the
        consumer's backlog reaches them, ``priority`` (0..9, lower first) orders
        ``prioritized`` pulls. A ``pinned_client`` pin is kept by this handle and sent
        with every later pull (see :meth:`pinned_id`).

        Returns:
            Up to ``max_messages`` messages (fewer, possibly none, when the request
            expires first or ``max_bytes`` is reached).

        Raises:
            ConsumerDeletedError / FetchStatusError: the request ended with an error
                status before any message arrived.
            MissedHeartbeatsError: ``heartbeat`` was asked for and two went missing.
            InvalidInputError / BadTimeoutError: bad arguments.

        Cancelling it abandons the request (unacked messages are redelivered later).
        """
        msgs: list[Msg] = []
        await self._pull_once(
            max_messages,
            max_wait=max_wait,
            max_bytes=max_bytes,
            heartbeat=heartbeat,
            on_msg=msgs.append,
            priority=self._priority(group, min_pending, min_ack_pending, priority),
        )
        return msgs

    async def fetch_no_wait(
        self,
        max_messages: int = 1,
        *,
        max_bytes: int | None = None,
        group: str | None = None,
        min_pending: int | None = None,
        min_ack_pending: int | None = None,
        priority: int | None = None,
    ) -> list[Msg]:
        """What the consumer has now, up to ``max_messages``; it never waits for more.

        Options as :meth:`fetch`.

        Returns:
            The messages available now (possibly none).

        Raises:
            ConsumerDeletedError / FetchStatusError: the request ended with an error
                status before any message arrived.

        Cancelling it abandons the request.
        """
        msgs: list[Msg] = []
        await self._pull_once(
            max_messages,
            max_wait=self._js._timeout,
            max_bytes=max_bytes,
            on_msg=msgs.append,
            no_wait=True,
            priority=self._priority(group, min_pending, min_ack_pending, priority),
        )
        return msgs

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
        """One pull request, each message handed to ``on_msg`` as it arrives."""
        if heartbeat is None and max_wait > 30 and not no_wait:
            heartbeat = min(max_wait / 4, 30.0)  # ADR-37: heartbeats for long requests
        await fetch_batch(
            self._js._nc,
            self._next_subject(),
            self,
            max_messages,
            max_wait=max_wait,
            max_bytes=max_bytes,
            heartbeat=heartbeat,
            on_msg=on_msg,
            no_wait=no_wait,
            priority=priority,
        )

    async def next(
        self,
        timeout: float = DEFAULT_EXPIRES,
        *,
        group: str | None = None,
        min_pending: int | None = None,
        min_ack_pending: int | None = None,
        priority: int | None = None,
    ) -> Msg:
        """One message, waiting at most ``timeout`` seconds (group options as :meth:`fetch`).

        Raises:
            TimeoutError: none arrived in time.
            plus what :meth:`fetch` raises.

        Cancelling it abandons the request.
        """
        msgs = await self.fetch(
            1,
            max_wait=timeout,
            group=group,
            min_pending=min_pending,
            min_ack_pending=min_ack_pending,
            priority=priority,
        )
        if not msgs:
            raise TimeoutError(f"no message from consumer {self.consumer_name!r} within {timeout} s")
        return msgs[0]

    async def messages(
        self,
        *,
        max_messages: int | None = None,
        max_bytes: int | None = None,
        threshold_messages: int | None = None,
        threshold_bytes: int | None = None,
        expires: float = DEFAULT_EXPIRES,
        idle_heartbeat: float | None = None,
        error_cb: ErrorCallback | None = None,
        group: str | None = None,
        min_pending: int | None = None,
        min_ack_pending: int | None = None,
        priority: int | None = None,
    ) -> MessageStream:
        """Start a buffered stream of messages: ``async for msg in await c.messages()``.

        ``max_messages`` (default 500) or ``max_bytes`` bound the buffer; a pull request
        refills it when what is buffered plus what is asked for falls to the threshold
        (default half). ``expires`` is each request's lifetime, ``idle_heartbeat``
        (default ``expires / 2``, at most 30 s) the server's proof-of-life interval.
        Warnings (missed heartbeats, refused requests) go to ``error_cb`` (default: the
        client's ``error_cb``). ``group`` and its options are those of :meth:`fetch`.

        Raises:
            InvalidInputError / BadTimeoutError: bad or conflicting options.
            ConnectionClosedError: the client is closed.
        """
        stream = MessageStream(
            self._js._nc,
            self._js._api.prefix,
            self,
            max_messages=max_messages,
            max_bytes=max_bytes,
            threshold_messages=threshold_messages,
            threshold_bytes=threshold_bytes,
            expires=expires,
            idle_heartbeat=idle_heartbeat,
            error_cb=error_cb,
            priority=self._priority(group, min_pending, min_ack_pending, priority),
        )
        return await stream.start()

    async def consume(
        self,
        cb: MessageHandler,
        *,
        max_messages: int | None = None,
        max_bytes: int | None = None,
        threshold_messages: int | None = None,
        threshold_bytes: int | None = None,
        expires: float = DEFAULT_EXPIRES,
        idle_heartbeat: float | None = None,
        error_cb: ErrorCallback | None = None,
        group: str | None = None,
        min_pending: int | None = None,
        min_ack_pending: int | None = None,
        priority: int | None = None,
    ) -> ConsumeContext:
        """Call ``cb`` (plain or ``async``) with each message, one at a time.

        Options as :meth:`messages`. An exception in ``cb`` is reported to ``error_cb``
        and the next message follows; acknowledging is up to ``cb``.

        Returns:
            A :class:`ConsumeContext` to ``stop()``, ``drain()`` or ``wait()`` for the end.

        Raises:
            what :meth:`messages` raises.
        """
        stream = await self.messages(
            max_messages=max_messages,
            max_bytes=max_bytes,
            threshold_messages=threshold_messages,
            threshold_bytes=threshold_bytes,
            expires=expires,
            idle_heartbeat=idle_heartbeat,
            error_cb=error_cb,
            group=group,
            min_pending=min_pending,
            min_ack_pending=min_ack_pending,
            priority=priority,
        )
        report = error_cb or self._js._nc.report_error
        return ConsumeContext(stream, cb, report)

    def observe(
        self, *, batch: int = 100, threshold: int | None = None, expires: float = 5.0
    ) -> Observable[Msg]:
        """The consumer's messages as an ``Observable[Msg]`` pulled on downstream demand.

        See :func:`rxnats.jetstream.rx.observe_consumer` for the demand rule.

        Raises:
            InvalidInputError: ``batch`` < 1 or ``threshold`` not in ``0..batch-1``.
        """
        from rxnats.jetstream.rx import observe_consumer

        return observe_consumer(self, batch=batch, threshold=threshold, expires=expires)


class Consumer(PullConsumerBase):
    """A pull consumer on a stream (``await stream.consumer("name")``)."""

    def __init__(self, js: JetStreamContext, stream: str, info: ConsumerInfo) -> None:
        super().__init__(js, stream)
        self._info = info

    @property
    def consumer_name(self) -> str:
        """The consumer's name."""
        return self._info.name

    @property
    def cached_info(self) -> ConsumerInfo:
        """The info from when this handle was made or last refreshed (no request)."""
        return self._info

    @property
    def acks(self) -> bool:
        """Whether delivered messages expect an acknowledgement."""
        return self._info.config.ack_policy not in (AckPolicy.NONE, None)

    async def info(self) -> ConsumerInfo:
        """The consumer's current info (also refreshes :attr:`cached_info`).

        Raises:
            ConsumerNotFoundError: it was deleted.
        """
        self._info = await self._js.consumer_info(self._stream, self.consumer_name)
        return self._info

    async def delete(self) -> bool:
        """Delete the consumer on the server.

        Raises:
            ConsumerNotFoundError: it was already deleted.
        """
        return await self._js.delete_consumer(self._stream, self.consumer_name)

    def __repr__(self) -> str:
        return f"<Consumer {self._stream}/{self.consumer_name}>"


class Stream:
    """A handle on a stream: its consumers, info and stored messages (ADR-37)."""

    def __init__(self, js: JetStreamContext, name: str, info: StreamInfo | None = None) -> None:
        self._js = js
        self._name = name
        self._info = info

    @property
    def name(self) -> str:
        """The stream's name."""
        return self._name

    @property
    def cached_info(self) -> StreamInfo | None:
        """The info from when this handle was made or last refreshed, if any."""
        return self._info

    async def info(self) -> StreamInfo:
        """The stream's current info.

        Raises:
            StreamNotFoundError: no such stream.
        """
        self._info = await self._js.stream_info(self._name)
        return self._info

    async def create_consumer(
        self, config: ConsumerConfig | None = None, **params: object
    ) -> Consumer:
        """Create a pull consumer; explicit acks by default (ADR-37 action ``create``).

        Without ``name``/``durable_name`` it is ephemeral (server-named). Creating one
        that exists with the same configuration returns it; with another configuration
        it fails and the existing consumer is left as it is.

        Raises:
            InvalidInputError: a ``deliver_subject`` (push consumer) or unknown keyword.
            ConsumerNameExistsError: it exists with another configuration.
            StreamNotFoundError: no such stream.
        """
        return await self._upsert(config, params, "create")

    async def update_consumer(
        self, config: ConsumerConfig | None = None, **params: object
    ) -> Consumer:
        """Change an existing pull consumer (ADR-37 action ``update``).

        Raises:
            ConsumerNotFoundError: no such consumer.
            BadRequestError: the change is not allowed (e.g. another deliver policy).
            InvalidInputError: no name, a ``deliver_subject`` or an unknown keyword.
        """
        return await self._upsert(config, params, "update")

    async def create_or_update_consumer(
        self, config: ConsumerConfig | None = None, **params: object
    ) -> Consumer:
        """Create the consumer, or apply the allowed changes to an existing one.

        Raises:
            what :meth:`create_consumer` and :meth:`update_consumer` raise.
        """
        return await self._upsert(config, params, None)

    async def _upsert(
        self,
        config: ConsumerConfig | None,
        params: dict[str, object],
        action: Literal["create", "update"] | None,
    ) -> Consumer:
        try:
            merged = (config or ConsumerConfig()).evolve(**params)
        except TypeError as exc:
            raise InvalidInputError(f"unknown ConsumerConfig field: {exc}") from None
        if merged.deliver_subject:
            raise InvalidInputError("a simplified consumer must be a pull consumer")
        info = await self._js._create_consumer(self._name, merged, action, None)
        return Consumer(self._js, self._name, info)

    async def consumer(self, name: str) -> Consumer:
        """A handle on an existing pull consumer.

        Raises:
            ConsumerNotFoundError: no such consumer.
            InvalidInputError: it is a push consumer.
        """
        info = await self._js.consumer_info(self._name, name)
        if info.config.deliver_subject:
            raise InvalidInputError(f"consumer {name!r} is a push consumer")
        return Consumer(self._js, self._name, info)

    async def delete_consumer(self, name: str) -> bool:
        """Delete a consumer of this stream.

        Raises:
            ConsumerNotFoundError: no such consumer.
        """
        return await self._js.delete_consumer(self._name, name)

    async def consumer_names(self) -> list[str]:
        """The names of this stream's consumers."""
        return await self._js.consumer_names(self._name)

    async def list_consumers(self) -> list[ConsumerInfo]:
        """The info of each of this stream's consumers."""
        return await self._js.consumers_info(self._name)

    async def pause_consumer(self, name: str, pause_until: dt.datetime | str) -> ConsumerPause:
        """Pause consumer ``name`` until ``pause_until`` (server 2.11+).

        Raises:
            ConsumerNotFoundError: no such consumer.
        """
        return await self._js.pause_consumer(self._name, name, pause_until)

    async def resume_consumer(self, name: str) -> ConsumerPause:
        """Resume a paused consumer now (server 2.11+).

        Raises:
            ConsumerNotFoundError: no such consumer.
        """
        return await self._js.resume_consumer(self._name, name)

    async def unpin_consumer(self, name: str, group: str) -> bool:
        """Unpin the pinned client of priority group ``group`` (ADR-42).

        Raises:
            ConsumerNotFoundError: no such consumer.
        """
        return await self._js.unpin_consumer(self._name, name, group)

    async def get_msg(self, seq: int) -> RawStreamMsg:
        """The stored message at ``seq``.

        Raises:
            MessageNotFoundError: none there.
        """
        return await self._js.get_msg(self._name, seq=seq)

    async def get_last_msg_for_subject(self, subject: str) -> RawStreamMsg:
        """The last message stored on ``subject``.

        Raises:
            MessageNotFoundError: none.
        """
        return await self._js.get_last_msg(self._name, subject)

    async def delete_msg(self, seq: int) -> bool:
        """Delete the message at ``seq``.

        Raises:
            MessageNotFoundError: no message there.
        """
        return await self._js.delete_msg(self._name, seq)

    async def ordered_consumer(
        self, config: ConsumerConfig | None = None, **params: object
    ) -> OrderedConsumer:
        """An ordered consumer (ADR-17): every message once, in stream order, no acks.

        ``config``/keywords may set ``filter_subject(s)``, ``deliver_policy``,
        ``opt_start_seq``/``opt_start_time``, ``headers_only``, ``replay_policy`` and
        ``inactive_threshold``; the rest is fixed (ephemeral, ack none, memory storage,
        one replica).

        Raises:
            InvalidInputError: a field an ordered consumer fixes, or an unknown keyword.
            StreamNotFoundError: no such stream.
        """
        from rxnats.jetstream.ordered import OrderedConsumer

        consumer = OrderedConsumer(self._js, self._name, config, **params)
        await consumer.reset()
        return consumer

    async def purge(
        self, subject: str | None = None, seq: int | None = None, keep: int | None = None
    ) -> bool:
        """Remove messages (see :meth:`JetStreamManager.purge_stream`)."""
        return await self._js.purge_stream(self._name, seq=seq, subject=subject, keep=keep)

    def __repr__(self) -> str:
        return f"<Stream {self._name}>"
