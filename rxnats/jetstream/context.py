"""JetStreamContext: publishing to streams, pull consumers, and key-value buckets.

The context is also a :class:`~rxnats.jetstream.manager.JetStreamManager` (as in nats-py),
so ``js.add_stream(...)`` works too.
"""

from __future__ import annotations

import asyncio
import builtins
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeAlias

from rxnats.contract import MessageCallback
from rxnats.errors import InvalidInputError, NoRespondersError
from rxnats.jetstream.consumer import Consumer, Stream
from rxnats.jetstream.errors import (
    BadBucketError,
    BucketNotFoundError,
    ConsumerAlreadyBoundError,
    ConsumerNotFoundError,
    DeliverGroupMismatchError,
    InvalidBucketNameError,
    KeyHistoryTooLargeError,
    KeyValueLimitMarkerTTLNotSupportedError,
    NoStreamResponseError,
    StreamNotFoundError,
    TooManyStalledMsgsError,
)
from rxnats.jetstream.headers import Header, ttl_value
from rxnats.jetstream.kv import KeyValue, kv_stream_config
from rxnats.jetstream.manager import JetStreamManager
from rxnats.jetstream.models import (
    AckPolicy,
    ConsumerConfig,
    ConsumerInfo,
    DeliverPolicy,
    KeyValueConfig,
    PubAck,
)
from rxnats.jetstream.object_models import ObjectStoreConfig
from rxnats.jetstream.object_store import ObjectStore
from rxnats.jetstream.object_store import create_object_store as _create_object_store
from rxnats.jetstream.object_store import delete_object_store as _delete_object_store
from rxnats.jetstream.object_store import open_object_store as _open_object_store
from rxnats.jetstream.ordered_push import subscribe_ordered
from rxnats.jetstream.publish_async import DEFAULT_MAX_PENDING, AsyncPublisher, decode_pub_ack
from rxnats.jetstream.pull import PullSubscription
from rxnats.jetstream.push import PushSubscription, needs_ack, status_handler
from rxnats.nuid import TextNUID
from rxnats.wire.headers import HeadersInput

if TYPE_CHECKING:
    from rxnats.contract import JetStreamClient
    from rxnats.msg import Msg

__all__ = ["JetStreamContext"]

_BUCKET_NAME = re.compile(r"^[a-zA-Z0-9_-]+$")

_KV_MAX_HISTORY = 64
DEFAULT_JS_SUB_PENDING_MSGS_LIMIT = 512 * 1024
DEFAULT_JS_SUB_PENDING_BYTES_LIMIT = 256 * 1024 * 1024
_nuid = TextNUID()

# The header of each publish expectation keyword (ADR-31 / nats-server).
_EXPECTATION_HEADERS = {
    "msg_id": Header.MSG_ID.value,
    "expected_stream": Header.EXPECTED_STREAM.value,
    "expected_last_seq": Header.EXPECTED_LAST_SEQUENCE.value,
    "expected_last_subject_seq": Header.EXPECTED_LAST_SUBJECT_SEQUENCE.value,
    "expected_last_msg_id": Header.EXPECTED_LAST_MSG_ID.value,
}


_PullSubscription: TypeAlias = PullSubscription
_PushSubscription: TypeAlias = PushSubscription


