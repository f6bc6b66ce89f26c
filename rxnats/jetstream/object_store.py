"""Object store buckets (ADR-20): large objects as chunk messages plus one meta message.

Layout (see :mod:`rxnats.jetstream.object_models`): the bucket ``B`` is the stream
``OBJ_B``; an object's chunks are the messages on ``$O.B.C.<nuid>`` and its
:class:`ObjectInfo` the last message on ``$O.B.M.<base64url(name)>``, published with
``Nats-Rollup: sub`` so the stream keeps only the current meta of each name.

* **put** reads the input one chunk at a time (128 KiB unless the meta says otherwise),
  hashing as it goes, and publishes the chunks in order on a fresh ``nuid`` with at most
  :data:`~rxnats.jetstream.object_io.PUBLISH_WINDOW` acknowledgements outstanding; only when every chunk is stored is
  the meta published. The previous version's chunks are purged afterwards, so a reader
  never sees a meta whose chunks are gone, and a failed put leaves the old version intact.
* **get** reads the meta, then the chunks through an ephemeral push consumer (no acks,
  flow control, heartbeats) that is recreated after the last chunk received when a
  delivery is missed (the ADR-17 ordered-consumer reset), and checks the SHA-256 digest.
  Memory stays bounded when writing into a file: flow-control requests are answered only
  as chunks are consumed.
* **delete** publishes a delete marker (``deleted: true``) and purges the chunks; links
  and bucket links are meta messages whose ``options.link`` names the target.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import AsyncIterable, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO, TypeAlias

from rxnats.errors import Error, InvalidInputError
from rxnats.jetstream.errors import (
    BucketNotFoundError,
    InvalidBucketNameError,
    MessageNotFoundError,
    StreamNotFoundError,
)
from rxnats.jetstream.kv import ROLLUP
from rxnats.jetstream.models import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    StorageType,
    StoreCompression,
    StreamConfig,
)
from rxnats.jetstream.object_errors import (
    BadObjectMetaError,
    LinkIsABucketError,
    LinkToLinkError,
    NoObjectsError,
    ObjectAlreadyExistsError,
    ObjectDeletedError,
    ObjectNotFoundError,
)
from rxnats.jetstream.object_io import (
    ChunkPublisher,
    Readable,
    Writable,
    answer_control,
    append_sink,
    read_chunks,
    write_sink,
)
from rxnats.jetstream.object_models import (
    DEFAULT_CHUNK_SIZE,
    DigestVerifier,
    ObjectInfo,
    ObjectLink,
    ObjectMeta,
    ObjectMetaOptions,
    ObjectStoreConfig,
    ObjectStoreStatus,
    chunk_subject,
    meta_subject,
    stream_name,
)
from rxnats.jetstream.ordered_push import DEFAULT_HEARTBEAT, subscribe_ordered
from rxnats.jetstream.watcher import Watcher
from rxnats.nuid import TextNUID

if TYPE_CHECKING:
    from rxnats.contract import JetStreamClient, SubscriptionLike
    from rxnats.jetstream.context import JetStreamContext
    from rxnats.msg import Msg

__all__ = [
    "ObjectResult",
    "ObjectStore",
    "ObjectWatcher",
    "create_object_store",
    "delete_object_store",
    "object_store_stream_config",
    "open_object_store",
]

_HEARTBEAT = 5.0
_MAX_RESETS = 5
_MAX_LINK_DEPTH = 8
_BUCKET_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
_nuid = TextNUID()


@dataclass
class ObjectResult:
    """What ``get`` returns: the object's info and, unless written elsewhere, its bytes."""

    info: ObjectInfo
    data: bytes = b""


def check_bucket(bucket: str) -> None:
    """Raise :class:`InvalidBucketNameError` unless ``bucket`` is a valid bucket name."""
    if not bucket or not _BUCKET_CHARS.issuperset(bucket):
        raise InvalidBucketNameError(f"invalid bucket name {bucket!r}")


