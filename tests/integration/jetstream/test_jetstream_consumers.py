"""ADR-37 simplified consumers and async publish against a real JetStream server."""

from __future__ import annotations

import asyncio

import pytest
from polling import eventually  # tests/ is on sys.path (conftest.py lives there)

import rxnats
from rxnats.errors import InvalidInputError, TimeoutError
from rxnats.jetstream import (
    AckPolicy,
    ConsumerDeletedError,
    ConsumerNotFoundError,
    FetchStatusError,
    JetStreamContext,
    NoStreamResponseError,
    PubAck,
    ServiceUnavailableError,
    WrongLastSequenceError,
)
from rxnats.jetstream.consumer import Consumer
from rxnats.msg import Msg
from rxnats.server import NatsServer

from .conftest import Restartable


async def _waiting(consumer: Consumer) -> bool:
    return bool((await consumer.info()).num_waiting)




async def _stream_with(js: JetStreamContext, name: str, count: int) -> None:
    await js.add_stream(name=name, subjects=[f"{name.lower()}.>"])
    for i in range(count):
        await js.publish(f"{name.lower()}.x", f"{i}".encode())


async def test_stream_handle_consumer_handles_and_fetch(js: JetStreamContext) -> None:
    await _stream_with(js, "F", 5)
    stream = await js.get_stream("F")
    assert stream.cached_info is not None and stream.cached_info.state.messages == 5
    consumer = await stream.create_consumer(durable_name="d")
    assert isinstance(consumer, Consumer)
    assert consumer.cached_info.config.ack_policy is AckPolicy.EXPLICIT
    again = await stream.consumer("d")
    assert again.consumer_name == "d"
    assert (await js.get_consumer("F", "d")).consumer_name == "d"

    first = await consumer.fetch(3, max_wait=2)
    assert [m.data for m in first] == [b"0", b"1", b"2"]
    for m in first:
        await m.ack()
    # fewer than asked for: the request expires and returns what there is
    rest = await consumer.fetch(10, max_wait=1)
    assert [m.data for m in rest] == [b"3", b"4"]
    for m in rest:
        await m.ack_sync()
    assert await consumer.fetch(2, max_wait=1) == []
    with pytest.raises(TimeoutError):
        await consumer.next(timeout=1)
    await js.publish("f.x", b"5")
    msg = await consumer.next(timeout=2)
    assert msg.data == b"5" and msg.metadata.sequence.stream == 6
    await msg.ack()
    info = await consumer.info()
    assert info.num_pending == 0

    with pytest.raises(ConsumerNotFoundError):
        await stream.consumer("missing")
    await js.add_consumer("F", durable_name="pushy", deliver_subject="deliver.here")
    with pytest.raises(InvalidInputError):
        await stream.consumer("pushy")
    assert await consumer.delete() is True
    with pytest.raises(ConsumerNotFoundError):
        await consumer.info()


async def test_fetch_max_bytes_and_deleted_consumer(js: JetStreamContext) -> None:
    await _stream_with(js, "B", 4)
    consumer = await js.stream("B").create_consumer(durable_name="b")
    one = await consumer.fetch(4, max_wait=1, max_bytes=1)  # too small for any message
    assert one == []
    got = await consumer.fetch(4, max_wait=1, max_bytes=10_000)
    assert len(got) == 4
    await consumer.delete()
    with pytest.raises(FetchStatusError) as err:  # nobody serves the pull: 503
        await consumer.fetch(1, max_wait=1)
    assert err.value.status == 503


async def test_messages_keeps_a_bounded_buffer(js: JetStreamContext) -> None:
    await _stream_with(js, "M", 30)
    consumer = await js.stream("M").create_consumer(durable_name="m")
    got: list[bytes] = []
    async with await consumer.messages(max_messages=4, expires=2) as msgs:
        async for msg in msgs:
            # what is buffered plus what is asked of the server never exceeds max_messages
            assert msgs.buffered + msgs.pending[0] <= 4
            got.append(msg.data)
            await msg.ack_sync()
            if len(got) == 30:
                break
    assert got == [f"{i}".encode() for i in range(30)]
    assert (await consumer.info()).num_ack_pending == 0


async def test_consume_refills_after_expiry_and_nak_redelivers(js: JetStreamContext) -> None:
    await _stream_with(js, "C", 3)
    consumer = await js.stream("C").create_consumer(durable_name="c")
    seen: list[tuple[bytes, int]] = []
    done = asyncio.Event()
    warnings: list[Exception] = []

    async def handle(msg: Msg) -> None:
        delivered = msg.metadata.num_delivered
        seen.append((msg.data, delivered))
        if msg.data == b"1" and delivered == 1:
            await msg.nak()
        else:
            await msg.ack()
        if len(seen) == 6:
            done.set()

    ctx = await consumer.consume(
        handle, max_messages=2, expires=1, idle_heartbeat=0.5, error_cb=warnings.append
    )
    # let at least one pull request expire (408) before the next messages exist
    await eventually(lambda: len(seen) >= 4, what='4 seen')
    await eventually(lambda: _waiting(consumer), what='a waiting pull')
    await asyncio.sleep(1.2)
    await js.publish("c.x", b"late")
    await js.publish("c.x", b"later")
    await asyncio.wait_for(done.wait(), 10)
    await ctx.stop()
    assert ctx.done
    assert (b"1", 2) in seen  # redelivered after the nak
    assert [d for d, _ in seen if d != b"1"] == [b"0", b"2", b"late", b"later"]
    assert warnings == []


