"""Subscriptions: the per-subscription queue, its limits, and the three ways to consume it.

A subscription is fed by the connection's reader through ``Subscription._push``,
which never blocks and never raises: it appends to a bounded queue (or completes the
``future``, or calls an internal direct handler) and wakes one consumer. Consumers are
either the subscription's own callback task (``cb=``, sync or async callbacks alike), or
the user's ``async for msg in sub.messages`` / ``await sub.next_msg()``. A plain-function
callback is called by the reader itself; so is an ``async`` one while its task is idle,
as a step of that task (see ``Subscription._call_eager``).

Limits: the queue is an :class:`~rxnats.pending.OverflowBuffer` bounded by
``pending_msgs_limit`` messages and ``pending_bytes_limit`` payload bytes (0 or less: no
limit). When a message does not fit, the :class:`Overflow` policy decides: drop the new
message (default), drop as many of the oldest queued ones as it takes, or end the
subscription with :class:`SlowConsumerError` (see :mod:`rxnats.pending`). Drops are
counted in ``dropped`` and reported to the client's ``error_cb`` once per slow-consumer
episode (an episode ends when the queue has room again); so are the drops of an Rx
buffer in front of the subscription (:meth:`Subscription.note_dropped`).
"""

from __future__ import annotations

import asyncio
import builtins
import contextvars
import inspect
import types
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from types import CoroutineType
from typing import Any, Final

from rxnats.contract import EndListener, MessageCallback, MessageListener, SubscriptionHost
from rxnats.errors import (
    BadSubscriptionError,
    BadTimeoutError,
    Error,
    InvalidInputError,
    SlowConsumerError,
    TimeoutError,
)
from rxnats.msg import Msg
from rxnats.pending import (
    DEFAULT_PENDING_BYTES_LIMIT,
    DEFAULT_PENDING_MSGS_LIMIT,
    Offer,
    Overflow,
    OverflowBuffer,
    PendingLimits,
)
from rxnats.rx._mixins import RxSubscriptionMixin

__all__ = ["MessageCallback", "MessageIterator", "Overflow", "Subscription"]

#: nats-py's names for the default limits (:mod:`rxnats.pending` defines them).
DEFAULT_SUB_PENDING_MSGS_LIMIT = DEFAULT_PENDING_MSGS_LIMIT
DEFAULT_SUB_PENDING_BYTES_LIMIT = DEFAULT_PENDING_BYTES_LIMIT


def _msg_size(msg: Msg) -> int:
    return len(msg.data)


# Running a coroutine callback on the reader, as its own task's step (see
# Subscription._call_eager), needs to make that task the current one meanwhile:
# asyncio's own functions for it, which eager tasks (Python 3.12+) use too. Without
# them every message goes through the queue and the task.
try:
    from asyncio.tasks import _enter_task, _leave_task
except ImportError:  # pragma: no cover - every CPython from 3.11 to 3.14 has them
    _EAGER = False
else:
    _EAGER = True

#: What the callback driver yields when it is done with a message and waits for the next.
_IDLE: Final = object()


async def _awaited(result: Awaitable[object]) -> None:
    await result


@types.coroutine
def _callback_driver(
    cb: MessageCallback, report: Callable[[Exception], None]
) -> Generator[object, Msg, None]:
    """A subscription's callbacks, one message at a time: send it a message, and it
    yields :data:`_IDLE` when the callback is done with it, or what the callback awaits
    (a future) when it suspends; sending that the outcome resumes the callback.

    One long-lived generator per subscription: the reader and the callback task both
    drive it, so the callback's coroutine runs by ``yield from`` and finishing it raises
    no ``StopIteration``. What a callback raises goes to ``report`` (``error_cb``);
    ``CancelledError`` (and ``KeyboardInterrupt``, ``SystemExit``) end the driver.
    """
    msg = yield _IDLE
    while True:
        try:
            result = cb(msg)
            if type(result) is CoroutineType:
                yield from result  # type: ignore[misc]  # allowed: this is a types.coroutine
            elif result is not None and inspect.isawaitable(result):
                yield from _awaited(result)
        except Exception as exc:
            report(exc)
        msg = yield _IDLE


