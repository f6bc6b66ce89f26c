"""JetStreamContext: publishing to streams, pull consumers, and key-value buckets.

The context is also a :class:`~rxnats.jetstream.manager.JetStreamManager` (as in nats-py),
so ``js.add_stream(...)`` works too.
"""

from __future__ import annotations

import asyncio
import builtins
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from rxnats.errors import InvalidInputError, NoRespondersError, TimeoutError
from rxnats.jetstream.api import decode_json
from rxnats.jetstream.consumer import Consumer, Stream
from rxnats.jetstream.errors import (
    BucketNotFoundError,
    ConsumerNotFoundError,
    InvalidBucketNameError,
    NoStreamResponseError,
    StreamNotFoundError,
    api_error,
)
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
from rxnats.jetstream.publish_async import DEFAULT_MAX_PENDING, AsyncPublisher
from rxnats.jetstream.pull import PullSubscription
from rxnats.jetstream.push import PushSubscription, needs_ack, status_handler
from rxnats.subscription import MessageCallback
from rxnats.wire.headers import HeadersInput

if TYPE_CHECKING:
    from rxnats.client import NATS

__all__ = ["JetStreamContext"]

_BUCKET_NAME = re.compile(r"^[a-zA-Z0-9_-]+$")

# The header names of JetStream publish expectations (ADR-31 / nats-server).
MSG_ID = "Nats-Msg-Id"
EXPECTED_STREAM = "Nats-Expected-Stream"
EXPECTED_LAST_SEQ = "Nats-Expected-Last-Sequence"
EXPECTED_LAST_SUBJECT_SEQ = "Nats-Expected-Last-Subject-Sequence"
EXPECTED_LAST_MSG_ID = "Nats-Expected-Last-Msg-Id"


