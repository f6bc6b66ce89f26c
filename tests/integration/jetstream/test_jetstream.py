"""JetStream management, publish, pull consumers and acks against a real nats-server."""

from __future__ import annotations

import asyncio

import pytest

import rxnats
from rxnats.errors import Error
from rxnats.jetstream import (
    AckPolicy,
    APIError,
    ConsumerConfig,
    ConsumerDeletedError,
    ConsumerNotFoundError,
    DeliverPolicy,
    JetStreamContext,
    MessageNotFoundError,
    MsgAlreadyAckdError,
    NoStreamResponseError,
    NotJSMessageError,
    RetentionPolicy,
    ServiceUnavailableError,
    StorageType,
    StreamConfig,
    StreamNameAlreadyInUseError,
    StreamNotFoundError,
    WrongLastMsgIDError,
    WrongLastSequenceError,
)
from rxnats.server import NatsServer

from .conftest import Restartable


async def test_account_info_and_stream_lifecycle(nc: rxnats.NATS) -> None:
    jsm = nc.jsm()
    info = await jsm.account_info()
    assert info.streams == 0
    created = await jsm.add_stream(name="ORDERS", subjects=["orders.*"], max_age=60.0)
    assert created.config.name == "ORDERS"
    assert created.config.subjects == ["orders.*"]
    assert created.config.max_age == 60.0
    assert created.config.retention is RetentionPolicy.LIMITS
    assert created.config.storage is StorageType.FILE
    assert created.state.messages == 0

    updated = await jsm.update_stream(
        StreamConfig(name="ORDERS", subjects=["orders.*", "returns.*"], max_age=60.0)
    )
    assert updated.config.subjects == ["orders.*", "returns.*"]
    # the same config again succeeds; a different one under the same name does not
    await jsm.add_stream(updated.config)
    with pytest.raises(StreamNameAlreadyInUseError) as err:
        await jsm.add_stream(name="ORDERS", subjects=["other.*"])
    assert err.value.err_code == 10058
    assert err.value.code == 400

    await jsm.add_stream(name="EVENTS", subjects=["events.>"], storage=StorageType.MEMORY)
    names = sorted(s.config.name or "" for s in await jsm.streams_info())
    assert names == ["EVENTS", "ORDERS"]
    assert (await jsm.account_info()).streams == 2
    assert await jsm.find_stream_name_by_subject("events.a.b") == "EVENTS"

    assert await jsm.delete_stream("EVENTS") is True
    with pytest.raises(StreamNotFoundError) as missing:
        await jsm.stream_info("EVENTS")
    assert missing.value.err_code == 10059
    assert missing.value.code == 404
    assert isinstance(missing.value, APIError) and isinstance(missing.value, Error)
    assert missing.value.description


async def test_publish_ack_dedup_and_expectations(js: JetStreamContext) -> None:
    await js.add_stream(name="S", subjects=["s.>"])
    ack = await js.publish("s.a", b"one")
    assert (ack.stream, ack.seq, ack.duplicate) == ("S", 1, False)

    first = await js.publish("s.a", b"two", msg_id="id-1")
    again = await js.publish("s.a", b"two", headers={"Nats-Msg-Id": "id-1"})
    assert again.seq == first.seq == 2
    assert again.duplicate is True

    await js.publish("s.b", b"three", expected_last_seq=2, stream="S")
    with pytest.raises(WrongLastSequenceError) as wrong:
        await js.publish("s.b", b"four", expected_last_seq=2)
    assert wrong.value.err_code == 10071
    with pytest.raises(WrongLastSequenceError):
        await js.publish("s.b", b"four", expected_last_subject_seq=1)
    await js.publish("s.b", b"four", expected_last_subject_seq=3, msg_id="id-2")
    with pytest.raises(WrongLastMsgIDError) as wrong_id:
        await js.publish("s.b", b"five", expected_last_msg_id="id-1")
    assert wrong_id.value.err_code == 10070
    await js.publish("s.b", b"five", expected_last_msg_id="id-2")
    with pytest.raises(APIError) as wrong_stream:
        await js.publish("s.b", b"six", stream="OTHER")
    assert wrong_stream.value.code == 400
    with pytest.raises(NoStreamResponseError):
        await js.publish("nowhere", b"x")
    assert (await js.stream_info("S")).state.messages == 5