async def test_consume_ends_when_consumer_deleted(js: JetStreamContext) -> None:
    await _stream_with(js, "D", 2)
    consumer = await js.stream("D").create_consumer(durable_name="d")
    got: list[bytes] = []
    ctx = await consumer.consume(lambda m: got.append(m.data), max_messages=10, expires=5)
    await eventually(lambda: len(got) >= 2, what='2 got')
    await eventually(lambda: _waiting(consumer), what='a waiting pull')
    await js.delete_consumer("D", "d")
    with pytest.raises(ConsumerDeletedError):
        await asyncio.wait_for(ctx.wait(), 10)
    assert ctx.error is not None


async def test_refused_request_is_a_warning_not_an_end(js: JetStreamContext) -> None:
    await _stream_with(js, "W", 1)
    consumer = await js.stream("W").create_consumer(durable_name="w", max_batch=2)
    warnings: list[Exception] = []
    msgs = await consumer.messages(
        max_messages=10, expires=1, idle_heartbeat=0.5, error_cb=warnings.append
    )
    try:
        await eventually(lambda: bool(warnings), what='warnings')
        assert isinstance(warnings[0], FetchStatusError)
        assert warnings[0].status == 409
        assert "maxrequestbatch" in warnings[0].status_description.lower()
        assert msgs.error is None
    finally:
        await msgs.stop()


async def test_messages_max_bytes_and_drain(js: JetStreamContext) -> None:
    await _stream_with(js, "Y", 10)
    consumer = await js.stream("Y").create_consumer(durable_name="y")
    msgs = await consumer.messages(max_bytes=400, expires=2)
    first = await msgs.next(timeout=5)
    await first.ack()
    await msgs.drain()
    rest = [m async for m in msgs]
    for m in rest:
        await m.ack()
    assert 1 + len(rest) <= 10
    with pytest.raises(StopAsyncIteration):
        await msgs.next()
    with pytest.raises(InvalidInputError):
        await consumer.messages(max_messages=5, max_bytes=100)


async def test_consume_survives_server_restart(
    nats_jetstream_server: NatsServer, restartable: Restartable
) -> None:
    nc, reconnected = restartable.nc, restartable.reconnected
    js = nc.jetstream()
    await _stream_with(js, "R", 2)
    consumer = await js.stream("R").create_consumer(durable_name="r")
    got: list[bytes] = []

    async def handle(msg: Msg) -> None:
        got.append(msg.data)
        await msg.ack()

    ctx = await consumer.consume(handle, max_messages=5, expires=2, idle_heartbeat=1)
    await eventually(lambda: len(got) >= 2, what='2 got')
    await asyncio.to_thread(nats_jetstream_server.restart)
    await asyncio.wait_for(reconnected.wait(), 10)
    for _ in range(100):
        try:
            await js.publish("r.x", b"after", timeout=1)
            break
        except (ServiceUnavailableError, NoStreamResponseError, TimeoutError):
            await asyncio.sleep(0.1)
    for _ in range(300):
        if b"after" in got:
            break
        await asyncio.sleep(0.05)
    await ctx.stop()
    assert got == [b"0", b"1", b"after"]


async def test_publish_async_bounds_outstanding_acks(nc: rxnats.NATS) -> None:
    js = nc.jetstream(publish_async_max_pending=5)
    await js.add_stream(name="A", subjects=["a.>"])
    futures: list[asyncio.Future[PubAck]] = []
    for i in range(50):
        futures.append(await js.publish_async("a.x", f"{i}".encode()))
        assert js.publish_async_pending() <= 5
    await js.publish_async_completed(timeout=5)
    assert js.publish_async_pending() == 0
    acks = [f.result() for f in futures]
    assert [a.seq for a in acks] == list(range(1, 51))
    assert {a.stream for a in acks} == {"A"}

    dup = await js.publish_async("a.x", b"d", msg_id="same")
    again = await js.publish_async("a.x", b"d", msg_id="same")
    assert not (await dup).duplicate and (await again).duplicate

    wrong = await js.publish_async("a.x", b"w", expected_last_seq=1)
    with pytest.raises(WrongLastSequenceError):
        await wrong
    nowhere = await js.publish_async("nowhere.x", b"?")
    with pytest.raises(NoStreamResponseError):
        await nowhere
    assert (await js.stream_info("A")).state.messages == 51
