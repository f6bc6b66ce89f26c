"""Rx methods mixed into :class:`rxnats.NATS` and :class:`rxnats.Subscription`.

Kept here so that the Rx layer is a thin adapter in its own package while users still
write ``nc.observe(...)`` and ``sub.observe()``. Each method forwards to the module
that implements it, with the host the class it is mixed into provides: the methods'
self-types (:class:`RxClient`, :class:`RxSubscription`) name what that is, so these
mixins need neither a cast nor the classes they are mixed into.
"""

from __future__ import annotations

from typing import Protocol

from reactivex import Observable
from reactivex.scheduler.eventloop import AsyncIOScheduler

from rxnats.contract import ObservedSubscription, RxHost
from rxnats.events import ConnectionEvent
from rxnats.msg import Msg
from rxnats.pending import DEFAULT_PENDING_BYTES_LIMIT, DEFAULT_PENDING_MSGS_LIMIT, Overflow
from rxnats.rx.connection import observe_events, observe_status
from rxnats.rx.messages import observe_subject, observe_subscription
from rxnats.rx.publish import PublishSink
from rxnats.rx.request import observe_request, observe_request_many
from rxnats.rx.scheduling import loop_scheduler
from rxnats.state import ConnectionStatus
from rxnats.wire.headers import HeadersInput

__all__ = ["RxClient", "RxClientMixin", "RxSubscription", "RxSubscriptionMixin"]


class RxClient(Protocol):
    """What :class:`RxClientMixin` needs of the class it is mixed into: its port (the
    client as the Rx layer sees it)."""

    @property
    def _port(self) -> RxHost: ...


class RxSubscription(ObservedSubscription, Protocol):
    """What :class:`RxSubscriptionMixin` needs of its class: a subscription and its host."""

    @property
    def _client(self) -> RxHost: ...


class RxClientMixin:
    """Observable views of a client."""

    __slots__ = ()

    @property
    def rx_scheduler(self: RxClient) -> AsyncIOScheduler:
        """The ``AsyncIOScheduler`` of the client's event loop (shared, created on first use).

        Raises:
            RuntimeError: the client is not connected and no event loop is running.
        """
        return loop_scheduler(self._port.event_loop)

    def observe_status(self: RxClient) -> Observable[ConnectionStatus]:
        """The connection status: the current value at once, then every change (never
        the same value twice in a row); completes after ``CLOSED``."""
        return observe_status(self._port)

    def observe_events(self: RxClient) -> Observable[ConnectionEvent]:
        """The client's :mod:`rxnats.events` while subscribed (hot).

        Recoverable problems (server errors, failed reconnect attempts, slow consumers,
        observer exceptions) are events, never ``on_error``; completes after ``Closed``.
        """
        return observe_events(self._port)

    def observe(
        self: RxClient,
        subject: str,
        queue: str = "",
        *,
        pending_msgs_limit: int = DEFAULT_PENDING_MSGS_LIMIT,
        pending_bytes_limit: int = DEFAULT_PENDING_BYTES_LIMIT,
        overflow: Overflow = Overflow.DROP_NEWEST,
    ) -> Observable[Msg]:
        """Messages on ``subject`` (optionally in a ``queue`` group) as a shared observable.

        Cold and reference-counted: SUB is sent when the first observer subscribes, all
        observers share that subscription, UNSUB is sent when the last one disposes.
        A single observer is called as each message arrives, like a plain-function
        callback, up to ``pending_msgs_limit`` messages per event-loop turn; the rest of
        a burst (and every message, while several observers share the stream) waits in a
        buffer bounded by the pending limits and is emitted on later turns, in order.
        When the buffer is full ``overflow`` drops the newest message or as many of the
        oldest waiting ones as it takes, or (``Overflow.ERROR``) ends this subscription
        with ``SlowConsumerError``; the limits mean what they mean for ``subscribe()``
        (0 or less: no limit; see :mod:`rxnats.pending`), and drops count in the
        subscription's ``dropped``.

        The stream completes when the subscription ends (drain, close) and errors only
        when the connection is lost for good (``ConnectionLostError``, a
        ``ConnectionClosedError``) or with ``Overflow.ERROR``; a subscription the server
        denies is reported to ``error_cb`` and stays open, as in nats-py. Subscribing on
        a closed or draining client errors at once.
        """
        return observe_subject(
            self._port,
            subject,
            queue,
            pending_msgs_limit=pending_msgs_limit,
            pending_bytes_limit=pending_bytes_limit,
            overflow=overflow,
        )

    def publisher(self: RxClient, subject: str | None = None) -> PublishSink:
        """An observer that publishes each item: ``bytes`` to ``subject``, or an
        :class:`~rxnats.rx.OutMsg` to its own subject; writes are coalesced.

        ``on_completed`` flushes and then resolves ``await sink.done``; ``on_error``
        stops the sink and fails ``done``. Must be called on the client's event loop.
        """
        return PublishSink(self._port, subject)

    def observe_request(
        self: RxClient,
        subject: str,
        payload: bytes = b"",
        *,
        timeout: float = 0.5,
        headers: HeadersInput | None = None,
    ) -> Observable[Msg]:
        """A request made when an observer subscribes: one reply then completion, or an
        error (``TimeoutError``, ``NoRespondersError``, ...). Disposing cancels it.

        Raises:
            BadTimeoutError: ``timeout`` is not positive.
        """
        return observe_request(self._port, subject, payload, timeout=timeout, headers=headers)

    def observe_request_many(
        self: RxClient,
        subject: str,
        payload: bytes = b"",
        *,
        timeout: float = 1.0,
        stall: float | None = None,
        max_count: int = 0,
        sentinel: bool = False,
        headers: HeadersInput | None = None,
    ) -> Observable[Msg]:
        """A request with many replies (ADR-47), made when an observer subscribes.

        Replies are emitted until the first of: ``timeout`` seconds in all; ``stall``
        seconds without a reply after the first one; ``max_count`` replies (0: no
        limit); with ``sentinel``, a reply with an empty payload (not emitted). Each of
        these completes the stream; "no responders" is a ``NoRespondersError``.

        Raises:
            BadTimeoutError: ``timeout`` or ``stall`` is not positive.
            InvalidInputError: ``max_count`` is negative.
        """
        return observe_request_many(
            self._port,
            subject,
            payload,
            timeout=timeout,
            stall=stall,
            max_count=max_count,
            sentinel=sentinel,
            headers=headers,
        )


class RxSubscriptionMixin:
    """Observable view of a subscription."""

    __slots__ = ()

    def observe(self: RxSubscription) -> Observable[Msg]:
        """This subscription's messages as a shared observable.

        While at least one observer is subscribed, messages go to the observers instead
        of the ``async for`` iterator / ``next_msg()`` (a callback still gets them too);
        when the last observer disposes they go back, and the subscription stays. The
        buffer limits and overflow policy are the subscription's. Completes when the
        subscription ends.
        """
        return observe_subscription(self, self._client)
