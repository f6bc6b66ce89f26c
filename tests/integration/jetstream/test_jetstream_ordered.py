"""Ordered consumers (ADR-17 over ADR-37 pulls) against a real JetStream server."""

from __future__ import annotations

import asyncio

import pytest

import rxnats
from rxnats.errors import InvalidInputError
from rxnats.jetstream import AckPolicy, DeliverPolicy, JetStreamContext
from rxnats.jetstream.ordered_push import OrderedPushSubscription


async def _publish(js: JetStreamContext, start: int, stop: int) -> None:
    for i in range(start, stop):
        await js.publish(f"o.{i % 3}", f"{i}".encode())


async def test_ordered_consumer_config_and_fetch(js: JetStreamContext) -> None:
    await js.add_stream(name="O", subjects=["o.*"])
    await _publish(js, 0, 6)
    ordered = await js.stream("O").ordered_consumer(filter_subject="o.1")
    info = await js.consumer_info("O", ordered.consumer_name)
    assert info.config.ack_policy is AckPolicy.NONE
    assert info.config.mem_storage is True
    assert info.config.num_replicas in (0, 1)
    assert info.config.max_deliver == 1
    assert [m.data for m in await ordered.fetch(10, max_wait=1)] == [b"1", b"4"]
    await _publish(js, 6, 9)
    assert (await ordered.next(timeout=2)).data == b"7"
    with pytest.raises(InvalidInputError):
        await js.stream("O").ordered_consumer(ack_policy=AckPolicy.EXPLICIT)


async def test_ordered_fetch_resets_when_consumer_deleted(js: JetStreamContext) -> None:
    await js.add_stream(name="O", subjects=["o.*"])
    await _publish(js, 0, 10)
    ordered = await js.stream("O").ordered_consumer()
    got = [m.data for m in await ordered.fetch(4, max_wait=1)]
    first_name = ordered.consumer_name
    await js.delete_consumer("O", first_name)  # the server forgets where we were
    while len(got) < 10:
        got += [m.data for m in await ordered.fetch(4, max_wait=1)]
    assert got == [f"{i}".encode() for i in range(10)]
    assert ordered.resets >= 1
    assert ordered.consumer_name != first_name
    assert ordered.tracker.stream_seq == 10


async def test_ordered_messages_survive_consumer_deletion_exactly_once(
    js: JetStreamContext,
) -> None:
    await js.add_stream(name="O", subjects=["o.*"])
    await _publish(js, 0, 20)
    ordered = await js.stream("O").ordered_consumer(deliver_policy=DeliverPolicy.ALL)
    got: list[bytes] = []
    msgs = await ordered.messages(max_messages=5, expires=2, idle_heartbeat=0.5)
    try:
        async for msg in msgs:
            got.append(msg.data)
            if len(got) == 7:
                # delete it under the stream: buffered messages are kept, the rest
                # comes from a new consumer starting after the last accepted one
                await js.delete_consumer("O", ordered.consumer_name)
                await _publish(js, 20, 30)
            if len(got) == 30:
                break
    finally:
        await msgs.stop()
    assert got == [f"{i}".encode() for i in range(30)]
    assert ordered.resets >= 1


async def test_ordered_consume_resets_on_a_sequence_gap(js: JetStreamContext) -> None:
    await js.add_stream(name="O", subjects=["o.*"])
    await _publish(js, 0, 12)
    ordered = await js.stream("O").ordered_consumer()
    got = [m.data for m in await ordered.fetch(4, max_wait=1)]
    assert ordered.resets == 0
    # As if one more delivery had been seen: the server's next consumer sequence (5)
    # is now not the expected one (6), which is how a lost delivery shows.
    ordered.tracker.consumer_seq += 1
    done = asyncio.Event()

    def handle(msg: rxnats.Msg) -> None:
        got.append(msg.data)
        if len(got) == 12:
            done.set()

    ctx = await ordered.consume(handle, max_messages=3, expires=2)
    await asyncio.wait_for(done.wait(), 10)
    await ctx.stop()
    assert got == [f"{i}".encode() for i in range(12)]
    assert ordered.resets == 1


async def test_push_ordered_subscribe_recovers_from_consumer_deletion(
    js: JetStreamContext,
) -> None:
    await js.add_stream(name="O", subjects=["o.*"])
    await _publish(js, 0, 10)
    got: list[bytes] = []
    ten = asyncio.Event()
    twenty = asyncio.Event()

    def handle(msg: rxnats.Msg) -> None:
        got.append(msg.data)
        if len(got) == 10:
            ten.set()
        if len(got) == 20:
            twenty.set()

    psub = await js.subscribe("o.*", cb=handle, ordered_consumer=True, idle_heartbeat=0.5)
    assert isinstance(psub, OrderedPushSubscription)
    info = await psub.consumer_info()
    assert info.config.flow_control is True and info.config.ack_policy is AckPolicy.NONE
    await asyncio.wait_for(ten.wait(), 10)
    first = psub.consumer
    await js.delete_consumer("O", first)  # silence: the missed heartbeats reset it
    await _publish(js, 10, 20)
    await asyncio.wait_for(twenty.wait(), 10)
    assert got == [f"{i}".encode() for i in range(20)]
    assert psub.resets >= 1 and psub.consumer != first
    await psub.unsubscribe()
    assert await js.consumers_info("O") == []


async def test_push_ordered_iterator_resets_on_gap(js: JetStreamContext) -> None:
    await js.add_stream(name="O", subjects=["o.*"])
    await _publish(js, 0, 8)
    psub = await js.subscribe("o.*", ordered_consumer=True, idle_heartbeat=1)
    assert isinstance(psub, OrderedPushSubscription)
    got = [(await psub.next_msg(timeout=5)).data for _ in range(3)]
    psub.tracker.consumer_seq += 1  # as if a delivery had been lost
    while len(got) < 8:
        got.append((await psub.next_msg(timeout=5)).data)
    assert got == [f"{i}".encode() for i in range(8)]
    assert psub.resets == 1
    with pytest.raises(InvalidInputError):
        await js.subscribe("o.*", durable="d", ordered_consumer=True)
    await psub.unsubscribe()
