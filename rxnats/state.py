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

Making them heard is the :class:`~rxnats.reporting.Reporter`'s (callbacks one at a
time, in order; what a callback raises goes to ``error_cb``, never into the client): the
lifecycle tells its reporter, which it shares with the client.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from enum import Enum, IntEnum

from rxnats import events as ev
from rxnats.errors import ConnectionClosedError, ConnectionLostError, Error
from rxnats.reporting import Callback, CallbackRunner, Callbacks, ErrorCallback, Reporter

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
        self.value: ConnectionStatus = ConnectionStatus.DISCONNECTED
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


class Lifecycle:
    """The one owner of a client's connection lifecycle (see the module docstring)."""

    __slots__ = (
        "_closed",
        "_usable",
        "cell",
        "close_reason",
        "closing",
        "ever_connected",
        "reporter",
    )

    def __init__(self, reporter: Reporter | None = None) -> None:
        self.cell: StatusCell = StatusCell()
        #: Who makes each change heard (events, callbacks, errors): the client's reporter.
        self.reporter: Reporter = reporter or Reporter()
        #: close() (or a loss that ends the client) has begun; cleared by a new connect().
        self.closing: bool = False
        #: Why the client closed (None until it did).
        self.close_reason: CloseReason | None = None
        #: Whether this life reached CONNECTED at least once (closed_cb is for those).
        self.ever_connected: bool = False
        self._closed: asyncio.Event | None = None
        self._usable = False

    # ------------------------------------------------------------------ reading
    @property
    def url(self) -> str:
        """The URL of the live (or last) connection, without credentials."""
        return self.reporter.url

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
            err.__cause__ = self.reporter.last_error
            return err
        return ConnectionClosedError()

    def unusable_error(self) -> ConnectionClosedError | None:
        """:meth:`closed_error` once closing has begun or the client is closed, else None."""
        if self.closing or self.cell.value == ConnectionStatus.CLOSED:
            return self.closed_error()
        return None

    def lost_for_good(self) -> Exception | None:
        """:meth:`closed_error` while closing (or closed) because the connection was lost
        and not re-established, else None."""
        if self.closing and self.close_reason is CloseReason.CONNECTION_LOST:
            return self.closed_error()
        return None

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
        self.reporter.callbacks = callbacks
        self.closing = False
        self.close_reason = None
        self.ever_connected = False
        self._closed = None
        self._usable = True
        self.cell.set(ConnectionStatus.CONNECTING)

    def connected(self, url: str, *, reconnect: bool) -> None:
        """A connection is up: ``Connected`` (first) or ``Reconnected`` + ``reconnected_cb``."""
        self.reporter.url = url
        self.ever_connected = True
        self.cell.set(ConnectionStatus.CONNECTED)
        reporter = self.reporter
        if reconnect:
            reporter.emit(ev.Reconnected(url))
            reporter.call(reporter.callbacks.reconnected_cb)
        else:
            reporter.emit(ev.Connected(url))

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
        reporter = self.reporter
        if cause is not None and not reported:
            reporter.report_error(cause)
        self.cell.set(ConnectionStatus.RECONNECTING if reconnect else ConnectionStatus.DISCONNECTED)
        reporter.emit(ev.Disconnected(self.url, cause))
        reporter.call(reporter.callbacks.disconnected_cb)

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
        reporter = self.reporter
        if was in _LIVE:
            reporter.emit(ev.Disconnected(self.url, None))
            reporter.call(reporter.callbacks.disconnected_cb)
        if was != ConnectionStatus.CLOSED:
            reporter.emit(ev.Closed(reporter.last_error))
            if self.ever_connected:
                reporter.call(reporter.callbacks.closed_cb)
        if self._closed is not None:
            self._closed.set()
