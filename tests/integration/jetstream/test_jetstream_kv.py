"""Key-value buckets (ADR-8) against a real JetStream-enabled nats-server."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest

import rxnats
from rxnats.jetstream import (
    BucketNotFoundError,
    InvalidBucketNameError,
    InvalidKeyError,
    JetStreamContext,
    KeyDeletedError,
    KeyNotFoundError,
    KeyValue,
    KeyValueConfig,
    KeyWrongLastSequenceError,
    NoKeysError,
    Operation,
    StorageType,
    WrongLastSequenceError,
)
from rxnats.jetstream import kv as kv_module

if TYPE_CHECKING:
    from nats.aio.client import Client as NatsPyClient


async def test_create_open_status_delete_bucket(js: JetStreamContext) -> None:
    kv = await js.create_key_value(bucket="CFG", history=5, ttl=3600.0)
    assert kv.bucket == "CFG"
    info = await js.stream_info("KV_CFG")
    assert info.config.subjects == ["$KV.CFG.>"]
    assert info.config.max_msgs_per_subject == 5
    assert info.config.allow_rollup_hdrs and info.config.deny_delete
    await kv.put("a", b"1")
    status = await (await js.key_value("CFG")).status()
    assert (status.bucket, status.values, status.history, status.ttl) == ("CFG", 1, 5, 3600.0)
    mem = await js.create_key_value(KeyValueConfig(bucket="MEM", storage=StorageType.MEMORY))
    assert (await mem.status()).stream_info.config.storage is StorageType.MEMORY
    assert await js.delete_key_value("CFG") is True
    with pytest.raises(BucketNotFoundError):
        await js.key_value("CFG")
    with pytest.raises(InvalidBucketNameError):
        await js.create_key_value(bucket="bad.name")


async def test_put_get_revisions_delete_purge(js: JetStreamContext) -> None:
    kv = await js.create_key_value(bucket="B", history=10)
    r1 = await kv.put("user.1", b"alice")
    r2 = await kv.put("user.1", b"alicia")
    await kv.put("user.2", b"bob")
    entry = await kv.get("user.1")
    assert (entry.key, entry.value, entry.revision) == ("user.1", b"alicia", r2)
    assert entry.operation is Operation.PUT
    old = await kv.get("user.1", revision=r1)
    assert old.value == b"alice"
    with pytest.raises(KeyNotFoundError):
        await kv.get("user.2", revision=r1)  # that revision belongs to another key
    with pytest.raises(KeyNotFoundError):
        await kv.get("missing")
    with pytest.raises(InvalidKeyError):
        await kv.get(".bad")

    assert await kv.delete("user.1") is True
    with pytest.raises(KeyDeletedError) as deleted:
        await kv.get("user.1")
    assert isinstance(deleted.value, KeyNotFoundError)
    assert await kv.keys() == ["user.2"]
    history = await kv.history("user.1")
    assert [(e.value, e.operation) for e in history] == [
        (b"alice", Operation.PUT),
        (b"alicia", Operation.PUT),
        (None, Operation.DEL),
    ]
    assert await kv.purge("user.1") is True
    purged = await kv.history("user.1")
    assert [e.operation for e in purged] == [Operation.PURGE]
    await kv.purge("user.2")
    with pytest.raises(NoKeysError):
        await kv.keys()
    with pytest.raises(NoKeysError):
        await kv.history("never")


async def test_compare_and_set(js: JetStreamContext) -> None:
    kv = await js.create_key_value(bucket="CAS", history=3)
    rev = await kv.create("k", b"v1")
    with pytest.raises(KeyWrongLastSequenceError) as exists:
        await kv.create("k", b"again")
    assert exists.value.err_code == 10071
    assert isinstance(exists.value, WrongLastSequenceError)
    rev2 = await kv.update("k", b"v2", last=rev)
    with pytest.raises(KeyWrongLastSequenceError) as stale:
        await kv.update("k", b"v3", last=rev)  # someone else already moved it
    assert stale.value.err_code == 10071
    assert (await kv.get("k")).value == b"v2"
    with pytest.raises(KeyWrongLastSequenceError):
        await kv.delete("k", last=rev)
    await kv.delete("k", last=rev2)
    # a deleted key can be created again
    rev4 = await kv.create("k", b"reborn")
    assert (await kv.get("k")).revision == rev4


async def test_watch_initial_values_then_updates(js: JetStreamContext) -> None:
    kv: KeyValue = await js.create_key_value(bucket="W", history=5)
    await kv.put("a", b"1")
    await kv.put("b", b"2")
    await kv.put("a", b"3")
    watcher = await kv.watchall()
    initial = []
    while (entry := await watcher.updates(timeout=2)) is not None:
        initial.append((entry.key, entry.value))
    assert sorted(initial) == [("a", b"3"), ("b", b"2")]
    await kv.put("c", b"4")
    await kv.delete("b")
    live = await watcher.updates(timeout=2)
    assert live is not None and (live.key, live.value, live.operation) == ("c", b"4", Operation.PUT)
    gone = await watcher.updates(timeout=2)
    assert gone is not None and (gone.key, gone.operation) == ("b", Operation.DEL)
    with pytest.raises(rxnats.errors.TimeoutError):
        await watcher.updates(timeout=0.3)
    await watcher.stop()
    await watcher.stop()

    hist = await kv.watch("a", include_history=True, meta_only=True)
    revisions = []
    async for entry in hist:
        if entry is None:
            break
        assert entry.value == b""
        revisions.append(entry.revision)
    assert revisions == [1, 3]
    await hist.stop()

    quiet = await kv.watch("nothing.*", ignore_deletes=True)
    assert await quiet.updates(timeout=1) is None  # nothing to replay: up to date at once
    await kv.put("nothing.x", b"5")
    await kv.delete("nothing.x")
    await kv.put("nothing.y", b"6")
    first = await quiet.updates(timeout=2)
    second = await quiet.updates(timeout=2)
    assert first is not None and second is not None
    assert [first.key, second.key] == ["nothing.x", "nothing.y"]  # the delete was skipped
    await quiet.stop()


async def _latest_as_stored(js: JetStreamContext, bucket: str, key: str) -> tuple[object, ...]:
    # The stream API's own reading (JSON, base64), independent of the direct-get reply.
    raw = await js.get_msg(f"KV_{bucket}", subject=f"$KV.{bucket}.{key}")
    return (bucket, key, raw.data, raw.seq, None, raw.time, Operation.PUT)


def _fields(entry: KeyValue.Entry) -> tuple[object, ...]:
    return (
        entry.bucket,
        entry.key,
        entry.value,
        entry.revision,
        entry.delta,
        entry.created,
        entry.operation,
    )


@pytest.mark.parametrize("direct", [True, False])
async def test_get_reads_each_kind_of_latest_entry_as_the_stream_stores_it(
    js: JetStreamContext, direct: bool
) -> None:
    kv = await js.create_key_value(bucket="G", history=5, direct=direct)
    await kv.put("plain", b"v1")
    await kv.put("plain", b"v2")
    await kv.put("empty", b"")
    await js.publish("$KV.G.traced", b"t", headers={"X-Trace": "1"})  # a writer's header
    await kv.create("ttl", b"short-lived", msg_ttl=3600)  # the stored message has Nats-TTL
    await kv.put("gone", b"x")
    await kv.delete("gone")
    await kv.put("wiped", b"x")
    await kv.purge("wiped")
    for _ in range(2):  # the second time with the key's request subject remembered
        for key in ("plain", "empty", "traced", "ttl"):
            entry = await kv.get(key)
            assert _fields(entry) == await _latest_as_stored(js, "G", key)
            assert isinstance(entry.created, dt.datetime) and entry.created.tzinfo is dt.UTC
        for key, op in (("gone", Operation.DEL), ("wiped", Operation.PURGE)):
            with pytest.raises(KeyDeletedError) as deleted:
                await kv.get(key)
            assert deleted.value.op == op
            marker = deleted.value.entry
            assert isinstance(marker, KeyValue.Entry)
            assert (marker.value, marker.operation) == (None, op)
        with pytest.raises(KeyNotFoundError) as missing:
            await kv.get("never")
        assert not isinstance(missing.value, KeyDeletedError)
    assert (await kv.get("plain")).value == b"v2"


async def test_get_returns_what_nats_py_returns(js: JetStreamContext, peer: NatsPyClient) -> None:
    nats_errors = pytest.importorskip("nats.js.errors")
    kv = await js.create_key_value(bucket="PG", history=5)
    await kv.put("a", b"1")
    await kv.put("a", b"2")
    await js.publish("$KV.PG.h", b"with header", headers={"X-Trace": "1"})
    await kv.put("d", b"x")
    await kv.delete("d")
    theirs = await peer.jetstream().key_value("PG")
    for key in ("a", "h"):
        ours, their = await kv.get(key), await theirs.get(key)
        assert (ours.key, ours.value, ours.revision) == (their.key, their.value, their.revision)
    for key in ("d", "never"):
        with pytest.raises(KeyNotFoundError):
            await kv.get(key)
        with pytest.raises(nats_errors.KeyNotFoundError):
            await theirs.get(key)


async def test_an_unchecked_key_is_not_taken_for_a_checked_one(js: JetStreamContext) -> None:
    kv = await js.create_key_value(bucket="UK", history=2)
    rev = await kv.put("a#b", b"x", validate_keys=False)  # a valid subject, not a valid key
    assert (await kv.get("a#b", validate_keys=False)).revision == rev
    for _ in range(2):
        with pytest.raises(InvalidKeyError):
            await kv.get("a#b")
    await kv.put("a.x", b"y")
    with pytest.raises(KeyNotFoundError):  # a pattern is no key: nothing is read as "a.*"
        await kv.get("a.*", validate_keys=False)


async def test_more_keys_than_the_bucket_remembers_are_all_read_right(
    js: JetStreamContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kv_module, "_SUBJECT_CACHE", 3)
    kv = await js.create_key_value(bucket="MANY")
    keys = [f"k{i}" for i in range(10)]
    for i, key in enumerate(keys):
        await kv.put(key, b"%d" % i)
    for _ in range(2):
        for i, key in enumerate(keys):
            assert (await kv.get(key)).value == b"%d" % i
            assert len(kv._last_subjects) <= 3
