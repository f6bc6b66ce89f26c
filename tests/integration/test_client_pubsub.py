"""Publish and subscribe against a real nats-server."""

from __future__ import annotations

import asyncio
import builtins
import os
from collections.abc import AsyncIterator

import pytest
from burst import publish_burst_while_blocked  # tests/ is on sys.path
from polling import eventually  # tests/ is on sys.path (conftest.py lives there)

import rxnats as nats
from rxnats import NATS, Msg, Overflow
from rxnats.errors import BadSubscriptionError, SlowConsumerError
from rxnats.server import NatsServer


async def expect_nothing(sub: nats.Subscription, wait: float = 0.2) -> None:
    """Assert ``sub`` receives no (more) message within ``wait`` seconds."""
    with pytest.raises(nats.errors.TimeoutError):
        await sub.next_msg(timeout=wait)


@pytest.fixture
async def nc(nats_server: NatsServer) -> AsyncIterator[NATS]:
    client = await nats.connect(nats_server.url)
    yield client
    await client.close()


# ---------------------------------------------------------------- delivery
async def test_wildcards(nc: NATS) -> None:
    star = await nc.subscribe("w.*")
    full = await nc.subscribe("w.>")
    for subject in ("w.a", "w.a.b", "w.b", "other"):
        await nc.publish(subject, subject.encode())
    await nc.flush()
    assert [(await star.next_msg(5)).subject for _ in range(2)] == ["w.a", "w.b"]
    assert [(await full.next_msg(5)).subject for _ in range(3)] == ["w.a", "w.a.b", "w.b"]
    await expect_nothing(star)
    await expect_nothing(full, 0.05)


async def test_queue_group_balances_without_duplicates(nats_server: NatsServer) -> None:
    workers = [await nats.connect(nats_server.url) for _ in range(2)]
    producer = await nats.connect(nats_server.url)
    got: list[list[int]] = [[], []]
    try:
        for i, worker in enumerate(workers):
            def handler(msg: Msg, box: list[int] = got[i]) -> None:
                box.append(int(msg.data))

            await worker.subscribe("jobs", queue="workers", cb=handler)
            await worker.flush()
        n = 400
        for i in range(n):
            await producer.publish("jobs", str(i).encode())
        await producer.flush()
        await eventually(lambda: len(got[0]) + len(got[1]) >= n)
        await asyncio.sleep(0.1)  # a duplicate would have time to show up
        assert len(got[0]) > 0 and len(got[1]) > 0
        everything = got[0] + got[1]
        assert len(everything) == n
        assert sorted(everything) == list(range(n))
    finally:
        for c in [*workers, producer]:
            await c.close()


async def test_headers_round_trip_with_multiple_values(nc: NATS) -> None:
    sub = await nc.subscribe("hdr")
    await nc.publish(
        "hdr",
        b"body",
        headers={"A": ["1", "2"], "Content-Type": "application/json", "Empty": ""},
    )
    msg = await sub.next_msg(5)
    assert msg.data == b"body"
    headers = msg.headers
    assert headers is not None
    assert headers["A"] == "1"
    assert headers.get_all("A") == ["1", "2"]
    assert headers.get("Content-Type") == "application/json"
    assert headers["Empty"] == ""
    assert headers.get("Missing") is None
    assert "A" in headers and "Missing" not in headers
    assert set(headers.keys()) == {"A", "Content-Type", "Empty"}
    assert len(headers) == 3
    assert dict(headers) == {"A": "1", "Content-Type": "application/json", "Empty": ""}
    with pytest.raises(KeyError):
        headers["Missing"]


async def test_message_without_headers_has_none(nc: NATS) -> None:
    sub = await nc.subscribe("nohdr")
    await nc.publish("nohdr", b"x")
    msg = await sub.next_msg(5)
    assert msg.headers is None
    assert msg.status is None


async def test_reply_subject_is_delivered(nc: NATS) -> None:
    sub = await nc.subscribe("with.reply")
    await nc.publish("with.reply", b"x", reply="answers.here")
    msg = await sub.next_msg(5)
    assert msg.reply == "answers.here"
    assert msg.subject == "with.reply"


