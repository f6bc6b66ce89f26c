"""Connection status and connection events as observables.

``observe_status`` behaves like a ``BehaviorSubject`` per observer: the current status at
once, then each change (the :class:`~rxnats.state.Lifecycle` never repeats a value), and
completion after ``CLOSED``. ``observe_events`` is hot: an observer sees the events that
happen while it is subscribed, and the stream completes after the ``Closed`` event.

Both are fed synchronously by the client on the event loop. Each observer call is
guarded: an exception goes to the client's error reporting (``error_cb`` and an
``ErrorReported`` event), never into the client's state machine or to other observers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import reactivex
from reactivex import Observable, abc
from reactivex.disposable import Disposable

from rxnats import events as ev
from rxnats.contract import RxHost
from rxnats.state import ConnectionStatus

__all__ = ["observe_events", "observe_status"]

log: logging.Logger = logging.getLogger("rxnats.rx")


class _Guard:
    """Calls observer methods and reports their exceptions, never recursively."""

    __slots__ = ("_busy", "_client")

    def __init__(self, client: RxHost) -> None:
        self._client = client
        self._busy = False

    def __call__(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception as exc:
            if self._busy:
                # Reporting emits an ErrorReported event; if this observer fails on that
                # too, log instead of looping.
                log.exception("rxnats: observer failed while its own error was reported")
                return
            self._busy = True
            try:
                self._client.report_error(exc)
            finally:
                self._busy = False


def observe_status(client: RxHost) -> Observable[ConnectionStatus]:
    """The client's status: current value at once, then changes; completes after CLOSED."""

    def subscribe(
        observer: abc.ObserverBase[ConnectionStatus],
        scheduler: abc.SchedulerBase | None = None,
    ) -> abc.DisposableBase:
        guard = _Guard(client)
        current = client.status
        guard(lambda: observer.on_next(current))
        if current == ConnectionStatus.CLOSED:
            guard(observer.on_completed)
            return Disposable()
        remove: Callable[[], None] | None = None

        def changed(status: ConnectionStatus) -> None:
            guard(lambda: observer.on_next(status))
            if status == ConnectionStatus.CLOSED:
                if remove is not None:
                    remove()
                guard(observer.on_completed)

        remove = client.add_status_listener(changed)
        return Disposable(remove)

    return reactivex.create(subscribe)


def observe_events(client: RxHost) -> Observable[ev.ConnectionEvent]:
    """The client's events while subscribed (hot); completes after the ``Closed`` event."""

    def subscribe(
        observer: abc.ObserverBase[ev.ConnectionEvent],
        scheduler: abc.SchedulerBase | None = None,
    ) -> abc.DisposableBase:
        guard = _Guard(client)
        if client.status == ConnectionStatus.CLOSED:
            guard(observer.on_completed)
            return Disposable()
        done = False

        def on_event(event: ev.ConnectionEvent) -> None:
            nonlocal done
            if done:
                return
            guard(lambda: observer.on_next(event))
            # Every way to CLOSED ends with a Closed event (the lifecycle emits it).
            if isinstance(event, ev.Closed):
                done = True
                remove_event()
                guard(observer.on_completed)

        remove_event = client.add_event_listener(on_event)
        return Disposable(remove_event)

    return reactivex.create(subscribe)