async def test_get_delete_and_purge_messages(js: JetStreamContext) -> None:
    await js.add_stream(name="M", subjects=["m.*"], allow_direct=True)
    for i in range(6):
        await js.publish(f"m.{'a' if i % 2 == 0 else 'b'}", f"v{i}".encode(), headers={"K": str(i)})
    msg = await js.get_msg("M", 2)
    assert (msg.subject, msg.seq, msg.data) == ("m.b", 2, b"v1")
    assert msg.headers is not None and msg.headers["K"] == "1"
    last = await js.get_last_msg("M", "m.a")
    assert (last.seq, last.data) == (5, b"v4")
    direct = await js.get_last_msg("M", "m.b", direct=True)
    assert (direct.seq, direct.data, direct.subject) == (6, b"v5", "m.b")
    nxt = await js.get_msg("M", seq=2, subject="m.a", next=True)
    assert nxt.seq == 3

    assert await js.delete_msg("M", 2) is True
    with pytest.raises(MessageNotFoundError) as gone:
        await js.get_msg("M", 2)
    assert gone.value.err_code == 10037
    with pytest.raises(MessageNotFoundError):
        await js.get_msg("M", 2, direct=True)

    assert await js.purge_stream("M", subject="m.a", keep=1) is True
    state = (await js.stream_info("M", subjects_filter=">")).state
    assert state.subjects == {"m.a": 1, "m.b": 2}
    assert await js.purge_stream("M", seq=6) is True
    assert (await js.stream_info("M")).state.messages == 1
    assert await js.purge_stream("M") is True
    assert (await js.stream_info("M")).state.messages == 0


async def test_consumer_management(js: JetStreamContext) -> None:
    await js.add_stream(name="C", subjects=["c.*"])
    for i in range(3):
        await js.publish("c.x", str(i).encode())
    info = await js.add_consumer(
        "C", durable_name="dur", ack_policy=AckPolicy.EXPLICIT, ack_wait=30.0, filter_subject="c.x"
    )
    assert info.name == "dur"
    assert info.num_pending == 3
    assert info.config.ack_wait == 30.0
    assert info.config.filter_subject == "c.x"
    eph = await js.add_consumer(
        "C", ConsumerConfig(deliver_policy=DeliverPolicy.LAST, inactive_threshold=10.0)
    )
    assert eph.name and eph.name != "dur"
    assert eph.num_pending == 1
    names = sorted(c.name for c in await js.consumers_info("C"))
    assert names == sorted([eph.name, "dur"])
    assert (await js.consumer_info("C", "dur")).stream_name == "C"
    assert await js.delete_consumer("C", "dur") is True
    with pytest.raises(ConsumerNotFoundError) as err:
        await js.consumer_info("C", "dur")
    assert err.value.err_code == 10014
    with pytest.raises(StreamNotFoundError):
        await js.add_consumer("NOPE", durable_name="x")


async def test_durable_consumer_with_wildcard_filter(js: JetStreamContext) -> None:
    # A wildcard filter cannot be appended to the CONSUMER.CREATE API subject (that
    # subject is published to, and publish subjects are literal); it must still work.
    await js.add_stream(name="W", subjects=["w.>"])
    await js.publish("w.a.b", b"1")
    await js.publish("w.c", b"2")
    info = await js.add_consumer("W", durable_name="wild", filter_subject="w.>")
    assert info.config.filter_subject == "w.>"
    assert info.num_pending == 2
    psub = await js.pull_subscribe("w.>", durable="billing")
    msgs = await psub.fetch(2, timeout=2)
    assert [m.data for m in msgs] == [b"1", b"2"]


