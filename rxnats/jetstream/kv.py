"""Key-value buckets (ADR-8) on top of JetStream streams.

A bucket ``B`` is the stream ``KV_B`` capturing ``$KV.B.>``; the key ``k`` is the subject
``$KV.B.k`` and its history is that subject's messages (``history`` per subject). A
delete is an empty message with header ``KV-Operation: DEL``; a purge is
``KV-Operation: PURGE`` plus ``Nats-Rollup: sub``, which removes the older entries. A
revision is the entry's stream sequence, so compare-and-set is a publish with
``Nats-Expected-Last-Subject-Sequence``.

Watches, ``keys()`` and ``history()`` read through an ephemeral push consumer (no acks,
flow control, idle heartbeats) on a private inbox; the watcher answers flow-control
requests as the user reads, so an idle reader slows the server down instead of growing a
buffer without bound.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from rxnats.errors import Error
from rxnats.jetstream.errors import (
    InvalidKeyError,
    KeyDeletedError,
    KeyNotFoundError,
    KeyWrongLastSequenceError,
    MessageNotFoundError,
    NoKeysError,
    WrongLastSequenceError,
)
from rxnats.jetstream.models import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    KeyValueConfig,
    RawStreamMsg,
    StorageType,
    StoreCompression,
    StreamConfig,
    StreamInfo,
)
from rxnats.jetstream.watcher import Watcher

if TYPE_CHECKING:
    from reactivex import Observable

    from rxnats.jetstream.context import JetStreamContext
    from rxnats.msg import Msg
    from rxnats.subscription import Subscription

__all__ = ["BucketStatus", "KeyValue", "KeyWatcher", "Operation", "kv_stream_config"]

KV_OPERATION = "KV-Operation"
ROLLUP = "Nats-Rollup"
_KEY = re.compile(r"^[-/_=.a-zA-Z0-9]+$")
_WATCH_KEY = re.compile(r"^[-/_=.a-zA-Z0-9*>]+$")
_MAX_DUPLICATE_WINDOW = 120.0


class Operation(StrEnum):
    """What an entry records."""

    PUT = "PUT"
    DEL = "DEL"
    PURGE = "PURGE"


def _check_key(key: str, *, watch: bool = False) -> None:
    pattern = _WATCH_KEY if watch else _KEY
    if not key or key.startswith(".") or key.endswith(".") or not pattern.match(key):
        raise InvalidKeyError(f"invalid key {key!r}")


def kv_stream_config(config: KeyValueConfig) -> StreamConfig:
    """The stream configuration that backs the bucket ``config`` describes."""
    ttl = config.ttl or 0.0
    window = min(ttl, _MAX_DUPLICATE_WINDOW) if ttl > 0 else _MAX_DUPLICATE_WINDOW
    return StreamConfig(
        name=f"KV_{config.bucket}",
        description=config.description,
        subjects=[f"$KV.{config.bucket}.>"],
        max_msgs_per_subject=config.history,
        max_bytes=config.max_bytes if config.max_bytes is not None else -1,
        max_age=ttl,
        max_msg_size=config.max_value_size if config.max_value_size is not None else -1,
        max_msgs=-1,
        max_consumers=-1,
        storage=config.storage or StorageType.FILE,
        num_replicas=config.replicas,
        allow_rollup_hdrs=True,
        deny_delete=True,
        discard=DiscardPolicy.NEW,
        duplicate_window=window,
        allow_direct=True if config.direct is None else config.direct,
        placement=config.placement,
        republish=config.republish,
        compression=StoreCompression.S2 if config.compression else None,
        metadata=config.metadata,
    )


@dataclass
class BucketStatus:
    """A bucket's state (``kv.status()``)."""

    stream_info: StreamInfo
    bucket: str

    @property
    def values(self) -> int:
        """How many entries (every revision of every key) the bucket stores."""
        return self.stream_info.state.messages

    @property
    def history(self) -> int:
        """How many revisions are kept per key."""
        return self.stream_info.config.max_msgs_per_subject

    @property
    def ttl(self) -> float | None:
        """How long entries live, in seconds (``None`` or 0: forever)."""
        return self.stream_info.config.max_age

    @property
    def bytes(self) -> int:
        """The bucket's size in bytes."""
        return self.stream_info.state.bytes


