"""``nats.aio.errors`` under rxnats: nats-py's older ``Err*`` names.

Each name is the rxnats exception itself (not a subclass), so ``except ErrTimeout``
catches what rxnats raises, and ``except rxnats.errors.TimeoutError`` catches the same.
"""

from __future__ import annotations

from rxnats.errors import (
    AuthorizationError,
    BadSubjectError,
    BadSubscriptionError,
    BadTimeoutError,
    ConnectionClosedError,
    ConnectionDrainingError,
    ConnectionReconnectingError,
    DrainTimeoutError,
    Error,
    InvalidCallbackTypeError,
    InvalidUserCredentialsError,
    JsonParseError,
    MaxPayloadError,
    NoServersError,
    SecureConnFailedError,
    SecureConnRequiredError,
    SecureConnWantedError,
    SlowConsumerError,
    StaleConnectionError,
    TimeoutError,
)

__all__ = [
    "ErrAuthorization",
    "ErrBadSubject",
    "ErrBadSubscription",
    "ErrBadTimeout",
    "ErrConnectionClosed",
    "ErrConnectionDraining",
    "ErrConnectionReconnecting",
    "ErrDrainTimeout",
    "ErrInvalidCallbackType",
    "ErrInvalidUserCredentials",
    "ErrJsonParse",
    "ErrMaxPayload",
    "ErrNoServers",
    "ErrSecureConnFailed",
    "ErrSecureConnRequired",
    "ErrSecureConnWanted",
    "ErrSlowConsumer",
    "ErrStaleConnection",
    "ErrTimeout",
    "NatsError",
]

NatsError = Error
ErrConnectionClosed = ConnectionClosedError
ErrDrainTimeout = DrainTimeoutError
ErrInvalidUserCredentials = InvalidUserCredentialsError
ErrInvalidCallbackType = InvalidCallbackTypeError
ErrConnectionReconnecting = ConnectionReconnectingError
ErrConnectionDraining = ConnectionDrainingError
ErrMaxPayload = MaxPayloadError
ErrStaleConnection = StaleConnectionError
ErrJsonParse = JsonParseError
ErrSecureConnRequired = SecureConnRequiredError
ErrSecureConnWanted = SecureConnWantedError
ErrSecureConnFailed = SecureConnFailedError
ErrBadSubscription = BadSubscriptionError
ErrBadSubject = BadSubjectError
ErrSlowConsumer = SlowConsumerError
ErrTimeout = TimeoutError
ErrBadTimeout = BadTimeoutError
ErrAuthorization = AuthorizationError
ErrNoServers = NoServersError
