"""JetStream errors: the server's API errors keyed by ``err_code``, plus client-side ones.

Every JetStream API reply that fails carries ``{"code": <HTTP-like status>, "err_code":
<JetStream error code>, "description": ...}``. :func:`api_error` picks the class from
``err_code`` first, then from ``code``; the description text is never matched, so a
reworded server message changes nothing. A class for an ``err_code`` derives from the
class of the ``code`` the server sends with it, so ``except BadRequestError`` catches every
400 and ``except NotFoundError`` every 404, as in nats-py. Names follow nats-py's
``nats.js.errors`` (``Error`` is :class:`JetStreamError`).

::

    rxnats.errors.Error
    └── JetStreamError (Error)                 (base of everything JetStream; it,
        │                                       NotJSMessageError and MsgAlreadyAckdError
        │                                       are rxnats.errors': a core message raises
        │                                       them)
        ├── APIError                           (the server said no: code/err_code/description)
        │   ├── BadRequestError                (code 400)
        │   │   ├── StreamNameAlreadyInUseError   (err_code 10058)
        │   │   ├── ConsumerNameExistsError    (10013, 10105, 10148: exists, other config)
        │   │   ├── WrongLastMsgIDError        (10070)
        │   │   ├── WrongLastSequenceError     (10071, 10164)
        │   │   │   └── KeyWrongLastSequenceError  (a key-value compare-and-set conflict)
        │   │   ├── ConsumerInvalidResetError  (10204)
        │   │   ├── MsgTTLDisabledError        (10166: the stream has no allow_msg_ttl)
        │   │   └── InvalidMsgTTLError         (10165)
        │   ├── NotFoundError                  (code 404)
        │   │   ├── StreamNotFoundError        (10059)
        │   │   ├── ConsumerNotFoundError      (10014; 10149 for an update of none)
        │   │   ├── MessageNotFoundError       (10037)
        │   │   ├── BucketNotFoundError        (no key-value bucket / object store)
        │   │   └── KeyNotFoundError           (also KeyValueError)
        │   │       └── KeyDeletedError        (the key's last entry is a delete or purge)
        │   ├── ServiceUnavailableError        (code 503: JetStream not enabled/answering)
        │   ├── ServerError                    (code 500)
        │   ├── BadBucketError                 (the stream is not a key-value bucket)
        │   └── KeyValueError
        │       ├── NoKeysError                (the bucket holds no keys)
        │       └── KeyHistoryTooLargeError    (also InvalidInputError: history > 64)
        ├── NoStreamResponseError              (a publish reached no stream)
        ├── NotJSMessageError                  (ack on a message JetStream did not deliver)
        ├── MsgAlreadyAckdError                (the message was already acknowledged)
        ├── FetchStatusError                   (a pull request ended with an error status)
        │   └── ConsumerDeletedError
        ├── FetchTimeoutError                  (also rxnats.errors.TimeoutError)
        ├── TooManyStalledMsgsError            (also rxnats.errors.TimeoutError)
        ├── ConsumerAlreadyBoundError          (a push consumer already has a subscriber)
        ├── DeliverGroupMismatchError          (also InvalidInputError: queue vs deliver group)
        ├── ConsumerSequenceMismatchError      (reported: a push consumer skipped messages)
        ├── KeyValueLimitMarkerTTLNotSupportedError  (the server is older than 2.11)
        ├── InvalidBucketNameError             (also InvalidInputError)
        ├── InvalidKeyError                    (also InvalidInputError)
        └── InvalidObjectNameError             (also InvalidInputError)

The object store's errors (``ObjectNotFoundError``, ``DigestMismatchError``, ...) are in
:mod:`rxnats.jetstream.object_errors`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from rxnats.errors import InvalidInputError, JetStreamError, MsgAlreadyAckdError, NotJSMessageError
from rxnats.errors import TimeoutError as _CoreTimeoutError

if TYPE_CHECKING:
    from rxnats.msg import Msg

__all__ = [
    "APIError",
    "BadBucketError",
    "BadRequestError",
    "BucketNotFoundError",
    "ConsumerAlreadyBoundError",
    "ConsumerDeletedError",
    "ConsumerInvalidResetError",
    "ConsumerNameExistsError",
    "ConsumerNotFoundError",
    "ConsumerSequenceMismatchError",
    "DeliverGroupMismatchError",
    "Error",
    "FetchStatusError",
    "FetchTimeoutError",
    "InvalidBucketNameError",
    "InvalidKeyError",
    "InvalidMsgTTLError",
    "InvalidObjectNameError",
    "JetStreamError",
    "KeyDeletedError",
    "KeyHistoryTooLargeError",
    "KeyNotFoundError",
    "KeyValueError",
    "KeyValueLimitMarkerTTLNotSupportedError",
    "KeyWrongLastSequenceError",
    "MessageNotFoundError",
    "MsgAlreadyAckdError",
    "MsgTTLDisabledError",
    "NoKeysError",
    "NoStreamResponseError",
    "NotFoundError",
    "NotJSMessageError",
    "ServerError",
    "ServiceUnavailableError",
    "StreamNameAlreadyInUseError",
    "StreamNotFoundError",
    "TooManyStalledMsgsError",
    "WrongLastMsgIDError",
    "WrongLastSequenceError",
    "api_error",
]


Error = JetStreamError
"""nats-py's name for :class:`JetStreamError`."""