class KeyValue:
    """A key-value bucket (``await js.key_value("B")``)."""

    @dataclass
    class Entry:
        """One revision of a key."""

        bucket: str
        key: str
        value: bytes | None
        revision: int | None
        delta: int | None
        created: dt.datetime | str | None
        operation: Operation | None

    def __init__(self, js: JetStreamContext, bucket: str, info: StreamInfo) -> None:
        self._js = js
        self._bucket = bucket
        self._stream = f"KV_{bucket}"
        self._prefix = f"$KV.{bucket}."
        self._direct = bool(info.config.allow_direct)

    @property
    def bucket(self) -> str:
        """The bucket's name."""
        return self._bucket

    # -------------------------------------------------------------- reads
    async def get(self, key: str, revision: int | None = None) -> KeyValue.Entry:
        """The key's latest entry, or the one at ``revision``.

        Raises:
            KeyNotFoundError: no such key (or ``revision`` is not one of this key).
            KeyDeletedError: the key's latest entry is a delete or purge.
            InvalidKeyError: the key is not valid.
        """
        _check_key(key)
        subject = self._prefix + key
        try:
            if revision is None:
                raw = await self._js.get_msg(self._stream, subject=subject, direct=self._direct)
            else:
                raw = await self._js.get_msg(self._stream, seq=revision, direct=self._direct)
        except MessageNotFoundError as exc:
            raise KeyNotFoundError(f"key {key!r} not found in bucket {self._bucket!r}", code=404) from exc
        if raw.subject != subject:
            raise KeyNotFoundError(f"revision {revision} is not one of key {key!r}", code=404)
        entry = self._entry_from_raw(key, raw)
        if entry.operation in (Operation.DEL, Operation.PURGE):
            raise KeyDeletedError(f"key {key!r} was deleted", entry=entry)
        return entry

    def _entry_from_raw(self, key: str, raw: RawStreamMsg) -> KeyValue.Entry:
        op = (raw.headers or {}).get(KV_OPERATION, Operation.PUT.value)
        return KeyValue.Entry(
            bucket=self._bucket,
            key=key,
            value=raw.data,
            revision=raw.seq,
            delta=None,
            created=raw.time,
            operation=Operation(op) if op in Operation._value2member_map_ else Operation.PUT,
        )

    async def status(self) -> BucketStatus:
        """The bucket's configuration and state."""
        return BucketStatus(await self._js.stream_info(self._stream), self._bucket)

    # -------------------------------------------------------------- writes
    async def put(self, key: str, value: bytes) -> int:
        """Store ``value`` as the key's new revision; return the revision.

        Raises:
            InvalidKeyError: the key is not valid.
            APIError: the stream refused (e.g. the value is larger than allowed).
        """
        _check_key(key)
        ack = await self._js.publish(self._prefix + key, value)
        return ack.seq

    async def update(self, key: str, value: bytes, last: int | None = None) -> int:
        """Store ``value`` only if the key's latest revision is ``last``; return the new one.

        ``last=0`` means "the key must not exist".

        Raises:
            KeyWrongLastSequenceError: the key's latest revision is not ``last``
                (err_code 10071).
            InvalidKeyError: the key is not valid.
        """
        _check_key(key)
        try:
            ack = await self._js.publish(
                self._prefix + key, value, expected_last_subject_seq=last or 0
            )
        except WrongLastSequenceError as exc:
            raise KeyWrongLastSequenceError(
                exc.description, code=exc.code, err_code=exc.err_code, stream=self._stream
            ) from exc
        return ack.seq

    async def create(self, key: str, value: bytes) -> int:
        """Store ``value`` only if the key does not exist (or is deleted); return the revision.

        Raises:
            KeyWrongLastSequenceError: the key exists (err_code 10071).
        """
        try:
            return await self.update(key, value, last=0)
        except KeyWrongLastSequenceError as conflict:
            try:
                await self.get(key)
            except KeyDeletedError as deleted:
                marker = deleted.entry
                if isinstance(marker, KeyValue.Entry) and marker.revision:
                    return await self.update(key, value, last=marker.revision)
            except KeyNotFoundError:
                pass
            raise conflict

    async def delete(self, key: str, last: int | None = None) -> bool:
        """Mark the key deleted (its history is kept); with ``last``, only at that revision.

        Raises:
            KeyWrongLastSequenceError: ``last`` is not the key's latest revision.
        """
        _check_key(key)
        try:
            await self._js.publish(
                self._prefix + key,
                b"",
                headers={KV_OPERATION: Operation.DEL.value},
                expected_last_subject_seq=last,
            )
        except WrongLastSequenceError as exc:
            raise KeyWrongLastSequenceError(
                exc.description, code=exc.code, err_code=exc.err_code, stream=self._stream
            ) from exc
        return True

    async def purge(self, key: str) -> bool:
        """Delete the key and all its history, leaving one purge marker."""
        _check_key(key)
        await self._js.publish(
            self._prefix + key,
            b"",
            headers={KV_OPERATION: Operation.PURGE.value, ROLLUP: "sub"},
        )
        return True

    # -------------------------------------------------------------- listing and watching
    async def keys(self, filters: list[str] | None = None) -> list[str]:
        """Every key that currently has a value (deleted keys left out).

        Raises:
            NoKeysError: the bucket holds no keys.
        """
        watcher = await self._watch(filters or [">"], meta_only=True, ignore_deletes=True)
        try:
            keys = [entry.key for entry in await watcher._initial()]
        finally:
            await watcher.stop()
        if not keys:
            raise NoKeysError(f"bucket {self._bucket!r} holds no keys")
        return keys

    async def history(self, key: str) -> list[KeyValue.Entry]:
        """Every kept revision of ``key``, oldest first (delete markers included).

        Raises:
            NoKeysError: the key has no history.
        """
        watcher = await self._watch([key], include_history=True)
        try:
            entries = await watcher._initial()
        finally:
            await watcher.stop()
        if not entries:
            raise NoKeysError(f"key {key!r} has no history")
        return entries

    async def watch(
        self,
        keys: str | list[str],
        headers_only: bool = False,
        include_history: bool = False,
        ignore_deletes: bool = False,
        meta_only: bool = False,
        updates_only: bool = False,
    ) -> KeyWatcher:
        """Watch ``keys`` (wildcards allowed): the latest values first, then live changes.

        After the current values, :meth:`KeyWatcher.updates` returns ``None`` once to mark
        "up to date". ``include_history`` starts from every kept revision,
        ``updates_only`` from new changes only; ``meta_only``/``headers_only`` leave values
        out; ``ignore_deletes`` skips delete and purge markers.

        Raises:
            InvalidKeyError: a key pattern is not valid.
        """
        patterns = [keys] if isinstance(keys, str) else list(keys)
        return await self._watch(
            patterns,
            include_history=include_history,
            ignore_deletes=ignore_deletes,
            meta_only=meta_only or headers_only,
            updates_only=updates_only,
        )

    async def watchall(self, **options: bool) -> KeyWatcher:
        """Watch every key (same options as :meth:`watch`)."""
        return await self.watch(">", **options)

    def observe(self, keys: str | list[str] = ">", **options: bool) -> Observable[KeyValue.Entry]:
        """The entries of a watch on ``keys`` as an observable (options as :meth:`watch`).

        See :func:`rxnats.jetstream.rx.observe_kv`.
        """
        from rxnats.jetstream.rx import observe_kv

        return observe_kv(self, keys, **options)

    async def _watch(
        self,
        patterns: list[str],
        *,
        include_history: bool = False,
        ignore_deletes: bool = False,
        meta_only: bool = False,
        updates_only: bool = False,
    ) -> KeyWatcher:
        for pattern in patterns:
            _check_key(pattern, watch=True)
        subjects = [self._prefix + p for p in patterns]
        if updates_only:
            policy = DeliverPolicy.NEW
        elif include_history:
            policy = DeliverPolicy.ALL
        else:
            policy = DeliverPolicy.LAST_PER_SUBJECT
        nc = self._js._nc
        inbox = nc.new_inbox()
        sub = await nc.subscribe(inbox)
        config = ConsumerConfig(
            deliver_subject=inbox,
            deliver_policy=policy,
            ack_policy=AckPolicy.NONE,
            headers_only=meta_only or None,
            flow_control=True,
            idle_heartbeat=5.0,
            mem_storage=True,
            num_replicas=1,
            filter_subject=subjects[0] if len(subjects) == 1 else None,
            filter_subjects=subjects if len(subjects) > 1 else None,
        )
        try:
            info = await self._js.add_consumer(self._stream, config)
        except BaseException:
            await sub.unsubscribe()
            raise
        initial = 0 if updates_only else (info.num_pending or 0)
        return KeyWatcher(self, sub, info.name, initial, ignore_deletes=ignore_deletes)


