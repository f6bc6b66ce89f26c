"""Watchers that survive the loss of their consumer, and data other clients write.

A KV or object watch recovers by itself when its server-side consumer is deleted or the
server restarts, resuming after the last revision it delivered: no gap, no duplicate.
Object-store links without a ``nuid`` (as nats.js writes them) and the markers the
server writes (``Nats-Marker-Reason``, no ``KV-Operation``) read as the other official
clients read them.
"""

from __future__ import annotations

import asyncio
import json

import pytest

import rxnats
from rxnats.jetstream import (
    JetStreamContext,
    KeyDeletedError,
    KeyWatcher,
    ObjectNotFoundError,
    Operation,
    StorageType,
)
from rxnats.jetstream.object_models import meta_subject
from rxnats.server import NatsServer

from .conftest import Restartable

MEMORY = StorageType.MEMORY


async def _next_entries(watcher: KeyWatcher, count: int) -> list[tuple[str, bytes | None]]:
    got: list[tuple[str, bytes | None]] = []
    while len(got) < count:
        entry = await watcher.updates(timeout=10)
        if entry is not None:
            got.append((entry.key, entry.value))
    return got


# ----------------------------------------------------------------- 7. watchers survive
async def test_kv_watch_survives_its_consumer_being_deleted(js: JetStreamContext) -> None:
    kv = await js.create_key_value(bucket="W", storage=MEMORY, history=5)
    await kv.put("a", b"1")
    watcher = await kv.watchall(idle_heartbeat=0.5)
    assert await _next_entries(watcher, 1) == [("a", b"1")]
    assert await watcher.updates(timeout=2) is None
    await kv.put("b", b"2")
    assert await _next_entries(watcher, 1) == [("b", b"2")]
    first = watcher.consumer
    await js.delete_consumer("KV_W", first)
    await kv.put("c", b"3")  # written while no consumer exists
    await kv.put("a", b"4")
    assert await _next_entries(watcher, 2) == [("c", b"3"), ("a", b"4")]
    assert watcher.resets >= 1 and watcher.consumer != first
    await kv.put("d", b"5")
    assert await _next_entries(watcher, 1) == [("d", b"5")]  # and nothing repeated
    assert watcher.last_revision == 5
    await watcher.stop()


async def test_object_watch_survives_its_consumer_being_deleted(js: JetStreamContext) -> None:
    store = await js.create_object_store("OW", storage=MEMORY)
    await store.put("one", b"1")
    watcher = await store.watch(idle_heartbeat=0.5)
    first_info = await watcher.updates(timeout=5)
    assert first_info is not None and first_info.name == "one"
    assert await watcher.updates(timeout=5) is None
    await js.delete_consumer("OBJ_OW", watcher.consumer)
    await store.put("two", b"2")
    seen = await watcher.updates(timeout=10)
    assert seen is not None and seen.name == "two"
    await watcher.stop()


@pytest.mark.slow
async def test_kv_watch_survives_a_server_restart(
    restartable: Restartable, nats_jetstream_server: NatsServer
) -> None:
    nc = restartable.nc
    js = nc.jetstream()
    kv = await js.create_key_value(bucket="R", storage=StorageType.FILE, history=5)
    await kv.put("a", b"1")
    await kv.put("b", b"2")
    watcher = await kv.watchall()
    assert await _next_entries(watcher, 2) == [("a", b"1"), ("b", b"2")]
    assert await watcher.updates(timeout=2) is None
    restartable.reconnected.clear()
    nats_jetstream_server.restart()
    await restartable.reconnected.wait()
    for _ in range(100):  # JetStream may take a moment to serve the bucket again
        try:
            await kv.put("c", b"3")
            break
        except rxnats.errors.Error:
            await asyncio.sleep(0.1)
    await kv.put("a", b"4")
    assert await _next_entries(watcher, 2) == [("c", b"3"), ("a", b"4")]
    assert watcher.resets >= 1
    await watcher.stop()


# ----------------------------------------------------------------- 8. interop
async def test_links_without_a_nuid_are_read_followed_and_deleted(js: JetStreamContext) -> None:
    store = await js.create_object_store("LINKS", storage=MEMORY)
    target = await store.put("report.csv", b"a,b\n1,2\n")
    # a link as nats.js writes it: no nuid, no size, no chunks
    link_meta = {
        "name": "latest",
        "bucket": "LINKS",
        "options": {"link": {"bucket": "LINKS", "name": "report.csv"}},
        "mtime": "2026-01-02T03:04:05.123456789Z",
    }
    await js.publish(
        meta_subject("LINKS", "latest"),
        json.dumps(link_meta).encode(),
        headers={"Nats-Rollup": "sub"},
    )
    info = await store.get_info("latest")
    assert info.is_link() and info.nuid == ""
    result = await store.get("latest")
    assert result.data == b"a,b\n1,2\n" and result.info.digest == target.digest
    names = sorted(o.name for o in await store.list())
    assert names == ["latest", "report.csv"]
    gone = await store.delete("latest")
    assert gone.deleted
    with pytest.raises(ObjectNotFoundError):
        await store.get("latest")
    assert (await store.get("report.csv")).data == b"a,b\n1,2\n"  # the target stays


async def test_server_markers_read_as_purges_and_deletes(js: JetStreamContext) -> None:
    kv = await js.create_key_value(bucket="M", storage=MEMORY, history=5)
    await kv.put("expired", b"old")
    await kv.put("removed", b"old")
    # the markers a server writes: Nats-Marker-Reason and no KV-Operation
    await js.publish("$KV.M.expired", b"", headers={"Nats-Marker-Reason": "MaxAge"})
    await js.publish("$KV.M.removed", b"", headers={"Nats-Marker-Reason": "Remove"})
    with pytest.raises(KeyDeletedError) as expired:
        await kv.get("expired")
    assert expired.value.op == Operation.PURGE
    with pytest.raises(KeyDeletedError) as removed:
        await kv.get("removed")
    assert removed.value.op == Operation.DEL
    history = await kv.history("expired")
    assert [(e.value, e.operation) for e in history] == [
        (b"old", Operation.PUT),
        (None, Operation.PURGE),
    ]
    with pytest.raises(rxnats.jetstream.NoKeysError):
        await kv.keys()
    watcher = await kv.watchall()
    seen = []
    while (entry := await watcher.updates(timeout=2)) is not None:
        seen.append((entry.key, entry.operation))
    assert sorted(seen) == [("expired", Operation.PURGE), ("removed", Operation.DEL)]
    await watcher.stop()
    revision = await kv.create("expired", b"new")  # a marker does not block create
    assert (await kv.get("expired")).revision == revision
