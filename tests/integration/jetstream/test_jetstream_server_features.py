"""The JetStream features of nats-server 2.10 to 2.12, typed, on a real server (2.15 here)."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from jwt_helpers import operator_setup  # tests/ is on sys.path (conftest.py lives there)
from polling import eventually

import rxnats
from rxnats.jetstream import (
    ConsumerConfig,
    Header,
    JetStreamContext,
    KeyDeletedError,
    KeyNotFoundError,
    MessageNotFoundError,
    MsgTTLDisabledError,
    NoKeysError,
    Operation,
    PersistMode,
    PriorityPolicy,
    StorageType,
    StreamConsumerLimits,
    StreamSource,
    SubjectTransform,
)
from rxnats.server import NatsServer
from rxnats.testing.plugin import NatsServerFactory

MEMORY = StorageType.MEMORY


# ----------------------------------------------------------------- consumers
async def test_pause_and_resume_a_consumer(js: JetStreamContext) -> None:
    await js.add_stream(name="P", subjects=["p"], storage=MEMORY)
    stream = await js.get_stream("P")
    consumer = await stream.create_consumer(durable_name="c")
    until = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    paused = await js.pause_consumer("P", "c", until)
    assert paused.paused is True and paused.pause_until is not None
    assert abs((paused.pause_until - until).total_seconds()) < 1e-3
    info = await consumer.info()
    assert info.paused is True and info.pause_remaining is not None and info.pause_remaining > 3000
    await js.publish("p", b"held")
    assert await consumer.fetch(1, max_wait=0.5) == []  # no delivery while paused
    resumed = await stream.resume_consumer("c")
    assert resumed.paused is False
    (msg,) = await consumer.fetch(1, max_wait=2)
    assert msg.data == b"held"


async def test_per_message_ttl_on_publish_and_publish_async(js: JetStreamContext) -> None:
    await js.add_stream(name="TTL", subjects=["ttl.>"], storage=MEMORY, allow_msg_ttl=True)
    ack = await js.publish("ttl.a", b"short", msg_ttl=1)
    future = await js.publish_async("ttl.b", b"hour", msg_ttl=3600)
    later = await future
    stored = await js.get_msg("TTL", later.seq)
    assert stored.headers is not None and stored.headers[Header.MSG_TTL] == "3600"

    async def expired() -> bool:
        try:
            await js.get_msg("TTL", ack.seq)
        except MessageNotFoundError:
            return True
        return False

    for _ in range(50):  # the server removes it about a second later
        if await expired():
            break
        await asyncio.sleep(0.1)
    assert await expired()
    await js.add_stream(name="NOTTL", subjects=["nottl"], storage=MEMORY)
    with pytest.raises(MsgTTLDisabledError):
        await js.publish("nottl", b"x", msg_ttl=5)


async def test_subject_transforms_on_streams_and_sources(js: JetStreamContext) -> None:
    await js.add_stream(
        name="SRC",
        subjects=["in.>"],
        storage=MEMORY,
        subject_transform=SubjectTransform(src="in.>", dest="stored.>"),
    )
    await js.publish("in.a", b"1")
    assert (await js.get_msg("SRC", 1)).subject == "stored.a"
    await js.add_stream(
        name="AGG",
        storage=MEMORY,
        sources=[
            StreamSource(
                name="SRC", subject_transforms=[SubjectTransform(src="stored.>", dest="agg.>")]
            )
        ],
    )
    info = await js.stream_info("AGG")
    assert info.config.sources is not None
    assert info.config.sources[0].subject_transforms == [SubjectTransform("stored.>", "agg.>")]

    async def sourced() -> bool:
        try:
            return (await js.get_msg("AGG", 1)).subject == "agg.a"
        except MessageNotFoundError:
            return False

    await eventually(sourced, what="the sourced message")


async def test_consumer_limits_apply_to_new_consumers(js: JetStreamContext) -> None:
    await js.add_stream(
        name="L",
        subjects=["l"],
        storage=MEMORY,
        consumer_limits=StreamConsumerLimits(max_ack_pending=7, inactive_threshold=30),
    )
    info = await js.add_consumer("L", durable_name="c")
    assert info.config.max_ack_pending == 7
    assert (await js.stream_info("L")).config.consumer_limits == StreamConsumerLimits(
        inactive_threshold=30.0, max_ack_pending=7
    )


async def test_2_12_stream_flags_and_counters(js: JetStreamContext) -> None:
    info = await js.add_stream(
        name="NEW", subjects=["new"], storage=MEMORY, allow_msg_schedules=True, allow_atomic=True
    )
    assert info.config.allow_msg_schedules and info.config.allow_atomic
    fast = await js.add_stream(
        name="FAST", subjects=["fast"], storage=StorageType.FILE, persist_mode=PersistMode.ASYNC
    )
    assert fast.config.persist_mode is PersistMode.ASYNC
    counter = await js.add_stream(
        name="COUNT", subjects=["count.>"], storage=MEMORY, allow_msg_counter=True
    )
    assert counter.config.allow_msg_counter is True
    await js.publish("count.hits", b"", headers={Header.INCR: "5"})
    ack = await js.publish("count.hits", b"", headers={Header.INCR: "-2"})
    assert ack.val == "3"


async def test_account_api_level_and_tiers(
    nats_server_factory: NatsServerFactory, tmp_path: Path
) -> None:
    # Tiered limits come from an account JWT (operator mode)
    setup = operator_setup(jetstream_tiers={"R1": {"streams": 5, "consumer": 50}})
    server: NatsServer = nats_server_factory(jetstream=True, config=setup.config)
    nc = await rxnats.connect(server.url, user_credentials=str(setup.write_creds(tmp_path)))
    try:
        info = await nc.jsm().account_info()
        assert info.api.level is not None and info.api.level >= 1
        assert info.tiers is not None and "R1" in info.tiers
        assert info.tiers["R1"].limits.max_streams == 5
    finally:
        await nc.close()


async def test_priority_group_pinned_client(js: JetStreamContext) -> None:
    await js.add_stream(name="PIN", subjects=["pin"], storage=MEMORY)
    await js.create_consumer(
        "PIN",
        durable_name="c",
        priority_groups=["jobs"],
        priority_policy=PriorityPolicy.PINNED_CLIENT,
        priority_timeout=60,
    )
    for n in range(6):
        await js.publish("pin", f"{n}".encode())
    first = await js.get_consumer("PIN", "c")
    second = await js.get_consumer("PIN", "c")
    got = await first.fetch(2, max_wait=2, group="jobs")
    assert len(got) == 2 and first.pinned_id("jobs")
    for msg in got:
        await msg.ack()
    assert await second.fetch(2, max_wait=0.5, group="jobs") == []  # a standby
    info = await first.info()
    assert info.priority_groups is not None
    assert info.priority_groups[0].pinned_client_id == first.pinned_id("jobs")
    assert await js.unpin_consumer("PIN", "c", "jobs")
    taken = await second.fetch(2, max_wait=2, group="jobs")
    assert len(taken) == 2 and second.pinned_id("jobs")
    assert await first.fetch(1, max_wait=0.5, group="jobs") == []  # a 423: pin dropped
    assert first.pinned_id("jobs") is None


async def test_priority_group_overflow(js: JetStreamContext) -> None:
    await js.add_stream(name="OV", subjects=["ov"], storage=MEMORY)
    consumer = await js.create_consumer(
        "OV", durable_name="c", priority_groups=["g"], priority_policy=PriorityPolicy.OVERFLOW
    )
    for n in range(3):
        await js.publish("ov", f"{n}".encode())
    assert await consumer.fetch(1, max_wait=0.5, group="g", min_pending=5) == []
    for n in range(3, 6):
        await js.publish("ov", f"{n}".encode())
    (msg,) = await consumer.fetch(1, max_wait=2, group="g", min_pending=5)
    assert msg.data == b"0"


async def test_fetch_no_wait_and_consumer_names(js: JetStreamContext) -> None:
    await js.add_stream(name="NW", subjects=["nw"], storage=MEMORY)
    consumer = await js.create_consumer("NW", durable_name="c")
    assert await consumer.fetch_no_wait(10) == []
    await js.publish("nw", b"1")
    await js.publish("nw", b"2")
    assert [m.data for m in await consumer.fetch_no_wait(10)] == [b"1", b"2"]
    stream = await js.get_stream("NW")
    assert await stream.consumer_names() == ["c"]


# ----------------------------------------------------------------- key-value
async def test_kv_per_key_ttl_and_limit_markers(js: JetStreamContext) -> None:
    kv = await js.create_key_value(bucket="TTLKV", storage=MEMORY, limit_marker_ttl=5)
    status = await kv.status()
    assert status.marker_ttl == 5.0
    watcher = await kv.watchall(updates_only=True)
    await kv.create("session", b"token", msg_ttl=1)
    created = await watcher.updates(timeout=2)
    assert created is not None and created.operation is Operation.PUT
    marker = await watcher.updates(timeout=5)  # the server's MaxAge marker
    assert marker is not None and (marker.key, marker.operation) == ("session", "PURGE")
    assert marker.value is None
    with pytest.raises(KeyDeletedError) as gone:
        await kv.get("session")
    assert gone.value.op == "PURGE"
    assert [e.operation for e in await kv.history("session")] == [Operation.PURGE]
    with pytest.raises(NoKeysError):
        await kv.keys()
    await kv.create("session", b"again")  # a marker does not block create
    await watcher.stop()


async def test_kv_purge_with_ttl_and_purge_deletes(js: JetStreamContext) -> None:
    kv = await js.create_key_value(bucket="PD", storage=MEMORY, history=5)
    await kv.put("a", b"1")
    await kv.put("b", b"2")
    await kv.purge("a", msg_ttl=3600)
    await kv.delete("b")
    stream = await js.stream_info("KV_PD")
    marker = await js.get_last_msg("KV_PD", "$KV.PD.a")
    assert marker.headers is not None and marker.headers[Header.MSG_TTL] == "3600"
    assert stream.state.messages == 3
    await kv.purge_deletes(olderthan=3600)  # young markers stay, their history goes
    assert (await js.stream_info("KV_PD")).state.messages == 2
    await kv.purge_deletes(olderthan=-1)  # every marker goes
    assert (await js.stream_info("KV_PD")).state.messages == 0


async def test_kv_watch_updates_only_resume_and_inactive_threshold(js: JetStreamContext) -> None:
    kv = await js.create_key_value(bucket="WO", storage=MEMORY, history=10)
    r1 = await kv.put("k", b"1")
    await kv.put("k", b"2")
    fresh = await kv.watch("k", updates_only=True, inactive_threshold=42)
    assert (await js.consumer_info("KV_WO", fresh.consumer)).config.inactive_threshold == 42
    await kv.put("k", b"3")
    first = await fresh.updates(timeout=2)
    assert first is not None and first.value == b"3"  # no initial values, no None marker
    await fresh.stop()
    resumed = await kv.watch("k", resume_from_revision=r1)
    values = []
    while (entry := await resumed.updates(timeout=2)) is not None:
        values.append(entry.value)
    assert values == [b"1", b"2", b"3"]
    await resumed.stop()


async def test_validate_keys_false_lets_other_tools_keys_through(js: JetStreamContext) -> None:
    kv = await js.create_key_value(bucket="VK", storage=MEMORY)
    with pytest.raises(rxnats.errors.InvalidInputError):
        await kv.put("café", b"x")
    rev = await kv.put("café", b"x", validate_keys=False)
    assert (await kv.get("café", validate_keys=False)).revision == rev
    with pytest.raises(KeyNotFoundError):
        await kv.get("thé", validate_keys=False)
    assert ConsumerConfig().flow_control is False
