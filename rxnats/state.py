"""The connection lifecycle: one owner for status, closing, why it closed, and what users hear.

Theory of operation. A client starts ``DISCONNECTED`` and goes to ``CONNECTING`` for the
first connect. From ``CONNECTED`` a lost socket leads to ``RECONNECTING`` (when
reconnecting is allowed) and back to ``CONNECTED``, or to ``DISCONNECTED`` and on to
``CLOSED``. ``drain()`` walks ``CONNECTED -> DRAINING_SUBS -> DRAINING_PUBS -> CLOSED``.
``CLOSED`` ends one life of the client; ``connect()`` may start another
(``CLOSED -> CONNECTING``), as nats-py allows. The table :data:`_ALLOWED` lists every
transition; :class:`StatusCell` rejects any other.

:class:`Lifecycle` is the single place that holds the status, whether closing has begun,
why the client closed, the last error, and whether the client is usable. The client
calls one method per thing that happened (:meth:`~Lifecycle.begin_connect`,
:meth:`~Lifecycle.connected`, :meth:`~Lifecycle.lost`, :meth:`~Lifecycle.begin_close`,
:meth:`~Lifecycle.finish_close`, :meth:`~Lifecycle.report_error`); each moves the status
and emits, from that one place, the :mod:`rxnats.events` record and the user callback
that belong to it, in nats-py's order:

| what happened | events (``observe_events``) | callbacks |
|---|---|---|
| first connection up | ``Connected`` | none |
| connection lost | ``ErrorReported`` (its cause), ``Disconnected`` | ``error_cb``, ``disconnected_cb`` |
| reconnected | ``Reconnected`` | ``reconnected_cb`` |
| closed while connected | ``Disconnected``, ``Closed`` | ``disconnected_cb``, ``closed_cb`` |
| closed after a loss | ``Closed`` | ``closed_cb`` |
| first connect failed, or closed before it | ``Closed`` | none (it never connected) |

User callbacks run one at a time in the order they became due (:class:`CallbackRunner`):
a plain function is called at once when nothing is queued before it; an ``async`` one, or
anything due while another callback is still running, runs in the runner's task. What a
callback raises is logged and reported to ``error_cb``, never raised into the client.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum, IntEnum

from rxnats import events as ev
from rxnats.errors import ConnectionClosedError, ConnectionLostError, Error, SlowConsumerError

__all__ = [
    "Callback",
    "CallbackRunner",
    "Callbacks",
    "CloseReason",
    "ConnectionStatus",
    "ErrorCallback",
    "Lifecycle",
    "StatusCell",
]

log = logging.getLogger("rxnats")


class ConnectionStatus(IntEnum):
    """The client's connection status; values equal ``NATS.DISCONNECTED`` ... ``DRAINING_PUBS``."""

    DISCONNECTED = 0
    CONNECTED = 1
    CLOSED = 2
    RECONNECTING = 3
    CONNECTING = 4
    DRAINING_SUBS = 5
    DRAINING_PUBS = 6


_S = ConnectionStatus
_ALLOWED: dict[ConnectionStatus, frozenset[ConnectionStatus]] = {
    _S.DISCONNECTED: frozenset({_S.CONNECTING, _S.CLOSED}),
    _S.CONNECTING: frozenset({_S.CONNECTED, _S.DISCONNECTED, _S.CLOSED}),
    _S.CONNECTED: frozenset(
        {_S.RECONNECTING, _S.DISCONNECTED, _S.DRAINING_SUBS, _S.DRAINING_PUBS, _S.CLOSED}
    ),
    _S.RECONNECTING: frozenset({_S.CONNECTED, _S.DISCONNECTED, _S.CLOSED}),
    _S.DRAINING_SUBS: frozenset({_S.DRAINING_PUBS, _S.RECONNECTING, _S.DISCONNECTED, _S.CLOSED}),
    _S.DRAINING_PUBS: frozenset({_S.RECONNECTING, _S.DISCONNECTED, _S.CLOSED}),
    _S.CLOSED: frozenset({_S.CONNECTING}),  # connect() again: a new life
}
# A connection is up in these: closing from one of them ends that connection.
_LIVE = frozenset({_S.CONNECTED, _S.DRAINING_SUBS, _S.DRAINING_PUBS})

