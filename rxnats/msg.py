"""A received message."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rxnats.errors import Error
from rxnats.wire.headers import Headers, HeadersInput, decode_headers

if TYPE_CHECKING:
    from rxnats.client import NATS
    from rxnats.jetstream.models import MsgMetadata
    from rxnats.wire.aio.writer import Writer

__all__ = ["Msg"]


class Msg:
    """A message delivered to a subscription.

    ``headers`` is decoded on first access (a :class:`~rxnats.wire.headers.Headers`
    mapping, ``None`` when the message has none); ``status`` and ``description`` come from
    its ``NATS/1.0`` line, e.g. 503 for "no responders". A malformed header block is this
    message's problem alone: reading ``headers``, ``status`` or ``description`` raises
    :class:`~rxnats.errors.MalformedHeadersError`, and ``data``, ``subject`` and
    ``reply`` are still there.
    """

    __slots__ = ("_ackd", "_client", "_headers", "_raw_headers", "data", "reply", "sid", "subject")

    def __init__(
        self,
        client: NATS | None = None,
        subject: str = "",
        reply: str = "",
        data: bytes = b"",
        sid: int = 0,
        raw_headers: bytes | None = None,
        *,
        headers: Headers | None = None,
    ) -> None:
        self._client = client
        self.subject = subject
        self.reply = reply
        self.data = data
        self.sid = sid
        self._raw_headers = raw_headers
        self._headers = headers
        # _ackd is left unset until an ack: one store less per message (see _is_ackd).

    @property
    def headers(self) -> Headers | None:
        """The message's headers, or ``None`` when it has none.

        Raises:
            MalformedHeadersError: the header block the publisher sent is malformed.
        """
        if self._headers is None and self._raw_headers is not None:
            self._headers = decode_headers(self._raw_headers)
        return self._headers

    @property
    def header(self) -> Headers | None:
        """The same as :attr:`headers` (nats-py's older name)."""
        return self.headers

    @property
    def status(self) -> int | None:
        """The status code of the header line (e.g. 503), or ``None``.

        Raises:
            MalformedHeadersError: as :attr:`headers`.
        """
        headers = self.headers
        return headers.status if headers is not None else None

    @property
    def description(self) -> str:
        """The status description of the header line, or ``""``.

        Raises:
            MalformedHeadersError: as :attr:`headers`.
        """
        headers = self.headers
        return headers.description if headers is not None else ""

    async def respond(self, data: bytes = b"", headers: HeadersInput | None = None) -> None:
        """Publish ``data`` to this message's reply subject.

        The reply is written to the socket at once (someone is waiting for it); awaiting
        waits only while the socket is full, as :meth:`NATS.publish` does.

        Raises:
            Error: the message has no reply subject or no client.
            ConnectionClosedError: the client is closed.
            plus what :meth:`NATS.publish` raises.
        """
        client, writer = self._send_reply(data, headers)
        if writer.must_wait():
            await client._wait_capacity(writer)

    def respond_nowait(self, data: bytes = b"", headers: HeadersInput | None = None) -> None:
        """Publish ``data`` to this message's reply subject now, without awaiting anything.

        For plain-function callbacks, which the reader calls as each message arrives:
        ``def handle(msg): msg.respond_nowait(answer)`` sends the reply in the same loop
        turn the request was read in, and the subscription stays inline (a callback that
        returns ``msg.respond(...)``, an awaitable, moves the subscription to a task).
        Unlike :meth:`respond` it never waits for a full socket: the reply is buffered
        like every other write, and while disconnected ``pending_size`` still applies.

        Raises:
            Error: the message has no reply subject or no client.
            ConnectionClosedError: the client is closed.
            OutboundBufferLimitError: disconnected, and the reconnect buffer is full.
            plus the input errors of :meth:`NATS.publish` (bad headers, max_payload).
        """
        self._send_reply(data, headers)

    def _send_reply(self, data: bytes, headers: HeadersInput | None) -> tuple[NATS, Writer]:
        if not self.reply:
            raise Error("message has no reply subject to respond to")
        client = self._client
        if client is None:
            raise Error("message is not bound to a client")
        # Someone is waiting for this answer: send it now, not at the end of the loop
        # turn. Not through publish(): its per-subject cache is no use for an inbox that
        # is answered once.
        return client, client._publish_nowait(self.reply, data, "", headers, now=True)

    # -- JetStream acknowledgements (the reply subject is the message's ack subject) -----
    @property
    def metadata(self) -> MsgMetadata:
        """What the JetStream ack subject says: sequences, delivery count, pending, time.

        Raises:
            NotJSMessageError: the message was not delivered by a JetStream consumer.
        """
        from rxnats.jetstream.ack import parse_metadata

        return parse_metadata(self.reply)

    @property
    def is_acked(self) -> bool:
        """Whether ``ack``, ``ack_sync``, ``nak`` or ``term`` was already called."""
        return self._is_ackd()

    async def ack(self) -> None:
        """Acknowledge the JetStream message (fire and forget).

        Raises:
            MsgAlreadyAckdError: it was already acknowledged, nak'ed or terminated.
            NotJSMessageError: JetStream did not deliver it.
            plus what :meth:`NATS.publish` raises.
        """
        from rxnats.jetstream.ack import ACK

        await self._send_ack(ACK)

    async def ack_sync(self, timeout: float = 1.0) -> Msg:
        """Acknowledge and wait until the server confirms it; return the confirmation.

        Raises:
            MsgAlreadyAckdError, NotJSMessageError: as :meth:`ack`.
            TimeoutError: no confirmation within ``timeout`` (the message stays unacked
                as far as this object knows, so it may be acked again).

        Cancelling it leaves the message unacknowledged on this side.
        """
        from rxnats.jetstream.ack import ACK

        client = self._check_ackable()
        reply = await client.request(self.reply, ACK, timeout=timeout)
        self._ackd = True
        return reply

    async def nak(self, delay: float | None = None) -> None:
        """Ask for redelivery, after ``delay`` seconds when given.

        Raises:
            MsgAlreadyAckdError, NotJSMessageError: as :meth:`ack`.
        """
        from rxnats.jetstream.ack import nak_body

        await self._send_ack(nak_body(delay))

    async def in_progress(self) -> None:
        """Tell the server work is ongoing: it resets the ack wait. May be sent many times.

        Raises:
            MsgAlreadyAckdError, NotJSMessageError: as :meth:`ack`.
        """
        from rxnats.jetstream.ack import IN_PROGRESS

        client = self._check_ackable()
        await client.publish(self.reply, IN_PROGRESS)

    async def term(self) -> None:
        """Tell the server never to redeliver this message.

        Raises:
            MsgAlreadyAckdError, NotJSMessageError: as :meth:`ack`.
        """
        from rxnats.jetstream.ack import TERM

        await self._send_ack(TERM)

    async def _send_ack(self, body: bytes) -> None:
        client = self._check_ackable()
        self._ackd = True  # set first: a concurrent second ack must fail, not double-send
        try:
            await client.publish(self.reply, body)
        except BaseException:
            self._ackd = False
            raise

    def _is_ackd(self) -> bool:
        ackd: bool = getattr(self, "_ackd", False)
        return ackd

    def _check_ackable(self) -> NATS:
        from rxnats.jetstream.ack import is_js_ack_subject
        from rxnats.jetstream.errors import MsgAlreadyAckdError, NotJSMessageError

        if self._is_ackd():
            raise MsgAlreadyAckdError(f"message {self.reply!r} was already acknowledged")
        if self._client is None or not is_js_ack_subject(self.reply):
            raise NotJSMessageError()
        return self._client

    def __repr__(self) -> str:
        data = self.data if len(self.data) <= 64 else self.data[:64] + b"..."
        reply = f" reply={self.reply!r}" if self.reply else ""
        return f"<Msg subject={self.subject!r}{reply} data={data!r}>"