def object_store_stream_config(config: ObjectStoreConfig) -> StreamConfig:
    """The stream configuration that backs the bucket ``config`` describes."""
    return StreamConfig(
        name=stream_name(config.bucket),
        description=config.description,
        subjects=[f"$O.{config.bucket}.C.>", f"$O.{config.bucket}.M.>"],
        max_age=config.ttl or 0.0,
        max_bytes=config.max_bytes if config.max_bytes is not None else -1,
        max_msgs=-1,
        max_consumers=-1,
        storage=config.storage or StorageType.FILE,
        num_replicas=config.replicas,
        placement=config.placement,
        discard=DiscardPolicy.NEW,
        allow_rollup_hdrs=True,
        allow_direct=True,
        compression=StoreCompression.S2 if config.compression else None,
        metadata=config.metadata,
    )


async def open_object_store(js: JetStreamContext, bucket: str) -> ObjectStore:
    """Bind to the existing bucket ``bucket``.

    Raises:
        BucketNotFoundError: no such bucket.
        InvalidBucketNameError: the name is not valid.
    """
    check_bucket(bucket)
    try:
        info = await js.stream_info(stream_name(bucket))
    except StreamNotFoundError as exc:
        raise BucketNotFoundError(f"no object store {bucket!r}") from exc
    return ObjectStore(js, bucket, direct=bool(info.config.allow_direct))


async def create_object_store(js: JetStreamContext, config: ObjectStoreConfig) -> ObjectStore:
    """Create the bucket ``config`` describes (succeeds if it exists identically).

    Raises:
        InvalidBucketNameError: the name is not valid.
        StreamNameAlreadyInUseError: it exists with another configuration.
    """
    check_bucket(config.bucket)
    info = await js.add_stream(object_store_stream_config(config))
    return ObjectStore(js, config.bucket, direct=bool(info.config.allow_direct))


async def delete_object_store(js: JetStreamContext, bucket: str) -> bool:
    """Delete the bucket and every object in it; return ``True`` on success.

    Raises:
        BucketNotFoundError: no such bucket.
    """
    check_bucket(bucket)
    try:
        return await js.delete_stream(stream_name(bucket))
    except StreamNotFoundError as exc:
        raise BucketNotFoundError(f"no object store {bucket!r}") from exc


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ObjectWatcher(Watcher[ObjectInfo]):
    """Infos of a bucket's objects as they change (``async for info in watcher``).

    ``None`` is produced once, after the infos that existed when the watch started (not
    for ``updates_only``). It survives the loss of its consumer (see
    :mod:`rxnats.jetstream.watcher`). Use ``async with`` (or :meth:`stop`) to delete the
    consumer when done.
    """

    def __init__(self, store: ObjectStore, *, ignore_deletes: bool, updates_only: bool) -> None:
        super().__init__(initial_timeout=store._js._timeout, updates_only=updates_only)
        self._ignore_deletes = ignore_deletes

    def _convert(self, msg: Msg) -> ObjectInfo | None:
        try:
            info = ObjectInfo.from_json(msg.data, mtime=msg.metadata.timestamp)
        except BadObjectMetaError:
            return None
        if self._ignore_deletes and info.deleted:
            return None
        return info


_ObjectResult: TypeAlias = ObjectResult
_ObjectStoreStatus: TypeAlias = ObjectStoreStatus
_ObjectWatcher: TypeAlias = ObjectWatcher


