"""A received message, what it needs from its client, and JetStream's ack subject.

:class:`Msg` is built by the client's reader for each message. What a message needs
from the client to answer or acknowledge itself is :class:`MessageHost` (the client's
port implements it; see :mod:`rxnats.contract`).

A message delivered by a JetStream consumer has a reply subject of the form

- v1: ``$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<ts>.<pending>``
  (9 tokens), or
- v2: ``$JS.ACK.<domain>.<account hash>.<stream>.<consumer>.<delivered>.<stream seq>.
  <consumer seq>.<ts>.<pending>[.<random>...]`` (11 or more tokens; domain ``_`` = none).

Publishing one of the bodies below (:data:`ACK`, :data:`NAK`, ...) to it acknowledges
the message; :func:`parse_metadata` reads the rest. This is protocol knowledge a core
message needs for ``msg.ack()`` and ``msg.metadata``, so it lives here, below JetStream
(:mod:`rxnats.jetstream` re-exports it), as nats-py keeps it in its message module.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import NoReturn, Protocol

from rxnats.errors import Error, MsgAlreadyAckdError, NotJSMessageError
from rxnats.wire.headers import Headers, HeadersInput, decode_headers

__all__ = [
    "ACK",
    "IN_PROGRESS",
    "NAK",
    "TERM",
    "MessageHost",
    "Msg",
    "MsgMetadata",
    "SequencePair",
    "is_js_ack_subject",
    "nak_body",
    "parse_metadata",
    "received_msg",
]

ACK = b"+ACK"
NAK = b"-NAK"
IN_PROGRESS = b"+WPI"
TERM = b"+TERM"

_NANOSECONDS = 1_000_000_000
_V1_TOKENS = 9
_V2_MIN_TOKENS = 11


class MessageHost(Protocol):
    """What a message needs from its client: answer it, and acknowledge it."""

    def publish_reply(self, subject: str, payload: bytes, headers: HeadersInput | None) -> bool:
        """Publish to ``subject`` at once (someone waits for it); True: the writer asks
        to wait for :meth:`wait_capacity` before going on.

        Raises:
            ConnectionClosedError: the client is closed.
            OutboundBufferLimitError: disconnected, and the reconnect buffer is full.
            InvalidInputError: bad headers or payload, as ``publish()`` says.
        """
        ...

    def publish_ack(self, subject: str, body: bytes) -> bool:
        """Buffer an acknowledgement (``+ACK``, ``-NAK``, ...) to ``subject``, a JetStream
        ack subject; True: the writer asks to wait for :meth:`wait_capacity`.

        Raises:
            ConnectionClosedError: the client is closed.
            OutboundBufferLimitError: disconnected, and the reconnect buffer is full.
            BadSubjectError: ``subject`` is not a valid literal subject.
        """
        ...

    async def wait_capacity(self) -> None:
        """Wait while the socket is full (``flush_timeout`` applies).

        Raises:
            FlushTimeoutError: it stayed full longer than ``flush_timeout``.
        """
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


@dataclass
class SequencePair:
    """A delivered message's consumer and stream sequence."""

    consumer: int = 0
    stream: int = 0


@dataclass
class MsgMetadata:
    """What the ack subject of a JetStream message tells (``msg.metadata``)."""

    sequence: SequencePair
    num_pending: int
    num_delivered: int
    timestamp: dt.datetime
    stream: str
    consumer: str
    domain: str = ""


def is_js_ack_subject(reply: str) -> bool:
    """Whether ``reply`` is a JetStream ack subject."""
    return reply.startswith("$JS.ACK.")


def nak_body(delay: float | None) -> bytes:
    """The body of a NAK, asking for redelivery after ``delay`` seconds when given."""
    if delay is None:
        return NAK
    return NAK + b" " + json.dumps({"delay": int(delay * _NANOSECONDS)}).encode()