async def test_max_msgs_delivers_exactly_n_and_server_stops(nats_server: NatsServer) -> None:
    receiver = await nats.connect(nats_server.url)
    sender = await nats.connect(nats_server.url)
    got: list[bytes] = []
    try:
        sub = await receiver.subscribe("limited", cb=lambda m: got.append(m.data), max_msgs=3)
        await receiver.flush()
        for i in range(10):
            await sender.publish("limited", str(i).encode())
        await sender.flush()
        await receiver.flush()  # the messages were sent before our PONG
        await eventually(lambda: len(got) >= 3)
        await asyncio.sleep(0.1)
        assert got == [b"0", b"1", b"2"]
        assert sub.delivered == 3
        assert sub.is_closed
        # The server honoured the UNSUB <sid> 3: it sent no more than three messages.
        assert receiver.stats.in_msgs == 3
    finally:
        await receiver.close()
        await sender.close()


async def test_unsubscribe_with_limit(nats_server: NatsServer) -> None:
    receiver = await nats.connect(nats_server.url)
    sender = await nats.connect(nats_server.url)
    try:
        sub = await receiver.subscribe("later")
        await sub.unsubscribe(2)
        await receiver.flush()
        for i in range(5):
            await sender.publish("later", str(i).encode())
        await sender.flush()
        await receiver.flush()
        got = [m.data async for m in sub.messages]  # ends after the limit
        assert got == [b"0", b"1"]
        assert receiver.stats.in_msgs == 2
        await sub.unsubscribe()  # it ended at its limit: nothing to do, as in nats-py
        assert sub.is_closed
    finally:
        await receiver.close()
        await sender.close()


async def test_unsubscribe_stops_delivery(nc: NATS) -> None:
    sub = await nc.subscribe("gone")
    await nc.publish("gone", b"1")
    assert (await sub.next_msg(5)).data == b"1"
    await sub.unsubscribe()
    await nc.publish("gone", b"2")
    await nc.flush()
    assert nc.stats.in_msgs == 1
    with pytest.raises(BadSubscriptionError):
        await sub.next_msg(0.1)


async def test_sync_and_async_callbacks(nc: NATS) -> None:
    sync_got: list[bytes] = []
    async_got: list[bytes] = []

    def sync_cb(msg: Msg) -> None:
        sync_got.append(msg.data)

    async def async_cb(msg: Msg) -> None:
        await asyncio.sleep(0)
        async_got.append(msg.data)

    await nc.subscribe("cb", cb=sync_cb)
    await nc.subscribe("cb", cb=async_cb)
    for i in range(20):
        await nc.publish("cb", str(i).encode())
    expected = [str(i).encode() for i in range(20)]
    await eventually(lambda: len(sync_got) == 20 and len(async_got) == 20)
    assert sync_got == expected
    assert async_got == expected


async def test_plain_callback_runs_inline_so_pending_limits_never_drop(nc: NATS) -> None:
    # A plain function is called by the reader as each message arrives: nothing queues,
    # so even a one-message pending limit drops nothing, and every message sent before a
    # flush has been handled when the flush returns (its PONG comes after them).
    got: list[bytes] = []
    sub = await nc.subscribe("inline", cb=lambda m: got.append(m.data), pending_msgs_limit=1)
    for i in range(500):
        await nc.publish("inline", str(i).encode())
    await nc.flush()
    assert got == [str(i).encode() for i in range(500)]
    assert (sub.dropped, sub.pending_msgs, sub.delivered) == (0, 0, 500)


async def test_plain_function_returning_a_coroutine_is_awaited_in_order(nc: NATS) -> None:
    # ``lambda m: m.respond(...)``-style callbacks return an awaitable: from then on the
    # callback runs in the subscription's task, and no message overtakes another.
    done: list[int] = []

    async def handle(msg: Msg) -> None:
        await asyncio.sleep(0)
        done.append(int(msg.data))

    await nc.subscribe("turns.async", cb=lambda m: handle(m))
    for i in range(200):
        await nc.publish("turns.async", str(i).encode())
    await eventually(lambda: len(done) == 200)
    assert done == list(range(200))


