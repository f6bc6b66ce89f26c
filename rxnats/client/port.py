"""The client as its subscriptions, its messages and the Rx layer see it: the port.

:class:`ClientPort` implements the Protocols of :mod:`rxnats.contract` that name what
those layers need (:class:`~rxnats.contract.SubscriptionHost`, which includes
:class:`~rxnats.contract.RxHost`, and :class:`~rxnats.msg.MessageHost`) on top of the
facade, so that the facade's public surface stays the user's API while the layers
below get exactly the operations they need, by name. :class:`Facade` is what the port
uses of :class:`~rxnats.client.NATS` (the client package's own business).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol

from rxnats._callable_bool import CallableBool
from rxnats.contract import EventListener, StatusListener
from rxnats.errors import ConnectionClosedError, ConnectionDrainingError
from rxnats.msg import Msg
from rxnats.pending import Overflow, PendingLimits
from rxnats.reporting import Reporter
from rxnats.state import ConnectionStatus, Lifecycle
from rxnats.subscription import MessageCallback, Subscription
from rxnats.wire.aio.writer import Writer
from rxnats.wire.encoder import encode_pub_once
from rxnats.wire.headers import HeadersInput

__all__ = ["ClientPort", "Facade"]


class Facade(Protocol):
    """What the port uses of the client (:class:`~rxnats.client.NATS` is the one)."""

    _life: Lifecycle
    _reporter: Reporter
    _writer: Writer | None

    @property
    def is_draining(self) -> CallableBool: ...

    def _subscribe(
        self,
        subject: str,
        queue: str = "",
        *,
        cb: MessageCallback | None = None,
        future: asyncio.Future[Msg] | None = None,
        max_msgs: int = 0,
        pending_msgs_limit: int = ...,
        pending_bytes_limit: int = ...,
        overflow: Overflow = ...,
        direct: Callable[[Msg], None] | None = None,
    ) -> Subscription: ...

    def _send_unsub(self, sid: int, limit: int) -> None: ...

    def _forget_sub(self, sid: int) -> None: ...

    def _publish_nowait(
        self,
        subject: str,
        payload: bytes = b"",
        reply: str = "",
        headers: HeadersInput | None = None,
        *,
        now: bool = False,
    ) -> Writer: ...

    def _publish_reply(self, subject: str, payload: bytes, headers: HeadersInput | None) -> bool: ...

    def _wait_capacity(self, writer: Writer) -> Awaitable[None]: ...

    def _write_encoded(self, data: bytes, payload_size: int, *, now: bool = False) -> Writer: ...

    def new_inbox(self) -> str: ...

    async def flush(self, timeout: float = 10.0) -> None: ...

    async def publish(
        self,
        subject: str,
        payload: bytes = b"",
        reply: str = "",
        headers: HeadersInput | None = None,
    ) -> None: ...

    async def request(
        self,
        subject: str,
        payload: bytes = b"",
        timeout: float = 0.5,
        old_style: bool = False,
        headers: HeadersInput | None = None,
    ) -> Msg: ...


class ClientPort:
    """The client as its subscriptions, its messages and the Rx layer see it.

    It implements :class:`~rxnats.contract.SubscriptionHost` (the Rx layer's
    :class:`~rxnats.contract.RxHost` included) and :class:`~rxnats.msg.MessageHost`: what
    those modules may ask of the client is named in :mod:`rxnats.contract`, and they
    never touch a member of :class:`NATS`. One per client, made with it; received
    messages and subscriptions hold it.
    """

    __slots__ = ("client", "publish_reply")

    def __init__(self, client: Facade) -> None:
        #: The client this is the port of.
        self.client: Facade = client
        #: Publish to ``subject`` now; True when the writer asks to wait for capacity
        #: (:meth:`~rxnats.msg.MessageHost.publish_reply`). The client's own method, not
        #: a method of the port that forwards to it: every reply calls it, and ``await
        #: msg.respond()`` saves a call.
        self.publish_reply: Callable[[str, bytes, HeadersInput | None], bool] = client._publish_reply

    # -- RxHost ---------------------------------------------------------------------------
    @property
    def event_loop(self) -> asyncio.AbstractEventLoop | None:
        """The loop the client runs on (None before it connected)."""
        writer = self.client._writer
        return writer.loop if writer is not None else None

    @property
    def status(self) -> ConnectionStatus:
        """The client's status."""
        return self.client._life.status

    def add_status_listener(self, listener: StatusListener) -> Callable[[], None]:
        """Call ``listener`` with every status change; returns a remover."""
        return self.client._life.add_status_listener(listener)

    def add_event_listener(self, listener: EventListener) -> Callable[[], None]:
        """Call ``listener`` with every event; returns a remover."""
        return self.client._reporter.add_event_listener(listener)

    def report_error(self, err: Exception) -> None:
        """:meth:`NATS.report_error`."""
        self.client._reporter.report_error(err)

    def termination_error(self) -> Exception | None:
        """``ConnectionLostError`` while the client closes (or is closed) because the
        connection was lost for good, else None."""
        return self.client._life.lost_for_good()

    def subscribe_now(
        self, subject: str, queue: str = "", *, limits: PendingLimits | None = None
    ) -> Subscription:
        """Subscribe without awaiting (see :class:`~rxnats.contract.RxHost`).

        Raises:
            ConnectionClosedError: the client is closed or closing.
            ConnectionDrainingError: the client is draining.
            BadSubjectError: invalid subject or queue.
        """
        client = self.client
        if client._writer is None or client._life.closing:
            raise ConnectionClosedError()
        if client.is_draining():
            raise ConnectionDrainingError()
        limits = limits or PendingLimits()
        return client._subscribe(
            subject,
            queue,
            pending_msgs_limit=limits.msgs,
            pending_bytes_limit=limits.bytes,
            overflow=limits.overflow,
        )

    def publish_nowait(
        self, subject: str, payload: bytes = b"", reply: str = "", headers: HeadersInput | None = None
    ) -> None:
        """Publish into the write buffer without awaiting (see :meth:`NATS.publish`)."""
        self.client._publish_nowait(subject, payload, reply, headers)

    def new_inbox(self) -> str:
        """:meth:`NATS.new_inbox`."""
        return self.client.new_inbox()

    async def request(
        self,
        subject: str,
        payload: bytes = b"",
        timeout: float = 0.5,
        old_style: bool = False,
        headers: HeadersInput | None = None,
    ) -> Msg:
        """:meth:`NATS.request`."""
        return await self.client.request(subject, payload, timeout, old_style, headers)

    async def flush(self, timeout: float = 10.0) -> None:
        """:meth:`NATS.flush`."""
        await self.client.flush(timeout)

    # -- SubscriptionHost -------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        """Whether the client is closed for good."""
        return self.client._life.status == ConnectionStatus.CLOSED

    def check_open(self) -> None:
        """Raise the client's closed error unless it is usable (not closed or closing)."""
        error = self.client._life.unusable_error()
        if error is not None:
            raise error

    def send_unsub(self, sid: int, limit: int) -> None:
        """Send ``UNSUB sid [limit]`` when connected."""
        self.client._send_unsub(sid, limit)

    def forget(self, sid: int) -> None:
        """Route no more messages to ``sid``."""
        self.client._forget_sub(sid)

    def report_callback_error(self, err: Exception) -> None:
        """Tell ``error_cb`` what a callback or observer raised (not ``last_error``)."""
        self.client._reporter.report_error(err, record=False)

    # -- MessageHost (publish_reply is an attribute, see __init__) ----------------------------
    def publish_ack(self, subject: str, body: bytes) -> bool:
        """Buffer a JetStream ack to ``subject``; True when the writer asks to wait.

        Acks are written with the loop turn's other output (not at once, as replies
        are), and their subjects, new each time, stay out of the publish caches.
        """
        return self.client._write_encoded(encode_pub_once(subject, body), len(body)).must_wait()

    async def wait_capacity(self) -> None:
        """Wait while the socket is full (``flush_timeout`` applies)."""
        client = self.client
        writer = client._writer
        if writer is not None:
            await client._wait_capacity(writer)

    async def publish(
        self,
        subject: str,
        payload: bytes = b"",
        reply: str = "",
        headers: HeadersInput | None = None,
    ) -> None:
        """:meth:`NATS.publish`."""
        await self.client.publish(subject, payload, reply, headers)