def parse_metadata(reply: str) -> MsgMetadata:
    """Parse the metadata out of a JetStream ack subject.

    Raises:
        NotJSMessageError: ``reply`` is not a (well-formed) JetStream ack subject.
    """
    tokens = reply.split(".")
    if len(tokens) < _V1_TOKENS or tokens[0] != "$JS" or tokens[1] != "ACK":
        raise NotJSMessageError(f"not a JetStream ack subject: {reply!r}")
    if len(tokens) == _V1_TOKENS:
        domain = ""
        rest = tokens[2:]
    elif len(tokens) >= _V2_MIN_TOKENS:
        domain = "" if tokens[2] == "_" else tokens[2]
        rest = tokens[4:11]
    else:
        raise NotJSMessageError(f"malformed JetStream ack subject: {reply!r}")
    stream, consumer, delivered, sseq, cseq, ts, pending = rest
    try:
        nanos = int(ts)
        return MsgMetadata(
            sequence=SequencePair(consumer=int(cseq), stream=int(sseq)),
            num_pending=int(pending),
            num_delivered=int(delivered),
            timestamp=dt.datetime.fromtimestamp(nanos / _NANOSECONDS, tz=dt.UTC),
            stream=stream,
            consumer=consumer,
            domain=domain,
        )
    except ValueError as exc:
        raise NotJSMessageError(f"malformed JetStream ack subject: {reply!r}") from exc


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
        client: MessageHost | None = None,
        subject: str = "",
        reply: str = "",
        data: bytes = b"",
        sid: int = 0,
        raw_headers: bytes | None = None,
        *,
        headers: Headers | None = None,
    ) -> None:
        self._client = client
        self.subject: str = subject
        self.reply: str = reply
        self.data: bytes = data
        self.sid: int = sid
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
        # Someone waits for the answer: publish_reply sends it now, not at the end of
        # the loop turn (and not through publish(), whose per-subject cache is no use
        # for an inbox that is answered once). Checked inline: a reply is a hot path.
        client = self._client
        if client is None or not self.reply:
            self._cannot_reply()
        if client.publish_reply(self.reply, data, headers):
            await client.wait_capacity()

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
        client = self._client
        if client is None or not self.reply:
            self._cannot_reply()
        client.publish_reply(self.reply, data, headers)

    def _cannot_reply(self) -> NoReturn:
        if not self.reply:
            raise Error("message has no reply subject to respond to")
        raise Error("message is not bound to a client")

    # -- JetStream acknowledgements (the reply subject is the message's ack subject) -----
    @property
    def metadata(self) -> MsgMetadata:
        """What the JetStream ack subject says: sequences, delivery count, pending, time.

        Raises:
            NotJSMessageError: the message was not delivered by a JetStream consumer.
        """
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
        await self._send_ack(ACK)

    async def ack_sync(self, timeout: float = 1.0) -> Msg:
        """Acknowledge and wait until the server confirms it; return the confirmation.

        Raises:
            MsgAlreadyAckdError, NotJSMessageError: as :meth:`ack`.
            TimeoutError: no confirmation within ``timeout`` (the message stays unacked
                as far as this object knows, so it may be acked again).

        Cancelling it leaves the message unacknowledged on this side.
        """
        client = self._check_ackable()
        reply = await client.request(self.reply, ACK, timeout=timeout)
        self._ackd = True
        return reply

    async def nak(self, delay: float | None = None) -> None:
        """Ask for redelivery, after ``delay`` seconds when given.

        Raises:
            MsgAlreadyAckdError, NotJSMessageError: as :meth:`ack`.
        """
        await self._send_ack(nak_body(delay))

    async def in_progress(self) -> None:
        """Tell the server work is ongoing: it resets the ack wait. May be sent many times.

        Raises:
            MsgAlreadyAckdError, NotJSMessageError: as :meth:`ack`.
        """
        client = self._check_ackable()
        await client.publish(self.reply, IN_PROGRESS)

    async def term(self) -> None:
        """Tell the server never to redeliver this message.

        Raises:
            MsgAlreadyAckdError, NotJSMessageError: as :meth:`ack`.
        """
        await self._send_ack(TERM)

    async def _send_ack(self, body: bytes) -> None:
        client = self._check_ackable()
        self._ackd = True  # set first: a concurrent second ack must fail, not double-send
        try:
            if client.publish_ack(self.reply, body):
                await client.wait_capacity()
        except BaseException:
            self._ackd = False
            raise

    def _is_ackd(self) -> bool:
        ackd: bool = getattr(self, "_ackd", False)
        return ackd

    def _check_ackable(self) -> MessageHost:
        if self._is_ackd():
            raise MsgAlreadyAckdError(f"message {self.reply!r} was already acknowledged")
        if self._client is None or not is_js_ack_subject(self.reply):
            raise NotJSMessageError()
        return self._client

    def __repr__(self) -> str:
        data = self.data if len(self.data) <= 64 else self.data[:64] + b"..."
        reply = f" reply={self.reply!r}" if self.reply else ""
        return f"<Msg subject={self.subject!r}{reply} data={data!r}>"


_new_object = object.__new__


def received_msg(
    client: MessageHost, subject: str, reply: str, data: bytes, sid: int, raw_headers: bytes | None
) -> Msg:
    """``Msg(client, subject, reply, data, sid, raw_headers)``, as the reader makes one
    for each message it receives: the same object, built without calling the class
    (on CPython 3.11 calling a class with a Python ``__init__`` costs some 400
    instructions more than this function; the reader does it once per message).
    """
    msg: Msg = _new_object(Msg)
    msg._client = client
    msg.subject = subject
    msg.reply = reply
    msg.data = data
    msg.sid = sid
    msg._raw_headers = raw_headers
    msg._headers = None
    return msg