class APIError(JetStreamError):
    """The JetStream API refused a request.

    Attributes:
        code: the HTTP-like status (400, 404, 503, ...), or ``None``.
        err_code: the JetStream error code (e.g. 10059 stream not found), or ``None``.
        description: the server's text (informative only; never matched).
        stream: the stream concerned, when known.
        seq: the sequence concerned, when known.
    """

    description: str = "JetStream API error"

    def __init__(
        self,
        description: str = "",
        *,
        code: int | None = None,
        err_code: int | None = None,
        stream: str | None = None,
        seq: int | None = None,
    ) -> None:
        text = description or type(self).description
        super().__init__(f"nats: {text} (code={code}, err_code={err_code})")
        self.description = text
        self.code = code
        self.err_code = err_code
        self.stream = stream
        self.seq = seq

    @classmethod
    def from_error(cls, error: Mapping[str, object]) -> APIError:
        """The typed error for an API reply's ``"error"`` object (see :func:`api_error`)."""
        return api_error(error)

    @classmethod
    def from_msg(cls, msg: Msg) -> APIError:
        """The error for a status message (``503`` is :class:`ServiceUnavailableError`)."""
        status = msg.status
        if status == 503:
            return ServiceUnavailableError(msg.description, code=503)
        if status == 404:
            return NotFoundError(msg.description, code=404)
        return APIError(msg.description, code=status)


class BadRequestError(APIError):
    """The request was malformed or not allowed (code 400)."""

    description = "bad request"


class NotFoundError(APIError):
    """The thing asked for does not exist (code 404)."""

    description = "not found"


class StreamNotFoundError(NotFoundError):
    """No stream by that name (err_code 10059)."""

    description = "stream not found"


class ConsumerNotFoundError(NotFoundError):
    """No consumer by that name (err_code 10014, or 10149 when updating one)."""

    description = "consumer not found"


class MessageNotFoundError(NotFoundError):
    """No message at that sequence or subject (err_code 10037)."""

    description = "no message found"


class BucketNotFoundError(NotFoundError):
    """No key-value bucket or object store by that name."""

    description = "bucket not found"

    def __init__(self, description: str = "", *, stream: str | None = None) -> None:
        super().__init__(description, code=404, stream=stream)


class ServiceUnavailableError(APIError):
    """JetStream did not answer: not enabled for the account, or no leader (code 503)."""

    description = "JetStream not enabled or not available"


class ServerError(APIError):
    """The server failed internally (code 500)."""

    description = "JetStream server error"


class StreamNameAlreadyInUseError(BadRequestError):
    """A stream with that name exists with a different configuration (err_code 10058)."""

    description = "stream name already in use with a different configuration"


class ConsumerNameExistsError(BadRequestError):
    """A consumer with that name exists with a different configuration."""

    description = "consumer already exists"


class WrongLastSequenceError(BadRequestError):
    """An expected-last-sequence check failed (err_code 10071)."""

    description = "wrong last sequence"


class WrongLastMsgIDError(BadRequestError):
    """An expected-last-message-id check failed (err_code 10070)."""

    description = "wrong last message id"


class ConsumerInvalidResetError(BadRequestError):
    """A consumer reset asked for a sequence its deliver policy excludes (err_code 10204)."""

    description = "invalid consumer reset"


class MsgTTLDisabledError(BadRequestError):
    """A message carried a TTL but the stream has no ``allow_msg_ttl`` (err_code 10166)."""

    description = "per-message TTL is disabled"


class InvalidMsgTTLError(BadRequestError):
    """A message TTL is unparsable or below one second (err_code 10165)."""

    description = "invalid per-message TTL"


class BadBucketError(APIError):
    """The stream behind the name is not a key-value bucket."""

    description = "stream is not a valid key-value bucket"


class KeyValueError(APIError):
    """A key-value operation failed."""

    description = "key-value error"


class KeyNotFoundError(KeyValueError, NotFoundError):
    """The key-value bucket holds no value for the key (or the bucket is gone).

    Attributes:
        entry: the delete or purge marker entry when the key was deleted, else ``None``.
        op: that marker's operation (``"DEL"`` or ``"PURGE"``), else ``None``.
    """

    description = "key not found"

    def __init__(
        self,
        description: str = "",
        *,
        entry: object | None = None,
        op: str | None = None,
        code: int | None = 404,
        err_code: int | None = None,
        stream: str | None = None,
    ) -> None:
        super().__init__(description, code=code, err_code=err_code, stream=stream)
        self.entry = entry
        self.op = op


class KeyDeletedError(KeyNotFoundError):
    """The key's latest entry is a delete or purge marker (``entry``, ``op``)."""

    description = "key was deleted"


class KeyWrongLastSequenceError(KeyValueError, WrongLastSequenceError):
    """A key-value ``update``/``create``/``delete(last=)`` lost a compare-and-set race."""

    description = "wrong last sequence for key"


