"""Subscriptions without a client: a stand-in host (rxnats.contract.SubscriptionHost).

The reader's entry (``_deliver``) and the owner's end (``_end``) are driven by hand:
these tests pin the queue, the callbacks, the iterator and the listeners, and what a
subscription asks of its client (UNSUB, forget, report), which the host records.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from rxnats import Msg, Overflow, Subscription
from rxnats.contract import EventListener, ObservedSubscription, StatusListener
from rxnats.errors import (
    BadSubscriptionError,
    BadTimeoutError,
    ConnectionClosedError,
    Error,
    InvalidInputError,
    SlowConsumerError,
)
from rxnats.msg import received_msg
from rxnats.pending import PendingLimits
from rxnats.state import ConnectionStatus
from rxnats.wire.headers import HeadersInput


class Host:
    """A client as a subscription sees it, recording what it is asked."""

    def __init__(self) -> None:
        self.unsubs: list[tuple[int, int]] = []
        self.forgotten: list[int] = []
        self.errors: list[Exception] = []
        self.callback_errors: list[Exception] = []
        self.is_closed = False

    # SubscriptionHost
    @property
    def closed(self) -> bool:
        return self.is_closed

    def check_open(self) -> None:
        if self.is_closed:
            raise ConnectionClosedError()

    def send_unsub(self, sid: int, limit: int) -> None:
        self.unsubs.append((sid, limit))

    def forget(self, sid: int) -> None:
        self.forgotten.append(sid)

    def report_callback_error(self, err: Exception) -> None:
        self.errors.append(err)  # as error_cb hears both kinds

    # RxHost
    @property
    def event_loop(self) -> asyncio.AbstractEventLoop | None:
        return asyncio.get_running_loop()

    @property
    def status(self) -> ConnectionStatus:
        return ConnectionStatus.CONNECTED

    def add_status_listener(self, listener: StatusListener) -> Callable[[], None]:
        return lambda: None

    def add_event_listener(self, listener: EventListener) -> Callable[[], None]:
        return lambda: None

    def report_error(self, err: Exception) -> None:
        self.errors.append(err)

    def termination_error(self) -> Exception | None:
        return None

    def subscribe_now(
        self, subject: str, queue: str = "", *, limits: PendingLimits | None = None
    ) -> ObservedSubscription:
        raise NotImplementedError

    def publish_nowait(
        self, subject: str, payload: bytes = b"", reply: str = "", headers: HeadersInput | None = None
    ) -> None:
        raise NotImplementedError

    def new_inbox(self) -> str:
        return "_INBOX.test"

    async def request(
        self,
        subject: str,
        payload: bytes = b"",
        timeout: float = 0.5,
        old_style: bool = False,
        headers: HeadersInput | None = None,
    ) -> Msg:
        raise NotImplementedError

    async def flush(self, timeout: float = 10.0) -> None:
        pass


def _msg(data: bytes = b"x", subject: str = "s") -> Msg:
    return Msg(None, subject, "", data, 1)


def _sub(host: Host, **kwargs: object) -> Subscription:
    sub = Subscription(host, 1, "s", **kwargs)  # type: ignore[arg-type]  # test-only kwargs
    sub._start()
    return sub


async def test_iterator_queue_and_counts() -> None:
    host = Host()
    sub = _sub(host)
    for i in range(3):
        sub._deliver(_msg(str(i).encode()))
    assert (sub.pending_msgs, sub.pending_bytes, sub.delivered, sub.received) == (3, 3, 0, 3)
    assert (await sub.next_msg(1)).data == b"0"
    assert sub.delivered == 1
    with pytest.raises(BadTimeoutError):
        await sub.next_msg(0)
    with pytest.raises(BadTimeoutError):
        await sub.next_msg(-1)


async def test_slow_consumer_episodes_are_reported_once_each() -> None:
    host = Host()
    errors = host.errors
    sub = _sub(host, pending_msgs_limit=2)
    for _ in range(5):
        sub._deliver(_msg())
    assert sub.dropped == 3
    assert len(errors) == 1 and isinstance(errors[0], SlowConsumerError)
    await sub.next_msg(1)  # room again...
    sub._deliver(_msg())  # ...accepted: the episode is over
    sub._deliver(_msg())  # dropped: a new episode
    assert sub.dropped == 4
    assert len(errors) == 2


async def test_drop_oldest() -> None:
    host = Host()
    errors = host.errors
    sub = _sub(host, pending_msgs_limit=3, overflow=Overflow.DROP_OLDEST)
    for i in range(10):
        sub._deliver(_msg(str(i).encode()))
    assert [(await sub.next_msg(1)).data for _ in range(3)] == [b"7", b"8", b"9"]
    assert sub.dropped == 7 and len(errors) == 1


async def test_overflow_error_ends_the_subscription() -> None:
    host = Host()
    errors = host.errors
    sub = _sub(host, pending_msgs_limit=1, overflow=Overflow.ERROR)
    sub._deliver(_msg(b"kept"))
    sub._deliver(_msg(b"overflow"))
    sub._deliver(_msg(b"ignored"))
    assert sub.is_closed and host.forgotten == [1] and host.unsubs == [(1, 0)]
    assert (await sub.next_msg(1)).data == b"kept"
    with pytest.raises(SlowConsumerError):
        await sub.next_msg(1)
    assert len(errors) == 1


async def test_max_msgs_ends_after_n() -> None:
    host = Host()
    sub = _sub(host, max_msgs=2)
    for i in range(4):
        sub._deliver(_msg(str(i).encode()))
    assert sub.is_closed and sub.received == 2
    assert [m.data async for m in sub.messages] == [b"0", b"1"]


async def test_listener_that_removes_itself_does_not_skip_the_next() -> None:
    host = Host()
    sub = _sub(host)
    first: list[bytes] = []
    second: list[bytes] = []
    removers: list[object] = []

    def once(msg: Msg) -> None:
        first.append(msg.data)
        remove = removers[0]
        assert callable(remove)
        remove()

    removers.append(sub.add_listener(once, lambda exc: None))
    sub.add_listener(lambda m: second.append(m.data), lambda exc: None)
    sub._deliver(_msg(b"a"))
    sub._deliver(_msg(b"b"))
    assert first == [b"a"]
    assert second == [b"a", b"b"]


async def test_listener_errors_are_reported_and_others_still_run() -> None:
    host = Host()
    errors = host.errors
    sub = _sub(host)
    got: list[bytes] = []

    def bad(msg: Msg) -> None:
        raise RuntimeError("observer failed")

    sub.add_listener(bad, lambda exc: None)
    sub.add_listener(lambda m: got.append(m.data), lambda exc: None)
    sub._deliver(_msg(b"a"))
    assert got == [b"a"]
    assert len(errors) == 1 and str(errors[0]) == "observer failed"


async def test_end_listener_is_told_once() -> None:
    host = Host()
    sub = _sub(host)
    ends: list[BaseException | None] = []
    sub.add_listener(lambda m: None, ends.append)
    sub._end(None, discard=False)
    sub._end(None, discard=True)
    assert ends == [None]


async def test_callback_task_runs_sync_and_async_callbacks() -> None:
    host = Host()
    got: list[bytes] = []

    async def cb(msg: Msg) -> None:
        await asyncio.sleep(0)
        got.append(msg.data)

    sub = _sub(host, cb=cb)
    for i in range(5):
        sub._deliver(_msg(str(i).encode()))
    sub._end(None, discard=False)
    await sub.wait_done()
    assert got == [b"0", b"1", b"2", b"3", b"4"]
    with pytest.raises(Error):
        _ = sub.messages
    with pytest.raises(BadSubscriptionError):
        await sub.next_msg(1)


async def test_discard_after_a_graceful_end_stops_the_callback() -> None:
    # A subscription being drained (ended without discard) must still be stoppable by
    # close(): the callback task is cancelled and wait_done() returns.
    host = Host()
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def cb(msg: Msg) -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    sub = _sub(host, cb=cb)
    sub._deliver(_msg())
    sub._deliver(_msg())
    await asyncio.wait_for(started.wait(), 5)
    sub._end(None, discard=False)
    waiter = asyncio.create_task(sub.wait_done())
    await asyncio.sleep(0)
    sub._end(None, discard=True)
    await asyncio.wait_for(waiter, 5)
    assert cancelled.is_set()
    assert sub.pending_msgs == 0


async def test_wait_done_from_inside_its_own_callback_returns() -> None:
    host = Host()
    done = asyncio.Event()

    async def cb(msg: Msg) -> None:
        sub._end(None, discard=False)
        await sub.wait_done()  # directly: wait_for() would run it in another task
        done.set()

    sub = _sub(host, cb=cb)
    sub._deliver(_msg())
    await asyncio.wait_for(done.wait(), 5)


async def test_future_subscription() -> None:
    host = Host()
    fut: asyncio.Future[Msg] = asyncio.get_running_loop().create_future()
    sub = _sub(host, future=fut)
    sub._deliver(_msg(b"first"))
    sub._deliver(_msg(b"second"))
    assert fut.result().data == b"first"
    assert sub.delivered == 1


async def test_future_fails_when_the_subscription_ends_first() -> None:
    host = Host()
    fut: asyncio.Future[Msg] = asyncio.get_running_loop().create_future()
    sub = _sub(host, future=fut)
    sub._end(None, discard=True)
    with pytest.raises(BadSubscriptionError):
        fut.result()


async def test_unsubscribe_checks() -> None:
    host = Host()
    sub = _sub(host)
    with pytest.raises(InvalidInputError):
        await sub.unsubscribe(-3)
    await sub.unsubscribe()
    assert sub.is_closed and host.forgotten == [1] and host.unsubs == [(1, 0)]
    with pytest.raises(BadSubscriptionError):
        await sub.unsubscribe()


async def test_a_closed_client_refuses_unsubscribe_and_next_msg_says_so() -> None:
    host = Host()
    sub = _sub(host)
    host.is_closed = True
    with pytest.raises(ConnectionClosedError):
        sub.unsubscribe_nowait()
    sub._end(None, discard=True)
    with pytest.raises(ConnectionClosedError):
        await sub.next_msg(1)


async def test_cancel_ends_once_and_keeps_an_iterators_messages_until_read() -> None:
    host = Host()
    sub = _sub(host)
    sub._deliver(_msg(b"a"))
    sub.cancel()
    sub.cancel()  # already ended: nothing more is sent
    assert host.unsubs == [(1, 0)] and host.forgotten == [1]
    assert (await sub.next_msg(1)).data == b"a"
    with pytest.raises(BadSubscriptionError):
        await sub.next_msg(1)
    errored = Subscription(host, 2, "t")
    errored.cancel(SlowConsumerError(subject="t", sid=2, dropped=1))
    with pytest.raises(SlowConsumerError):
        await errored.next_msg(1)


async def test_drops_of_a_buffer_in_front_count_on_the_subscription() -> None:
    host = Host()
    sub = _sub(host)
    sub.note_dropped(3, True)
    sub.note_dropped(2, False)
    assert sub.dropped == 5
    assert [type(e) for e in host.errors] == [SlowConsumerError]
    assert isinstance(host.errors[0], SlowConsumerError) and host.errors[0].dropped == 3


@pytest.mark.parametrize("raw_headers", [None, b"NATS/1.0\r\nKey: value\r\n\r\n"])
def test_the_readers_msg_is_the_msg_the_class_makes(raw_headers: bytes | None) -> None:
    host = Host()
    args = (host, "subject", "_INBOX.reply", b"payload", 7, raw_headers)
    made, built = Msg(*args), received_msg(*args)  # type: ignore[arg-type]  # a stand-in host
    assert type(built) is Msg
    for name in Msg.__slots__:
        assert getattr(built, name, "unset") == getattr(made, name, "unset"), name
    assert built.headers == made.headers and not built.is_acked
    assert repr(built) == repr(made)
