"""The contract between the layers: what each one needs from the client, as Protocols.

rxnats is built in layers; each imports only from the layers below it, and none
touches a private member of another layer's class. Where a layer needs the client it
types against a Protocol named here, never against :class:`~rxnats.NATS`:

::

    rxnats.client      NATS, the facade: implements JetStreamClient; its port (one per
     │                 client) implements SubscriptionHost (with RxHost) and MessageHost
    rxnats.jetstream   JetStream, on JetStreamClient
    rxnats.subscription Subscription, on SubscriptionHost; mixes in the Rx methods
    rxnats.rx          the Rx adapters, on RxHost and ObservedSubscription
    rxnats.contract    this module
    rxnats.msg         Msg, on MessageHost (defined there: it sits below this module)
    rxnats.state, .pending, .events, .errors, rxnats.wire (sans-I/O)

(:mod:`rxnats.micro` sits on top of the client and uses its public API.)

The Protocols name exactly what crosses a boundary:

- :class:`RxHost`: what the Rx layer needs (subscribe without awaiting, publish
  without awaiting, report an error, the status and events, the loop);
- :class:`SubscriptionHost`: what a subscription needs besides (send UNSUB, forget a
  sid, report a callback's error, check the client is open, flush);
- :class:`~rxnats.msg.MessageHost`: what a message needs (publish a reply now, wait for
  write capacity, publish and request for acknowledgements);
- :class:`ObservedSubscription` and :class:`SubscriptionLike`: what the Rx layer and
  JetStream use of a subscription;
- :class:`JetStreamClient`: what JetStream needs of the client (its public API,
  ``report_error`` included).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol

from rxnats._callable_bool import CallableBool
from rxnats.events import ConnectionEvent
from rxnats.msg import MessageHost, Msg
from rxnats.pending import (
    DEFAULT_PENDING_BYTES_LIMIT,
    DEFAULT_PENDING_MSGS_LIMIT,
    Overflow,
    PendingLimits,
)
from rxnats.state import ConnectionStatus
from rxnats.wire.headers import HeadersInput

__all__ = [
    "EndListener",
    "EventListener",
    "JetStreamClient",
    "MessageCallback",
    "MessageHost",
    "MessageListener",
    "ObservedSubscription",
    "RxHost",
    "StatusListener",
    "SubscriptionHost",
    "SubscriptionLike",
]

#: A subscription callback: a plain or ``async`` function of the message.
MessageCallback = Callable[[Msg], Awaitable[None] | None]
#: Told of each message, synchronously, as it arrives (``Subscription.add_listener``).
MessageListener = Callable[[Msg], None]
#: Told once when a subscription ends, with the error that ended it or None.
EndListener = Callable[[BaseException | None], None]
StatusListener = Callable[[ConnectionStatus], None]
EventListener = Callable[[ConnectionEvent], None]


class ObservedSubscription(Protocol):
    """What the Rx layer uses of a subscription (:class:`rxnats.Subscription` is one)."""

    @property
    def sid(self) -> int:
        """The subscription id used on the wire."""
        ...

    @property
    def subject(self) -> str:
        """The subject subscribed to."""
        ...

    @property
    def is_closed(self) -> bool:
        """Whether it will receive no more messages."""
        ...

    @property
    def limits(self) -> PendingLimits:
        """Its pending limits and overflow policy."""
        ...

    def add_listener(self, on_msg: MessageListener, on_end: EndListener) -> Callable[[], None]:
        """Also hand each message to ``on_msg``; ``on_end`` once at the end; returns a remover."""
        ...

    def cancel(self, error: Exception | None = None) -> None:
        """End it now: UNSUB unless it ended already; consumers end (with ``error``)."""
        ...

    def note_dropped(self, count: int, new_episode: bool) -> None:
        """Count drops of a buffer in front of it; report a new slow-consumer episode."""
        ...


class SubscriptionLike(ObservedSubscription, Protocol):
    """The public API of a subscription, as JetStream uses it."""

    @property
    def queue(self) -> str:
        """The queue group, or ``""``."""
        ...

    @property
    def pending_msgs(self) -> int:
        """Messages waiting for the callback or iterator."""
        ...

    @property
    def pending_bytes(self) -> int:
        """Payload bytes of the messages waiting."""
        ...

    @property
    def received(self) -> int:
        """Messages received from the server."""
        ...

    @property
    def delivered(self) -> int:
        """Messages handed to the callback, iterator, future or observers."""
        ...

    @property
    def dropped(self) -> int:
        """Messages dropped because the pending limits were reached."""
        ...

    @property
    def messages(self) -> AsyncIterator[Msg]:
        """``async for msg in sub.messages``."""
        ...

    async def next_msg(self, timeout: float | None = 1.0) -> Msg:
        """The next message."""
        ...

    async def unsubscribe(self, limit: int = 0) -> None:
        """Stop it (after ``limit`` messages in total)."""
        ...

    async def drain(self) -> None:
        """Unsubscribe, deliver what was received, then end."""
        ...


class RxHost(Protocol):
    """What the Rx layer needs from the client."""

    @property
    def event_loop(self) -> asyncio.AbstractEventLoop | None:
        """The loop the client runs on (None before it connected)."""
        ...

    @property
    def status(self) -> ConnectionStatus:
        """The current status."""
        ...

    def add_status_listener(self, listener: StatusListener) -> Callable[[], None]:
        """Call ``listener`` with every status change; returns a remover."""
        ...

    def add_event_listener(self, listener: EventListener) -> Callable[[], None]:
        """Call ``listener`` with every event; returns a remover."""
        ...

    def report_error(self, err: Exception) -> None:
        """Tell ``error_cb`` and the event listeners; it becomes ``last_error()``."""
        ...

    def termination_error(self) -> Exception | None:
        """The error observers end with: ``ConnectionLostError`` when the network closed
        the client for good (it is closing or closed for that), else None."""
        ...

    def subscribe_now(
        self, subject: str, queue: str = "", *, limits: PendingLimits | None = None
    ) -> ObservedSubscription:
        """Subscribe (SUB goes out with the next write) without awaiting.

        Raises:
            ConnectionClosedError: the client is closed or closing.
            ConnectionDrainingError: the client is draining.
            BadSubjectError: invalid subject or queue.
        """
        ...

    def publish_nowait(
        self, subject: str, payload: bytes = b"", reply: str = "", headers: HeadersInput | None = None
    ) -> None:
        """Publish into the client's write buffer without awaiting.

        Raises:
            ConnectionClosedError: the client is closed.
            InvalidInputError: what ``NATS.publish`` refuses (subject, headers, size).
            OutboundBufferLimitError: disconnected, and the reconnect buffer is full.
        """
        ...

    def new_inbox(self) -> str:
        """A unique inbox subject."""
        ...

    async def request(
        self,
        subject: str,
        payload: bytes = b"",
        timeout: float = 0.5,
        old_style: bool = False,
        headers: HeadersInput | None = None,
    ) -> Msg:
        """``NATS.request``."""
        ...

    async def flush(self, timeout: float = 10.0) -> None:
        """``NATS.flush``."""
        ...


class SubscriptionHost(RxHost, Protocol):
    """What a subscription needs from its client (the Rx layer's needs included)."""

    @property
    def closed(self) -> bool:
        """Whether the client is closed for good."""
        ...

    def check_open(self) -> None:
        """Raise the client's closed error unless it is usable.

        Raises:
            ConnectionClosedError: the client is closed or closing (``ConnectionLostError``
                when the network closed it).
        """
        ...

    def send_unsub(self, sid: int, limit: int) -> None:
        """Send ``UNSUB sid [limit]`` (nothing while disconnected: a reconnect re-sends
        only the live subscriptions)."""
        ...

    def forget(self, sid: int) -> None:
        """Stop routing messages for ``sid`` to its subscription."""
        ...

    def report_callback_error(self, err: Exception) -> None:
        """Tell ``error_cb`` about what a callback or observer raised (not ``last_error``)."""
        ...


class JetStreamClient(Protocol):
    """What JetStream needs of the client: its public API (:class:`rxnats.NATS` is one)."""

    @property
    def is_closed(self) -> CallableBool:
        """Closed for good."""
        ...

    @property
    def is_connected(self) -> CallableBool:
        """Connected."""
        ...

    def new_inbox(self) -> str:
        """A unique inbox subject."""
        ...

    def max_payload(self) -> int:
        """The largest headers+payload the server accepts."""
        ...

    def add_event_listener(self, listener: EventListener) -> Callable[[], None]:
        """Call ``listener`` with every event; returns a remover."""
        ...

    def report_error(self, err: Exception) -> None:
        """Tell ``error_cb`` and the event listeners; it becomes ``last_error()``."""
        ...

    async def publish(
        self,
        subject: str,
        payload: bytes = b"",
        reply: str = "",
        headers: HeadersInput | None = None,
    ) -> None:
        """``NATS.publish``."""
        ...

    async def request(
        self,
        subject: str,
        payload: bytes = b"",
        timeout: float = 0.5,
        old_style: bool = False,
        headers: HeadersInput | None = None,
    ) -> Msg:
        """``NATS.request``."""
        ...

    async def subscribe(
        self,
        subject: str,
        queue: str = "",
        cb: MessageCallback | None = None,
        future: asyncio.Future[Msg] | None = None,
        max_msgs: int = 0,
        pending_msgs_limit: int = DEFAULT_PENDING_MSGS_LIMIT,
        pending_bytes_limit: int = DEFAULT_PENDING_BYTES_LIMIT,
        *,
        overflow: Overflow = Overflow.DROP_NEWEST,
    ) -> SubscriptionLike:
        """``NATS.subscribe``."""
        ...

    async def flush(self, timeout: float = 10.0) -> None:
        """``NATS.flush``."""
        ...