async def test_async_callable_object_runs_in_its_task(nc: NATS) -> None:
    class Handler:
        def __init__(self) -> None:
            self.got: list[bytes] = []

        async def __call__(self, msg: Msg) -> None:
            await asyncio.sleep(0)
            self.got.append(msg.data)

    handler = Handler()
    await nc.subscribe("callable.obj", cb=handler)
    for i in range(20):
        await nc.publish("callable.obj", str(i).encode())
    await eventually(lambda: len(handler.got) == 20)
    assert handler.got == [str(i).encode() for i in range(20)]


async def test_async_callback_runs_one_message_at_a_time(nc: NATS) -> None:
    active = 0
    most = 0
    done: list[int] = []

    async def cb(msg: Msg) -> None:
        nonlocal active, most
        active += 1
        most = max(most, active)
        await asyncio.sleep(0.001)
        active -= 1
        done.append(int(msg.data))

    await nc.subscribe("serial", cb=cb)
    for i in range(30):
        await nc.publish("serial", str(i).encode())
    await eventually(lambda: len(done) == 30)
    assert most == 1
    assert done == list(range(30))


async def test_future_gets_the_first_message(nc: NATS) -> None:
    fut: asyncio.Future[Msg] = asyncio.get_running_loop().create_future()
    sub = await nc.subscribe("fut", future=fut)
    await nc.publish("fut", b"first")
    await nc.publish("fut", b"second")
    msg = await asyncio.wait_for(fut, 5)
    assert msg.data == b"first"
    await sub.unsubscribe()


async def test_iterator_both_spellings(nc: NATS) -> None:
    sub1 = await nc.subscribe("iter.one")
    sub2 = await nc.subscribe("iter.two")
    for i in range(3):
        await nc.publish("iter.one", str(i).encode())
        await nc.publish("iter.two", str(i).encode())
    got1: list[bytes] = []
    async for msg in sub1.messages:
        got1.append(msg.data)
        if len(got1) == 3:
            break
    got2: list[bytes] = []
    async for msg in sub2.messages():
        got2.append(msg.data)
        if len(got2) == 3:
            break
    assert got1 == got2 == [b"0", b"1", b"2"]


async def test_iterator_in_another_task_ends_on_unsubscribe(nc: NATS) -> None:
    sub = await nc.subscribe("iter.end")
    got: list[bytes] = []

    async def consume() -> None:
        async for msg in sub.messages:
            got.append(msg.data)

    task = asyncio.create_task(consume())
    await nc.publish("iter.end", b"a")
    await eventually(lambda: got == [b"a"])
    await sub.unsubscribe()
    await asyncio.wait_for(task, 5)
    assert task.done() and task.exception() is None


async def test_next_msg_timeout_is_both_timeout_errors(nc: NATS) -> None:
    sub = await nc.subscribe("quiet")
    with pytest.raises(nats.errors.TimeoutError) as info:
        await sub.next_msg(timeout=0.05)
    assert isinstance(info.value, builtins.TimeoutError)
    with pytest.raises(builtins.TimeoutError):
        await sub.next_msg(timeout=0.05)
    # Still usable afterwards: the timeouts lost nothing.
    await nc.publish("quiet", b"late")
    assert (await sub.next_msg(5)).data == b"late"


async def test_no_echo(nats_server: NatsServer) -> None:
    quiet = await nats.connect(nats_server.url, no_echo=True)
    other = await nats.connect(nats_server.url)
    try:
        own = await quiet.subscribe("echo")
        theirs = await other.subscribe("echo")
        await quiet.flush()
        await other.flush()
        await quiet.publish("echo", b"hello")
        await quiet.flush()
        assert (await theirs.next_msg(5)).data == b"hello"
        await expect_nothing(own)
        # Messages from other clients still arrive.
        await other.publish("echo", b"from other")
        assert (await own.next_msg(5)).data == b"from other"
    finally:
        await quiet.close()
        await other.close()