@types.coroutine
def _resume(
    driver: Generator[object, Any, None], out: object, exc: BaseException | None = None
) -> Generator[object, object, None]:
    """Drive ``driver`` from the callback task: it suspended yielding ``out`` (given to
    the task to wait on, as an awaited future is) and runs until it is idle again.

    ``exc``: throw it into the callback first (the task was cancelled before it could
    take over).
    """
    if exc is not None:
        if isinstance(out, asyncio.Future):
            out.cancel()  # as Task.cancel() cancels the future a task waits on
        out = driver.throw(exc)
    while out is not _IDLE:
        try:
            value = yield out
        except GeneratorExit:
            driver.close()
            raise
        except BaseException as err:  # the task's cancellation included: the callback's
            out = driver.throw(err)
        else:
            out = driver.send(value)


def _is_async_callable(cb: object) -> bool:
    """Whether calling ``cb`` makes a coroutine (functions, partials, ``async __call__``)."""
    return inspect.iscoroutinefunction(cb) or inspect.iscoroutinefunction(
        getattr(cb, "__call__", None)  # noqa: B004 - the method itself is inspected
    )


class MessageIterator(AsyncIterator[Msg]):
    """``sub.messages``: an async iterator of the subscription's messages.

    It is also callable (``sub.messages()`` returns itself) so both spellings work. The
    iteration ends when the subscription is unsubscribed, drained (after the queued
    messages), reaches ``max_msgs``, or the client closes.
    """

    __slots__ = ("_sub",)

    def __init__(self, sub: Subscription) -> None:
        self._sub = sub

    def __call__(self) -> MessageIterator:
        return self

    def __aiter__(self) -> MessageIterator:
        return self

    async def __anext__(self) -> Msg:
        msg = await self._sub._next(None)
        if msg is None:
            raise StopAsyncIteration
        return msg


