"""Flush, drain, close, protocol options and cancellation against a real nats-server."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator

import pytest
from polling import eventually  # tests/ is on sys.path (conftest.py lives there)

import rxnats as nats
from rxnats import NATS, ConnectionStatus, Msg
from rxnats import events as ev
from rxnats.errors import (
    BadTimeoutError,
    ConnectionClosedError,
    ConnectionDrainingError,
    ConnectionLostError,
    DrainTimeoutError,
    Error,
    FlushTimeoutError,
    NoServersError,
    UnexpectedEOF,
)
from rxnats.server import NatsServer
from rxnats.wire.aio.tcp import TcpTransport


@pytest.fixture
async def nc(nats_server: NatsServer) -> AsyncIterator[NATS]:
    client = await nats.connect(nats_server.url)
    yield client
    await client.close()


async def _roundtrip(nc: NATS, subject: str = "life.ping") -> None:
    sub = await nc.subscribe(subject)
    await nc.publish(subject, b"ping")
    assert (await sub.next_msg(timeout=5)).data == b"ping"
    await sub.unsubscribe()


# ---------------------------------------------------------------- flush
async def test_flush_makes_messages_reach_another_client(nats_server: NatsServer) -> None:
    sender = await nats.connect(nats_server.url)
    receiver = await nats.connect(nats_server.url)
    try:
        sub = await receiver.subscribe("flushed")
        await receiver.flush(timeout=5)
        for i in range(100):
            await sender.publish("flushed", str(i).encode())
        await sender.flush(timeout=5)
        assert sender.pending_data_size() == 0
        # The server has all 100; the receiver's PONG comes after them.
        await receiver.flush(timeout=5)
        assert sub.pending_msgs == 100
    finally:
        await sender.close()
        await receiver.close()


async def test_flush_rejects_bad_timeouts(nc: NATS) -> None:
    for bad in (0, -1):
        with pytest.raises(BadTimeoutError):
            await nc.flush(timeout=bad)
    await nc.flush(timeout=5)


async def test_many_concurrent_flushes(nc: NATS) -> None:
    await asyncio.gather(*(nc.flush(timeout=5) for _ in range(50)))
    assert len(nc._pings) == 0


# ---------------------------------------------------------------- drain
async def test_drain_processes_queued_messages_then_closes(nats_server: NatsServer) -> None:
    closed = asyncio.Event()
    nc = await nats.connect(nats_server.url, closed_cb=closed.set)
    statuses: list[ConnectionStatus] = []
    nc._life.add_status_listener(statuses.append)
    processed: list[int] = []

    async def slowish(msg: Msg) -> None:
        await asyncio.sleep(0)
        processed.append(int(msg.data))

    await nc.subscribe("drain.cb", cb=slowish)
    for i in range(1000):
        await nc.publish("drain.cb", str(i).encode())
    await nc.flush()
    await nc.drain()
    assert processed == list(range(1000))
    assert nc.is_closed()
    assert closed.is_set()
    assert statuses == [
        ConnectionStatus.DRAINING_SUBS,
        ConnectionStatus.DRAINING_PUBS,
        ConnectionStatus.CLOSED,
    ]


async def test_drain_delivers_to_an_iterating_task(nats_server: NatsServer) -> None:
    nc = await nats.connect(nats_server.url)
    sub = await nc.subscribe("drain.iter")
    got: list[int] = []

    async def consume() -> None:
        async for msg in sub.messages:
            await asyncio.sleep(0)
            got.append(int(msg.data))

    task = asyncio.create_task(consume())
    for i in range(200):
        await nc.publish("drain.iter", str(i).encode())
    await nc.flush()
    await nc.drain()
    await asyncio.wait_for(task, 5)  # the iteration ended by itself
    assert got == list(range(200))
    assert nc.is_closed()


async def test_drain_sends_publishes_made_before_it(nats_server: NatsServer) -> None:
    receiver = await nats.connect(nats_server.url)
    sender = await nats.connect(nats_server.url)
    try:
        sub = await receiver.subscribe("drain.pubs")
        await receiver.flush()
        for i in range(500):
            await sender.publish("drain.pubs", str(i).encode())
        await sender.drain()
        assert sender.is_closed()
        got = [int((await sub.next_msg(5)).data) for _ in range(500)]
        assert got == list(range(500))
    finally:
        await receiver.close()


async def test_drain_reports_status_events(nats_server: NatsServer) -> None:
    nc = await nats.connect(nats_server.url)
    events: list[str] = []
    nc.add_event_listener(lambda event: events.append(type(event).__name__))
    await nc.drain()
    assert events[-1] == "Closed"


async def test_drain_timeout_raises_and_closes(nats_server: NatsServer) -> None:
    errors: list[Exception] = []
    nc = await nats.connect(nats_server.url, drain_timeout=0.3, error_cb=errors.append)
    stuck = asyncio.Event()
    cancelled = asyncio.Event()

    async def blocked(msg: Msg) -> None:
        stuck.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    await nc.subscribe("drain.stuck", cb=blocked)
    await nc.publish("drain.stuck", b"x")
    await asyncio.wait_for(stuck.wait(), 5)
    with pytest.raises(DrainTimeoutError) as info:
        await nc.drain()
    assert isinstance(info.value, TimeoutError)
    assert nc.is_closed()
    assert isinstance(nc.last_error(), DrainTimeoutError)
    assert any(isinstance(e, DrainTimeoutError) for e in errors)
    # close() after a drain timeout does not leave the stuck callback running.
    await asyncio.wait_for(cancelled.wait(), 5)


async def test_drain_from_inside_a_callback(nats_server: NatsServer) -> None:
    nc = await nats.connect(nats_server.url, drain_timeout=10)
    done = asyncio.Event()
    got: list[bytes] = []

    async def cb(msg: Msg) -> None:
        got.append(msg.data)
        if msg.data == b"stop":
            await nc.drain()
            done.set()

    await nc.subscribe("drain.self", cb=cb)
    await nc.publish("drain.self", b"a")
    await nc.publish("drain.self", b"stop")
    await asyncio.wait_for(done.wait(), 5)
    assert nc.is_closed()
    assert got == [b"a", b"stop"]


async def test_subscription_drain(nc: NATS) -> None:
    processed: list[int] = []

    async def cb(msg: Msg) -> None:
        await asyncio.sleep(0)
        processed.append(int(msg.data))

    sub = await nc.subscribe("sub.drain", cb=cb)
    for i in range(100):
        await nc.publish("sub.drain", str(i).encode())
    await nc.flush()
    await sub.drain()
    assert processed == list(range(100))
    assert sub.is_closed
    await nc.publish("sub.drain", b"after")
    await nc.flush()
    assert nc.stats.in_msgs == 100
    await _roundtrip(nc)


async def test_no_new_subscriptions_while_draining(nats_server: NatsServer) -> None:
    nc = await nats.connect(nats_server.url)
    gate = asyncio.Event()

    async def cb(msg: Msg) -> None:
        await gate.wait()

    await nc.subscribe("drain.gate", cb=cb)
    await nc.publish("drain.gate", b"x")
    await nc.flush()
    drain = asyncio.create_task(nc.drain())
    await eventually(lambda: bool(nc.is_draining))
    with pytest.raises(ConnectionDrainingError):
        await nc.subscribe("too.late")
    with pytest.raises(ConnectionDrainingError):
        await nc.request("too.late", b"", timeout=1)
    gate.set()
    await asyncio.wait_for(drain, 10)
    assert nc.is_closed()


async def test_close_during_drain_stops_everything(nats_server: NatsServer) -> None:
    nc = await nats.connect(nats_server.url)
    entered = asyncio.Event()
    cancelled = asyncio.Event()

    async def stuck(msg: Msg) -> None:
        entered.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    await nc.subscribe("drain.close", cb=stuck)
    await nc.publish("drain.close", b"x")
    await asyncio.wait_for(entered.wait(), 5)
    drain = asyncio.create_task(nc.drain())
    second_drain = asyncio.create_task(nc.drain())
    await eventually(lambda: bool(nc.is_draining))
    await nc.close()
    assert cancelled.is_set()
    assert nc.is_closed()
    # Both drains end promptly (not after drain_timeout), one way or the other.
    results = await asyncio.wait_for(asyncio.gather(drain, second_drain, return_exceptions=True), 5)
    for result in results:
        assert result is None or isinstance(result, ConnectionClosedError)


async def test_drain_on_closed_client(nats_server: NatsServer) -> None:
    nc = await nats.connect(nats_server.url)
    await nc.close()
    with pytest.raises(ConnectionClosedError):
        await nc.drain()


# ---------------------------------------------------------------- close
@pytest.mark.parametrize("async_callbacks", [False, True])
async def test_close_calls_callbacks_once(nats_server: NatsServer, async_callbacks: bool) -> None:
    calls: list[str] = []
    if async_callbacks:

        async def closed_cb() -> None:
            await asyncio.sleep(0)
            calls.append("closed")

        async def disconnected_cb() -> None:
            await asyncio.sleep(0)
            calls.append("disconnected")

        nc = await nats.connect(
            nats_server.url, closed_cb=closed_cb, disconnected_cb=disconnected_cb
        )
    else:
        nc = await nats.connect(
            nats_server.url,
            closed_cb=lambda: calls.append("closed"),
            disconnected_cb=lambda: calls.append("disconnected"),
        )
    await nc.close()
    await nc.close()
    await asyncio.gather(nc.close(), nc.close())
    await eventually(lambda: len(calls) >= 2)
    await asyncio.sleep(0.05)
    assert sorted(calls) == ["closed", "disconnected"]
    assert nc.is_closed()


async def test_close_sends_what_was_published_before_it(nats_server: NatsServer) -> None:
    receiver = await nats.connect(nats_server.url)
    sender = await nats.connect(nats_server.url)
    try:
        sub = await receiver.subscribe("close.pubs")
        await receiver.flush()
        for i in range(300):
            await sender.publish("close.pubs", str(i).encode())
        assert sender.pending_data_size() > 0  # nothing was written yet
        await sender.close()
        got = [int((await sub.next_msg(5)).data) for _ in range(300)]
        assert got == list(range(300))
    finally:
        await receiver.close()


async def test_close_ends_iterators_in_other_tasks(nc: NATS) -> None:
    sub = await nc.subscribe("close.iter")
    got: list[bytes] = []

    async def consume() -> None:
        async for msg in sub.messages:
            got.append(msg.data)

    task = asyncio.create_task(consume())
    await nc.publish("close.iter", b"one")
    await eventually(lambda: got == [b"one"])
    await nc.close()
    await asyncio.wait_for(task, 5)
    assert task.exception() is None
    # As in nats-py: next_msg() on a closed client says the client is closed.
    with pytest.raises(ConnectionClosedError) as info:
        await sub.next_msg(1)
    assert not isinstance(info.value, ConnectionLostError)  # you closed it


async def test_close_ends_next_msg_waiters(nc: NATS) -> None:
    sub = await nc.subscribe("close.next")
    waiter = asyncio.create_task(sub.next_msg(timeout=30))
    await asyncio.sleep(0.05)
    await nc.close()
    with pytest.raises(ConnectionClosedError):
        await asyncio.wait_for(waiter, 5)


@pytest.mark.parametrize("old_style", [False, True])
async def test_close_fails_pending_requests(nc: NATS, old_style: bool) -> None:
    await nc.subscribe("never.answers")
    req = asyncio.create_task(
        nc.request("never.answers", b"", timeout=30, old_style=old_style)
    )
    await nc.flush()
    await asyncio.sleep(0.05)
    await nc.close()
    with pytest.raises(ConnectionClosedError):
        await asyncio.wait_for(req, 5)
    assert len(nc._requests) == 0


async def test_close_fails_pending_flush(nats_server: NatsServer) -> None:
    nc = await nats.connect(nats_server.url)
    # Stop reading so the PONG cannot arrive before close().
    conn = nc._conn
    assert isinstance(conn, TcpTransport) and conn.transport is not None
    conn.transport.pause_reading()
    flush = asyncio.create_task(nc.flush(timeout=30))
    await asyncio.sleep(0.05)
    await nc.close()
    with pytest.raises(ConnectionClosedError):
        await asyncio.wait_for(flush, 5)


async def test_close_cancels_a_callback_in_the_middle_of_an_await(nc: NATS) -> None:
    entered = asyncio.Event()
    cancelled = asyncio.Event()
    after: list[str] = []

    async def cb(msg: Msg) -> None:
        entered.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        after.append("not reached")

    await nc.subscribe("close.cb", cb=cb)
    await nc.publish("close.cb", b"x")
    await nc.publish("close.cb", b"y")
    await asyncio.wait_for(entered.wait(), 5)
    await nc.close()
    # close() does not return before the callback task is gone.
    assert cancelled.is_set()
    assert after == []


async def test_cancelled_close_still_closes_everything(nats_server: NatsServer) -> None:
    closed_calls: list[str] = []
    nc = await nats.connect(
        nats_server.url,
        closed_cb=lambda: closed_calls.append("closed"),
        flush_timeout=0.2,  # a publish blocked on the full socket gives up
    )
    sub = await nc.subscribe("cancel.close")
    await nc.flush()
    pid = nats_server.pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)  # the server stops reading: close() has to wait
    try:
        async with asyncio.timeout(20):
            chunk = b"x" * 60_000
            with pytest.raises(FlushTimeoutError):
                for _ in range(1000):  # 60 MB: far more than the socket buffers hold
                    await nc.publish("cancel.close", chunk)
            closing = asyncio.create_task(nc.close())
            await asyncio.sleep(0.1)
            assert not closing.done()  # still waiting for the socket to take the data
            closing.cancel()
            with pytest.raises(asyncio.CancelledError):
                await closing
    finally:
        os.kill(pid, signal.SIGCONT)
    assert nc.is_closed()
    assert sub.is_closed
    assert closed_calls == ["closed"]
    with pytest.raises(ConnectionClosedError):
        await nc.publish("cancel.close", b"")
    await nc.close()  # idempotent afterwards too
    assert closed_calls == ["closed"]


async def test_close_from_inside_a_callback(nats_server: NatsServer) -> None:
    nc = await nats.connect(nats_server.url)
    done = asyncio.Event()

    async def cb(msg: Msg) -> None:
        await nc.close()
        done.set()

    await nc.subscribe("close.self", cb=cb)
    await nc.publish("close.self", b"x")
    await asyncio.wait_for(done.wait(), 5)
    assert nc.is_closed()


async def test_operations_after_close_raise_connection_closed(nats_server: NatsServer) -> None:
    nc = await nats.connect(nats_server.url)
    sub = await nc.subscribe("after.close")
    await nc.close()
    with pytest.raises(ConnectionClosedError):
        await nc.publish("after.close", b"x")
    with pytest.raises(ConnectionClosedError):
        await nc.subscribe("after.close")
    with pytest.raises(ConnectionClosedError):
        await nc.flush()
    with pytest.raises(ConnectionClosedError):
        await nc.request("after.close", b"")
    with pytest.raises(ConnectionClosedError):
        await sub.unsubscribe()


# ---------------------------------------------------------------- protocol options
@pytest.mark.parametrize(("verbose", "pedantic"), [(True, False), (False, True), (True, True)])
async def test_verbose_and_pedantic(nats_server: NatsServer, verbose: bool, pedantic: bool) -> None:
    errors: list[Exception] = []
    nc = await nats.connect(
        nats_server.url, verbose=verbose, pedantic=pedantic, error_cb=errors.append
    )
    try:
        sub = await nc.subscribe("verbose.>")
        for i in range(50):
            await nc.publish(f"verbose.{i}", b"x", headers={"I": str(i)} if i % 2 else None)
        await nc.flush()
        got = [await sub.next_msg(5) for _ in range(50)]
        assert [m.subject for m in got] == [f"verbose.{i}" for i in range(50)]
        reply = await nc.subscribe("verbose.svc", cb=lambda m: None)
        assert reply is not None
        await nc.flush()
        assert errors == []
        assert nc.is_connected()
    finally:
        await nc.close()


# ---------------------------------------------------------------- cancellation
async def test_cancel_next_msg_keeps_the_subscription_usable(nc: NATS) -> None:
    sub = await nc.subscribe("cancel.next")
    task = asyncio.create_task(sub.next_msg(timeout=30))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await nc.publish("cancel.next", b"kept")
    assert (await sub.next_msg(5)).data == b"kept"


async def test_cancel_request_keeps_the_client_usable(nc: NATS) -> None:
    await nc.subscribe("cancel.req")  # takes the request, never answers
    task = asyncio.create_task(nc.request("cancel.req", b"", timeout=30))
    await nc.flush()
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(nc._requests) == 0

    async def answer(msg: Msg) -> None:
        await msg.respond(b"ok")

    await nc.subscribe("cancel.svc", cb=answer)
    assert (await nc.request("cancel.svc", b"", timeout=5)).data == b"ok"


async def test_cancel_flush_keeps_the_client_usable(nats_server: NatsServer) -> None:
    nc = await nats.connect(nats_server.url)
    try:
        conn = nc._conn
        assert isinstance(conn, TcpTransport) and conn.transport is not None
        transport = conn.transport
        transport.pause_reading()
        task = asyncio.create_task(nc.flush(timeout=30))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        transport.resume_reading()
        await nc.flush(timeout=5)
        await _roundtrip(nc)
    finally:
        await nc.close()


# ---------------------------------------------------------------- one owner for the lifecycle
async def test_close_during_connect_raises_connection_closed_and_leaves_no_socket(
    nats_server: NatsServer,
) -> None:
    # A peer that accepts TCP and never says INFO: connect() is stuck in the handshake.
    accepted = asyncio.Event()
    peer_saw_eof = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.set()
        await reader.read()  # returns at EOF: the client closed its socket
        peer_saw_eof.set()
        writer.close()

    silent_server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = silent_server.sockets[0].getsockname()[1]
    events: list[ev.ConnectionEvent] = []
    closed_calls: list[str] = []
    nc = NATS()
    nc.add_event_listener(events.append)
    try:
        connecting = asyncio.create_task(
            nc.connect(
                f"nats://127.0.0.1:{port}",
                connect_timeout=30,
                closed_cb=lambda: closed_calls.append("closed"),
            )
        )
        await asyncio.wait_for(accepted.wait(), 5)
        assert nc.is_connecting()
        await nc.close()
        assert peer_saw_eof.is_set()  # the half-open socket is closed when close() returns
        with pytest.raises(ConnectionClosedError, match="close"):
            await asyncio.wait_for(connecting, 5)
        assert nc.is_closed()
        assert [type(e) for e in events] == [ev.Closed]
        assert closed_calls == []  # it never connected
        # The same object connects again.
        await nc.connect(nats_server.url)
        await _roundtrip(nc)
    finally:
        await nc.close()
        silent_server.close()


async def test_a_connection_lost_for_good_fails_work_with_connection_lost_error(
    nats_server: NatsServer,
) -> None:
    closed = asyncio.Event()
    nc = await nats.connect(nats_server.url, allow_reconnect=False, closed_cb=closed.set)
    sub = await nc.subscribe("lost.for.good")
    waiter = asyncio.create_task(sub.next_msg(timeout=30))
    await asyncio.sleep(0.05)
    nats_server.kill()
    await asyncio.wait_for(closed.wait(), 10)
    with pytest.raises(ConnectionLostError) as info:
        await asyncio.wait_for(waiter, 5)
    assert isinstance(info.value.__cause__, UnexpectedEOF)
    for operation in (nc.publish("x", b""), nc.flush(), nc.subscribe("x"), nc.drain()):
        with pytest.raises(ConnectionLostError):
            await operation
    # Old code catching ConnectionClosedError still catches it.
    with pytest.raises(ConnectionClosedError):
        await nc.request("x", b"", timeout=1)
    assert isinstance(nc.last_error(), UnexpectedEOF)


async def test_giving_up_reconnecting_closes_with_connection_lost_error(
    nats_server: NatsServer,
) -> None:
    calls: list[str] = []
    events: list[ev.ConnectionEvent] = []
    nc = await nats.connect(
        nats_server.url,
        max_reconnect_attempts=1,
        reconnect_time_wait=0.05,
        error_cb=lambda e: calls.append(f"error:{type(e).__name__}"),
        disconnected_cb=lambda: calls.append("disconnected"),
        closed_cb=lambda: calls.append("closed"),
    )
    nc.add_event_listener(events.append)
    await nats_server.astop()
    await eventually(lambda: "closed" in calls, 15, "closed_cb")
    assert calls[:2] == ["error:UnexpectedEOF", "disconnected"]
    assert calls[-2:] == ["error:NoServersError", "closed"]
    assert calls.count("disconnected") == 1
    assert isinstance(events[-1], ev.Closed) and isinstance(events[-1].error, NoServersError)
    with pytest.raises(ConnectionLostError) as info:
        await nc.publish("x", b"")
    assert isinstance(info.value.__cause__, NoServersError)


async def test_close_while_reconnecting_calls_closed_cb_and_says_you_closed_it(
    nats_server: NatsServer,
) -> None:
    calls: list[str] = []
    nc = await nats.connect(
        nats_server.url,
        reconnect_time_wait=0.05,
        max_reconnect_attempts=-1,
        disconnected_cb=lambda: calls.append("disconnected"),
        closed_cb=lambda: calls.append("closed"),
    )
    await nats_server.astop()
    await eventually(lambda: nc.is_reconnecting(), 10, "reconnecting")
    await nc.close()
    # disconnected_cb once for the one lost connection, then closed_cb (nats-py calls
    # disconnected_cb a second time here; see docs/migrating.md).
    assert calls == ["disconnected", "closed"]
    with pytest.raises(ConnectionClosedError) as info:
        await nc.publish("x", b"")
    assert not isinstance(info.value, ConnectionLostError)


async def test_a_failed_first_connect_ends_in_a_closed_event() -> None:
    events: list[ev.ConnectionEvent] = []
    nc = NATS()
    nc.add_event_listener(events.append)
    with pytest.raises(NoServersError) as info:
        await nc.connect(["nats://127.0.0.1:1", "nats://127.0.0.1:2"], dont_randomize=True)
    kinds = [type(e) for e in events]
    assert kinds == [ev.ErrorReported, ev.ErrorReported, ev.Closed]
    assert events[-1] == ev.Closed(info.value)
    assert nc.last_error() is info.value and nc.is_closed()


async def test_connect_while_connecting_is_refused(nats_server: NatsServer) -> None:
    nc = NATS()
    first = asyncio.create_task(nc.connect(nats_server.url))
    await asyncio.sleep(0)
    with pytest.raises(Error, match="connecting"):
        await nc.connect(nats_server.url)
    await first
    with pytest.raises(Error, match="connected"):
        await nc.connect(nats_server.url)
    await nc.close()


async def test_close_from_an_async_error_cb_does_not_wait_for_itself(
    nats_server: NatsServer,
) -> None:
    done = asyncio.Event()

    async def error_cb(e: Exception) -> None:
        await client.close()  # runs in the callback runner: close() must not wait for it
        done.set()

    client = await nats.connect(nats_server.url, error_cb=error_cb, closed_cb=lambda: None)
    client.report_error(RuntimeError("make error_cb run"))
    await asyncio.wait_for(done.wait(), 5)
    assert client.is_closed()