class JetStreamContext(JetStreamManager):
    """Publishing and consuming (``nc.jetstream()``); also every manager method."""

    PullSubscription: TypeAlias = _PullSubscription  # nats-py's nested names
    PushSubscription: TypeAlias = _PushSubscription

    @classmethod
    def is_status_msg(cls, msg: Msg | None) -> str | None:
        """The status of a status message as text (``"404"``), else ``None`` (nats-py's)."""
        if msg is None or msg.status is None:
            return None
        return str(msg.status)

    def __init__(
        self,
        nc: JetStreamClient,
        *,
        prefix: str = "$JS.API",
        domain: str | None = None,
        timeout: float = 5.0,
        publish_async_max_pending: int = DEFAULT_MAX_PENDING,
    ) -> None:
        super().__init__(nc, prefix=prefix, domain=domain, timeout=timeout)
        self._async_publisher = AsyncPublisher(
            nc, max_pending=publish_async_max_pending, timeout=timeout
        )

    # -------------------------------------------------------------- publish
    async def publish(
        self,
        subject: str,
        payload: bytes = b"",
        timeout: float | None = None,
        stream: str | None = None,
        headers: HeadersInput | None = None,
        msg_ttl: float | str | None = None,
        *,
        msg_id: str | None = None,
        expected_stream: str | None = None,
        expected_last_seq: int | None = None,
        expected_last_subject_seq: int | None = None,
        expected_last_msg_id: str | None = None,
    ) -> PubAck:
        """Publish to a stream and wait for the stream's acknowledgement.

        ``msg_id`` (header ``Nats-Msg-Id``) lets the stream drop duplicates within its
        ``duplicate_window``: the repeat's ack has ``duplicate=True``. ``stream`` (or
        ``expected_stream``) and the ``expected_last_*`` keywords make the stream refuse
        the message unless it matches; the same headers given in ``headers`` work too.
        ``msg_ttl`` (seconds, or a duration text such as ``"1h"`` or ``"never"``) removes
        the message after that long (ADR-43, server 2.11+; the stream needs
        ``allow_msg_ttl``).

        Raises:
            NoStreamResponseError: no stream captures ``subject``.
            WrongLastSequenceError: an ``expected_last_*`` check failed (err_code 10071);
                like every refusal with code 400 it is a ``BadRequestError``.
            MsgTTLDisabledError: ``msg_ttl`` on a stream without ``allow_msg_ttl``.
            APIError: the stream refused the message for another reason.
            TimeoutError: no acknowledgement within ``timeout`` (default: the context's);
                the message may still have been stored.
            InvalidInputError: ``msg_ttl`` is under one second.

        Cancelling it stops waiting; the message may still be stored.
        """
        hdrs = _publish_headers(
            headers,
            msg_ttl,
            msg_id=msg_id,
            expected_stream=expected_stream or stream,
            expected_last_seq=expected_last_seq,
            expected_last_subject_seq=expected_last_subject_seq,
            expected_last_msg_id=expected_last_msg_id,
        )
        try:
            reply = await self._nc.request(
                subject, payload, timeout=timeout or self._timeout, headers=hdrs
            )
        except NoRespondersError as exc:
            raise NoStreamResponseError(f"no stream captures subject {subject!r}") from exc
        return decode_pub_ack(reply.data, stream=stream)

    async def publish_async(
        self,
        subject: str,
        payload: bytes = b"",
        wait_stall: float | None = None,
        stream: str | None = None,
        headers: HeadersInput | None = None,
        msg_ttl: float | str | None = None,
        *,
        timeout: float | None = None,
        msg_id: str | None = None,
        expected_stream: str | None = None,
        expected_last_seq: int | None = None,
        expected_last_subject_seq: int | None = None,
        expected_last_msg_id: str | None = None,
    ) -> asyncio.Future[PubAck]:
        """Publish to a stream without waiting for its ack; return the ack's future.

        At most ``publish_async_max_pending`` acks are outstanding: beyond that it waits
        (up to ``wait_stall`` seconds, default forever) for a place. The future gets the
        :class:`PubAck`, or the error :meth:`publish` would raise (``TimeoutError`` after
        ``timeout``, default the context's). The other options are :meth:`publish`'s.

        Raises:
            TooManyStalledMsgsError: no place freed within ``wait_stall`` (it is also a
                ``TimeoutError``).
            InvalidInputError: ``msg_ttl`` is under one second.
            plus what :meth:`NATS.publish` raises.

        Cancelling it while it waits for a place sends nothing.
        """
        if (
            headers is None
            and msg_ttl is None
            and stream is None
            and msg_id is None
            and expected_stream is None
            and expected_last_seq is None
            and expected_last_subject_seq is None
            and expected_last_msg_id is None
        ):
            hdrs = None  # the common case, on the hot path: nothing to build
        else:
            hdrs = _publish_headers(
                headers,
                msg_ttl,
                msg_id=msg_id,
                expected_stream=expected_stream or stream,
                expected_last_seq=expected_last_seq,
                expected_last_subject_seq=expected_last_subject_seq,
                expected_last_msg_id=expected_last_msg_id,
            )
        if wait_stall is None:
            return await self._async_publisher.publish(
                subject, payload, headers=hdrs, timeout=timeout
            )
        send = self._async_publisher.publish(subject, payload, headers=hdrs, timeout=timeout)
        try:
            async with asyncio.timeout(wait_stall):
                return await send
        except builtins.TimeoutError as exc:
            raise TooManyStalledMsgsError(
                f"publish_async stalled for {wait_stall} s with "
                f"{self._async_publisher.pending} acks outstanding"
            ) from exc

    def publish_async_pending(self) -> int:
        """How many :meth:`publish_async` acks are outstanding."""
        return self._async_publisher.pending

    async def publish_async_completed(self, timeout: float | None = None) -> None:
        """Wait until every :meth:`publish_async` ack (or failure) has arrived.

        Raises:
            TimeoutError: some are outstanding after ``timeout`` seconds.

        Cancelling it only stops the wait.
        """
        await self._async_publisher.wait_all(timeout)

    # -------------------------------------------------------------- simplified (ADR-37)
    def stream(self, name: str) -> Stream:
        """A handle on the stream ``name`` without asking the server (see :meth:`get_stream`)."""
        return Stream(self, name)

    async def get_stream(self, name: str) -> Stream:
        """A handle on an existing stream, for its consumers (ADR-37).

        Raises:
            StreamNotFoundError: no such stream.
        """
        return Stream(self, name, await self.stream_info(name))

    async def get_consumer(self, stream: str, name: str) -> Consumer:
        """A handle on an existing pull consumer (``fetch``/``next``/``consume``).

        Raises:
            ConsumerNotFoundError: no such consumer.
            InvalidInputError: it is a push consumer.
        """
        return await Stream(self, stream).consumer(name)

    async def create_consumer(
        self, stream: str, config: ConsumerConfig | None = None, **params: object
    ) -> Consumer:
        """Create a pull consumer on ``stream`` and return a handle on it (ADR-37).

        An existing consumer of that name with another configuration is not changed.

        Raises:
            see :meth:`Stream.create_consumer`.
        """
        return await Stream(self, stream).create_consumer(config, **params)

    async def update_consumer(
        self, stream: str, config: ConsumerConfig | None = None, **params: object
    ) -> Consumer:
        """Change an existing pull consumer of ``stream`` (ADR-37).

        Raises:
            see :meth:`Stream.update_consumer`.
        """
        return await Stream(self, stream).update_consumer(config, **params)

    async def create_or_update_consumer(
        self, stream: str, config: ConsumerConfig | None = None, **params: object
    ) -> Consumer:
        """Create a pull consumer on ``stream``, or change the existing one.

        Raises:
            see :meth:`Stream.create_or_update_consumer`.
        """
        return await Stream(self, stream).create_or_update_consumer(config, **params)

    # -------------------------------------------------------------- pull consumers
    async def pull_subscribe(
        self,
        subject: str,
        durable: str | None = None,
        stream: str | None = None,
        config: ConsumerConfig | None = None,
        pending_msgs_limit: int = DEFAULT_JS_SUB_PENDING_MSGS_LIMIT,
        pending_bytes_limit: int = DEFAULT_JS_SUB_PENDING_BYTES_LIMIT,
        inbox_prefix: str | bytes | None = None,
    ) -> PullSubscription:
        """Subscribe to a pull consumer filtering ``subject``; create it when missing.

        With ``durable``, an existing consumer of that name is bound, else one is created
        from ``config`` (explicit acks by default). Without it an ephemeral consumer is
        created under a name this client chooses (a NUID, as nats-py does), so the name
        is known before the server answers. ``stream`` defaults to the stream capturing
        ``subject``.

        Raises:
            NotFoundError: no stream captures ``subject``.
            APIError: the consumer could not be created.
        """
        if stream is None:
            stream = await self.find_stream_name_by_subject(subject)
        if durable is not None:
            try:
                await self.consumer_info(stream, durable)
                return await self._bind_pull(
                    stream, durable, pending_msgs_limit, pending_bytes_limit, inbox_prefix
                )
            except ConsumerNotFoundError:
                pass
        config = config or ConsumerConfig()
        changes: dict[str, object] = {}
        if durable is not None:
            changes["durable_name"] = durable
            changes["name"] = durable
        elif not config.name and not config.durable_name:
            changes["name"] = _nuid.next()
        if config.ack_policy is None:
            changes["ack_policy"] = AckPolicy.EXPLICIT
        if not config.filter_subject and not config.filter_subjects:
            changes["filter_subject"] = subject
        info = await self.add_consumer(stream, config.evolve(**changes))
        return await self._bind_pull(
            stream, info.name, pending_msgs_limit, pending_bytes_limit, inbox_prefix
        )

    async def pull_subscribe_bind(
        self,
        consumer: str | None = None,
        stream: str | None = None,
        inbox_prefix: str | bytes | None = None,
        pending_msgs_limit: int = DEFAULT_JS_SUB_PENDING_MSGS_LIMIT,
        pending_bytes_limit: int = DEFAULT_JS_SUB_PENDING_BYTES_LIMIT,
        name: str | None = None,
        durable: str | None = None,
    ) -> PullSubscription:
        """Subscribe to an existing pull consumer without checking or creating it.

        The consumer is ``consumer`` (nats-py's ``durable=`` and ``name=`` are accepted
        too); nothing is asked of the server until the first fetch.

        Raises:
            InvalidInputError: no stream, or no consumer name.
        """
        if not stream:
            raise InvalidInputError("pull_subscribe_bind needs the stream's name")
        target = durable or name or consumer
        if not target:
            raise InvalidInputError("pull_subscribe_bind needs the consumer's name")
        return await self._bind_pull(
            stream, target, pending_msgs_limit, pending_bytes_limit, inbox_prefix
        )

    async def _bind_pull(
        self,
        stream: str,
        consumer: str,
        pending_msgs_limit: int,
        pending_bytes_limit: int,
        inbox_prefix: str | bytes | None,
    ) -> PullSubscription:
        if isinstance(inbox_prefix, bytes):
            inbox_prefix = inbox_prefix.decode()
        inbox = (
            f"{inbox_prefix.rstrip('.')}.{_nuid.next()}" if inbox_prefix else self._nc.new_inbox()
        )
        sub = await self._nc.subscribe(
            f"{inbox}.*",
            pending_msgs_limit=pending_msgs_limit,
            pending_bytes_limit=pending_bytes_limit,
        )
        return PullSubscription(self, sub, inbox, stream, consumer)

    # -------------------------------------------------------------- push consumers
    async def subscribe(
        self,
        subject: str,
        queue: str | None = None,
        cb: MessageCallback | None = None,
        durable: str | None = None,
        stream: str | None = None,
        config: ConsumerConfig | None = None,
        manual_ack: bool = False,
        ordered_consumer: bool = False,
        idle_heartbeat: float | None = None,
        flow_control: bool = False,
        pending_msgs_limit: int = DEFAULT_JS_SUB_PENDING_MSGS_LIMIT,
        pending_bytes_limit: int = DEFAULT_JS_SUB_PENDING_BYTES_LIMIT,
        deliver_policy: DeliverPolicy | None = None,
        headers_only: bool | None = None,
        inactive_threshold: float | None = None,
    ) -> PushSubscription:
        """Subscribe to a push consumer filtering ``subject``; create it when missing.

        With ``durable`` (or ``queue``, which names the durable when ``durable`` is not
        given) an existing consumer is bound to its deliver subject and group. A consumer
        without a deliver group takes one subscriber: a second ``subscribe`` to it is
        refused (both would get every message). Otherwise a consumer is created that
        delivers to ``config.deliver_subject`` when given, else to a new inbox (ephemeral
        without a durable name, deleted again by :meth:`PushSubscription.unsubscribe`).
        Messages go to ``cb`` (acked after it returns unless ``manual_ack``) or are read
        with ``next_msg`` / ``async for``. Flow-control requests and heartbeats are
        handled internally.

        ``ordered_consumer=True`` makes an ordered consumer (ADR-17): every message once,
        in stream order, no acks; it is recreated after a gap, a lost heartbeat, a
        deletion or a reconnect (see
        :class:`~rxnats.jetstream.ordered_push.OrderedPushSubscription`).

        Raises:
            ConsumerAlreadyBoundError: the durable has no deliver group and already has
                a subscriber.
            DeliverGroupMismatchError: ``queue`` does not match the durable's deliver
                group (or the durable has one and no ``queue`` was given).
            InvalidInputError: ``ordered_consumer`` with ``durable``/``queue``/
                ``manual_ack``, or with a field an ordered consumer sets itself; the
                durable is a pull consumer.
            NotFoundError: no stream captures ``subject``.
            APIError: the consumer could not be created.
        """
        if stream is None:
            stream = await self.find_stream_name_by_subject(subject)
        if ordered_consumer:
            if durable is not None or queue is not None or manual_ack:
                raise InvalidInputError(
                    "an ordered consumer is ephemeral, unshared and takes no acks"
                )
            return await subscribe_ordered(
                self,
                subject,
                stream,
                cb=cb,
                config=config,
                deliver_policy=deliver_policy,
                headers_only=headers_only,
                idle_heartbeat=idle_heartbeat,
                pending_msgs_limit=pending_msgs_limit,
                pending_bytes_limit=pending_bytes_limit,
            )
        if queue and durable and durable != queue:
            raise DeliverGroupMismatchError(
                f"cannot create queue subscription {queue!r} to consumer {durable!r}"
            )
        name = durable or queue
        info: ConsumerInfo | None = None
        if name is not None:
            try:
                info = await self.consumer_info(stream, name)
            except ConsumerNotFoundError:
                info = None
        created = info is None
        if info is not None:
            _check_push_binding(info, queue)
        else:
            config = config or ConsumerConfig()
            changes: dict[str, object] = {}
            if not config.deliver_subject:
                changes["deliver_subject"] = self._nc.new_inbox()
            if name is not None:
                changes["durable_name"] = name
            if queue is not None:
                changes["deliver_group"] = queue
            if not config.filter_subject and not config.filter_subjects:
                changes["filter_subject"] = subject
            for key, value in (
                ("idle_heartbeat", idle_heartbeat),
                ("flow_control", flow_control or None),
                ("deliver_policy", deliver_policy),
                ("headers_only", headers_only),
                ("inactive_threshold", inactive_threshold),
            ):
                if value is not None:
                    changes[key] = value
            info = await self.add_consumer(stream, config.evolve(**changes))
        return await self._bind_push(
            stream,
            info,
            cb=cb,
            manual_ack=manual_ack,
            pending_msgs_limit=pending_msgs_limit,
            pending_bytes_limit=pending_bytes_limit,
            delete_on_unsubscribe=created and name is None,
        )

    async def subscribe_bind(
        self,
        stream: str,
        config: ConsumerConfig,
        consumer: str,
        cb: MessageCallback | None = None,
        manual_ack: bool = False,
        ordered_consumer: bool = False,
        pending_msgs_limit: int = DEFAULT_JS_SUB_PENDING_MSGS_LIMIT,
        pending_bytes_limit: int = DEFAULT_JS_SUB_PENDING_BYTES_LIMIT,
    ) -> PushSubscription:
        """Subscribe to the existing push consumer ``consumer`` whose ``config`` is given.

        Nothing is asked of the server: the subscription is made on
        ``config.deliver_subject`` (in ``config.deliver_group`` when set), as in nats-py.

        Raises:
            InvalidInputError: ``config`` has no ``deliver_subject``, or
                ``ordered_consumer`` is asked for (use ``subscribe(ordered_consumer=True)``).
        """
        if ordered_consumer:
            raise InvalidInputError(
                "an ordered consumer creates its own consumers: use "
                "subscribe(subject, ordered_consumer=True)"
            )
        if not config.deliver_subject:
            raise InvalidInputError("subscribe_bind needs config.deliver_subject")
        info = ConsumerInfo(name=consumer, stream_name=stream, config=config)
        return await self._bind_push(
            stream,
            info,
            cb=cb,
            manual_ack=manual_ack,
            pending_msgs_limit=pending_msgs_limit,
            pending_bytes_limit=pending_bytes_limit,
            delete_on_unsubscribe=False,
        )

    async def _bind_push(
        self,
        stream: str,
        info: ConsumerInfo,
        *,
        cb: MessageCallback | None,
        manual_ack: bool,
        pending_msgs_limit: int,
        pending_bytes_limit: int,
        delete_on_unsubscribe: bool,
    ) -> PushSubscription:
        deliver = info.config.deliver_subject
        if not deliver:
            raise InvalidInputError(f"consumer {info.name!r} is a pull consumer: use pull_subscribe")
        handler = (
            status_handler(self._nc, cb, auto_ack=not manual_ack and needs_ack(info))
            if cb is not None
            else None
        )
        sub = await self._nc.subscribe(
            deliver,
            queue=info.config.deliver_group or "",
            cb=handler,
            pending_msgs_limit=pending_msgs_limit,
            pending_bytes_limit=pending_bytes_limit,
        )
        return PushSubscription(
            self, sub, stream, info.name, delete_on_unsubscribe=delete_on_unsubscribe
        )

    # -------------------------------------------------------------- key-value
    async def key_value(self, bucket: str) -> KeyValue:
        """Open an existing key-value bucket.

        Raises:
            BucketNotFoundError: no such bucket (a ``NotFoundError``).
            BadBucketError: a stream of that name exists but is not a bucket.
            InvalidBucketNameError: the name is not valid.
        """
        _check_bucket(bucket)
        try:
            info = await self.stream_info(f"KV_{bucket}")
        except StreamNotFoundError as exc:
            raise BucketNotFoundError(f"no key-value bucket {bucket!r}") from exc
        if info.config.max_msgs_per_subject < 1:
            raise BadBucketError(f"stream KV_{bucket} is not a key-value bucket")
        return KeyValue(self, bucket, info)

    async def create_key_value(
        self, config: KeyValueConfig | None = None, **params: object
    ) -> KeyValue:
        """Create a key-value bucket from ``config`` and/or keywords (``bucket=, history=``).

        ``limit_marker_ttl`` (seconds, server 2.11+) makes the server leave a marker of
        that lifetime when a key expires or a limit removes it (ADR-48). Buckets are made
        with ``allow_msg_ttl``, as nats-py makes them, so ``kv.create(..., msg_ttl=)`` and
        ``kv.purge(..., msg_ttl=)`` work (servers before 2.11 ignore it).

        Raises:
            InvalidBucketNameError: the name is not valid.
            KeyHistoryTooLargeError: ``history`` is over 64.
            InvalidInputError: ``history`` is under 1, or an unknown keyword.
            KeyValueLimitMarkerTTLNotSupportedError: ``limit_marker_ttl`` on a server
                older than 2.11 (API level 0).
            StreamNameAlreadyInUseError: it exists with another configuration.
        """
        config = config or KeyValueConfig()
        try:
            config = config.evolve(**params)
        except TypeError as exc:
            raise InvalidInputError(f"unknown KeyValueConfig field: {exc}") from None
        _check_bucket(config.bucket)
        if config.history > _KV_MAX_HISTORY:
            raise KeyHistoryTooLargeError(
                f"history is limited to {_KV_MAX_HISTORY}, not {config.history}"
            )
        if config.history < 1:
            raise InvalidInputError(f"history must be at least 1, not {config.history}")
        if config.limit_marker_ttl:
            level = (await self.account_info()).api.level
            if not level:
                raise KeyValueLimitMarkerTTLNotSupportedError(
                    "limit_marker_ttl needs nats-server 2.11 or later"
                )
        info = await self.add_stream(kv_stream_config(config))
        return KeyValue(self, config.bucket, info)

    async def delete_key_value(self, bucket: str) -> bool:
        """Delete a key-value bucket and all its values; return ``True`` on success.

        Raises:
            BucketNotFoundError: no such bucket.
        """
        _check_bucket(bucket)
        try:
            return await self.delete_stream(f"KV_{bucket}")
        except StreamNotFoundError as exc:
            raise BucketNotFoundError(f"no key-value bucket {bucket!r}") from exc

    # -------------------------------------------------------------- object store
    async def object_store(self, bucket: str) -> ObjectStore:
        """Open an existing object store bucket.

        Raises:
            BucketNotFoundError: no such bucket.
            InvalidBucketNameError: the name is not valid.
        """
        return await _open_object_store(self, bucket)

    async def create_object_store(
        self,
        bucket: str | ObjectStoreConfig | None = None,
        config: ObjectStoreConfig | None = None,
        **params: object,
    ) -> ObjectStore:
        """Create an object store from ``config`` and/or keywords (``bucket=, ttl=``).

        ``create_object_store("B")``, ``create_object_store(config=cfg)`` (nats-py) and
        ``create_object_store(cfg)`` all work; keywords override the config's fields.

        Raises:
            InvalidBucketNameError: the name is not valid.
            InvalidInputError: an unknown keyword.
            StreamNameAlreadyInUseError: it exists with another configuration.
        """
        if isinstance(bucket, ObjectStoreConfig):
            config, bucket = bucket, None
        config = config or ObjectStoreConfig()
        if bucket is not None:
            params["bucket"] = bucket
        try:
            config = config.evolve(**params)
        except TypeError as exc:
            raise InvalidInputError(f"unknown ObjectStoreConfig field: {exc}") from None
        return await _create_object_store(self, config)

    async def delete_object_store(self, bucket: str) -> bool:
        """Delete an object store and every object in it; return ``True`` on success.

        Raises:
            BucketNotFoundError: no such bucket.
        """
        return await _delete_object_store(self, bucket)