class Subscription(RxSubscriptionMixin):
    """A subscription to a subject (optionally in a queue group)."""

    def __init__(
        self,
        client: SubscriptionHost,
        sid: int,
        subject: str,
        queue: str = "",
        cb: MessageCallback | None = None,
        future: asyncio.Future[Msg] | None = None,
        max_msgs: int = 0,
        pending_msgs_limit: int = DEFAULT_PENDING_MSGS_LIMIT,
        pending_bytes_limit: int = DEFAULT_PENDING_BYTES_LIMIT,
        overflow: Overflow = Overflow.DROP_NEWEST,
        direct: Callable[[Msg], None] | None = None,
    ) -> None:
        self._client = client
        self._sid = sid
        self._subject = subject
        self._queue = queue
        self._cb = cb
        # A plain-function callback runs inline, on the reader, as each message arrives
        # (no queue, no task: nothing to wait for); a coroutine function runs in the
        # subscription's own task. See _call_inline for callbacks that turn out async.
        self._inline_cb: Callable[[Msg], object] | None = (
            cb if cb is not None and not _is_async_callable(cb) else None
        )
        self._future = future
        self._direct = direct
        self._max_msgs = max_msgs
        self._limits = PendingLimits(pending_msgs_limit, pending_bytes_limit, overflow)
        self._pending: OverflowBuffer[Msg] = OverflowBuffer.of(
            self._limits, size=_msg_size, on_drop=self.note_dropped
        )
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._received = 0  # counted on arrival: drives max_msgs
        self._delivered = 0  # handed to the callback / iterator
        self._dropped = 0  # by this queue or an Rx buffer in front of it
        self._closed = False  # no more messages will be queued
        self._unsubscribed = False  # unsubscribe() or drain() ended it
        self._error: BaseException | None = None
        self._task: asyncio.Task[None] | None = None
        # A coroutine callback's task, while it waits for messages with nothing queued, is
        # "idle": the reader then runs the next callback itself, as a step of that task
        # (_call_eager). What the callback awaits when it suspends there is handed to the
        # task (_handoff), which takes over from it.
        self._idle = False
        self._handoff: object = _IDLE  # _IDLE: nothing handed over (None is a bare yield)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._run_in: Callable[..., object] = _no_context
        self._driver_send: Callable[[Msg], object] = _no_driver
        self._listeners: list[MessageListener] = []
        self._end_listeners: list[EndListener] = []
        self._messages = MessageIterator(self)
        # What the reader calls per message: the lean _enqueue_plain while nothing but the
        # queue is involved, the general _deliver otherwise (see _choose_push).
        self._push: Callable[[Msg], None] = self._deliver
        self._choose_push()

    # -- public API -------------------------------------------------------------------
    @property
    def sid(self) -> int:
        """The subscription id used on the wire."""
        return self._sid

    @property
    def subject(self) -> str:
        """The subject (possibly with wildcards) subscribed to."""
        return self._subject

    @property
    def queue(self) -> str:
        """The queue group, or ``""``."""
        return self._queue

    @property
    def max_msgs(self) -> int:
        """Auto-unsubscribe after this many messages (0: never)."""
        return self._max_msgs

    @property
    def pending_msgs(self) -> int:
        """Messages received and waiting for the callback or iterator."""
        return len(self._pending.items)

    @property
    def pending_bytes(self) -> int:
        """Payload bytes of :attr:`pending_msgs`."""
        return self._pending.nbytes

    @property
    def limits(self) -> PendingLimits:
        """The pending limits and overflow policy it was made with (0 or less: no limit)."""
        return self._limits

    @property
    def delivered(self) -> int:
        """Messages handed to the callback, iterator, future or observers."""
        return self._delivered

    @property
    def received(self) -> int:
        """Messages received from the server (dropped ones included)."""
        return self._received

    @property
    def dropped(self) -> int:
        """Messages dropped because the pending limits were reached."""
        return self._dropped

    @property
    def is_closed(self) -> bool:
        """Whether the subscription will receive no more messages."""
        return self._closed

    @property
    def messages(self) -> MessageIterator:
        """Async iterator over messages (``sub.messages`` and ``sub.messages()`` both work).

        Raises (on iteration):
            Error: a subscription with a callback has no iterator.
        """
        if self._cb is not None:
            raise Error("subscription has a callback: it cannot be iterated")
        return self._messages

    async def next_msg(self, timeout: float | None = 1.0) -> Msg:
        """Wait for the next message.

        Messages received before the subscription ended (unsubscribed, drained,
        ``max_msgs`` reached) are still returned, then it raises.

        Raises:
            TimeoutError: none arrived within ``timeout`` seconds (``None``: wait forever).
            BadTimeoutError: ``timeout`` is zero or negative.
            ConnectionClosedError: the client is closed, or closed while this waited
                (:class:`ConnectionLostError` when the network closed it).
            BadSubscriptionError: the subscription ended and nothing is left (or it has
                a callback).
            SlowConsumerError: the subscription ended under ``Overflow.ERROR``.

        Cancelling it loses no message.
        """
        if self._cb is not None:
            raise BadSubscriptionError("subscription has a callback: use the callback")
        if timeout is not None and not timeout > 0:
            raise BadTimeoutError(f"next_msg timeout must be positive or None, not {timeout!r}")
        msg = await self._next(timeout)
        if msg is None:
            self._client.check_open()
            raise BadSubscriptionError(f"subscription to {self._subject!r} has ended")
        return msg

    async def unsubscribe(self, limit: int = 0) -> None:
        """Stop the subscription; with ``limit``, after that many messages in total.

        A callback subscription stops at once and its queued messages are dropped. An
        iterator or ``next_msg()`` subscription receives nothing more from the server,
        but what it already received can still be read (then the iteration ends), as in
        nats-py; use :meth:`drain` to wait for a callback to process its queue instead.
        On a subscription that already ended on its own (``max_msgs`` reached, a slow
        consumer under ``Overflow.ERROR``) it does nothing. It does what
        :meth:`unsubscribe_nowait` does.

        Raises:
            BadSubscriptionError: it was already unsubscribed or drained.
            ConnectionClosedError: the client is closed.
            InvalidInputError: ``limit`` is negative.
        """
        self.unsubscribe_nowait(limit)

    def unsubscribe_nowait(self, limit: int = 0) -> None:
        """Stop the subscription at once, without awaiting anything (as :meth:`unsubscribe`).

        For plain-function callbacks, which the reader calls as each message arrives:
        after ``sub.unsubscribe_nowait()`` the callback gets no other message, not even
        one that came in the same socket read. With ``limit``, it stops after that many
        messages in total.

        Raises:
            BadSubscriptionError: it was already unsubscribed or drained.
            ConnectionClosedError: the client is closed.
            InvalidInputError: ``limit`` is negative.
        """
        self._client.check_open()
        if self._unsubscribed:
            raise BadSubscriptionError(f"subscription to {self._subject!r} was already unsubscribed")
        if not isinstance(limit, int) or limit < 0:
            raise InvalidInputError(f"unsubscribe limit must be an int >= 0, not {limit!r}")
        if self._closed:
            return  # it ended on its own: the server forgot it already
        if limit > 0 and self._received < limit:
            self._max_msgs = limit
            self._choose_push()
            self._client.send_unsub(self._sid, limit)
            return
        self._unsubscribed = True
        self.cancel()

    async def drain(self) -> None:
        """Unsubscribe, then deliver every message already received, then end.

        Raises:
            BadSubscriptionError: it was already unsubscribed or drained, or ended.
            ConnectionClosedError: the client is closed.

        Cancelling it stops waiting; the subscription stays unsubscribed.
        """
        self._client.check_open()
        if self._closed:
            raise BadSubscriptionError(f"subscription to {self._subject!r} has already ended")
        self._unsubscribed = True
        self._client.send_unsub(self._sid, 0)
        # After the PONG no more messages for this sid can arrive.
        try:
            await self._client.flush()
        finally:
            self._finish(None)
        await self.wait_done()

    def cancel(self, error: Exception | None = None) -> None:
        """End the subscription now, unless it already ended.

        UNSUB goes out (when connected) and no more messages are delivered. Without
        ``error`` it ends as :meth:`unsubscribe` does: a callback's queued messages are
        dropped, an iterator or ``next_msg()`` still gets what was received. With one,
        consumers get everything queued and then ``error`` (raised to the iterator,
        given to observers): :class:`SlowConsumerError` is how the ``ERROR`` overflow
        policy ends a subscription. Unlike :meth:`unsubscribe` it never raises and does
        not mark the subscription unsubscribed: it is how an owner (the client, the Rx
        layer) stops a subscription.
        """
        if self._closed:
            return
        self._client.send_unsub(self._sid, 0)
        self._finish(error, discard=error is None and self._cb is not None)

    async def wait_done(self) -> None:
        """Wait until every queued message was delivered and the subscription ended.

        Called from this subscription's own callback it returns at once (the callback
        cannot wait for itself to finish).
        """
        if self._task is not None:
            if self._task is asyncio.current_task():
                return
            try:
                await asyncio.shield(self._task)
            except asyncio.CancelledError:
                # The callback task was cancelled (the client closed): done waiting. A
                # cancellation of *this* waiter must still propagate.
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise
            return
        while self._pending.items and not self._client.closed:
            fut = asyncio.get_running_loop().create_future()
            self._waiters.append(fut)
            try:
                await fut
            finally:
                if fut in self._waiters:
                    self._waiters.remove(fut)

    def __repr__(self) -> str:
        queue = f" queue={self._queue!r}" if self._queue else ""
        state = " closed" if self._closed else ""
        return f"<Subscription sid={self._sid} subject={self._subject!r}{queue}{state}>"

    # -- hooks for the Rx layer --------------------------------------------------------
    def add_listener(self, on_msg: MessageListener, on_end: EndListener) -> Callable[[], None]:
        """Also hand each message (synchronously, on the loop) to ``on_msg``.

        ``on_end`` is called once when the subscription ends, with the error that ended it
        or ``None``. Returns a function that removes both. Listeners see messages as they
        arrive, before the queue; an exception in one is reported and does not stop the
        others.
        """
        self._listeners.append(on_msg)
        self._end_listeners.append(on_end)
        self._choose_push()
        if self._closed:
            on_end(self._error)

        def remove() -> None:
            if on_msg in self._listeners:
                self._listeners.remove(on_msg)
                self._choose_push()
            if on_end in self._end_listeners:
                self._end_listeners.remove(on_end)

        return remove

    # -- driven by the client ----------------------------------------------------------
    def _start(self, first: Awaitable[object] | None = None) -> None:
        if self._cb is not None and self._inline_cb is None and self._task is None:
            loop = self._loop = asyncio.get_running_loop()
            # The task's context is kept: callbacks the reader runs run in it too.
            context = contextvars.copy_context()
            self._run_in = context.run
            self._task = loop.create_task(
                self._run_callbacks(first), name=f"rxnats-sub-{self._sid}", context=context
            )

    def _call_inline(self, msg: Msg) -> None:
        """The reader's hot path for a plain-function callback: call it now.

        The same as ``_received += 1`` then :meth:`_run_inline`, written out: one call
        less per message.
        """
        self._received += 1
        self._delivered += 1
        try:
            result = self._inline_cb(msg)  # type: ignore[misc]  # set whenever this is _push
        except Exception as exc:
            self._client.report_callback_error(exc)
            return
        if result is not None:
            self._became_async(result)

    def _run_inline(self, msg: Msg) -> None:
        self._delivered += 1
        cb = self._inline_cb
        assert cb is not None
        try:
            result = cb(msg)
        except Exception as exc:
            self._client.report_callback_error(exc)
            return
        if result is not None:
            self._became_async(result)

    def _became_async(self, result: object) -> None:
        if inspect.isawaitable(result):
            # A plain function that returns an awaitable (``lambda m: m.respond(b"")``):
            # from now on the callback runs in its task, which awaits this result first,
            # so the order of messages is kept. (``msg.respond_nowait()`` answers from a
            # plain function without this.)
            self._inline_cb = None
            self._start(result)
            self._choose_push()

    def _choose_push(self) -> None:
        plain = (
            not self._closed
            and not self._listeners
            and self._direct is None
            and self._future is None
            and self._max_msgs == 0
        )
        if plain:
            if self._inline_cb is not None:
                self._push = self._call_inline
            elif self._cb is not None and _EAGER:
                self._push = self._call_eager
            else:
                self._push = self._enqueue_plain
        elif (
            len(self._listeners) == 1
            and not self._closed
            and self._cb is None
            and self._direct is None
            and self._future is None
            and self._max_msgs == 0
        ):
            self._push = self._to_only_listener
        elif (
            self._direct is not None
            and not self._listeners
            and not self._closed
            and self._future is None
            and self._max_msgs == 0
        ):
            self._push = self._to_direct
        else:
            self._push = self._deliver

    def _to_direct(self, msg: Msg) -> None:
        """The reader's hot path for a client-internal subscription (the request inbox):
        what :meth:`_deliver` does for it, without the tests that cannot apply."""
        self._received += 1
        self._delivered += 1
        self._direct(msg)  # type: ignore[misc]  # set whenever this is _push

    def _to_only_listener(self, msg: Msg) -> None:
        """The reader's hot path for a subscription observed by exactly one listener."""
        self._received += 1
        self._delivered += 1
        try:
            self._listeners[0](msg)
        except Exception as exc:  # an observer must not hurt the reader
            self._client.report_callback_error(exc)

    def _enqueue_plain(self, msg: Msg) -> None:
        """The reader's hot path for a subscription that only queues (no limits hit).

        The queue's room is tested inline (what ``OverflowBuffer.offer`` does first); a
        full queue, or one in a slow-consumer episode, goes through :meth:`_enqueue`.
        """
        self._received += 1
        queue = self._pending
        size = len(msg.data)
        if not queue.slow and len(queue.items) < queue.max_items and queue.nbytes + size <= queue.max_bytes:
            queue.items.append(msg)
            queue.nbytes += size
            if self._waiters:
                self._wake_one()
            return
        self._enqueue(msg)

    def _call_eager(self, msg: Msg) -> None:
        """The reader's hot path for a coroutine callback (``async def``).

        While the callback task is idle (nothing queued, no callback running) the reader
        runs the callback itself, as a step of that task: the task is the current one
        and its context applies, so the callback cannot tell the difference, and a
        callback that completes without suspending (``await msg.respond(...)`` with room
        in the socket) costs no task wake-up, no loop turn. One that suspends is handed
        to the task (what it awaits is passed on), and until the task is idle again the
        messages that follow are queued, so callbacks still run one at a time, in order.
        Otherwise it is :meth:`_enqueue_plain`.
        """
        if self._idle:
            loop = self._loop
            task = self._task
            try:
                _enter_task(loop, task)  # type: ignore[arg-type]  # set whenever _idle is
            except RuntimeError:  # called inside some task, not by the reader: queue it
                self._enqueue_plain(msg)
                return
            self._idle = False
            self._received += 1
            self._delivered += 1
            try:
                out = self._run_in(self._driver_send, msg)
            except asyncio.CancelledError:
                # The callback raised it without awaiting: its task ends, as it would
                # have had the task run it.
                task.cancel()  # type: ignore[union-attr]  # set whenever _idle is
                return
            except BaseException:  # KeyboardInterrupt, SystemExit: the task ends too
                task.cancel()  # type: ignore[union-attr]  # set whenever _idle is
                raise
            finally:
                _leave_task(loop, task)  # type: ignore[arg-type]  # set whenever _idle is
            if out is _IDLE:
                # Idle again, unless the callback woke the task meanwhile (it ended the
                # subscription, say): its waiter is then gone.
                self._idle = bool(self._waiters)
                return
            self._handoff = out
            self._wake_one()
            return
        self._enqueue_plain(msg)

    def _wake_one(self) -> None:
        self._idle = False
        waiters = self._waiters
        while waiters:
            fut = waiters.popleft()
            if not fut.done():
                fut.set_result(None)
                return

    def _deliver(self, msg: Msg) -> None:
        """Called by the reader for each message; never blocks, never raises."""
        if self._closed:
            return
        self._received += 1
        last = self._max_msgs > 0 and self._received >= self._max_msgs
        if self._listeners:
            # A copy: a listener may remove itself (an Rx ``take(1)`` disposing).
            for listener in tuple(self._listeners):
                try:
                    listener(msg)
                except Exception as exc:  # one observer must not hurt the others
                    self._client.report_callback_error(exc)
            if self._closed:  # a listener ended the subscription: queue nothing more
                return
        if self._direct is not None:
            self._delivered += 1
            self._direct(msg)
        elif self._future is not None:
            if not self._future.done():
                self._delivered += 1
                self._future.set_result(msg)
        elif self._inline_cb is not None:
            self._run_inline(msg)
        elif self._cb is not None or not self._listeners:
            self._enqueue(msg)
        else:
            self._delivered += 1
        if last:  # the server stops after max_msgs on its own: no UNSUB
            self._finish(None)

    def _enqueue(self, msg: Msg) -> None:
        outcome = self._pending.offer(msg)  # drops are told to note_dropped
        if outcome is Offer.DROPPED_NEWEST:
            return
        if outcome is Offer.REJECTED:
            self._dropped += 1
            err = SlowConsumerError(subject=self._subject, sid=self._sid, dropped=self._dropped)
            self._client.report_error(err)
            self.cancel(err)
            return
        self._wake_one()

    def note_dropped(self, count: int, new_episode: bool) -> None:
        """Count ``count`` messages dropped by this subscription's queue or a buffer in
        front of it (an Rx observer's); a ``new_episode`` of drops is reported to the
        client's ``error_cb`` as a :class:`SlowConsumerError` with the total so far."""
        self._dropped += count
        if new_episode:
            self._client.report_error(
                SlowConsumerError(subject=self._subject, sid=self._sid, dropped=self._dropped)
            )

    def _finish(self, error: BaseException | None, *, discard: bool = False) -> None:
        """The server sends nothing more for this sid: forget it, then :meth:`_end`."""
        self._client.forget(self._sid)
        self._end(error, discard=discard)

    def _end(self, error: BaseException | None, *, discard: bool) -> None:
        """No more messages will come: finish consumers (after the queue, unless discard).

        ``discard`` also applies to a subscription that already ended without it (one
        being drained, or past ``max_msgs``, still working through its queue): closing
        the client must not leave its callback task running.
        """
        if discard:
            self._pending.clear()
            if self._task is not None and asyncio.current_task() is not self._task:
                self._task.cancel()
        if self._closed:
            if discard:
                self._wake_drainers()
            return
        self._closed = True
        self._idle = False
        self._push = self._deliver
        self._error = error
        if self._future is not None and not self._future.done():
            self._future.set_exception(
                error or BadSubscriptionError(f"subscription to {self._subject!r} ended")
            )
        for fut in self._waiters:
            if not fut.done():
                fut.set_result(None)
        self._waiters.clear()
        for on_end in tuple(self._end_listeners):
            try:
                on_end(error)
            except Exception as exc:
                self._client.report_callback_error(exc)

    async def _next(self, timeout: float | None) -> Msg | None:
        while not self._pending.items:
            if self._closed:
                if isinstance(self._error, SlowConsumerError):
                    raise self._error
                return None
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(fut)
            try:
                if timeout is None:
                    await fut
                else:
                    async with asyncio.timeout(timeout):
                        await fut
            except builtins.TimeoutError as exc:
                raise TimeoutError(
                    f"no message on {self._subject!r} within {timeout} s"
                ) from exc
            finally:
                if not fut.done():
                    fut.cancel()
        queue = self._pending
        msg = queue.items.popleft()
        queue.nbytes -= len(msg.data)
        self._delivered += 1
        if not queue.items:
            self._wake_drainers()
        return msg

    def _wake_drainers(self) -> None:
        for fut in self._waiters:
            if not fut.done():
                fut.set_result(None)

    async def _run_callbacks(self, first: Awaitable[object] | None = None) -> None:
        cb = self._cb
        assert cb is not None
        queue = self._pending
        pending = queue.items
        loop = asyncio.get_running_loop()
        driver = _callback_driver(cb, self._client.report_callback_error)
        send = driver.send
        send(None)  # type: ignore[arg-type]  # to its first yield
        self._driver_send = send
        if first is not None:
            try:
                await first
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._client.report_callback_error(exc)
        try:
            while True:
                while pending:
                    msg = pending.popleft()
                    queue.nbytes -= len(msg.data)
                    self._delivered += 1
                    out = send(msg)
                    if out is not _IDLE:
                        await _resume(driver, out)
                if self._closed:
                    return
                fut: asyncio.Future[None] = loop.create_future()
                self._waiters.append(fut)
                if _EAGER:
                    # The queue is empty: a slow-consumer episode is over, and the reader
                    # may run the next callback (_call_eager).
                    queue.slow = False
                    self._idle = True
                try:
                    await fut
                except asyncio.CancelledError as exc:
                    self._idle = False
                    out = self._handoff
                    if out is _IDLE:
                        raise
                    # Cancelled just as the reader handed a suspended callback over:
                    # the callback gets the cancellation, as it would have in the task.
                    self._handoff = _IDLE
                    await _resume(driver, out, exc)
                    continue
                self._idle = False
                out = self._handoff
                if out is not _IDLE:
                    self._handoff = _IDLE
                    await _resume(driver, out)
        finally:
            self._idle = False
            driver.close()


def _no_context(fn: Callable[[Msg], object], msg: Msg) -> object:  # pragma: no cover
    raise AssertionError("no callback task")


def _no_driver(msg: Msg) -> object:  # pragma: no cover
    raise AssertionError("no callback task")