class ObjectStore:
    """An object store bucket (``await js.object_store("B")``)."""

    ObjectResult: TypeAlias = _ObjectResult  # nats-py's nested names
    ObjectStoreStatus: TypeAlias = _ObjectStoreStatus
    ObjectWatcher: TypeAlias = _ObjectWatcher

    def __init__(self, js: JetStreamContext, bucket: str, *, direct: bool = True) -> None:
        self._js = js
        self._bucket = bucket
        self._stream = stream_name(bucket)
        self._direct = direct

    @property
    def bucket(self) -> str:
        """The bucket's name."""
        return self._bucket

    @property
    def _nc(self) -> JetStreamClient:
        return self._js._nc

    # -------------------------------------------------------------- info
    async def get_info(self, name: str, show_deleted: bool = False) -> ObjectInfo:
        """The current info of object ``name`` (``mtime`` is the server's).

        Raises:
            ObjectNotFoundError: no such object.
            ObjectDeletedError: it was deleted (unless ``show_deleted``).
            BadObjectMetaError: its stored meta is unusable.
            InvalidInputError: ``name`` is empty.

        Cancelling it abandons the read.
        """
        if not name:
            raise InvalidInputError("an object name is required")
        try:
            raw = await self._js.get_msg(
                self._stream, subject=meta_subject(self._bucket, name), direct=self._direct
            )
        except MessageNotFoundError as exc:
            raise ObjectNotFoundError(
                f"no object {name!r} in bucket {self._bucket!r}", stream=self._stream
            ) from exc
        except StreamNotFoundError as exc:
            raise ObjectNotFoundError(
                f"bucket {self._bucket!r} no longer exists", stream=self._stream
            ) from exc
        info = ObjectInfo.from_json(raw.data or b"", mtime=raw.time)
        if info.deleted and not show_deleted:
            raise ObjectDeletedError(f"object {name!r} was deleted", stream=self._stream)
        return info

    async def _existing(self, name: str) -> ObjectInfo | None:
        try:
            return await self.get_info(name, show_deleted=True)
        except ObjectNotFoundError:
            return None

    # -------------------------------------------------------------- put
    async def put(
        self,
        name: str,
        data: bytes | bytearray | memoryview | str | Readable | AsyncIterable[bytes],
        meta: ObjectMeta | None = None,
    ) -> ObjectInfo:
        """Store ``data`` as object ``name``, replacing any previous version.

        ``data`` is bytes (a ``str`` is UTF-8 encoded), a file-like object with
        ``read(n)`` (read in a worker thread unless it is in memory), or an async
        iterable of bytes; it is consumed one chunk at a time. ``meta`` adds a
        description, headers, metadata and ``options.max_chunk_size``; a non-empty
        ``name`` overrides ``meta.name``.

        Returns:
            The new info (``size``, ``chunks``, ``digest``, ``nuid``; ``mtime`` is this
            client's clock).

        Raises:
            InvalidInputError: no name, or a chunk size that is not in 1..max_payload.
            BadObjectMetaError: ``meta`` holds a link (use :meth:`add_link`).
            APIError: the stream refused a chunk or the meta (e.g. the bucket is full
                or sealed).
            TimeoutError: a chunk's acknowledgement did not come in time.

        Cancelling it (or any failure) purges the chunks already stored and writes no
        meta, so the previous version, if any, stays current.
        """
        meta = dataclasses.replace(meta) if meta is not None else ObjectMeta()
        if name:
            meta.name = name
        if not meta.name:
            raise InvalidInputError("an object name is required")
        options = meta.options or ObjectMetaOptions()
        if options.link is not None:
            raise BadObjectMetaError("put cannot store a link: use add_link or add_bucket_link")
        chunk_size = options.max_chunk_size or DEFAULT_CHUNK_SIZE
        if not 0 < chunk_size <= self._nc.max_payload():
            raise InvalidInputError(
                f"chunk size must be in 1..{self._nc.max_payload()}, not {chunk_size}"
            )
        existing = await self._existing(meta.name)
        info = ObjectInfo(
            name=meta.name,
            bucket=self._bucket,
            nuid=_nuid.next(),
            description=meta.description,
            headers=meta.headers,
            metadata=meta.metadata,
            options=ObjectMetaOptions(max_chunk_size=chunk_size),
        )
        chunks = chunk_subject(self._bucket, info.nuid)
        verifier = DigestVerifier()
        try:
            async with ChunkPublisher(self._nc, chunks, self._js._timeout) as publisher:
                async with contextlib.aclosing(read_chunks(data, chunk_size)) as source:
                    async for chunk in source:
                        verifier.update(chunk)
                        await publisher.send(chunk)
                await publisher.wait_all()
            info.size, info.chunks, info.digest = verifier.size, publisher.sent, verifier.digest
            await self._publish_meta(info)
        except BaseException:
            with contextlib.suppress(Error):
                await self._js.purge_stream(self._stream, subject=chunks)
            raise
        info.mtime = _now()
        if existing is not None and not existing.deleted and existing.nuid and not existing.is_link():
            # The new meta is stored: the old chunks are garbage now. Failing to purge
            # them wastes space but loses nothing, so it does not fail the put.
            with contextlib.suppress(Error):
                await self._js.purge_stream(
                    self._stream, subject=chunk_subject(self._bucket, existing.nuid)
                )
        return info

    async def _publish_meta(self, info: ObjectInfo) -> None:
        await self._js.publish(
            meta_subject(self._bucket, info.name), info.to_json(), headers={ROLLUP: "sub"}
        )

    # -------------------------------------------------------------- get
    async def get(
        self,
        name: str,
        writeinto: Writable | TextIO | None = None,
        show_deleted: bool = False,
    ) -> ObjectResult:
        """Read object ``name`` (following a link to an object) and check its digest.

        Without ``writeinto`` the bytes are returned in ``result.data``; with it they are
        written chunk by chunk (in a worker thread unless it is in memory) and
        ``result.data`` is empty, so memory stays bounded by a few chunks. A text-mode
        file is written through its binary buffer, as nats-py does.

        Raises:
            ObjectNotFoundError / ObjectDeletedError: no such object (a deleted one is
                returned with no data when ``show_deleted``).
            LinkIsABucketError: ``name`` is a link to a whole bucket.
            DigestMismatchError: the bytes read do not match the meta's digest (with
                ``writeinto``, they have been written already).
            BadObjectMetaError: the meta is unusable or chunks are missing.
            TimeoutError: the server stopped delivering chunks.

        Cancelling it stops reading and deletes the consumer; with ``writeinto`` part of
        the object may have been written.
        """
        return await self._get(name, writeinto, show_deleted, depth=0)

    async def _get(
        self, name: str, writeinto: Writable | TextIO | None, show_deleted: bool, depth: int
    ) -> ObjectResult:
        info = await self.get_info(name, show_deleted=show_deleted)
        if info.deleted:
            return ObjectResult(info)
        link = info.link
        if link is not None:  # a link needs no nuid: nats.js writes links without one
            if not link.name:
                raise LinkIsABucketError(f"object {name!r} links to bucket {link.bucket!r}")
            if depth >= _MAX_LINK_DEPTH:
                raise BadObjectMetaError(f"object {name!r}: too many links in a row")
            target = self if link.bucket == self._bucket else await self._js.object_store(link.bucket)
            return await target._get(link.name, writeinto, False, depth + 1)
        if not info.nuid:
            if info.chunks == 0 and info.size == 0:
                return ObjectResult(info)  # an empty object has no chunks to find
            raise BadObjectMetaError(f"object {name!r} has no nuid")
        parts: list[bytes] = []
        sink = write_sink(writeinto) if writeinto is not None else append_sink(parts)
        await self._read_object(info, sink)
        return ObjectResult(info, b"".join(parts))

    async def _read_object(self, info: ObjectInfo, sink: Callable[[bytes], Awaitable[None]]) -> None:
        verifier = DigestVerifier()
        subject = chunk_subject(self._bucket, info.nuid)
        received = 0
        last_seq = 0
        resets = 0
        while received < info.chunks:
            sub, consumer, _ = await self._open_consumer(subject, start_after=last_seq)
            try:
                next_cseq = 1
                while received < info.chunks:
                    msg = await sub.next_msg(timeout=self._js._timeout)
                    if msg.status is not None:
                        await answer_control(self._nc, msg)
                        continue
                    meta = msg.metadata
                    if meta.sequence.consumer != next_cseq:
                        break  # a delivery was missed: restart after the last chunk kept
                    next_cseq += 1
                    last_seq = meta.sequence.stream
                    verifier.update(msg.data)
                    await sink(msg.data)
                    received += 1
                    if meta.num_pending == 0 and received < info.chunks:
                        raise BadObjectMetaError(
                            f"object {info.name!r}: {received} of {info.chunks} chunks stored"
                        )
            finally:
                await self._close_consumer(sub, consumer)
            if received < info.chunks:
                resets += 1
                if resets > _MAX_RESETS:
                    raise BadObjectMetaError(f"object {info.name!r}: chunks keep going missing")
        verifier.verify(info.digest)
        if verifier.size != info.size:
            raise BadObjectMetaError(
                f"object {info.name!r}: read {verifier.size} bytes, meta says {info.size}"
            )

    async def _open_consumer(
        self, subject: str, *, start_after: int = 0, policy: DeliverPolicy = DeliverPolicy.ALL
    ) -> tuple[SubscriptionLike, str, int]:
        """An ephemeral flow-controlled push consumer on ``subject`` and its inbox."""
        inbox = self._nc.new_inbox()
        sub = await self._nc.subscribe(inbox)
        config = ConsumerConfig(
            deliver_subject=inbox,
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE if start_after else policy,
            opt_start_seq=start_after + 1 if start_after else None,
            ack_policy=AckPolicy.NONE,
            flow_control=True,
            idle_heartbeat=_HEARTBEAT,
            mem_storage=True,
            num_replicas=1,
            filter_subject=subject,
        )
        try:
            info = await self._js.add_consumer(self._stream, config)
        except BaseException:
            with contextlib.suppress(Error):
                await sub.unsubscribe()
            raise
        return sub, info.name, info.num_pending or 0

    async def _close_consumer(self, sub: SubscriptionLike, consumer: str) -> None:
        with contextlib.suppress(Error):
            await sub.unsubscribe()
        with contextlib.suppress(Error):
            await self._js.delete_consumer(self._stream, consumer)

    # -------------------------------------------------------------- changes
    async def delete(self, name: str) -> ObjectInfo:
        """Delete object ``name``: a delete marker replaces its meta, its chunks are purged.

        Deleting an already deleted object does nothing.

        Returns:
            The delete marker's info (``deleted=True``, no size or digest).

        Raises:
            ObjectNotFoundError: no such object.
            BadObjectMetaError: it has chunks but its meta names no ``nuid``.
        """
        info = await self.get_info(name, show_deleted=True)
        if info.deleted:
            return info
        if not info.nuid and not info.is_link() and info.chunks:
            raise BadObjectMetaError(f"object {name!r} has no nuid")
        marker = dataclasses.replace(info, deleted=True, size=0, chunks=0, digest=None, mtime=None)
        try:
            await self._publish_meta(marker)
        finally:
            if info.nuid:  # a link (nats.js writes them without a nuid) has no chunks
                await self._js.purge_stream(
                    self._stream, subject=chunk_subject(self._bucket, info.nuid)
                )
        marker.mtime = _now()
        return marker

    async def update_meta(self, name: str, meta: ObjectMeta) -> ObjectInfo:
        """Change an object's name, description, headers and metadata (not its options).

        A new ``meta.name`` renames it: the meta is stored under the new name, then the
        old name's meta is purged. An empty ``meta.name`` keeps the name.

        Returns:
            The updated info.

        Raises:
            ObjectNotFoundError / ObjectDeletedError: no such (live) object.
            ObjectAlreadyExistsError: the new name belongs to a live object.
        """
        info = await self.get_info(name)
        new_name = meta.name or name
        if new_name != name:
            existing = await self._existing(new_name)
            if existing is not None and not existing.deleted:
                raise ObjectAlreadyExistsError(f"object {new_name!r} already exists")
        updated = dataclasses.replace(
            info,
            name=new_name,
            description=meta.description,
            headers=meta.headers,
            metadata=meta.metadata,
            mtime=None,
        )
        await self._publish_meta(updated)
        if new_name != name:
            await self._js.purge_stream(self._stream, subject=meta_subject(self._bucket, name))
        updated.mtime = _now()
        return updated

    async def add_link(self, name: str, obj: ObjectInfo) -> ObjectInfo:
        """Store ``name`` as a link to the object ``obj`` (in this or another bucket).

        Raises:
            InvalidInputError: ``name`` or ``obj.name`` is empty.
            ObjectDeletedError: ``obj`` is deleted.
            LinkToLinkError: ``obj`` is itself a link.
            ObjectAlreadyExistsError: ``name`` is a live regular object.
        """
        if not obj.name or not obj.bucket:
            raise InvalidInputError("the linked object needs a name and a bucket")
        if obj.deleted:
            raise ObjectDeletedError(f"object {obj.name!r} is deleted", stream=self._stream)
        if obj.is_link():
            raise LinkToLinkError(f"object {obj.name!r} is a link")
        return await self._put_link(name, ObjectLink(bucket=obj.bucket, name=obj.name))

    async def add_bucket_link(self, name: str, bucket: ObjectStore | str) -> ObjectInfo:
        """Store ``name`` as a link to a whole bucket.

        Raises:
            InvalidInputError: ``name`` is empty.
            InvalidBucketNameError: the bucket name is not valid.
            ObjectAlreadyExistsError: ``name`` is a live regular object.
        """
        target = bucket.bucket if isinstance(bucket, ObjectStore) else bucket
        check_bucket(target)
        return await self._put_link(name, ObjectLink(bucket=target))

    async def _put_link(self, name: str, link: ObjectLink) -> ObjectInfo:
        if not name:
            raise InvalidInputError("a link name is required")
        existing = await self._existing(name)
        if existing is not None and not existing.deleted and not existing.is_link():
            raise ObjectAlreadyExistsError(f"object {name!r} already exists")
        info = ObjectInfo(
            name=name,
            bucket=self._bucket,
            nuid=_nuid.next(),
            options=ObjectMetaOptions(link=link),
        )
        await self._publish_meta(info)
        info.mtime = _now()
        return info

    # -------------------------------------------------------------- listing and watching
    async def list(self, ignore_deletes: bool = True) -> list[ObjectInfo]:
        """The current info of every object (deleted ones left out unless asked).

        Raises:
            NoObjectsError: there are none (a ``NotFoundError``, as in nats-py).
        """
        watcher = await self.watch(ignore_deletes=ignore_deletes)
        try:
            infos = await watcher._initial()
        finally:
            await watcher.stop()
        if not infos:
            raise NoObjectsError(f"bucket {self._bucket!r} holds no objects", stream=self._stream)
        return infos

    async def watch(
        self,
        ignore_deletes: bool = False,
        include_history: bool = False,
        meta_only: bool = False,
        updates_only: bool = False,
        *,
        idle_heartbeat: float = DEFAULT_HEARTBEAT,
    ) -> ObjectWatcher:
        """Watch the bucket's objects: the current infos first, then every change.

        After the current infos, :meth:`ObjectWatcher.updates` returns ``None`` once to
        mark "up to date". ``include_history`` starts from every kept meta message,
        ``updates_only`` from new changes only (no ``None`` marker); ``ignore_deletes``
        skips delete markers. ``meta_only`` is accepted for nats-py compatibility
        (watches carry only meta). Meta messages that are not valid ADR-20 JSON are
        skipped. The watch survives the loss of its consumer, as a key-value watch does.
        """
        del meta_only
        if updates_only:
            policy = DeliverPolicy.NEW
        elif include_history:
            policy = DeliverPolicy.ALL
        else:
            policy = DeliverPolicy.LAST_PER_SUBJECT
        watcher = ObjectWatcher(self, ignore_deletes=ignore_deletes, updates_only=updates_only)
        psub = await subscribe_ordered(
            self._js,
            f"$O.{self._bucket}.M.>",
            self._stream,
            cb=None,
            config=None,
            deliver_policy=policy,
            headers_only=None,
            idle_heartbeat=idle_heartbeat,
            pending_msgs_limit=64 * 1024,
            pending_bytes_limit=64 * 1024 * 1024,
            on_reset=watcher._on_reset,
        )
        watcher._attach(psub)
        return watcher

    # -------------------------------------------------------------- bucket
    async def status(self) -> ObjectStoreStatus:
        """The bucket's configuration and state."""
        return ObjectStoreStatus(await self._js.stream_info(self._stream), self._bucket)

    async def seal(self) -> ObjectStoreStatus:
        """Seal the bucket: no object can be added, changed or deleted afterwards.

        Raises:
            APIError: the server refused (sealing cannot be undone).
        """
        info = await self._js.stream_info(self._stream)
        info = await self._js.update_stream(dataclasses.replace(info.config, sealed=True))
        return ObjectStoreStatus(info, self._bucket)

    def __repr__(self) -> str:
        return f"<ObjectStore bucket={self._bucket!r}>"
