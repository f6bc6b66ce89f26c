"""Coroutine callbacks run by the reader while their task is idle (``Subscription._call_eager``).

The reader is stood in for by a plain loop callback (``loop.call_soon``), as the
connection's ``data_received`` is: no task is current there. What the tests pin is
that a callback cannot tell whether the reader or its task ran it (the current task,
the context, ``asyncio.timeout``, cancellation), and that callbacks of one
subscription still run one at a time, in arrival order, within the pending limits.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable

import pytest
from polling import eventually  # tests/ is on sys.path

from rxnats import Msg, Subscription
from rxnats.errors import SlowConsumerError

from .test_subscription_units import Host, _msg, _sub

VAR: contextvars.ContextVar[str] = contextvars.ContextVar("VAR", default="unset")


async def _as_reader(fn: Callable[[], object]) -> None:
    """Run ``fn`` as the connection's reader runs: a loop callback, outside any task."""
    done = asyncio.get_running_loop().create_future()

    def call() -> None:
        try:
            fn()
        except BaseException as exc:  # handed to the test
            done.set_exception(exc)
        else:
            done.set_result(None)

    asyncio.get_running_loop().call_soon(call)
    await done


async def _idle(sub: Subscription) -> None:
    """Let the callback task reach its wait for messages."""
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_callback_that_does_not_suspend_runs_before_the_reader_goes_on() -> None:
    host = Host()
    got: list[bytes] = []
    seen_by_reader: list[list[bytes]] = []

    async def cb(msg: Msg) -> None:
        got.append(msg.data)

    sub = _sub(host, cb=cb)
    await _idle(sub)

    def read() -> None:
        for i in range(3):
            sub._push(_msg(str(i).encode()))
            seen_by_reader.append(list(got))

    await _as_reader(read)
    assert seen_by_reader == [[b"0"], [b"0", b"1"], [b"0", b"1", b"2"]]
    assert (sub.received, sub.delivered, sub.pending_msgs) == (3, 3, 0)


async def test_the_callback_sees_its_own_task_and_context_wherever_it_runs() -> None:
    host = Host()
    tasks: list[asyncio.Task[object] | None] = []
    values: list[str] = []

    async def cb(msg: Msg) -> None:
        tasks.append(asyncio.current_task())
        values.append(VAR.get())
        VAR.set(msg.data.decode())  # kept for the next callback, as in a task
        if msg.data == b"suspend":
            await asyncio.sleep(0)
            tasks.append(asyncio.current_task())
            values.append(VAR.get())

    VAR.set("subscriber")
    sub = _sub(host, cb=cb)
    VAR.set("other")  # the task's context was copied at the start
    await _idle(sub)
    await _as_reader(lambda: sub._push(_msg(b"a")))
    await _as_reader(lambda: [sub._push(_msg(d)) for d in (b"suspend", b"b")])
    await _idle(sub)
    assert tasks == [sub._task] * 4
    assert values == ["subscriber", "a", "suspend", "suspend"]
    assert VAR.get() == "other"
    assert asyncio.current_task() is not sub._task


async def test_callbacks_that_suspend_keep_the_order_and_the_queue_limits() -> None:
    host = Host()
    gate = asyncio.Event()
    got: list[bytes] = []

    async def cb(msg: Msg) -> None:
        await gate.wait()
        got.append(msg.data)

    sub = _sub(host, cb=cb, pending_msgs_limit=3)
    await _idle(sub)

    def burst() -> None:
        for i in range(6):
            sub._push(_msg(str(i).encode()))

    await _as_reader(burst)
    # The first is in the callback (suspended, handed to the task); three are queued.
    assert (sub.delivered, sub.pending_msgs, sub.dropped) == (1, 3, 2)
    assert [type(e) for e in host.errors] == [SlowConsumerError]
    gate.set()
    await _idle(sub)
    assert got == [b"0", b"1", b"2", b"3"]
    # The queue emptied: the episode is over, the next overflow is reported again.
    gate.clear()
    await _as_reader(burst)
    assert sub.dropped == 4
    assert [type(e) for e in host.errors] == [SlowConsumerError, SlowConsumerError]
    gate.set()
    await _idle(sub)
    assert got == [b"0", b"1", b"2", b"3", b"0", b"1", b"2", b"3"]