class KeyWatcher(Watcher["KeyValue.Entry"]):
    """Entries of watched keys as they change (``async for entry in watcher``).

    ``None`` is produced once, after the values that existed when the watch started.
    """

    def __init__(
        self,
        kv: KeyValue,
        sub: Subscription,
        consumer: str,
        initial_pending: int,
        *,
        ignore_deletes: bool,
    ) -> None:
        async def close() -> None:
            with contextlib.suppress(Error):
                await sub.unsubscribe()
            with contextlib.suppress(Error):
                await kv._js.delete_consumer(kv._stream, consumer)

        super().__init__(
            kv._js._nc, sub, initial_pending, initial_timeout=kv._js._timeout, close=close
        )
        self._kv = kv
        self._ignore_deletes = ignore_deletes

    def _convert(self, msg: Msg) -> KeyValue.Entry | None:
        headers = msg.headers
        op_text = headers.get(KV_OPERATION, Operation.PUT.value) if headers else Operation.PUT.value
        op = Operation(op_text) if op_text in Operation._value2member_map_ else Operation.PUT
        if self._ignore_deletes and op is not Operation.PUT:
            return None
        meta = msg.metadata
        return KeyValue.Entry(
            bucket=self._kv.bucket,
            key=msg.subject[len(self._kv._prefix) :],
            value=msg.data,
            revision=meta.sequence.stream,
            delta=meta.num_pending,
            created=meta.timestamp,
            operation=op,
        )
