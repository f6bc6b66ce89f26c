"""Demand-driven Rx consumption and key-value watches as observables, on a real server."""

from __future__ import annotations

import asyncio

from polling import eventually  # tests/ is on sys.path (conftest.py lives there)
from reactivex import operators as ops

import rxnats
from rxnats.jetstream import JetStreamContext, KeyValue, Operation
from rxnats.jetstream.consumer import Consumer
from rxnats.jetstream.rx import observe_kv
from rxnats.msg import Msg
from rxnats.rx import loop_scheduler


async def _waiting(consumer: Consumer) -> bool:
    return bool((await consumer.info()).num_waiting)




async def _stream_with(js: JetStreamContext, count: int) -> None:
    await js.add_stream(name="RX", subjects=["rx.>"])
    for i in range(count):
        await js.publish("rx.x", f"{i}".encode())


async def test_observe_with_batched_acks(js: JetStreamContext) -> None:
    await _stream_with(js, 30)
    consumer = await js.stream("RX").create_consumer(durable_name="rx")
    got: list[bytes] = []
    batches: list[int] = []
    done = asyncio.Event()
    tasks: set[asyncio.Task[None]] = set()

    async def ack_all(msgs: list[Msg]) -> None:
        for m in msgs:
            await m.ack_sync()
        if len(got) == 30:
            done.set()

    def on_batch(msgs: list[Msg]) -> None:
        if not msgs:
            return
        batches.append(len(msgs))
        got.extend(m.data for m in msgs)
        task = asyncio.get_running_loop().create_task(ack_all(msgs))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    disposable = consumer.observe(batch=10, threshold=5, expires=1).pipe(
        ops.buffer_with_time_or_count(0.2, 4, scheduler=loop_scheduler()),
    ).subscribe(on_batch, scheduler=loop_scheduler())
    try:
        await asyncio.wait_for(done.wait(), 15)
    finally:
        disposable.dispose()
    assert got == [f"{i}".encode() for i in range(30)]
    assert max(batches) <= 4
    info = await consumer.info()
    assert info.num_ack_pending == 0 and info.num_pending == 0


async def test_observe_pulls_no_more_than_downstream_settles(js: JetStreamContext) -> None:
    await _stream_with(js, 30)
    consumer = await js.stream("RX").create_consumer(durable_name="lazy")
    got: list[Msg] = []
    disposable = consumer.observe(batch=8, expires=1).subscribe(got.append)
    try:
        await eventually(lambda: len(got) >= 8, what='8 got')
        # never acked: another pull cycle passes without a new request
        await asyncio.sleep(1.5)
        assert len(got) == 8
        info = await consumer.info()
        assert info.num_ack_pending == 8 and info.num_waiting == 0
        # settling five lets the next pull (for five) go out
        for m in got[:5]:
            await m.ack()
        await eventually(lambda: len(got) >= 13, what='13 got')
        await asyncio.sleep(0.3)
        assert len(got) == 13
    finally:
        disposable.dispose()
    assert [m.data for m in got] == [f"{i}".encode() for i in range(13)]


async def test_observe_reports_a_deleted_consumer(js: JetStreamContext) -> None:
    await _stream_with(js, 0)
    consumer = await js.stream("RX").create_consumer(durable_name="gone")
    errors: list[Exception] = []
    disposable = consumer.observe(batch=4, expires=5).subscribe(on_error=errors.append)
    try:
        await eventually(lambda: _waiting(consumer), what='a waiting pull')
        await consumer.delete()
        await eventually(lambda: bool(errors), what='errors')
    finally:
        disposable.dispose()
    assert isinstance(errors[0], rxnats.jetstream.ConsumerDeletedError)


async def test_ordered_observe_without_acks(js: JetStreamContext) -> None:
    await _stream_with(js, 12)
    ordered = await js.stream("RX").ordered_consumer()
    got: list[bytes] = []
    disposable = ordered.observe(batch=5, expires=1).subscribe(lambda m: got.append(m.data))
    try:
        await eventually(lambda: len(got) >= 12, what='12 got')
    finally:
        disposable.dispose()
    assert got == [f"{i}".encode() for i in range(12)]


async def test_kv_observe_initial_values_then_changes(js: JetStreamContext) -> None:
    kv: KeyValue = await js.create_key_value(bucket="CFG", history=3)
    await kv.put("a", b"1")
    await kv.put("b", b"2")
    seen: list[tuple[str, bytes, Operation | None]] = []
    disposable = kv.observe(">").subscribe(
        lambda e: seen.append((e.key, e.value or b"", e.operation))
    )
    try:
        await eventually(lambda: len(seen) >= 2, what='2 seen')
        await kv.put("a", b"3")
        await kv.delete("b")
        await eventually(lambda: len(seen) >= 4, what='4 seen')
    finally:
        disposable.dispose()
    assert seen[:2] == [("a", b"1", Operation.PUT), ("b", b"2", Operation.PUT)]
    assert seen[2:] == [("a", b"3", Operation.PUT), ("b", b"", Operation.DEL)]
    # the function form, with options: deletes left out
    only_puts: list[str] = []
    disposable = observe_kv(kv, "*", ignore_deletes=True).subscribe(
        lambda e: only_puts.append(e.key)
    )
    try:
        await eventually(lambda: bool(only_puts), what='only_puts')
        await kv.put("c", b"4")
        await eventually(lambda: len(only_puts) >= 2, what='2 only_puts')
    finally:
        disposable.dispose()
    assert only_puts == ["a", "c"]
    # disposing removed the watch's consumer
    for _ in range(50):
        if not await js.consumers_info("KV_CFG"):
            break
        await asyncio.sleep(0.05)
    assert await js.consumers_info("KV_CFG") == []