async def test_pull_fetch_ack_and_metadata(js: JetStreamContext) -> None:
    await js.add_stream(name="P", subjects=["p.*"])
    for i in range(5):
        await js.publish("p.a", f"m{i}".encode())
    psub = await js.pull_subscribe("p.a", durable="worker")
    batch = await psub.fetch(3, timeout=2)
    assert [m.data for m in batch] == [b"m0", b"m1", b"m2"]
    meta = batch[0].metadata
    assert (meta.stream, meta.consumer) == ("P", "worker")
    assert meta.sequence.stream == 1 and meta.sequence.consumer == 1
    assert meta.num_delivered == 1
    assert meta.num_pending == 4
    assert meta.timestamp.year >= 2024
    for m in batch:
        await m.ack()
    with pytest.raises(MsgAlreadyAckdError):
        await batch[0].ack()
    # fewer available than asked: the available ones come back at once
    rest = await psub.fetch(10, timeout=2)
    assert [m.data for m in rest] == [b"m3", b"m4"]
    await rest[0].ack_sync()
    await rest[1].term()
    with pytest.raises(rxnats.errors.TimeoutError):
        await psub.fetch(1, timeout=0.5)
    with pytest.raises(TimeoutError):  # also the builtin
        await psub.fetch(4, timeout=0.5, heartbeat=0.1)
    info = await psub.consumer_info()
    assert info.num_pending == 0 and info.num_ack_pending == 0
    # rebinding the durable keeps its position
    again = await js.pull_subscribe("p.a", durable="worker", stream="P")
    await js.publish("p.a", b"m5")
    (m5,) = await again.fetch(1, timeout=2)
    assert m5.data == b"m5"
    await psub.unsubscribe()


async def test_nak_redelivers_and_in_progress(js: JetStreamContext) -> None:
    await js.add_stream(name="N", subjects=["n"])
    await js.publish("n", b"job")
    psub = await js.pull_subscribe("n", "w", config=ConsumerConfig(ack_wait=5.0))
    (first,) = await psub.fetch(1, timeout=2)
    assert first.metadata.num_delivered == 1
    await first.in_progress()
    await first.in_progress()  # may be repeated; it is not an ack
    await first.nak()
    with pytest.raises(MsgAlreadyAckdError):
        await first.nak()
    (second,) = await psub.fetch(1, timeout=2)
    assert second.data == b"job"
    assert second.metadata.num_delivered == 2
    await second.nak(delay=0.3)
    (third,) = await psub.fetch(1, timeout=3)
    assert third.metadata.num_delivered == 3
    await third.ack()
    with pytest.raises(rxnats.errors.TimeoutError):
        await psub.fetch(1, timeout=0.5)


async def test_ephemeral_pull_and_non_js_message(nc: rxnats.NATS, js: JetStreamContext) -> None:
    await js.add_stream(name="E", subjects=["e.*"], retention=RetentionPolicy.WORK_QUEUE)
    await js.publish("e.1", b"x")
    psub = await js.pull_subscribe("e.1")
    (msg,) = await psub.fetch(1, timeout=2)
    await msg.ack_sync()
    assert (await js.stream_info("E")).state.messages == 0  # work queue: acked = removed

    sub = await nc.subscribe("plain")
    await nc.publish("plain", b"p")
    plain = await sub.next_msg(timeout=2)
    with pytest.raises(NotJSMessageError):
        await plain.ack()
    with pytest.raises(NotJSMessageError):
        _ = plain.metadata


async def test_fetch_from_deleted_consumer_fails(js: JetStreamContext) -> None:
    await js.add_stream(name="D", subjects=["d"])
    psub = await js.pull_subscribe("d", "gone")
    fetching = asyncio.ensure_future(psub.fetch(1, timeout=5))
    await asyncio.sleep(0.3)
    await js.delete_consumer("D", "gone")
    # ADR-37: "409 Consumer Deleted" ends the pull with an error, not a timeout
    with pytest.raises(ConsumerDeletedError) as err:
        await fetching
    assert err.value.status == 409