async def test_asyncio_timeout_works_in_a_callback_the_reader_started() -> None:
    host = Host()
    outcomes: list[str] = []

    async def cb(msg: Msg) -> None:
        try:
            async with asyncio.timeout(0.01):
                await asyncio.sleep(30)
        except TimeoutError:
            outcomes.append("timed out")
        async with asyncio.timeout(30):  # noqa: ASYNC100 - a block that never suspends
            outcomes.append("no suspension")

    sub = _sub(host, cb=cb)
    await _idle(sub)
    await _as_reader(lambda: sub._push(_msg()))
    await eventually(lambda: len(outcomes) == 2)
    assert outcomes == ["timed out", "no suspension"]
    assert not sub._task.done()  # type: ignore[union-attr]  # started by _sub


async def test_errors_are_reported_and_the_next_message_is_handled() -> None:
    host = Host()
    got: list[bytes] = []

    async def cb(msg: Msg) -> None:
        if msg.data == b"bad":
            raise ValueError("bad message")
        got.append(msg.data)

    sub = _sub(host, cb=cb)
    await _idle(sub)
    await _as_reader(lambda: [sub._push(_msg(d)) for d in (b"bad", b"good")])
    assert got == [b"good"]
    assert [str(e) for e in host.errors] == ["bad message"]


@pytest.mark.parametrize("hand_over_first", [True, False])
async def test_closing_cancels_a_suspended_callback(hand_over_first: bool) -> None:
    # Cancelled once the task took the callback over, or at once, before it could.
    host = Host()
    cancelled = asyncio.Event()

    async def cb(msg: Msg) -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    sub = _sub(host, cb=cb)
    await _idle(sub)
    if hand_over_first:
        await _as_reader(lambda: sub._push(_msg()))
        await _idle(sub)
        sub._end(None, discard=True)
    else:

        def push_then_close() -> None:
            sub._push(_msg())
            sub._end(None, discard=True)

        await _as_reader(push_then_close)
    await asyncio.wait_for(sub.wait_done(), 5)
    assert cancelled.is_set()
    assert sub._task is not None and sub._task.cancelled()


async def test_a_callback_ending_its_subscription_from_the_reader() -> None:
    host = Host()
    got: list[bytes] = []

    async def cb(msg: Msg) -> None:
        got.append(msg.data)
        sub.cancel()

    sub = _sub(host, cb=cb)
    await _idle(sub)
    await _as_reader(lambda: [sub._push(_msg(d)) for d in (b"1", b"2")])
    await asyncio.wait_for(sub.wait_done(), 5)
    assert got == [b"1"]
    assert sub.is_closed and host.unsubs == [(1, 0)]


async def test_a_callback_raising_cancelled_error_ends_its_task() -> None:
    host = Host()
    got: list[bytes] = []

    async def cb(msg: Msg) -> None:
        got.append(msg.data)
        raise asyncio.CancelledError

    sub = _sub(host, cb=cb)
    await _idle(sub)
    await _as_reader(lambda: [sub._push(_msg(d)) for d in (b"1", b"2")])
    await _idle(sub)
    assert got == [b"1"]
    assert sub._task is not None and sub._task.cancelled()
    assert sub.pending_msgs == 1  # as when the task ran it: nothing runs the rest
    sub._end(None, discard=True)


async def test_messages_pushed_inside_a_task_go_through_the_queue_in_order() -> None:
    host = Host()
    got: list[bytes] = []

    async def cb(msg: Msg) -> None:
        got.append(msg.data)

    sub = _sub(host, cb=cb)
    await _idle(sub)
    sub._push(_msg(b"1"))  # this test's task is current: queued for the callback task
    assert got == [] and sub.pending_msgs == 1
    await _as_reader(lambda: sub._push(_msg(b"2")))  # the task is not idle: queued
    await _idle(sub)
    assert got == [b"1", b"2"]
    await _as_reader(lambda: sub._push(_msg(b"3")))  # idle again: run by the reader
    assert got == [b"1", b"2", b"3"]
