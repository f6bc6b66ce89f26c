"""JetStream as nats-py 2.16 behaves, on a real server, compared with nats-py where cheap.

Configurations survive a read-modify-write; ``fetch`` returns as soon as messages are
there; push subscriptions refuse a second subscriber; errors, types and names are
nats-py's.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import rxnats
from rxnats.errors import TimeoutError as NatsTimeoutError
from rxnats.jetstream import (
    AckPolicy,
    BadBucketError,
    BadRequestError,
    BucketNotFoundError,
    ConsumerAlreadyBoundError,
    ConsumerConfig,
    ConsumerNameExistsError,
    ConsumerNotFoundError,
    DeliverGroupMismatchError,
    DeliverPolicy,
    FetchTimeoutError,
    Header,
    JetStreamContext,
    KeyDeletedError,
    KeyHistoryTooLargeError,
    KeyNotFoundError,
    KeyWrongLastSequenceError,
    NotFoundError,
    ObjectNotFoundError,
    Operation,
    StorageType,
    StreamConfig,
    TooManyStalledMsgsError,
    WrongLastSequenceError,
)

if TYPE_CHECKING:
    from nats.aio.client import Client as NatsPyClient
    from nats.aio.msg import Msg as NatsPyMsg

MEMORY = StorageType.MEMORY


async def _raw(nc: rxnats.NATS, subject: str, body: dict[str, object] | None = None) -> dict[str, object]:
    reply = await nc.request(subject, json.dumps(body).encode() if body is not None else b"", timeout=5)
    decoded = json.loads(reply.data)
    assert isinstance(decoded, dict) and "error" not in decoded, decoded
    return decoded


def _config(resp: dict[str, object]) -> dict[str, object]:
    config = resp["config"]
    assert isinstance(config, dict)
    return config


# ----------------------------------------------------------------- 1. no config loss
async def test_update_stream_keeps_every_setting_of_a_2_12_stream(nc: rxnats.NATS) -> None:
    js = nc.jetstream()
    created = await _raw(
        nc,
        "$JS.API.STREAM.CREATE.FULL",
        {
            "name": "FULL",
            "subjects": ["full.>"],
            "storage": "memory",
            "subject_transform": {"src": "full.>", "dest": "moved.>"},
            "consumer_limits": {"inactive_threshold": 60_000_000_000, "max_ack_pending": 100},
            "allow_msg_ttl": True,
            "subject_delete_marker_ttl": 5_000_000_000,
            "allow_atomic": True,
            "allow_msg_schedules": True,
            "allow_batched": True,
            "allow_rollup_hdrs": True,
            "metadata": {"team": "billing"},
        },
    )
    info = await js.stream_info("FULL")
    assert info.config.subject_transform is not None
    assert info.config.subject_transform.dest == "moved.>"
    assert info.config.consumer_limits is not None
    assert info.config.consumer_limits.inactive_threshold == 60.0
    assert info.config.subject_delete_marker_ttl == 5.0
    assert info.config.allow_msg_ttl and info.config.allow_atomic and info.config.allow_batched
    await js.update_stream(info.config.evolve(description="x"))
    after = _config(await _raw(nc, "$JS.API.STREAM.INFO.FULL"))
    assert after.pop("description") == "x"
    assert after == _config(created)


async def test_update_of_a_consumer_keeps_its_2_11_settings(nc: rxnats.NATS) -> None:
    js = nc.jetstream()
    await js.add_stream(name="C", subjects=["c.>"], storage=MEMORY)
    pause = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.123456789Z")
    created = await _raw(
        nc,
        "$JS.API.CONSUMER.CREATE.C.work",
        {
            "stream_name": "C",
            "config": {
                "durable_name": "work",
                "ack_policy": "explicit",
                "priority_groups": ["jobs"],
                "priority_policy": "pinned_client",
                "priority_timeout": 120_000_000_000,
                "pause_until": pause,
                "metadata": {"owner": "ops"},
            },
        },
    )
    info = await js.consumer_info("C", "work")
    assert info.config.priority_groups == ["jobs"]
    assert info.config.pause_until is not None and info.config.pause_until.tzinfo is not None
    assert info.paused is True
    consumer = await js.update_consumer("C", info.config.evolve(description="d"))
    assert consumer.cached_info.config.description == "d"
    after = _config(await _raw(nc, "$JS.API.CONSUMER.INFO.C.work"))
    assert after.pop("description") == "d"
    assert after == _config(created)  # pause_until kept to the nanosecond


# ----------------------------------------------------------------- 2. fetch
async def test_fetch_returns_as_soon_as_a_message_is_there(
    js: JetStreamContext, peer: NatsPyClient
) -> None:
    await js.add_stream(name="F", subjects=["f"], storage=MEMORY)
    ours = await js.pull_subscribe("f", durable="ours")
    theirs = await peer.jetstream().pull_subscribe("f", durable="theirs")

    async def publish_later() -> None:
        await asyncio.sleep(0.3)
        await js.publish("f", b"one")

    # a fetch that waited for its 30 s expiry would hit the 10 s bound
    publisher = asyncio.create_task(publish_later())
    msgs = await asyncio.wait_for(ours.fetch(100, timeout=30), timeout=10)
    await publisher
    assert [m.data for m in msgs] == [b"one"]
    publisher = asyncio.create_task(publish_later())
    peer_msgs = await asyncio.wait_for(theirs.fetch(100, timeout=30), timeout=10)
    await publisher
    assert [m.data for m in peer_msgs] == [b"one"]  # nats-py returns at once too
    assert len(await ours.fetch(100, timeout=5)) == 1  # the second message, at once


async def test_an_empty_fetch_raises_fetch_timeout(js: JetStreamContext) -> None:
    await js.add_stream(name="F", subjects=["f"], storage=MEMORY)
    sub = await js.pull_subscribe("f", durable="d")
    with pytest.raises(FetchTimeoutError) as err:
        await sub.fetch(10, timeout=0.5)
    assert isinstance(err.value, NatsTimeoutError) and isinstance(err.value, TimeoutError)


async def test_exceeded_max_waiting_is_temporary(js: JetStreamContext) -> None:
    await js.add_stream(name="W", subjects=["w"], storage=MEMORY)
    await js.add_consumer("W", durable_name="one", max_waiting=1, ack_policy=AckPolicy.EXPLICIT)
    first = await js.pull_subscribe_bind("one", stream="W")
    second = await js.pull_subscribe_bind(consumer="one", stream="W")
    waiting = asyncio.create_task(first.fetch(1, timeout=10))
    await asyncio.sleep(0.2)  # the first request now holds the consumer's only place
    crowded = asyncio.create_task(second.fetch(1, timeout=10))  # gets 409 Exceeded MaxWaiting
    await asyncio.sleep(0.3)
    await js.publish("w", b"a")
    await js.publish("w", b"b")
    got = sorted([m.data for m in await waiting] + [m.data for m in await crowded])
    assert got == [b"a", b"b"]


# ----------------------------------------------------------------- 3. push subscriptions
async def test_a_second_subscriber_of_a_push_durable_is_refused(
    js: JetStreamContext, peer: NatsPyClient
) -> None:
    await js.add_stream(name="P", subjects=["p"], storage=MEMORY)
    got: list[bytes] = []

    async def cb(msg: rxnats.Msg) -> None:
        got.append(msg.data)

    first = await js.subscribe("p", durable="pd", cb=cb)
    with pytest.raises(ConsumerAlreadyBoundError):
        await js.subscribe("p", durable="pd", cb=cb)
    nats_errors = pytest.importorskip("nats.js.errors")

    async def peer_cb(msg: NatsPyMsg) -> None:
        got.append(msg.data)

    with pytest.raises(nats_errors.Error):  # nats-py refuses it the same way
        await peer.jetstream().subscribe("p", durable="pd", cb=peer_cb)
    await js.publish("p", b"once")
    await asyncio.sleep(0.3)
    assert got == [b"once"]  # one delivery, not one per callback
    await first.unsubscribe()
    # a deliver group takes several subscribers; a queue must match it
    a = await js.subscribe("p", "workers", cb=cb)
    b = await js.subscribe("p", "workers", cb=cb)
    with pytest.raises(DeliverGroupMismatchError):
        await js.subscribe("p", durable="workers")
    await a.unsubscribe()
    await b.unsubscribe()


async def test_deliver_subject_from_the_config_is_used(js: JetStreamContext) -> None:
    await js.add_stream(name="P", subjects=["p"], storage=MEMORY)
    sub = await js.subscribe("p", config=ConsumerConfig(deliver_subject="my.deliver"))
    assert sub.subject == "my.deliver"
    assert (await sub.consumer_info()).config.deliver_subject == "my.deliver"
    await js.publish("p", b"x")
    assert (await sub.next_msg(timeout=2)).data == b"x"
    await sub.unsubscribe()


async def test_subscribe_bind_and_pull_subscribe_bind(js: JetStreamContext) -> None:
    await js.add_stream(name="B", subjects=["b.*"], storage=MEMORY)
    info = await js.add_consumer(
        "B", durable_name="push", deliver_subject="deliver.push", filter_subject="b.push"
    )
    bound = await js.subscribe_bind("B", info.config, "push")
    assert bound.subject == "deliver.push" and bound.consumer == "push"
    await js.publish("b.push", b"pushed")
    msg = await bound.next_msg(timeout=2)
    assert msg.data == b"pushed"
    await msg.ack()
    await bound.unsubscribe()
    assert await js.consumer_info("B", "push")  # bind never deletes a consumer

    await js.add_consumer("B", durable_name="pull", filter_subject="b.pull")
    await js.publish("b.pull", b"pulled")
    for sub in (
        await js.pull_subscribe_bind(consumer="pull", stream="B"),
        await js.pull_subscribe_bind(name="pull", stream="B"),
        await js.pull_subscribe_bind(durable="pull", stream="B"),
    ):
        assert sub.consumer == "pull"
        await sub.unsubscribe()
    sub = await js.pull_subscribe_bind("pull", "B")
    (msg,) = await sub.fetch(1, timeout=2)
    assert msg.data == b"pulled"


# ----------------------------------------------------------------- 4. errors
async def test_reads_of_a_deleted_bucket_are_not_found_as_in_nats_py(
    js: JetStreamContext, peer: NatsPyClient
) -> None:
    kv = await js.create_key_value(bucket="GONE", storage=MEMORY)
    await kv.put("a", b"1")
    obs = await js.create_object_store("GONEOBJ", storage=MEMORY)
    await obs.put("x", b"123")
    await js.delete_key_value("GONE")
    await js.delete_object_store("GONEOBJ")
    with pytest.raises(KeyNotFoundError):
        await kv.get("a")
    with pytest.raises(ObjectNotFoundError):
        await obs.get_info("x")
    with pytest.raises(ObjectNotFoundError):
        await obs.get("x")
    # nats-py: the same errors for a bucket deleted under it
    nats_errors = pytest.importorskip("nats.js.errors")
    pjs = peer.jetstream()
    pkv = await pjs.create_key_value(bucket="PGONE")
    await pkv.put("a", b"1")
    await pjs.delete_key_value("PGONE")
    with pytest.raises(nats_errors.KeyNotFoundError):
        await pkv.get("a")


async def test_bucket_errors_and_history_limit(js: JetStreamContext) -> None:
    with pytest.raises(BucketNotFoundError) as missing:
        await js.key_value("NOPE")
    assert isinstance(missing.value, NotFoundError)
    await js.add_stream(name="KV_PLAIN", subjects=["plain"], storage=MEMORY)
    with pytest.raises(BadBucketError):
        await js.key_value("PLAIN")
    with pytest.raises(KeyHistoryTooLargeError):
        await js.create_key_value(bucket="H", history=65)


async def test_compare_and_set_conflicts_are_bad_requests(js: JetStreamContext) -> None:
    kv = await js.create_key_value(bucket="CAS", storage=MEMORY)
    rev = await kv.put("k", b"1")
    with pytest.raises(KeyWrongLastSequenceError) as conflict:
        await kv.update("k", b"2", last=rev + 10)
    assert isinstance(conflict.value, BadRequestError) and conflict.value.code == 400
    with pytest.raises(WrongLastSequenceError) as stale:
        await js.publish("$KV.CAS.k", b"x", headers={Header.EXPECTED_LAST_SEQUENCE: "99"})
    assert isinstance(stale.value, BadRequestError)


async def test_publish_async_stalled_raises_too_many_stalled(nc: rxnats.NATS) -> None:
    js = nc.jetstream(publish_async_max_pending=1)
    await nc.subscribe("silent")  # someone listens, nobody acknowledges
    pending = await js.publish_async("silent", b"1", timeout=2)
    with pytest.raises(TooManyStalledMsgsError) as stalled:
        await js.publish_async("silent", b"2", wait_stall=0.2)
    assert isinstance(stalled.value, TimeoutError)
    with pytest.raises(NatsTimeoutError):
        await pending


async def test_header_constants_work_as_header_names(js: JetStreamContext) -> None:
    await js.add_stream(name="H", subjects=["h"], storage=MEMORY)
    first = await js.publish("h", b"x", headers={Header.MSG_ID: "id-1"})
    again = await js.publish("h", b"x", headers={Header.MSG_ID: "id-1"})
    assert again.duplicate is True and again.seq == first.seq


async def test_create_consumer_does_not_change_an_existing_one(js: JetStreamContext) -> None:
    await js.add_stream(name="CC", subjects=["cc"], storage=MEMORY)
    await js.create_consumer("CC", durable_name="d", max_ack_pending=10)
    same = await js.create_consumer("CC", durable_name="d", max_ack_pending=10)
    assert same.cached_info.config.max_ack_pending == 10
    with pytest.raises(ConsumerNameExistsError):
        await js.create_consumer("CC", durable_name="d", max_ack_pending=20)
    assert (await js.consumer_info("CC", "d")).config.max_ack_pending == 10
    updated = await js.update_consumer("CC", durable_name="d", max_ack_pending=20)
    assert updated.cached_info.config.max_ack_pending == 20
    with pytest.raises(ConsumerNotFoundError):
        await js.update_consumer("CC", durable_name="nobody", max_ack_pending=5)
    assert sorted(await js.consumer_names("CC")) == ["d"]


# ----------------------------------------------------------------- 5. types
async def test_timestamps_are_aware_datetimes_as_in_nats_py(
    js: JetStreamContext, peer: NatsPyClient
) -> None:
    await js.add_stream(name="T", subjects=["t"], storage=MEMORY)
    await js.publish("t", b"x")
    sub = await js.pull_subscribe("t", durable="d")
    (msg,) = await sub.fetch(1)
    await msg.ack_sync()
    info = await js.stream_info("T")
    consumer = await js.consumer_info("T", "d")
    raw = await js.get_msg("T", 1)
    for value in (info.created, consumer.created, raw.time, info.state.first_ts):
        assert isinstance(value, dt.datetime) and value.utcoffset() == dt.timedelta(0)
    assert consumer.delivered is not None and consumer.delivered.last_active is not None
    assert consumer.delivered.last_active.tzinfo is not None
    theirs = await peer.jetstream().stream_info("T")
    assert theirs.created == info.created  # the same instant, to the microsecond
    their_msg = await peer.jetstream().get_msg("T", 1)
    assert their_msg.time == raw.time


async def test_opt_start_time_takes_a_datetime_and_flags_default_false(
    js: JetStreamContext,
) -> None:
    await js.add_stream(name="O", subjects=["o"], storage=MEMORY)
    await js.publish("o", b"old")
    start = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=0.2)
    info = await js.add_consumer(
        "O", durable_name="late", deliver_policy=DeliverPolicy.BY_START_TIME, opt_start_time=start
    )
    assert info.config.opt_start_time == start
    assert info.config.flow_control is False and info.config.headers_only is False
    assert info.push_bound is False and info.paused is False
    stream = await js.stream_info("O")
    assert stream.config.sealed is False and stream.config.allow_msg_ttl is False


async def test_an_ephemeral_pull_consumer_gets_a_client_chosen_name(js: JetStreamContext) -> None:
    await js.add_stream(name="E", subjects=["e"], storage=MEMORY)
    sub = await js.pull_subscribe("e")
    assert len(sub.consumer) == 22  # a NUID, known before the server answered
    assert (await js.consumer_info("E", sub.consumer)).config.durable_name is None


async def test_a_deleted_entry_has_no_value_and_its_operation(js: JetStreamContext) -> None:
    kv = await js.create_key_value(bucket="D", storage=MEMORY)
    await kv.put("k", b"v")
    await kv.delete("k")
    with pytest.raises(KeyDeletedError) as deleted:
        await kv.get("k")
    entry = deleted.value.entry
    assert isinstance(entry, kv.Entry)
    assert (entry.value, entry.operation, deleted.value.op) == (None, Operation.DEL, "DEL")
    assert isinstance(entry.created, dt.datetime)
    watcher = await kv.watch("k")
    seen = await watcher.updates(timeout=2)
    assert seen is not None and (seen.value, seen.operation) == (None, "DEL")
    assert seen.created is not None and abs((seen.created - entry.created).total_seconds()) < 1e-3
    await watcher.stop()


async def test_object_get_writes_into_a_text_mode_file(js: JetStreamContext, tmp_path: Path) -> None:
    obs = await js.create_object_store("TXT", storage=MEMORY)
    payload = "héllo wörld\n".encode() * 50_000  # several chunks, UTF-8 split across some
    await obs.put("doc", payload)
    target = tmp_path / "doc.txt"
    with target.open("w", encoding="utf-8") as text_file:
        result = await obs.get("doc", writeinto=text_file)
    assert result.data == b"" and target.read_bytes() == payload


async def test_stream_config_model_round_trips_through_the_server(js: JetStreamContext) -> None:
    created = await js.add_stream(
        StreamConfig(name="RT", subjects=["rt.>"], storage=MEMORY, description="d")
    )
    again = await js.add_stream(created.config)  # the same config: accepted as is
    assert again.config == created.config