@pytest.mark.parametrize("kind", ["async", "plain"])
async def test_callback_exceptions_go_to_error_cb_and_delivery_continues(
    nats_server: NatsServer, kind: str
) -> None:
    errors: list[Exception] = []
    nc = await nats.connect(nats_server.url, error_cb=errors.append)
    got: list[bytes] = []
    try:

        def plain_cb(msg: Msg) -> None:
            got.append(msg.data)
            if msg.data == b"bad":
                raise RuntimeError("callback failed")

        async def async_cb(msg: Msg) -> None:
            plain_cb(msg)

        await nc.subscribe("explode", cb=async_cb if kind == "async" else plain_cb)
        for data in (b"1", b"bad", b"2"):
            await nc.publish("explode", data)
        await eventually(lambda: len(got) == 3 and len(errors) == 1)
        assert got == [b"1", b"bad", b"2"]
        assert isinstance(errors[0], RuntimeError)
        assert str(errors[0]) == "callback failed"
        assert nc.is_connected()
    finally:
        await nc.close()


async def test_async_error_cb_is_awaited(nats_server: NatsServer) -> None:
    seen: list[Exception] = []

    async def error_cb(exc: Exception) -> None:
        await asyncio.sleep(0)
        seen.append(exc)

    nc = await nats.connect(nats_server.url, error_cb=error_cb)
    try:

        def cb(msg: Msg) -> None:
            raise ValueError("sync boom")

        await nc.subscribe("explode.sync", cb=cb)
        await nc.publish("explode.sync", b"x")
        await eventually(lambda: len(seen) == 1)
        assert isinstance(seen[0], ValueError)
    finally:
        await nc.close()


# ---------------------------------------------------------------- slow consumers
async def test_slow_consumer_drops_counts_and_reports_once_per_episode(
    nats_server: NatsServer,
) -> None:
    errors: list[Exception] = []
    nc = await nats.connect(nats_server.url, error_cb=errors.append)
    gate = asyncio.Event()
    handled: list[bytes] = []
    try:

        async def blocked(msg: Msg) -> None:
            await gate.wait()
            handled.append(msg.data)

        sub = await nc.subscribe("slow", cb=blocked, pending_msgs_limit=10)
        await nc.flush()
        # One read holds the whole burst: a split read would let the callback take a
        # message in between and end the episode early.
        publish_burst_while_blocked(nats_server.url, "slow", 50)
        await nc.flush()
        # The queue filled up to its limit; one message may since sit in the callback.
        assert sub.delivered <= 1
        assert sub.pending_msgs in (9, 10)
        assert sub.dropped >= 39
        assert sub.dropped + sub.pending_msgs + sub.delivered == 50
        slow = [e for e in errors if isinstance(e, SlowConsumerError)]
        assert len(slow) == 1
        assert slow[0].subject == "slow"
        assert slow[0].sid == sub.sid
        # The episode ends when the consumer catches up...
        gate.set()
        await eventually(lambda: len(handled) == 50 - sub.dropped)
        first_dropped = sub.dropped
        # ...and a second overflow is a second episode, reported again once.
        gate.clear()
        publish_burst_while_blocked(nats_server.url, "slow", 50)
        await nc.flush()
        assert sub.dropped >= first_dropped + 39
        slow = [e for e in errors if isinstance(e, SlowConsumerError)]
        assert len(slow) == 2
        gate.set()
        assert nc.is_connected()
    finally:
        gate.set()
        await nc.close()


async def test_pending_bytes_limit_also_drops(nc: NATS) -> None:
    sub = await nc.subscribe("slow.bytes", pending_bytes_limit=100)
    for _ in range(5):
        await nc.publish("slow.bytes", b"x" * 40)
    await nc.flush()
    assert sub.pending_msgs == 2
    assert sub.pending_bytes == 80
    assert sub.dropped == 3


async def test_drop_oldest_keeps_the_newest(nc: NATS) -> None:
    sub = await nc.subscribe("oldest", pending_msgs_limit=10, overflow=Overflow.DROP_OLDEST)
    for i in range(50):
        await nc.publish("oldest", str(i).encode())
    await nc.flush()
    assert sub.dropped == 40
    got = [int((await sub.next_msg(5)).data) for _ in range(10)]
    assert got == list(range(40, 50))


