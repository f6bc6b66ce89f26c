"""Every exception rxnats raises, in one tree.

Names follow nats-py wherever nats-py has one, so ``except nats.errors.TimeoutError``
keeps working after ``import rxnats as nats``. Errors say who is at fault: *you* used a
closed or draining client (``ConnectionClosedError``, ``ConnectionDrainingError``), *you*
passed bad input (``BadSubjectError``, ``BadHeaderError``, ``MaxPayloadError``), or the
*peer/network* broke something (``ProtocolError``, ``StaleConnectionError``,
``UnexpectedEOF``).

::

    Error                                   (base of everything below)
    ├── TimeoutError                        (also builtins.TimeoutError)
    │   └── FlushTimeoutError
    ├── NoRespondersError                   (a request's 503 reply)
    ├── ConnectionClosedError               (the client is closed: you closed it ...)
    │   └── ConnectionLostError             (... or the network did, and it stayed lost)
    ├── ConnectionDrainingError             (you used a draining client)
    ├── ConnectionReconnectingError
    ├── DrainTimeoutError                   (also builtins.TimeoutError)
    ├── NoServersError                      (no server in the pool answered)
    ├── StaleConnectionError                (PINGs went unanswered)
    ├── UnexpectedEOF                       (the server closed the socket)
    ├── OutboundBufferLimitError            (publish buffer full while disconnected)
    ├── SlowConsumerError                   (a subscription's pending limits overflowed)
    ├── InvalidInputError                   (also ValueError: bad arguments)
    │   ├── BadSubjectError
    │   ├── BadHeaderError
    │   ├── BadTimeoutError
    │   ├── MaxPayloadError
    │   ├── InvalidURLError
    │   └── InvalidCallbackTypeError
    ├── BadSubscriptionError                (the subscription is gone)
    ├── NoEchoNotSupportedError
    ├── ProtocolError                       (the peer sent bytes that are not NATS;
    │   │                                    JsonParseError is another name for it)
    │   └── MalformedHeadersError           (one message's headers; connection stays up)
    ├── ServerError                         (a -ERR from the server)
    │   ├── AuthorizationError              (authorization violation, auth expired)
    │   ├── PermissionsViolationError       (connection stays up)
    │   └── MaxConnectionsExceededError
    ├── SecureConnRequiredError             (server requires TLS, none configured)
    ├── SecureConnWantedError               (TLS asked for, server offers none)
    ├── SecureConnFailedError               (the TLS handshake failed; when ssl raised,
    │                                        a TLSHandshakeError: also an ssl.SSLError)
    ├── InvalidUserCredentialsError         (unreadable creds file or seed)
    ├── MissingDependencyError              (an optional extra is not installed;
    │                                        also an ImportError)
    ├── ServerNotInPoolError                (nats-py's name; rxnats never raises it)
    └── JetStreamError                      (base of everything JetStream: the rest of
        │                                    its tree is in rxnats.jetstream.errors)
        ├── NotJSMessageError               (ack of a message JetStream did not deliver)
        └── MsgAlreadyAckdError             (the message was already acknowledged)

The last three are here because a core message (:class:`rxnats.Msg`) raises them from
its acknowledgement methods; :mod:`rxnats.jetstream.errors` exports the same classes.
"""

from __future__ import annotations

import builtins

__all__ = [
    "AuthorizationError",
    "BadHeaderError",
    "BadSubjectError",
    "BadSubscriptionError",
    "BadTimeoutError",
    "ConnectionClosedError",
    "ConnectionDrainingError",
    "ConnectionLostError",
    "ConnectionReconnectingError",
    "DrainTimeoutError",
    "Error",
    "FlushTimeoutError",
    "InvalidCallbackTypeError",
    "InvalidInputError",
    "InvalidURLError",
    "InvalidUserCredentialsError",
    "JetStreamError",
    "JsonParseError",
    "MalformedHeadersError",
    "MaxConnectionsExceededError",
    "MaxPayloadError",
    "MissingDependencyError",
    "MsgAlreadyAckdError",
    "NoEchoNotSupportedError",
    "NoRespondersError",
    "NoServersError",
    "NotJSMessageError",
    "OutboundBufferLimitError",
    "PermissionsViolationError",
    "ProtocolError",
    "SecureConnFailedError",
    "SecureConnRequiredError",
    "SecureConnWantedError",
    "ServerError",
    "ServerNotInPoolError",
    "SlowConsumerError",
    "StaleConnectionError",
    "TimeoutError",
    "UnexpectedEOF",
]


class Error(Exception):
    """Base class of every rxnats error."""

    #: What went wrong, in a few words (``str()`` of an error raised without a message).
    description: str = "rxnats error"

    def __str__(self) -> str:
        text = super().__str__()
        return text if text else self.description


class TimeoutError(Error, builtins.TimeoutError):
    """An operation did not finish in time; also a builtin ``TimeoutError``."""

    description = "timeout"


class FlushTimeoutError(TimeoutError):
    """``flush()`` got no PONG from the server in time."""

    description = "flush timeout"


class NoRespondersError(Error):
    """A request was answered with status 503: nobody subscribes to that subject."""

    description = "no responders available for request"


class ConnectionClosedError(Error):
    """The client is closed; the operation needs an open connection."""

    description = "connection closed"


class ConnectionLostError(ConnectionClosedError):
    """The client closed because its connection was lost and not re-established.

    The network closed it, not you: reconnecting was off, or gave up. ``__cause__`` is
    the last error (for example :class:`UnexpectedEOF` or :class:`NoServersError`).
    ``except ConnectionClosedError`` catches it too.
    """

    description = "the connection was lost and could not be re-established"