Listener = Callable[[ConnectionStatus], None]


class StatusCell:
    """Holds the current :class:`ConnectionStatus` and tells listeners of each change."""

    __slots__ = ("_listeners", "value")

    def __init__(self) -> None:
        self.value = ConnectionStatus.DISCONNECTED
        self._listeners: list[Listener] = []

    def set(self, new: ConnectionStatus) -> bool:
        """Move to ``new``; return False (and change nothing) when already there.

        Raises:
            RuntimeError: the transition is not allowed (a bug in rxnats, not user error).
        """
        old = self.value
        if new == old:
            return False
        if new not in _ALLOWED[old]:
            raise RuntimeError(f"illegal connection status change {old.name} -> {new.name}")
        self.value = new
        for listener in tuple(self._listeners):
            listener(new)
        return True

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` on every change; return a function that removes it."""
        self._listeners.append(listener)

        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove


class CloseReason(Enum):
    """Why a client closed."""

    CLOSED = "closed"  # close() or drain(): you closed it
    CONNECT_FAILED = "connect failed"  # the first connect() did not succeed
    CONNECTION_LOST = "connection lost"  # lost and not re-established: the network closed it


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


class Lifecycle:
    """The one owner of a client's connection lifecycle (see the module docstring)."""

    __slots__ = (
        "_closed",
        "_event_listeners",
        "_usable",
        "callbacks",
        "cell",
        "close_reason",
        "closing",
        "ever_connected",
        "last_error",
        "runner",
        "url",
    )

    def __init__(self) -> None:
        self.cell = StatusCell()
        #: close() (or a loss that ends the client) has begun; cleared by a new connect().
        self.closing = False
        #: Why the client closed (None until it did).
        self.close_reason: CloseReason | None = None
        #: The most recent error (None until one happened).
        self.last_error: Exception | None = None
        #: Whether this life reached CONNECTED at least once (closed_cb is for those).
        self.ever_connected = False
        self.callbacks = Callbacks()
        #: The URL of the live (or last) connection, without credentials.
        self.url = ""
        self.runner = CallbackRunner(self._callback_raised)
        self._event_listeners: list[Callable[[ev.ConnectionEvent], None]] = []
        self._closed: asyncio.Event | None = None
        self._usable = False

    # ------------------------------------------------------------------ reading
    @property
    def status(self) -> ConnectionStatus:
        """The current status."""
        return self.cell.value

    @property
    def usable(self) -> bool:
        """Whether the client can be used: ``connect()`` was called and closing has not begun."""
        return self._usable

    def closed_error(self) -> ConnectionClosedError:
        """The error for using the client when it is not usable.

        :class:`ConnectionLostError` when the network closed it (the connection was lost
        and not re-established), with the loss as its cause; else
        :class:`ConnectionClosedError` (you closed it, or it never connected).
        """
        if self.close_reason is CloseReason.CONNECTION_LOST:
            err = ConnectionLostError()
            err.__cause__ = self.last_error
            return err
        return ConnectionClosedError()

    async def wait_closed(self) -> None:
        """Wait until the current life of the client has reached ``CLOSED``."""
        if self.cell.value == ConnectionStatus.CLOSED:
            return
        if self._closed is None:
            self._closed = asyncio.Event()
        await self._closed.wait()

    # ------------------------------------------------------------------ listeners
    def add_status_listener(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with every status change; return a function that removes it."""
        return self.cell.add_listener(listener)

    def add_event_listener(
        self, listener: Callable[[ev.ConnectionEvent], None]
    ) -> Callable[[], None]:
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

    # ------------------------------------------------------------------ transitions
    def check_can_connect(self) -> None:
        """Raise unless ``connect()`` may start: never connected, or closed.

        Raises:
            Error: the client is connecting, connected, or still closing.
        """
        status = self.cell.value
        if status not in (ConnectionStatus.DISCONNECTED, ConnectionStatus.CLOSED) or (
            self.closing and status != ConnectionStatus.CLOSED
        ):
            raise Error("connect() called on a client that is connecting, connected or closing")

    def begin_connect(self, callbacks: Callbacks) -> None:
        """``connect()`` starts: ``DISCONNECTED`` or ``CLOSED`` -> ``CONNECTING``.

        Raises:
            Error: the client is connecting, connected, or still closing.
        """
        self.check_can_connect()
        self.callbacks = callbacks
        self.closing = False
        self.close_reason = None
        self.ever_connected = False
        self._closed = None
        self._usable = True
        self.cell.set(ConnectionStatus.CONNECTING)

    def connected(self, url: str, *, reconnect: bool) -> None:
        """A connection is up: ``Connected`` (first) or ``Reconnected`` + ``reconnected_cb``."""
        self.url = url
        self.ever_connected = True
        self.cell.set(ConnectionStatus.CONNECTED)
        if reconnect:
            self.emit(ev.Reconnected(url))
            self.call(self.callbacks.reconnected_cb)
        else:
            self.emit(ev.Connected(url))

    def connect_failed(self) -> None:
        """The first connect did not succeed: ``CONNECTING -> DISCONNECTED``; closing follows."""
        if self.cell.value == ConnectionStatus.CONNECTING:
            self.cell.set(ConnectionStatus.DISCONNECTED)

    def lost(self, cause: Exception | None, *, reported: bool, reconnect: bool) -> None:
        """The live connection was lost.

        ``cause`` goes to ``error_cb`` first unless it was ``reported`` already (the
        client dropped the connection because of it), then ``Disconnected`` and
        ``disconnected_cb``; the status becomes ``RECONNECTING`` or ``DISCONNECTED``.
        """
        if cause is not None and not reported:
            self.report_error(cause)
        self.cell.set(ConnectionStatus.RECONNECTING if reconnect else ConnectionStatus.DISCONNECTED)
        self.emit(ev.Disconnected(self.url, cause))
        self.call(self.callbacks.disconnected_cb)

    def gave_up(self) -> None:
        """Reconnecting gave up: ``RECONNECTING -> DISCONNECTED``; closing follows."""
        if self.cell.value == ConnectionStatus.RECONNECTING:
            self.cell.set(ConnectionStatus.DISCONNECTED)

    def set_status(self, status: ConnectionStatus) -> None:
        """A transition that tells nobody but the status listeners (draining)."""
        self.cell.set(status)

    def begin_close(self, reason: CloseReason) -> bool:
        """Closing begins; return False when it already had (nothing changes then)."""
        if self.closing or self.cell.value == ConnectionStatus.CLOSED:
            return False
        self.closing = True
        self._usable = False
        self.close_reason = reason
        if self._closed is None:
            self._closed = asyncio.Event()
        return True

    def finish_close(self) -> None:
        """Everything is released: ``-> CLOSED``, with the events and callbacks that belong.

        A connection that was up ends now (``Disconnected`` + ``disconnected_cb``); a
        client that connected at least once gets ``closed_cb``; every client gets the
        ``Closed`` event.
        """
        was = self.cell.value
        self._usable = False
        self.closing = True
        if self.close_reason is None:
            self.close_reason = CloseReason.CLOSED
        if was != ConnectionStatus.CLOSED:
            self.cell.set(ConnectionStatus.CLOSED)
        if was in _LIVE:
            self.emit(ev.Disconnected(self.url, None))
            self.call(self.callbacks.disconnected_cb)
        if was != ConnectionStatus.CLOSED:
            self.emit(ev.Closed(self.last_error))
            if self.ever_connected:
                self.call(self.callbacks.closed_cb)
        if self._closed is not None:
            self._closed.set()

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