async def test_no_jetstream_is_service_unavailable(nats_server: NatsServer) -> None:
    async with await rxnats.connect(nats_server.url) as nc:
        with pytest.raises(ServiceUnavailableError) as err:
            await nc.jsm(timeout=2).account_info()
        assert err.value.code == 503


async def test_domain_prefix(nats_server_factory: object) -> None:
    from rxnats.jetstream.api import api_prefix

    assert api_prefix("$JS.API", "hub") == "$JS.hub.API"
    assert api_prefix("$JS.API", None) == "$JS.API"
    assert api_prefix("$JS.API.", None) == "$JS.API"


async def test_pull_across_server_restart(
    nats_jetstream_server: NatsServer, restartable: Restartable
) -> None:
    nc, reconnected = restartable.nc, restartable.reconnected
    js = nc.jetstream()
    await js.add_stream(name="R", subjects=["r"])
    for i in range(4):
        await js.publish("r", f"{i}".encode())
    psub = await js.pull_subscribe("r", "durable")
    first = await psub.fetch(2, timeout=2)
    for m in first:
        await m.ack_sync()
    pid_before = nats_jetstream_server.pid
    await asyncio.to_thread(nats_jetstream_server.restart)
    assert nats_jetstream_server.pid != pid_before
    await asyncio.wait_for(reconnected.wait(), 10)
    # JetStream may need a moment after a restart before it answers
    for _ in range(50):
        try:
            await js.publish("r", b"4", timeout=1)
            break
        except (ServiceUnavailableError, NoStreamResponseError, rxnats.errors.TimeoutError):
            await asyncio.sleep(0.1)
    got: list[bytes] = []
    while len(got) < 3:
        for m in await psub.fetch(3 - len(got), timeout=2):
            got.append(m.data)
            await m.ack()
    assert got == [b"2", b"3", b"4"]
    assert (await js.consumer_info("R", "durable")).num_pending == 0


async def test_push_subscribe_callback_auto_ack_and_iterator(js: JetStreamContext) -> None:
    await js.add_stream(name="PS", subjects=["ps.*"])
    for i in range(3):
        await js.publish("ps.a", f"{i}".encode())
    got: list[bytes] = []
    done = asyncio.Event()

    async def on_msg(msg: rxnats.Msg) -> None:
        got.append(msg.data)
        if len(got) == 3:
            done.set()

    psub = await js.subscribe(
        "ps.a", cb=on_msg, durable="pusher", idle_heartbeat=0.5, flow_control=True
    )
    await asyncio.wait_for(done.wait(), 5)
    assert got == [b"0", b"1", b"2"]
    for _ in range(50):  # acks are sent after each callback returns
        if (await psub.consumer_info()).num_ack_pending == 0:
            break
        await asyncio.sleep(0.05)
    assert (await psub.consumer_info()).num_ack_pending == 0
    await psub.unsubscribe()
    assert (await js.consumer_info("PS", "pusher")).name == "pusher"  # durable kept

    eph = await js.subscribe("ps.a", manual_ack=True, idle_heartbeat=0.2)
    first = await eph.next_msg(timeout=2)
    assert first.data == b"0" and first.metadata.consumer == eph.consumer
    await first.ack()
    # heartbeats arrive meanwhile and are skipped, never returned
    await asyncio.sleep(0.5)
    assert (await eph.next_msg(timeout=2)).data == b"1"
    await eph.unsubscribe()
    with pytest.raises(ConsumerNotFoundError):
        await js.consumer_info("PS", eph.consumer)  # the ephemeral is deleted


async def test_cancelled_fetch_loses_no_message(js: JetStreamContext) -> None:
    await js.add_stream(name="X", subjects=["x"])
    psub = await js.pull_subscribe("x", "c")
    waiting = asyncio.ensure_future(psub.fetch(1, timeout=5))
    await asyncio.sleep(0.2)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await js.publish("x", b"late")  # answers the cancelled pull request
    (msg,) = await psub.fetch(1, timeout=2)
    assert msg.data == b"late"
    assert msg.metadata.num_delivered == 1