class ConnectionDrainingError(Error):
    """The client is draining and accepts no new subscriptions."""

    description = "connection draining"


class ConnectionReconnectingError(Error):
    """The operation cannot be done while the client reconnects."""

    description = "connection reconnecting"


class DrainTimeoutError(Error, builtins.TimeoutError):
    """Draining did not finish within ``drain_timeout``; the client was closed anyway."""

    description = "drain timeout"


class NoServersError(Error):
    """No server of the pool could be connected to; the message says why for each."""

    description = "no servers available for connection"


class StaleConnectionError(Error):
    """More than ``max_outstanding_pings`` PINGs went unanswered."""

    description = "stale connection"


class UnexpectedEOF(Error):
    """The server closed the connection."""

    description = "unexpected EOF"


class OutboundBufferLimitError(Error):
    """The outbound buffer (``pending_size``) is full while the client is disconnected."""

    description = "outbound buffer limit exceeded"


class SlowConsumerError(Error):
    """A subscription's pending limits overflowed and messages were dropped."""

    description = "slow consumer, messages dropped"

    def __init__(
        self,
        message: str = "",
        *,
        subject: str = "",
        sid: int = 0,
        dropped: int = 0,
    ) -> None:
        super().__init__(message or f"slow consumer on {subject!r} (sid {sid}): {dropped} dropped")
        self.subject = subject
        self.sid = sid
        self.dropped = dropped


class InvalidInputError(Error, ValueError):
    """An argument is not acceptable; nothing was sent."""

    description = "invalid input"


class BadSubjectError(InvalidInputError):
    """A subject, reply subject or queue name is not valid."""

    description = "invalid subject"


class BadHeaderError(InvalidInputError):
    """A header key or value is not valid (for example, it contains CR or LF)."""

    description = "invalid header"


class BadTimeoutError(InvalidInputError):
    """A timeout is not a positive number."""

    description = "invalid timeout"


class MaxPayloadError(InvalidInputError):
    """Headers plus payload exceed the server's ``max_payload``."""

    description = "maximum payload exceeded"


class InvalidURLError(InvalidInputError):
    """A server URL cannot be parsed or uses an unsupported scheme."""

    description = "invalid server URL"


class InvalidCallbackTypeError(InvalidInputError):
    """A callback is not callable, or an option is given a value of the wrong kind."""

    description = "invalid callback type"


class BadSubscriptionError(Error):
    """The subscription was unsubscribed, drained or closed."""

    description = "invalid subscription"


class NoEchoNotSupportedError(Error):
    """``no_echo`` was asked for but the server does not support it."""

    description = "no_echo not supported by server"


class ProtocolError(Error):
    """The peer sent bytes that are not valid NATS protocol."""

    description = "protocol error"


#: nats-py's name for an INFO that is not valid JSON; rxnats raises ProtocolError for it.
JsonParseError = ProtocolError


class MalformedHeadersError(ProtocolError):
    """A received message's header block is malformed; only that message is affected.

    Raised by ``msg.headers`` (and ``msg.status``, ``msg.description``) and by a
    ``request()`` whose reply carries such a block. The connection stays up: the block
    passed through the server unchanged, so the publisher sent it.
    """

    description = "malformed message headers"


class ServerError(Error):
    """The server sent ``-ERR``; ``server_message`` holds its text."""

    description = "server error"

    def __init__(self, server_message: str) -> None:
        super().__init__(f"nats: {server_message}")
        self.server_message = server_message


class AuthorizationError(ServerError):
    """The server rejected the credentials (or they expired)."""

    description = "authorization violation"


class PermissionsViolationError(ServerError):
    """A publish or subscribe was denied; the connection stays up."""

    description = "permissions violation"


class MaxConnectionsExceededError(ServerError):
    """The server or account has reached its connection limit."""

    description = "maximum connections exceeded"


class SecureConnRequiredError(Error):
    """The server requires TLS but the client has none configured."""

    description = "secure connection required"


class SecureConnWantedError(Error):
    """TLS was asked for (``tls://`` or a context) but the server does not offer it."""

    description = "secure connection not available"


class SecureConnFailedError(Error):
    """The TLS handshake failed (certificate, hostname, or protocol)."""

    description = "secure connection failed"


class InvalidUserCredentialsError(Error):
    """A credentials file, seed or JWT could not be read or used."""

    description = "invalid user credentials"


class MissingDependencyError(Error, ImportError):
    """A feature needs an optional extra that is not installed; the message names the
    ``pip install`` command. Also an :class:`ImportError`."""

    description = "a needed package is not installed"


class ServerNotInPoolError(Error):
    """nats-py's error for a reconnect handler that picks a server outside the pool.

    rxnats has no such handler and never raises it; the name exists so that
    ``except nats.errors.ServerNotInPoolError`` keeps working after the import rename.
    """

    description = "server not in pool"


class JetStreamError(Error):
    """Base class of every JetStream error (nats-py's ``nats.js.errors.Error``).

    The JetStream API's errors derive from it in :mod:`rxnats.jetstream.errors`.
    """

    description = "JetStream error"


class NotJSMessageError(JetStreamError):
    """The message was not delivered by JetStream, so it cannot be acknowledged."""

    description = "not a JetStream message"


class MsgAlreadyAckdError(JetStreamError):
    """The message was already acknowledged (ack, nak or term)."""

    description = "message was already acknowledged"
