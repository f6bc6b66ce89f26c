"""What users hear from a client, and the tasks their code runs in: one owner, the Reporter.

A client tells users about three kinds of things: lifecycle changes (the ``Connected``
... ``Closed`` events of :mod:`rxnats.events`, and the ``*_cb`` callbacks of
``connect()``), errors that do not stop it (``error_cb`` and an ``ErrorReported`` or
``SlowConsumer`` event), and what a user's callback raised (``error_cb`` again, never
raised into the client). :class:`Reporter` owns all of it: the callbacks, the event
listeners, the last error, the :class:`CallbackRunner` that runs callbacks, and the
background tasks the client starts for them (a close begun from a callback). The
lifecycle (:mod:`rxnats.state`) decides *what* happened; the reporter makes it heard.

User callbacks run one at a time in the order they became due (:class:`CallbackRunner`):
a plain function is called at once when nothing is queued before it; an ``async`` one, or
anything due while another callback is still running, runs in the runner's task. What a
callback raises is logged and reported to ``error_cb``, never raised into the client.
An event listener that raises is logged and kept.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass

from rxnats import events as ev
from rxnats.errors import SlowConsumerError

__all__ = ["Callback", "CallbackRunner", "Callbacks", "ErrorCallback", "EventListener", "Reporter"]

log: logging.Logger = logging.getLogger("rxnats")

EventListener = Callable[[ev.ConnectionEvent], None]


#: ``error_cb``: told of each error that does not stop the client (plain or ``async``).
ErrorCallback = Callable[[Exception], Awaitable[None] | None]
#: ``closed_cb``, ``disconnected_cb``, ``reconnected_cb``, ...: plain or ``async``.
Callback = Callable[[], Awaitable[None] | None]


@dataclass(frozen=True, slots=True)
class Callbacks:
    """The user's lifecycle callbacks (``connect()`` options); each plain or ``async``."""

    error_cb: ErrorCallback | None = None
    disconnected_cb: Callback | None = None
    closed_cb: Callback | None = None
    reconnected_cb: Callback | None = None
    discovered_server_cb: Callback | None = None
    lame_duck_mode_cb: Callback | None = None


class CallbackRunner:
    """Runs user callbacks one at a time, each finished before the next starts.

    A callback due while nothing else is queued is called at once (a plain function then
    runs synchronously, as before any queueing existed); if it returns an awaitable, that
    is awaited in the runner's task, and callbacks due meanwhile are queued behind it.
    ``on_raise(callback, exc)`` is told of every exception a callback raises.
    """

    __slots__ = ("_on_raise", "_queue", "_task")

    def __init__(self, on_raise: Callable[[object, Exception], None]) -> None:
        self._on_raise = on_raise
        # Either a call still to make, or the awaitable of a call already made.
        self._queue: deque[tuple[Callable[..., object], tuple[object, ...]] | Awaitable[object]] = (
            deque()
        )
        self._task: asyncio.Task[None] | None = None

    @property
    def task(self) -> asyncio.Task[None] | None:
        """The task running queued callbacks, while there is one."""
        return self._task

    def call(self, cb: Callable[..., object], *args: object) -> None:
        """Call ``cb(*args)`` now if nothing is queued, else after what is."""
        if self._task is not None:
            self._queue.append((cb, args))
            return
        result = self._invoke(cb, args)
        if result is not None:
            self._queue.append(result)
            if self._task is None:  # (the call may have queued a callback of its own)
                self._task = asyncio.get_running_loop().create_task(
                    self._run(), name="rxnats-callbacks"
                )

    def _invoke(self, cb: Callable[..., object], args: tuple[object, ...]) -> Awaitable[object] | None:
        try:
            result = cb(*args)
        except Exception as exc:
            self._on_raise(cb, exc)
            return None
        if result is not None and inspect.isawaitable(result):
            return _guarded(cb, result, self._on_raise)
        return None

    async def _run(self) -> None:
        try:
            queue = self._queue
            while queue:
                item = queue.popleft()
                if isinstance(item, tuple):
                    awaitable = self._invoke(*item)
                    if awaitable is None:
                        continue
                else:
                    awaitable = item
                await awaitable
        finally:
            self._task = None

    async def wait_idle(self, timeout: float, caller: asyncio.Task[object] | None) -> None:
        """Wait (at most ``timeout`` s) for every queued callback; cancel what is left.

        Called from a callback itself (``caller`` is the runner's task) it returns at
        once: a callback cannot wait for itself. Cancelling it stops the wait, not the
        callbacks.
        """
        task = self._task
        if task is None or task is caller:
            return
        _, pending = await asyncio.wait([task], timeout=timeout)
        if pending:
            log.warning("rxnats: callbacks still running after %s s; cancelling them", timeout)
            self._queue.clear()
            task.cancel()
            await asyncio.wait([task], timeout=timeout)


