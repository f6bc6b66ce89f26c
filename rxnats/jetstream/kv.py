"""Key-value buckets (ADR-8, ADR-48) on top of JetStream streams.

A bucket ``B`` is the stream ``KV_B`` capturing ``$KV.B.>``; the key ``k`` is the subject
``$KV.B.k`` and its history is that subject's messages (``history`` per subject). A
delete is an empty message with header ``KV-Operation: DEL``; a purge is
``KV-Operation: PURGE`` plus ``Nats-Rollup: sub``, which removes the older entries. A
revision is the entry's stream sequence, so compare-and-set is a publish with
``Nats-Expected-Last-Subject-Sequence``.

The server writes markers of its own (server 2.11+, ADR-48, with ``limit_marker_ttl``):
when a key's value expires or a limit removes it, it stores a message with
``Nats-Marker-Reason`` (``MaxAge``, ``Purge`` or ``Remove``) and no ``KV-Operation``.
Such a marker reads as a purge (``Remove``: as a delete) everywhere (``get``,
``history``, ``keys``, ``watch``, ``create``), as nats.go and nats.js read it.

Watches, ``keys()`` and ``history()`` read through an ordered push consumer (see
:mod:`rxnats.jetstream.watcher`): flow-controlled, and recreated after the last revision
delivered when the server-side consumer is lost.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import warnings
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, TypeAlias

from rxnats.errors import InvalidInputError, NoRespondersError
from rxnats.jetstream.errors import (
    InvalidKeyError,
    KeyDeletedError,
    KeyNotFoundError,
    KeyWrongLastSequenceError,
    MessageNotFoundError,
    NoKeysError,
    StreamNotFoundError,
    WrongLastSequenceError,
)
from rxnats.jetstream.headers import (
    KV_DEL,
    KV_MARKER_REASON,
    KV_OP,
    KV_PURGE,
    MSG_ROLLUP_SUBJECT,
    Header,
    MarkerReason,
)
from rxnats.jetstream.manager import raw_from_direct
from rxnats.jetstream.models import (
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
from rxnats.jetstream.ordered_push import DEFAULT_HEARTBEAT, subscribe_ordered
from rxnats.jetstream.watcher import StopIterSentinel, Watcher

if TYPE_CHECKING:
    from collections.abc import Mapping

    from reactivex import Observable

    from rxnats.jetstream.context import JetStreamContext
    from rxnats.msg import Msg

__all__ = [
    "KV_DEL",
    "KV_MARKER_REASON",
    "KV_OP",
    "KV_PURGE",
    "MSG_ROLLUP_SUBJECT",
    "VALID_KEY_RE",
    "BucketStatus",
    "KeyValue",
    "KeyWatcher",
    "Operation",
    "StopIterSentinel",
    "kv_stream_config",
    "logger",
]

logger: logging.Logger = logging.getLogger("rxnats.jetstream.kv")

KV_OPERATION = KV_OP
ROLLUP = Header.ROLLUP.value
VALID_KEY_RE = re.compile(r"^[-/_=.a-zA-Z0-9]+$")
_WATCH_KEY = re.compile(r"^[-/_=.a-zA-Z0-9*>]+$")
_MAX_DUPLICATE_WINDOW = 120.0
_WATCH_INACTIVE = 5 * 60.0
_PURGE_DELETES_OLDER_THAN = 30 * 60.0
#: How many checked keys' request subjects a bucket remembers (see ``KeyValue.get``).
_SUBJECT_CACHE = 1024

# The server's headers on a direct-get reply for a stored message, in the server's order
# (after the message's own headers): Nats-Stream, Nats-Subject, Nats-Sequence,
# Nats-Time-Stamp. A value stored by a plain put has no headers of its own, so its reply's
# header block starts with "NATS/1.0" and the server's first three lines, known in advance
# for each key (see ``KeyValue.get``).
_STAMP_LINE = b"\r\nNats-Time-Stamp: "
_BLOCK_END = b"\r\n\r\n"


class Operation(StrEnum):
    """What an entry records (``entry.operation == "DEL"`` works too)."""

    PUT = "PUT"
    DEL = "DEL"
    PURGE = "PURGE"


_PUT = Operation.PUT


def _check_key(key: str, *, watch: bool = False) -> None:
    pattern = _WATCH_KEY if watch else VALID_KEY_RE
    if not key or key.startswith(".") or key.endswith(".") or not pattern.match(key):
        raise InvalidKeyError(f"invalid key {key!r}")


def operation_of(headers: Mapping[str, str] | None) -> Operation:
    """The operation an entry's headers record.

    ``KV-Operation`` first; else a server marker's ``Nats-Marker-Reason``: ``Remove`` is a
    delete, any other reason (``MaxAge``, ``Purge``, or one a newer server invents) a
    purge, since a marker never holds a value.
    """
    if not headers:
        return Operation.PUT
    op = headers.get(KV_OP)
    if op:
        return Operation.DEL if op == KV_DEL else Operation.PURGE if op == KV_PURGE else Operation.PUT
    reason = headers.get(KV_MARKER_REASON)
    if reason:
        return Operation.DEL if reason == MarkerReason.REMOVE else Operation.PURGE
    return Operation.PUT


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
        allow_msg_ttl=True,
        subject_delete_marker_ttl=config.limit_marker_ttl or None,
    )


@dataclass(frozen=True)
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
    def marker_ttl(self) -> float | None:
        """How long the server's limit markers live, in seconds (``None``: no markers)."""
        return self.stream_info.config.subject_delete_marker_ttl

    @property
    def limit_marker_ttl(self) -> float | None:
        """nats.go's name for :attr:`marker_ttl`."""
        return self.marker_ttl

    @property
    def bytes(self) -> int:
        """The bucket's size in bytes."""
        return self.stream_info.state.bytes

    @property
    def is_compressed(self) -> bool:
        """Whether the stream compresses its data on disk."""
        compression = self.stream_info.config.compression
        return compression is not None and compression != StoreCompression.NONE

    @property
    def backing_store(self) -> str:
        """Always ``"JetStream"``."""
        return "JetStream"