class JetStreamContext(JetStreamManager):
    """Publishing and consuming (``nc.jetstream()``); also every manager method."""

    def __init__(
        self,
        nc: NATS,
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

        Raises:
            NoStreamResponseError: no stream captures ``subject``.
            WrongLastSequenceError: an ``expected_last_*`` check failed (err_code 10071).
            APIError: the stream refused the message for another reason.
            TimeoutError: no acknowledgement within ``timeout`` (default: the context's);
                the message may still have been stored.

        Cancelling it stops waiting; the message may still be stored.
        """
        hdrs: dict[str, str | Sequence[str]] = dict(headers) if headers else {}
        for key, value in (
            (MSG_ID, msg_id),
            (EXPECTED_STREAM, expected_stream or stream),
            (EXPECTED_LAST_SEQ, expected_last_seq),
            (EXPECTED_LAST_SUBJECT_SEQ, expected_last_subject_seq),
            (EXPECTED_LAST_MSG_ID, expected_last_msg_id),
        ):
            if value is not None:
                hdrs[key] = str(value)
        try:
            reply = await self._nc.request(
                subject, payload, timeout=timeout or self._timeout, headers=hdrs or None
            )
        except NoRespondersError as exc:
            raise NoStreamResponseError(f"no stream captures subject {subject!r}") from exc
        resp = decode_json(reply.data)
        error = resp.get("error")
        if isinstance(error, Mapping):
            raise api_error(error, stream=stream)
        return PubAck.from_response(resp)

    async def publish_async(
        self,
        subject: str,
        payload: bytes = b"",
        wait_stall: float | None = None,
        headers: HeadersInput | None = None,
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
        ``timeout``, default the context's).

        Raises:
            TimeoutError: no place freed within ``wait_stall``.
            plus what :meth:`NATS.publish` raises.

        Cancelling it while it waits for a place sends nothing.
        """
        hdrs: dict[str, str | Sequence[str]] = dict(headers) if headers else {}
        for key, value in (
            (MSG_ID, msg_id),
            (EXPECTED_STREAM, expected_stream),
            (EXPECTED_LAST_SEQ, expected_last_seq),
            (EXPECTED_LAST_SUBJECT_SEQ, expected_last_subject_seq),
            (EXPECTED_LAST_MSG_ID, expected_last_msg_id),
        ):
            if value is not None:
                hdrs[key] = str(value)
        send = self._async_publisher.publish(
            subject, payload, headers=hdrs or None, timeout=timeout
        )
        if wait_stall is None:
            return await send
        try:
            async with asyncio.timeout(wait_stall):
                return await send
        except builtins.TimeoutError as exc:
            raise TimeoutError(f"publish_async stalled for {wait_stall} s") from exc

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

        Raises:
            see :meth:`Stream.create_consumer`.
        """
        return await Stream(self, stream).create_consumer(config, **params)

    # -------------------------------------------------------------- pull consumers
    async def pull_subscribe(
        self,
        subject: str,
        durable: str | None = None,
        stream: str | None = None,
        config: ConsumerConfig | None = None,
        pending_msgs_limit: int = 512 * 1024,
        pending_bytes_limit: int = 256 * 1024 * 1024,
        inbox_prefix: str | None = None,
    ) -> PullSubscription:
        """Subscribe to a pull consumer filtering ``subject``; create it when missing.

        With ``durable``, an existing consumer of that name is bound, else one is created
        from ``config`` (explicit acks by default); without it an ephemeral consumer is
        created. ``stream`` defaults to the stream capturing ``subject``.

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
        durable: str,
        stream: str,
        inbox_prefix: str | None = None,
        pending_msgs_limit: int = 512 * 1024,
        pending_bytes_limit: int = 256 * 1024 * 1024,
    ) -> PullSubscription:
        """Subscribe to an existing pull consumer without checking or creating it."""
        return await self._bind_pull(
            stream, durable, pending_msgs_limit, pending_bytes_limit, inbox_prefix
        )

    async def _bind_pull(
        self,
        stream: str,
        consumer: str,
        pending_msgs_limit: int,
        pending_bytes_limit: int,
        inbox_prefix: str | None,
    ) -> PullSubscription:
        inbox = (
            f"{inbox_prefix.rstrip('.')}.{self._nc._nuid.next()}"
            if inbox_prefix
            else self._nc.new_inbox()
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
        pending_msgs_limit: int = 512 * 1024,
        pending_bytes_limit: int = 256 * 1024 * 1024,
        deliver_policy: DeliverPolicy | None = None,
        headers_only: bool | None = None,
        inactive_threshold: float | None = None,
    ) -> PushSubscription:
        """Subscribe to a push consumer filtering ``subject``; create it when missing.

        With ``durable`` (or ``queue``, which names the durable when ``durable`` is not
        given) an existing consumer is bound to its deliver subject and group; otherwise a
        consumer is created delivering to a new inbox (ephemeral without a durable name,
        deleted again by :meth:`PushSubscription.unsubscribe`). Messages go to ``cb`` (acked
        after it returns unless ``manual_ack``) or are read with ``next_msg`` /
        ``async for``. Flow-control requests and heartbeats are handled internally.

        ``ordered_consumer=True`` makes an ordered consumer (ADR-17): every message once,
        in stream order, no acks; it is recreated after a gap, a lost heartbeat or a
        deletion (see :class:`~rxnats.jetstream.ordered.OrderedPushSubscription`).

        Raises:
            InvalidInputError: ``ordered_consumer`` with ``durable``/``queue``/
                ``manual_ack``, or with a field an ordered consumer sets itself.
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
            from rxnats.jetstream.ordered import subscribe_ordered

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
        name = durable or queue
        info: ConsumerInfo | None = None
        if name is not None:
            try:
                info = await self.consumer_info(stream, name)
            except ConsumerNotFoundError:
                info = None
        created = info is None
        if info is None:
            config = config or ConsumerConfig()
            changes: dict[str, object] = {"deliver_subject": self._nc.new_inbox()}
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
            self, sub, stream, info.name, delete_on_unsubscribe=created and name is None
        )

    # -------------------------------------------------------------- key-value
    async def key_value(self, bucket: str) -> KeyValue:
        """Open an existing key-value bucket.

        Raises:
            BucketNotFoundError: no such bucket.
            InvalidBucketNameError: the name is not valid.
        """
        _check_bucket(bucket)
        try:
            info = await self.stream_info(f"KV_{bucket}")
        except StreamNotFoundError as exc:
            raise BucketNotFoundError(f"no key-value bucket {bucket!r}") from exc
        return KeyValue(self, bucket, info)

    async def create_key_value(
        self, config: KeyValueConfig | None = None, **params: object
    ) -> KeyValue:
        """Create a key-value bucket from ``config`` and/or keywords (``bucket=, history=``).

        Raises:
            InvalidBucketNameError: the name is not valid.
            InvalidInputError: ``history`` is not in 1..64, or an unknown keyword.
            StreamNameAlreadyInUseError: it exists with another configuration.
        """
        config = config or KeyValueConfig()
        try:
            config = config.evolve(**params)
        except TypeError as exc:
            raise InvalidInputError(f"unknown KeyValueConfig field: {exc}") from None
        _check_bucket(config.bucket)
        if not 1 <= config.history <= 64:
            raise InvalidInputError(f"history must be in 1..64, not {config.history}")
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