class NoKeysError(KeyValueError):
    """The bucket holds no keys (or no history for the key)."""

    description = "no keys found"


class KeyHistoryTooLargeError(KeyValueError, InvalidInputError):
    """A bucket's ``history`` may be at most 64."""

    description = "history limited to a max of 64"


class NoStreamResponseError(JetStreamError):
    """A JetStream publish got a "no responders" reply: no stream captures the subject."""

    description = "no response from stream"


class FetchStatusError(JetStreamError):
    """A pull request was ended by the server with a status that is an error (ADR-37).

    Attributes:
        status: the status code (409, ...).
        status_description: the server's text for it.
    """

    description = "pull request failed"

    def __init__(self, status: int, status_description: str) -> None:
        super().__init__(f"nats: pull request ended with {status} {status_description}")
        self.status = status
        self.status_description = status_description


class ConsumerDeletedError(FetchStatusError):
    """The consumer was deleted while a pull request waited (409 Consumer Deleted)."""

    description = "consumer deleted"


class FetchTimeoutError(JetStreamError, _CoreTimeoutError):
    """A fetch got no message in time (also ``rxnats.errors.TimeoutError``)."""

    description = "fetch timeout"


class TooManyStalledMsgsError(JetStreamError, _CoreTimeoutError):
    """``publish_async`` waited ``wait_stall`` seconds and no acknowledgement freed a place."""

    description = "stalled with too many outstanding async published messages"


class ConsumerAlreadyBoundError(JetStreamError):
    """A push consumer without a deliver group already has a subscriber.

    Two subscribers of one such consumer would each get every message, so the second
    ``js.subscribe()`` is refused (as in nats-py and nats.go).
    """

    description = "consumer is already bound to a subscription"


class DeliverGroupMismatchError(JetStreamError, InvalidInputError):
    """A push subscription's ``queue`` does not match its consumer's deliver group."""

    description = "queue does not match the consumer's deliver group"


class ConsumerSequenceMismatchError(JetStreamError):
    """A push consumer's heartbeat says messages were sent that this client did not get.

    Reported to ``error_cb`` (nats-py reports the same); an ordered consumer recovers
    by itself instead.

    Attributes:
        stream_resume_sequence: the stream sequence to restart from.
        consumer_sequence: the last consumer sequence received.
        last_consumer_sequence: the last one the server sent.
    """

    description = "consumer sequence mismatch"

    def __init__(
        self,
        stream_resume_sequence: int | None = None,
        consumer_sequence: int | None = None,
        last_consumer_sequence: int | None = None,
    ) -> None:
        super().__init__(
            f"nats: sequence mismatch: received consumer sequence {consumer_sequence}, "
            f"server sent {last_consumer_sequence}; resume from stream sequence "
            f"{stream_resume_sequence}"
        )
        self.stream_resume_sequence = stream_resume_sequence
        self.consumer_sequence = consumer_sequence
        self.last_consumer_sequence = last_consumer_sequence


class KeyValueLimitMarkerTTLNotSupportedError(JetStreamError):
    """``limit_marker_ttl`` needs JetStream API level 1 (nats-server 2.11 or later)."""

    description = "limit marker TTLs not supported by server"


class InvalidBucketNameError(JetStreamError, InvalidInputError):
    """A bucket name may hold only letters, digits, ``-`` and ``_``."""

    description = "invalid bucket name"


class InvalidKeyError(JetStreamError, InvalidInputError):
    """A key is empty, starts/ends with ``.``, or holds characters keys may not hold."""

    description = "invalid key"


class InvalidObjectNameError(JetStreamError, InvalidInputError):
    """An object name is empty."""

    description = "invalid object name"


_BY_ERR_CODE: dict[int, type[APIError]] = {
    10059: StreamNotFoundError,
    10014: ConsumerNotFoundError,
    10149: ConsumerNotFoundError,
    10037: MessageNotFoundError,
    10058: StreamNameAlreadyInUseError,
    10013: ConsumerNameExistsError,
    10105: ConsumerNameExistsError,
    10148: ConsumerNameExistsError,
    10070: WrongLastMsgIDError,
    10071: WrongLastSequenceError,
    10164: WrongLastSequenceError,
    10204: ConsumerInvalidResetError,
    10165: InvalidMsgTTLError,
    10166: MsgTTLDisabledError,
}

_BY_CODE: dict[int, type[APIError]] = {
    400: BadRequestError,
    404: NotFoundError,
    500: ServerError,
    503: ServiceUnavailableError,
}


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def api_error(error: Mapping[str, object], *, stream: str | None = None) -> APIError:
    """Build the typed error for an API reply's ``"error"`` object.

    The class is chosen by ``err_code``, then by ``code``, else :class:`APIError`.
    """
    code = _int_or_none(error.get("code"))
    err_code = _int_or_none(error.get("err_code"))
    description = error.get("description")
    cls = (err_code is not None and _BY_ERR_CODE.get(err_code)) or (
        code is not None and _BY_CODE.get(code)
    )
    return (cls or APIError)(
        description if isinstance(description, str) else "",
        code=code,
        err_code=err_code,
        stream=stream,
    )