class KeyWatcher(Watcher["KeyValue.Entry"]):
    """Entries of watched keys as they change (``async for entry in watcher``).

    ``None`` is produced once, after the values that existed when the watch started
    (not for ``updates_only``). It survives the loss of its consumer (see
    :mod:`rxnats.jetstream.watcher`).
    """

    def __init__(self, kv: KeyValue, *, ignore_deletes: bool, updates_only: bool) -> None:
        super().__init__(initial_timeout=kv._js._timeout, updates_only=updates_only)
        self._kv = kv
        self._ignore_deletes = ignore_deletes

    def _convert(self, msg: Msg) -> KeyValue.Entry | None:
        op = operation_of(msg.headers)
        if self._ignore_deletes and op is not Operation.PUT:
            return None
        meta = msg.metadata
        return KeyValue.Entry(
            bucket=self._kv.bucket,
            key=msg.subject[len(self._kv._prefix) :],
            value=msg.data if op is Operation.PUT else None,
            revision=meta.sequence.stream,
            delta=meta.num_pending,
            created=meta.timestamp,
            operation=op,
        )



_BucketStatus: TypeAlias = BucketStatus
_KeyWatcher: TypeAlias = KeyWatcher


class KeyValue:
    """A key-value bucket (``await js.key_value("B")``).

    Every key method takes ``validate_keys`` (default ``True``); ``False`` skips the
    client's key check, for keys made by other tools (the server still checks the
    subject).
    """

    @dataclass
    class Entry:
        """One revision of a key.

        A delete or purge (also a server marker) has ``value`` ``None`` and its
        ``operation``; ``created`` is when the stream stored it (aware UTC).
        """

        bucket: str
        key: str
        value: bytes | None
        revision: int | None
        delta: int | None
        created: dt.datetime | None
        operation: Operation | None

    BucketStatus: TypeAlias = _BucketStatus  # nats-py's nested names
    KeyWatcher: TypeAlias = _KeyWatcher

    def __init__(self, js: JetStreamContext, bucket: str, info: StreamInfo) -> None:
        self._js = js
        self._bucket = bucket
        self._stream = f"KV_{bucket}"
        self._prefix = f"$KV.{bucket}."
        self._direct = bool(info.config.allow_direct)
        self._direct_last = js._api.subject(f"DIRECT.GET.{self._stream}.{self._prefix}")
        self._head = f"NATS/1.0\r\nNats-Stream: {self._stream}\r\nNats-Subject: ".encode(
            errors="replace"  # a name no server accepts: no reply will match
        )
        # key -> (the direct-get API subject of its latest value, the start of the header
        # block of a reply carrying a plain value of the key, up to its sequence),
        # for keys that passed the key check: a repeated get neither checks nor builds them.
        self._last_subjects: dict[str, tuple[str, bytes]] = {}

    @property
    def bucket(self) -> str:
        """The bucket's name."""
        return self._bucket

    # -------------------------------------------------------------- reads
    async def get(
        self, key: str, revision: int | None = None, validate_keys: bool = True
    ) -> KeyValue.Entry:
        """The key's latest entry, or the one at ``revision``.

        Raises:
            KeyNotFoundError: no such key, ``revision`` is not one of this key, or the
                bucket no longer exists.
            KeyDeletedError: the key's latest entry is a delete or purge (a
                ``KeyNotFoundError``; ``entry`` and ``op`` tell which).
            InvalidKeyError: the key is not valid.
        """
        if revision is None and self._direct:
            known = self._last_subjects.get(key)
            if known is None:
                known = self._last_subject(key, validate_keys)
            if known is not None:
                # The latest value in one direct get whose API subject names the key
                # (ADR-31): no body to encode, and the reply of a plain put is read
                # straight from its header block.
                js = self._js
                try:
                    reply = await js._nc.request(known[0], b"", timeout=js._timeout)
                except NoRespondersError:
                    # Nobody serves direct gets: the stream API says why (e.g. no stream).
                    return await self._get(key, None, validate_keys, direct=False)
                block = reply._raw_headers
                head = known[1]
                if block is not None and block.startswith(head):
                    seq, _, stamp = block[len(head) :].partition(_STAMP_LINE)
                    if seq.isdigit() and stamp.endswith(_BLOCK_END):
                        try:
                            # The server writes RFC 3339 in UTC with "Z"; Python 3.11+
                            # reads it and drops the digits past the sixth, as parse_time
                            # does. Anything else (another header line) is a ValueError.
                            created = dt.datetime.fromisoformat(stamp[:-4].decode())
                        except ValueError:
                            pass
                        else:
                            return KeyValue.Entry(
                                self._bucket, key, reply.data, int(seq), None, created, _PUT
                            )
                try:
                    msg = raw_from_direct(reply, self._stream)
                except MessageNotFoundError as exc:
                    raise self._not_found(key, exc) from exc
                return self._checked(key, None, msg)
        return await self._get(key, revision, validate_keys, direct=self._direct)

    def _last_subject(self, key: str, validate_keys: bool) -> tuple[str, bytes] | None:
        """The direct-get API subject of ``key``'s latest value and the start of the header
        block of a reply carrying a plain value of it; ``None`` for a key that only the
        general path reads (a wildcard one, as a pattern, or one with a lone surrogate).
        Checked keys are remembered.

        Raises:
            InvalidKeyError: ``validate_keys`` and the key is not valid.
        """
        if validate_keys:
            _check_key(key)
        elif "*" in key or ">" in key:
            return None
        subject = self._prefix + key
        try:
            head = b"%b%b\r\nNats-Sequence: " % (self._head, subject.encode())
        except UnicodeEncodeError:
            return None
        known = (self._direct_last + key, head)
        if validate_keys:
            cache = self._last_subjects
            if len(cache) >= _SUBJECT_CACHE:
                cache.clear()
            cache[key] = known
        return known

    async def _get(
        self, key: str, revision: int | None, validate_keys: bool, *, direct: bool
    ) -> KeyValue.Entry:
        if validate_keys:
            _check_key(key)
        subject = self._prefix + key
        try:
            if revision is None:
                raw = await self._js.get_msg(self._stream, subject=subject, direct=direct)
            else:
                raw = await self._js.get_msg(self._stream, seq=revision, direct=direct)
        except (MessageNotFoundError, StreamNotFoundError) as exc:
            raise self._not_found(key, exc) from exc
        return self._checked(key, revision, raw)

    def _not_found(self, key: str, exc: Exception) -> KeyNotFoundError:
        if isinstance(exc, StreamNotFoundError):
            return KeyNotFoundError(
                f"bucket {self._bucket!r} no longer exists", stream=self._stream
            )
        return KeyNotFoundError(
            f"key {key!r} not found in bucket {self._bucket!r}", stream=self._stream
        )

    def _checked(self, key: str, revision: int | None, raw: RawStreamMsg) -> KeyValue.Entry:
        """The entry ``raw`` holds for ``key``.

        Raises:
            KeyNotFoundError: ``raw`` is a message of another key.
            KeyDeletedError: ``raw`` is a delete or purge.
        """
        if raw.subject != self._prefix + key:
            raise KeyNotFoundError(
                f"revision {revision} is not one of key {key!r}", stream=self._stream
            )
        entry = self._entry_from_raw(key, raw)
        if entry.operation is not Operation.PUT:
            raise KeyDeletedError(
                f"key {key!r} was deleted", entry=entry, op=entry.operation, stream=self._stream
            )
        return entry

    def _entry_from_raw(self, key: str, raw: RawStreamMsg) -> KeyValue.Entry:
        op = operation_of(raw.headers)
        return KeyValue.Entry(
            bucket=self._bucket,
            key=key,
            value=raw.data if op is Operation.PUT else None,
            revision=raw.seq,
            delta=None,
            created=raw.time,
            operation=op,
        )

    async def status(self) -> BucketStatus:
        """The bucket's configuration and state."""
        return BucketStatus(await self._js.stream_info(self._stream), self._bucket)

    # -------------------------------------------------------------- writes
    async def put(self, key: str, value: bytes, validate_keys: bool = True) -> int:
        """Store ``value`` as the key's new revision; return the revision.

        Raises:
            InvalidKeyError: the key is not valid.
            APIError: the stream refused (e.g. the value is larger than allowed).
        """
        if validate_keys:
            _check_key(key)
        ack = await self._js.publish(self._prefix + key, value)
        return ack.seq

    async def update(
        self,
        key: str,
        value: bytes,
        last: int | None = None,
        validate_keys: bool = True,
    ) -> int:
        """Store ``value`` only if the key's latest revision is ``last``; return the new one.

        ``last=0`` (or ``None``) means "the key must not exist".

        Raises:
            KeyWrongLastSequenceError: the key's latest revision is not ``last`` (a
                ``BadRequestError``, err_code 10071).
            InvalidKeyError: the key is not valid.
        """
        return await self._update(key, value, last or 0, validate_keys, None)

    async def _update(
        self,
        key: str,
        value: bytes,
        last: int,
        validate_keys: bool,
        msg_ttl: float | str | None,
    ) -> int:
        if validate_keys:
            _check_key(key)
        try:
            ack = await self._js.publish(
                self._prefix + key, value, msg_ttl=msg_ttl, expected_last_subject_seq=last
            )
        except WrongLastSequenceError as exc:
            raise _conflict(exc, self._stream) from exc
        return ack.seq

    async def create(
        self,
        key: str,
        value: bytes,
        validate_keys: bool = True,
        msg_ttl: float | str | None = None,
    ) -> int:
        """Store ``value`` only if the key does not exist (or is deleted); return the revision.

        ``msg_ttl`` (seconds, server 2.11+, ADR-48) removes the key after that long; with
        ``limit_marker_ttl`` on the bucket a marker then tells watchers.

        Raises:
            KeyWrongLastSequenceError: the key exists (err_code 10071).
            MsgTTLDisabledError: ``msg_ttl`` on a bucket whose stream has no
                ``allow_msg_ttl``.
        """
        try:
            return await self._update(key, value, 0, validate_keys, msg_ttl)
        except KeyWrongLastSequenceError as conflict:
            try:
                await self.get(key, validate_keys=validate_keys)
            except KeyDeletedError as deleted:
                marker = deleted.entry
                if isinstance(marker, KeyValue.Entry) and marker.revision:
                    return await self._update(
                        key, value, marker.revision, validate_keys, msg_ttl
                    )
            except KeyNotFoundError:
                pass
            raise conflict

    async def delete(
        self,
        key: str,
        last: int | None = None,
        validate_keys: bool = True,
        msg_ttl: float | None = None,
    ) -> bool:
        """Mark the key deleted (its history is kept); with ``last``, only at that revision.

        ``msg_ttl`` is accepted and ignored, with a ``DeprecationWarning``, as in nats-py:
        a TTL on a delete marker has no meaning (use :meth:`purge`).

        Raises:
            KeyWrongLastSequenceError: ``last`` is not the key's latest revision.
            InvalidKeyError: the key is not valid.
        """
        if msg_ttl is not None:
            warnings.warn(
                "msg_ttl on delete() is ignored; use create() or purge() for a TTL",
                DeprecationWarning,
                stacklevel=2,
            )
        if validate_keys:
            _check_key(key)
        try:
            await self._js.publish(
                self._prefix + key,
                b"",
                headers={KV_OP: KV_DEL},
                expected_last_subject_seq=last or None,
            )
        except WrongLastSequenceError as exc:
            raise _conflict(exc, self._stream) from exc
        return True

    async def purge(
        self,
        key: str,
        msg_ttl: float | str | None = None,
        validate_keys: bool = True,
        last: int | None = None,
    ) -> bool:
        """Delete the key and all its history, leaving one purge marker.

        ``msg_ttl`` (seconds, server 2.11+) makes the marker itself go away after that
        long; ``last`` purges only if the key is still at that revision.

        Raises:
            KeyWrongLastSequenceError: ``last`` is not the key's latest revision.
            InvalidKeyError: the key is not valid.
        """
        if validate_keys:
            _check_key(key)
        try:
            await self._js.publish(
                self._prefix + key,
                b"",
                headers={KV_OP: KV_PURGE, ROLLUP: MSG_ROLLUP_SUBJECT},
                msg_ttl=msg_ttl,
                expected_last_subject_seq=last or None,
            )
        except WrongLastSequenceError as exc:
            raise _conflict(exc, self._stream) from exc
        return True

    async def purge_deletes(self, olderthan: float = _PURGE_DELETES_OLDER_THAN) -> bool:
        """Remove the delete and purge markers older than ``olderthan`` seconds.

        Younger markers are kept, with the older history of their keys removed;
        ``olderthan`` of 0 or less removes every marker (as nats-py and nats.go do).
        """
        watcher = await self.watchall()
        try:
            markers = [
                entry
                for entry in await watcher._initial()
                if entry.operation is not Operation.PUT
            ]
        finally:
            await watcher.stop()
        now = dt.datetime.now(dt.UTC)
        for entry in markers:
            keep = 0
            if olderthan > 0 and entry.created is not None:
                if (now - entry.created).total_seconds() < olderthan:
                    keep = 1
            await self._js.purge_stream(self._stream, subject=self._prefix + entry.key, keep=keep)
        return True

    # -------------------------------------------------------------- listing and watching
    async def keys(self, filters: list[str] | None = None, **options: object) -> list[str]:
        """Every key that currently has a value (deleted keys left out).

        ``filters`` keeps the keys that match one of them. A filter with a wildcard
        (``*``, ``>``) matches as a subject (``"user.*"``, as nats.go's
        ``ListKeysFiltered``); a plain one matches keys containing it, as nats-py's
        ``keys(filters=...)`` does (``"greet"`` keeps ``greeting`` and ``greetings``).

        Raises:
            NoKeysError: no key matches (the bucket is empty).
            InvalidKeyError: a filter is not valid.
        """
        del options  # nats-py passes watch options through; keys() needs none
        patterns = [f for f in filters or [] if _is_wildcard(f)]
        plain = [f for f in filters or [] if not _is_wildcard(f)]
        server_side = patterns if filters and not plain else [">"]
        watcher = await self._watch(server_side, meta_only=True, ignore_deletes=True)
        try:
            keys = [entry.key for entry in await watcher._initial()]
        finally:
            await watcher.stop()
        if plain:
            keys = [
                k
                for k in keys
                if any(p in k for p in plain) or any(_matches(f, k) for f in patterns)
            ]
        if not keys:
            raise NoKeysError(f"bucket {self._bucket!r} holds no matching keys")
        return keys

    async def history(self, key: str, validate_keys: bool = True) -> list[KeyValue.Entry]:
        """Every kept revision of ``key``, oldest first (delete markers included).

        Raises:
            NoKeysError: the key has no history.
        """
        if validate_keys:
            _check_key(key)
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
        inactive_threshold: float | None = None,
        updates_only: bool = False,
        resume_from_revision: int | None = None,
        *,
        idle_heartbeat: float = DEFAULT_HEARTBEAT,
    ) -> KeyWatcher:
        """Watch ``keys`` (wildcards allowed): the latest values first, then live changes.

        After the current values, :meth:`KeyWatcher.updates` returns ``None`` once to mark
        "up to date". ``include_history`` starts from every kept revision;
        ``updates_only`` from new changes only (no initial values, no ``None`` marker);
        ``resume_from_revision`` from that revision on (every revision, as after
        ``include_history``). ``meta_only``/``headers_only`` leave values out;
        ``ignore_deletes`` skips delete and purge markers. ``inactive_threshold``
        (default 5 minutes) is how long the server keeps an unread watch's consumer.

        The watch survives the loss of its consumer: missing ``idle_heartbeat`` twice,
        a reconnect, or a gap makes it resume after the last revision it delivered.

        Raises:
            InvalidKeyError: a key pattern is not valid.
            InvalidInputError: ``resume_from_revision`` with ``updates_only`` or
                ``include_history``.
        """
        patterns = [keys] if isinstance(keys, str) else list(keys)
        return await self._watch(
            patterns,
            include_history=include_history,
            ignore_deletes=ignore_deletes,
            meta_only=meta_only or headers_only,
            updates_only=updates_only,
            resume_from_revision=resume_from_revision,
            inactive_threshold=inactive_threshold,
            idle_heartbeat=idle_heartbeat,
        )

    async def watchall(
        self,
        headers_only: bool = False,
        include_history: bool = False,
        ignore_deletes: bool = False,
        meta_only: bool = False,
        inactive_threshold: float | None = None,
        updates_only: bool = False,
        resume_from_revision: int | None = None,
        *,
        idle_heartbeat: float = DEFAULT_HEARTBEAT,
    ) -> KeyWatcher:
        """Watch every key (same options as :meth:`watch`)."""
        return await self.watch(
            ">",
            headers_only=headers_only,
            include_history=include_history,
            ignore_deletes=ignore_deletes,
            meta_only=meta_only,
            inactive_threshold=inactive_threshold,
            updates_only=updates_only,
            resume_from_revision=resume_from_revision,
            idle_heartbeat=idle_heartbeat,
        )

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
        resume_from_revision: int | None = None,
        inactive_threshold: float | None = None,
        idle_heartbeat: float = DEFAULT_HEARTBEAT,
    ) -> KeyWatcher:
        for pattern in patterns:
            _check_key(pattern, watch=True)
        if resume_from_revision is not None and (updates_only or include_history):
            raise InvalidInputError("resume_from_revision excludes updates_only and include_history")
        subjects = [self._prefix + p for p in patterns]
        config = ConsumerConfig(
            filter_subject=subjects[0] if len(subjects) == 1 else None,
            filter_subjects=subjects if len(subjects) > 1 else None,
            inactive_threshold=inactive_threshold or _WATCH_INACTIVE,
        )
        if resume_from_revision is not None:
            config = config.evolve(
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                opt_start_seq=max(resume_from_revision, 1),
            )
            policy = None
        elif updates_only:
            policy = DeliverPolicy.NEW
        elif include_history:
            policy = DeliverPolicy.ALL
        else:
            policy = DeliverPolicy.LAST_PER_SUBJECT
        watcher = KeyWatcher(self, ignore_deletes=ignore_deletes, updates_only=updates_only)
        psub = await subscribe_ordered(
            self._js,
            None,
            self._stream,
            cb=None,
            config=config,
            deliver_policy=policy,
            headers_only=meta_only or None,
            idle_heartbeat=idle_heartbeat,
            pending_msgs_limit=64 * 1024,
            pending_bytes_limit=64 * 1024 * 1024,
            on_reset=watcher._on_reset,
        )
        watcher._attach(psub)
        return watcher


def _conflict(exc: WrongLastSequenceError, stream: str) -> KeyWrongLastSequenceError:
    return KeyWrongLastSequenceError(
        exc.description, code=exc.code, err_code=exc.err_code, stream=stream
    )


def _is_wildcard(pattern: str) -> bool:
    return any(token in ("*", ">") for token in pattern.split("."))


def _matches(pattern: str, key: str) -> bool:
    """Whether ``key`` matches the subject pattern ``pattern`` (``*`` and ``>``)."""
    want = pattern.split(".")
    have = key.split(".")
    for i, token in enumerate(want):
        if token == ">":
            return len(have) > i
        if i >= len(have) or (token != "*" and token != have[i]):
            return False
    return len(have) == len(want)