def _check_bucket(bucket: str) -> None:
    if not bucket or not _BUCKET_NAME.match(bucket):
        raise InvalidBucketNameError(f"invalid bucket name {bucket!r}")


def _check_push_binding(info: ConsumerInfo, queue: str | None) -> None:
    """Refuse a second subscriber where messages would be delivered twice (nats-py's rule).

    Raises:
        ConsumerAlreadyBoundError: no deliver group and already a subscriber.
        DeliverGroupMismatchError: ``queue`` does not match the deliver group.
    """
    if not info.config.deliver_subject:
        raise InvalidInputError(f"consumer {info.name!r} is a pull consumer: use pull_subscribe")
    group = info.config.deliver_group
    if not group:
        if queue:
            raise DeliverGroupMismatchError(
                f"consumer {info.name!r} has no deliver group: it cannot take queue {queue!r}"
            )
        if info.push_bound:
            raise ConsumerAlreadyBoundError(
                f"consumer {info.name!r} is already bound to a subscription"
            )
    elif not queue:
        raise DeliverGroupMismatchError(
            f"consumer {info.name!r} delivers to group {group!r}: subscribe with queue={group!r}"
        )
    elif queue != group:
        raise DeliverGroupMismatchError(
            f"queue {queue!r} does not match consumer {info.name!r}'s deliver group {group!r}"
        )


def _publish_headers(
    headers: HeadersInput | None,
    msg_ttl: float | str | None,
    **expectations: str | int | None,
) -> dict[str, str | Sequence[str]] | None:
    """The headers of a JetStream publish: the user's plus the expectations and TTL."""
    hdrs: dict[str, str | Sequence[str]] = dict(headers) if headers else {}
    for key, value in expectations.items():
        if value is not None:
            hdrs[_EXPECTATION_HEADERS[key]] = str(value)
    if msg_ttl is not None:
        hdrs[Header.MSG_TTL.value] = ttl_value(msg_ttl)
    return hdrs or None