async def test_overflow_error_ends_the_subscription_only(nats_server: NatsServer) -> None:
    errors: list[Exception] = []
    nc = await nats.connect(nats_server.url, error_cb=errors.append)
    try:
        sub = await nc.subscribe("strict", pending_msgs_limit=10, overflow=Overflow.ERROR)
        for i in range(20):
            await nc.publish("strict", str(i).encode())
        await nc.flush()
        assert sub.is_closed
        # What was queued before the overflow is still readable, then the error.
        got = [int((await sub.next_msg(5)).data) for _ in range(10)]
        assert got == list(range(10))
        with pytest.raises(SlowConsumerError):
            await sub.next_msg(1)
        assert sum(isinstance(e, SlowConsumerError) for e in errors) == 1
        # The connection is fine, and the server no longer sends to that subscription.
        assert nc.is_connected()
        before = nc.stats.in_msgs
        await nc.publish("strict", b"after")
        await nc.flush()
        assert nc.stats.in_msgs == before
        other = await nc.subscribe("strict.other")
        await nc.publish("strict.other", b"ok")
        assert (await other.next_msg(5)).data == b"ok"
    finally:
        await nc.close()


async def test_pending_and_delivered_counts(nc: NATS) -> None:
    sub = await nc.subscribe("counts")
    for _ in range(5):
        await nc.publish("counts", b"0123456789")
    await nc.flush()
    assert (sub.pending_msgs, sub.pending_bytes, sub.delivered, sub.dropped) == (5, 50, 0, 0)
    await sub.next_msg(1)
    await sub.next_msg(1)
    assert (sub.pending_msgs, sub.pending_bytes, sub.delivered) == (3, 30, 2)
    assert sub.received == 5


# ---------------------------------------------------------------- payloads and volume
async def test_ordering_of_ten_thousand_messages(nats_server: NatsServer) -> None:
    receiver = await nats.connect(nats_server.url)
    sender = await nats.connect(nats_server.url)
    got: list[int] = []
    try:
        await receiver.subscribe("order", cb=lambda m: got.append(int(m.data)))
        await receiver.flush()
        n = 10_000
        for i in range(n):
            await sender.publish("order", b"%d" % i)
        await sender.flush()
        await eventually(lambda: len(got) >= n, timeout=30)
        assert got == list(range(n))
    finally:
        await receiver.close()
        await sender.close()


async def test_payload_of_max_payload_bytes(nc: NATS) -> None:
    size = nc.max_payload()
    assert size >= 1024 * 1024
    data = os.urandom(size)
    sub = await nc.subscribe("big")
    await nc.publish("big", data)
    msg = await sub.next_msg(10)
    assert msg.data == data
    # Just under the limit with headers: header block + payload count together.
    with_headers = os.urandom(size - 200)
    await nc.publish("big", with_headers, headers={"K": "v"})
    msg = await sub.next_msg(10)
    assert msg.data == with_headers
    assert msg.headers is not None and msg.headers["K"] == "v"


@pytest.mark.parametrize("with_headers", [False, True])
async def test_payload_with_crlf_and_protocol_lookalikes(nc: NATS, with_headers: bool) -> None:
    data = b"a\r\nb\r\n\r\nMSG fake 1 3\r\nabc\r\nPING\r\n\r\n"
    sub = await nc.subscribe("crlf")
    headers = {"H": "1"} if with_headers else None
    await nc.publish("crlf", data, headers=headers)
    await nc.publish("crlf", b"")
    assert (await sub.next_msg(5)).data == data
    assert (await sub.next_msg(5)).data == b""
    await expect_nothing(sub, 0.05)


async def test_statistics(nats_server: NatsServer) -> None:
    nc = await nats.connect(nats_server.url)
    try:
        sub = await nc.subscribe("stats")
        for _ in range(3):
            await nc.publish("stats", b"12345")
        for _ in range(3):
            await sub.next_msg(5)
        stats = nc.stats
        assert stats.out_msgs == 3
        assert stats.out_bytes == 15
        assert stats.in_msgs == 3
        assert stats.in_bytes == 15
        assert stats["in_msgs"] == 3
        assert stats.as_dict()["out_bytes"] == 15
        assert stats.reconnects == 0
        with pytest.raises(KeyError):
            stats["nope"]
    finally:
        await nc.close()