async def _guarded(
    cb: object, awaitable: Awaitable[object], on_raise: Callable[[object, Exception], None]
) -> None:
    try:
        await awaitable
    except Exception as exc:
        on_raise(cb, exc)


class Reporter:
    """The one owner of what users hear (see the module docstring)."""

    __slots__ = ("_event_listeners", "_tasks", "callbacks", "last_error", "runner", "url")

    def __init__(self) -> None:
        #: The user's callbacks of the current life (``connect()`` sets them).
        self.callbacks: Callbacks = Callbacks()
        #: The URL of the live (or last) connection, without credentials (for the log).
        self.url: str = ""
        #: The most recent error reported (None until one was).
        self.last_error: Exception | None = None
        self.runner: CallbackRunner = CallbackRunner(self._callback_raised)
        self._event_listeners: list[EventListener] = []
        self._tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ events
    def add_event_listener(self, listener: EventListener) -> Callable[[], None]:
        """Call ``listener`` with every event; return a function that removes it."""
        self._event_listeners.append(listener)

        def remove() -> None:
            if listener in self._event_listeners:
                self._event_listeners.remove(listener)

        return remove

    def emit(self, event: ev.ConnectionEvent) -> None:
        """Tell the event listeners; one that raises is logged and kept."""
        for listener in tuple(self._event_listeners):
            try:
                listener(event)
            except Exception:
                log.exception("rxnats: event listener %r raised", listener)

    # ------------------------------------------------------------------ errors and callbacks
    def report_error(self, err: Exception, *, record: bool = True) -> None:
        """Tell the event listeners and ``error_cb`` (or the log) about ``err``.

        ``record`` makes it :attr:`last_error` (errors a user callback raised are not:
        they say nothing about the connection).
        """
        if record:
            self.last_error = err
        if isinstance(err, SlowConsumerError):
            self.emit(ev.SlowConsumer(err.subject, err.sid, err.dropped))
        else:
            self.emit(ev.ErrorReported(err))
        cb = self.callbacks.error_cb
        if cb is None:
            log.warning("rxnats: %s: %s", type(err).__name__, err, extra=self._log_fields(err))
            return
        self.call(cb, err)

    def _log_fields(self, err: Exception) -> dict[str, object]:
        """The ``extra`` of a log record about ``err`` (see docs/observability.md)."""
        fields: dict[str, object] = {"rxnats_error": type(err).__name__, "rxnats_url": self.url}
        if isinstance(err, SlowConsumerError):
            fields.update(rxnats_subject=err.subject, rxnats_sid=err.sid, rxnats_dropped=err.dropped)
        return fields

    def call(self, cb: Callable[..., object] | None, *args: object) -> None:
        """Run a user callback in its turn (see :class:`CallbackRunner`)."""
        if cb is not None:
            self.runner.call(cb, *args)

    def _callback_raised(self, cb: object, exc: Exception) -> None:
        # A user's bug must not stop the client: log it with its traceback and tell
        # error_cb and the event listeners, then go on. An error_cb that raises (or
        # raises while reporting its own error) is only logged: no loop.
        log.error(
            "rxnats: callback %r raised",
            cb,
            exc_info=exc,
            extra={
                **self._log_fields(exc),
                "rxnats_callback": getattr(cb, "__qualname__", type(cb).__qualname__),
            },
        )
        if cb is self.callbacks.error_cb:
            return
        if self.callbacks.error_cb is None:
            self.emit(ev.ErrorReported(exc))  # logged just above: no second log line
        else:
            self.report_error(exc, record=False)

    # ------------------------------------------------------------------ tasks
    def spawn(self, coro: Coroutine[object, object, None], name: str) -> None:
        """Run ``coro`` in a task the reporter owns: what it raises is logged, and
        :meth:`settle` waits for it (or cancels it)."""

        async def run() -> None:
            try:
                await coro
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("rxnats: %s failed", name)

        task = asyncio.get_running_loop().create_task(run(), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def settle(
        self,
        timeout: float,
        caller: asyncio.Task[object] | None,
        others: Iterable[asyncio.Task[None]] = (),
    ) -> None:
        """Wait (``timeout`` s at most) for the callbacks, the reporter's tasks and
        ``others`` (subscription callback tasks); cancel those still running after it.

        ``caller`` (the task settling, maybe a callback itself) is never waited for.
        Cancelling it stops the wait, not the tasks.
        """
        tasks = [t for t in (*self._tasks, *others) if t is not caller and not t.done()]

        async def reap() -> None:
            if tasks:
                _, still = await asyncio.wait(tasks, timeout=timeout)
                for task in still:
                    task.cancel()

        await asyncio.gather(reap(), self.runner.wait_idle(timeout, caller))
