"""Subscriptions as observables: ``nc.observe(subject)`` and ``sub.observe()``.

Theory of operation. A :class:`SharedSubscription` is one ``Observable[Msg]`` that is
cold and reference-counted: the first observer opens the source (for ``nc.observe`` a
new core :class:`~rxnats.subscription.Subscription`, so SUB goes out through the
writer), later observers share it, and when the last one disposes the source is
released (UNSUB for ``nc.observe``; for ``sub.observe()`` only the listener is removed
and the subscription goes back to its callback or iterator). A later observer starts
the cycle again.

Messages reach the observers through a :class:`~rxnats.rx._relay.Relay`: the reader's
per-message listener offers each message to it, and the relay hands it to a single
observer at once (up to ``pending_msgs_limit`` per loop turn) or queues it in a bounded
buffer that it emits on the event loop. The buffer's limits and overflow policy are those passed to
``nc.observe`` (or the subscription's own). Under ``Overflow.ERROR`` the first rejected
message ends the *subscription* with :class:`~rxnats.errors.SlowConsumerError` (never
the connection): the observers get the buffered messages, then ``on_error``.

The stream completes when the subscription ends normally (drain, unsubscribe elsewhere,
auto-unsubscribe, a client ``close()``), and errors when it ends with an error: the
overflow error, or the client closing because the connection was lost for good
(:class:`~rxnats.errors.ConnectionLostError`, a ``ConnectionClosedError`` whose
``__cause__`` is the last connection error).
"""

from __future__ import annotations

from collections.abc import Callable

import reactivex
from reactivex import Observable, abc
from reactivex.disposable import Disposable

from rxnats.contract import ObservedSubscription, RxHost
from rxnats.errors import SlowConsumerError
from rxnats.msg import Msg
from rxnats.pending import Overflow, OverflowBuffer, PendingLimits
from rxnats.rx._relay import Relay
from rxnats.rx.scheduling import loop_scheduler

__all__ = ["SharedSubscription", "observe_subject", "observe_subscription", "unsubscribe"]


def _msg_size(msg: Msg) -> int:
    return len(msg.data)


class SharedSubscription:
    """State behind one reference-counted ``Observable[Msg]`` (see the module docstring)."""

    __slots__ = (
        "_client",
        "_close",
        "_limits",
        "_open",
        "_relay",
        "_remove_listener",
        "_scheduler",
        "_sub",
        "observable",
    )

    def __init__(
        self,
        client: RxHost,
        *,
        open_: Callable[[], ObservedSubscription],
        close: Callable[[ObservedSubscription], None],
        limits: PendingLimits,
        scheduler: abc.SchedulerBase | None = None,
    ) -> None:
        self._client = client
        self._open = open_
        self._close = close
        self._limits = limits
        self._scheduler = scheduler
        self._relay: Relay[Msg] | None = None
        self._sub: ObservedSubscription | None = None
        self._remove_listener: Callable[[], None] | None = None
        self.observable: Observable[Msg] = reactivex.create(self._subscribe)

    @property
    def subscription(self) -> ObservedSubscription | None:
        """The core subscription while observers are attached, else ``None``."""
        relay = self._relay
        return self._sub if relay is not None and not relay.ended else None

    def _subscribe(
        self, observer: abc.ObserverBase[Msg], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        relay = self._relay
        if relay is None or relay.ended:
            try:
                relay = self._start()
            except Exception as exc:
                observer.on_error(exc)
                return Disposable()
        relay.add(observer)
        return Disposable(lambda: self._leave(relay, observer))

    def _start(self) -> Relay[Msg]:
        sub = self._open()
        client = self._client
        relay: Relay[Msg] = Relay(
            self._scheduler or loop_scheduler(client.event_loop),
            # Its drops are the subscription's: counted in sub.dropped, one report per
            # slow-consumer episode.
            OverflowBuffer.of(self._limits, size=_msg_size, on_drop=sub.note_dropped),
            report=client.report_error,
            on_reject=lambda dropped: self._on_reject(sub, dropped),
        )
        self._relay = relay
        self._sub = sub
        self._remove_listener = sub.add_listener(
            relay.push, lambda error: relay.end(_end_error(client, error))
        )
        return relay

    def _leave(self, relay: Relay[Msg], observer: abc.ObserverBase[Msg]) -> None:
        if relay.remove(observer) or relay is not self._relay or relay.ended:
            return
        # The last observer left a live subscription: let go of it.
        relay.abandon()
        if self._remove_listener is not None:
            self._remove_listener()
            self._remove_listener = None
        sub = self._sub
        self._relay = None
        self._sub = None
        if sub is not None:
            self._close(sub)

    def _on_reject(self, sub: ObservedSubscription, dropped: int) -> None:
        err = SlowConsumerError(subject=sub.subject, sid=sub.sid, dropped=dropped)
        self._client.report_error(err)
        sub.cancel(err)  # calls the relay's end listener with err


def _end_error(client: RxHost, error: BaseException | None) -> Exception | None:
    """The error to end observers with, given how the subscription ended."""
    if isinstance(error, Exception):
        return error
    if error is not None:  # a BaseException (cancellation): not an observer's business
        return None
    # The network closed the client (lost, not re-established): an error, not an end.
    return client.termination_error()


def unsubscribe(sub: ObservedSubscription) -> None:
    """Unsubscribe ``sub`` now (UNSUB through the writer) unless it already ended."""
    sub.cancel()


def observe_subject(
    client: RxHost,
    subject: str,
    queue: str = "",
    *,
    pending_msgs_limit: int,
    pending_bytes_limit: int,
    overflow: Overflow,
    scheduler: abc.SchedulerBase | None = None,
) -> Observable[Msg]:
    """Build ``nc.observe(...)``: see :meth:`rxnats.NATS.observe`.

    A limit of 0 or less means no limit.
    """
    limits = PendingLimits(pending_msgs_limit, pending_bytes_limit, overflow)
    shared = SharedSubscription(
        client,
        open_=lambda: client.subscribe_now(subject, queue, limits=limits),
        close=unsubscribe,
        limits=limits,
        scheduler=scheduler,
    )
    return shared.observable


def observe_subscription(
    sub: ObservedSubscription, client: RxHost, *, scheduler: abc.SchedulerBase | None = None
) -> Observable[Msg]:
    """Build ``sub.observe()``: see :meth:`rxnats.Subscription.observe`."""
    shared = SharedSubscription(
        client,
        open_=lambda: sub,
        close=lambda _sub: None,
        limits=sub.limits,
        scheduler=scheduler,
    )
    return shared.observable
