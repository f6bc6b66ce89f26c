"""nc.observe / sub.observe against a real server: ref-counting, ending, overflow, isolation."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import threading

import pytest
from burst import publish_burst_while_blocked  # tests/ is on sys.path

import rxnats as nats
from rxnats.errors import ConnectionClosedError, ConnectionDrainingError, SlowConsumerError
from rxnats.events import ConnectionEvent, SlowConsumer
from rxnats.msg import Msg
from rxnats.rx import Overflow, to_async_iterator
from rxnats.rx import operators as nops
from rxnats.server import NatsServer, free_port

from ._helpers import Recorder

pytestmark = pytest.mark.asyncio


async def publish_n(nc: nats.NATS, subject: str, n: int, prefix: str = "m") -> None:
    for i in range(n):
        await nc.publish(subject, f"{prefix}{i}".encode())
    await nc.flush()


def server_subs(server: NatsServer) -> int:
    count = server.monitor("subsz")["num_subscriptions"]
    assert isinstance(count, int)
    return count


async def test_observe_is_cold_shared_and_ref_counted(nats_server_factory: object) -> None:
    server: NatsServer = nats_server_factory(monitor_port=free_port())  # type: ignore[operator]  # the fixture is a factory
    nc = await nats.connect(server.url)
    other = await nats.connect(server.url)
    try:
        await nc.flush()
        base = server_subs(server)
        stream = nc.observe("ref.count")
        assert nc._subs == {}  # cold: nothing sent before an observer comes
        first, second = Recorder[Msg](), Recorder[Msg]()
        d1 = stream.subscribe(first)
        d2 = stream.subscribe(second)
        assert len(nc._subs) == 1  # both observers share one subscription
        await nc.flush()
        assert server_subs(server) == base + 1
        await publish_n(other, "ref.count", 3)
        await first.wait_items(3)
        await second.wait_items(3)
        assert [m.data for m in first.items] == [b"m0", b"m1", b"m2"]
        d1.dispose()
        assert len(nc._subs) == 1  # one observer left
        d2.dispose()
        assert nc._subs == {}  # the last one left: UNSUB
        await nc.flush()
        assert server_subs(server) == base
        assert not first.done and not second.done  # disposing is not completion
        third = Recorder[Msg]()
        d3 = stream.subscribe(third)  # a new cycle: a new SUB
        assert len(nc._subs) == 1
        await nc.flush()
        await publish_n(other, "ref.count", 1, prefix="again")
        await third.wait_items(1)
        assert third.items[0].data == b"again0"
        d3.dispose()
    finally:
        await other.close()
        await nc.close()


async def test_observe_completes_on_drain(nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    rec = Recorder[Msg]()
    nc.observe("drained").subscribe(rec)
    await publish_n(nc, "drained", 2)
    await nc.drain()
    await rec.wait_done()
    assert rec.completed and rec.error is None
    assert [m.data for m in rec.items] == [b"m0", b"m1"]


async def test_observe_completes_on_close_and_errors_on_a_closed_client(nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    rec = Recorder[Msg]()
    nc.observe("closing").subscribe(rec)
    await nc.close()
    await rec.wait_done()
    assert rec.completed and rec.error is None
    late = Recorder[Msg]()
    nc.observe("closing").subscribe(late)
    assert isinstance(late.error, ConnectionClosedError)


async def test_observe_on_a_draining_client_errors(nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    nc.observe("keep").subscribe(Recorder[Msg]())  # something to drain
    drain = asyncio.ensure_future(nc.drain())
    await asyncio.sleep(0)
    late = Recorder[Msg]()
    nc.observe("late").subscribe(late)
    await drain
    assert isinstance(late.error, ConnectionDrainingError)


async def test_observe_errors_when_the_connection_is_lost_for_good(
    nats_server_factory: object,
) -> None:
    server: NatsServer = nats_server_factory()  # type: ignore[operator]  # the fixture is a factory
    nc = await nats.connect(server.url, allow_reconnect=False)
    rec = Recorder[Msg]()
    nc.observe("lost").subscribe(rec)
    await nc.flush()
    await server.astop()
    await rec.wait_done()
    assert isinstance(rec.error, ConnectionClosedError)
    assert rec.error.__cause__ is not None
    await nc.close()


async def test_overflow_error_ends_the_subscription_not_the_connection(nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    events: list[ConnectionEvent] = []
    nc.add_event_listener(events.append)
    try:
        rec = Recorder[Msg]()
        nc.observe("flood", pending_msgs_limit=5, overflow=Overflow.ERROR).subscribe(rec)
        await nc.flush()
        # The whole burst arrives in one read: 5 are handed over at once (the turn's
        # allowance), 5 more wait in the buffer, the 11th is rejected.
        publish_burst_while_blocked(nats_url, "flood", 50)
        await rec.wait_done()
        assert isinstance(rec.error, SlowConsumerError)
        assert [m.data for m in rec.items] == [str(i).encode() for i in range(10)]
        assert nc._subs == {}
        assert nc.is_connected
        assert any(isinstance(e, SlowConsumer) for e in events)
    finally:
        await nc.close()


@pytest.mark.parametrize(
    ("overflow", "expected"),
    [
        # 0-4 are handed over as they arrive; the buffer of 5 keeps 5-9 or 45-49.
        (Overflow.DROP_NEWEST, list(range(10))),
        (Overflow.DROP_OLDEST, [*range(5), *range(45, 50)]),
    ],
)
async def test_drop_policies_count_drops_and_report_once(
    nats_url: str, overflow: Overflow, expected: list[int]
) -> None:
    reported: list[Exception] = []
    nc = await nats.connect(nats_url, error_cb=reported.append)
    try:
        rec = Recorder[Msg]()
        dispose = nc.observe("drops", pending_msgs_limit=5, overflow=overflow).subscribe(rec)
        sub = next(iter(nc._subs.values()))
        await nc.flush()
        publish_burst_while_blocked(nats_url, "drops", 50)
        await rec.wait_items(10)
        await asyncio.sleep(0.05)
        assert [int(m.data) for m in rec.items] == expected
        assert sub.dropped == 40
        slow = [e for e in reported if isinstance(e, SlowConsumerError)]
        assert len(slow) == 1  # one episode
        assert not rec.done
        dispose.dispose()
    finally:
        await nc.close()


async def test_an_observer_exception_is_reported_and_isolated(nats_url: str) -> None:
    reported: list[Exception] = []
    nc = await nats.connect(nats_url, error_cb=reported.append)
    try:
        stream = nc.observe("iso")

        def explode(msg: Msg) -> None:
            raise ValueError(f"bad {msg.data!r}")

        stream.subscribe(on_next=explode)
        good = Recorder[Msg]()
        stream.subscribe(good)
        await publish_n(nc, "iso", 3)
        await good.wait_items(3)
        assert [m.data for m in good.items] == [b"m0", b"m1", b"m2"]
        assert [str(e) for e in reported] == ["bad b'm0'", "bad b'm1'", "bad b'm2'"]
        assert nc.is_connected
        assert good.threads == {threading.get_ident()}  # emitted on the loop's thread
    finally:
        await nc.close()


async def test_sub_observe_borrows_messages_and_gives_them_back(nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    try:
        sub = await nc.subscribe("borrow")
        rec = Recorder[bytes]()
        dispose = sub.observe().pipe(nops.payloads()).subscribe(rec)
        await publish_n(nc, "borrow", 2)
        await rec.wait_items(2)
        assert rec.items == [b"m0", b"m1"]
        assert sub.pending_msgs == 0  # they went to the observer, not the queue
        dispose.dispose()
        assert not sub.is_closed  # sub.observe() does not own the subscription
        await publish_n(nc, "borrow", 1, prefix="back")
        assert (await sub.next_msg(timeout=2)).data == b"back0"
        ended = Recorder[Msg]()
        sub.observe().subscribe(ended)
        await sub.unsubscribe()
        await ended.wait_done()
        assert ended.completed
    finally:
        await nc.close()


async def test_to_async_iterator_break_disposes_the_subscription(nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    try:
        got: list[bytes] = []
        async with to_async_iterator(nc.observe("iter"), maxsize=10) as messages:
            assert len(nc._subs) == 1
            await nc.flush()
            await publish_n(nc, "iter", 5)
            async for msg in messages:
                got.append(msg.data)
                if len(got) == 3:
                    break
        assert got == [b"m0", b"m1", b"m2"]
        assert nc._subs == {}
    finally:
        await nc.close()


async def test_to_async_iterator_ends_with_the_stream_and_raises_its_error(
    nats_url: str,
) -> None:
    nc = await nats.connect(nats_url)
    items = to_async_iterator(nc.observe("end"), maxsize=10)
    async with items:
        await nc.flush()
        await publish_n(nc, "end", 2)
        await nc.drain()
        assert [m.data async for m in items] == [b"m0", b"m1"]
    nc2 = await nats.connect(nats_url)
    try:
        flood = to_async_iterator(nc2.observe("flood2"), maxsize=3, overflow=Overflow.ERROR)
        async with flood:
            await nc2.flush()
            for i in range(20):
                nc2._publish_nowait("flood2", str(i).encode())
            await nc2.flush()
            got = []
            with pytest.raises(SlowConsumerError):
                async for msg in flood:
                    got.append(msg.data)
            assert got == [b"0", b"1", b"2"]
        assert nc2._subs == {}
    finally:
        await nc2.close()


async def test_sub_observe_completes_on_auto_unsubscribe(nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    try:
        sub = await nc.subscribe("auto", max_msgs=2)
        rec = Recorder[bytes]()
        sub.observe().pipe(nops.payloads()).subscribe(rec)
        await publish_n(nc, "auto", 4)
        await rec.wait_done()
        assert rec.items == [b"m0", b"m1"] and rec.completed
    finally:
        await nc.close()


async def wait_subscribed(nc: nats.NATS) -> None:
    for _ in range(500):
        if nc._subs:
            await nc.flush()
            return
        await asyncio.sleep(0.01)
    raise AssertionError("no subscription appeared")


async def test_to_async_iterator_with_aclosing_or_a_plain_break(nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    try:
        async with asyncio.timeout(10):
            # aclosing() does not enter the iterator: it subscribes on the first __anext__.
            async with contextlib.aclosing(to_async_iterator(nc.observe("ac"))) as it:
                assert nc._subs == {}
                feed = asyncio.ensure_future(wait_subscribed(nc))
                feed.add_done_callback(lambda _: nc._publish_nowait("ac", b"x"))
                async for msg in it:
                    assert msg.data == b"x"
                    break
                await feed
            assert nc._subs == {}

            async def first_of(subject: str) -> bytes:
                async for msg in to_async_iterator(nc.observe(subject)):
                    return msg.data
                raise AssertionError("no message")

            task = asyncio.ensure_future(first_of("plain"))
            await wait_subscribed(nc)
            await publish_n(nc, "plain", 1)
            assert await task == b"m0"
            gc.collect()  # CPython drops the iterator at once; collect in case of a cycle
            assert nc._subs == {}  # the fallback in __del__ disposed the subscription
    finally:
        await nc.close()
