"""JetStream errors: the server's API errors keyed by ``err_code``, plus client-side ones.

Every JetStream API reply that fails carries ``{"code": <HTTP-like status>, "err_code":
<JetStream error code>, "description": ...}``. :func:`api_error` picks the class from
``err_code`` first, then from ``code``; the description text is never matched, so a
reworded server message changes nothing. Names follow nats-py's ``nats.js.errors``.

::

    rxnats.errors.Error
    └── JetStreamError                       (base of everything JetStream)
        ├── APIError                         (the server said no: code/err_code/description)
        │   ├── BadRequestError              (code 400)
        │   ├── NotFoundError                (code 404)
        │   │   ├── StreamNotFoundError      (err_code 10059)
        │   │   ├── ConsumerNotFoundError    (err_code 10014)
        │   │   ├── MessageNotFoundError     (err_code 10037)
        │   │   └── KeyNotFoundError         (a key-value get found nothing)
        │   │       └── KeyDeletedError      (the key's last entry is a delete or purge)
        │   ├── ServiceUnavailableError      (code 503: JetStream not enabled/answering)
        │   ├── ServerError                  (code 500)
        │   ├── StreamNameAlreadyInUseError  (err_code 10058)
        │   ├── ConsumerNameExistsError      (err_code 10013 / 10105)
        │   ├── WrongLastMsgIDError          (err_code 10070)
        │   └── WrongLastSequenceError       (err_code 10071)
        │       └── KeyWrongLastSequenceError  (a key-value compare-and-set conflict)
        ├── NoStreamResponseError            (a publish reached no stream)
        ├── NotJSMessageError                (ack on a message JetStream did not deliver)
        ├── MsgAlreadyAckdError              (the message was already acknowledged)
        ├── FetchStatusError                 (a pull request ended with a 409 status)
        │   └── ConsumerDeletedError
        ├── BucketNotFoundError              (no key-value bucket / object store by that name)
        ├── InvalidBucketNameError           (also InvalidInputError)
        ├── InvalidKeyError                  (also InvalidInputError)
        └── NoKeysError                      (the bucket holds no keys)
"""

from __future__ import annotations

from collections.abc import Mapping

from rxnats.errors import Error, InvalidInputError

__all__ = [
    "APIError",
    "BadRequestError",
    "BucketNotFoundError",
    "ConsumerDeletedError",
    "ConsumerNameExistsError",
    "ConsumerNotFoundError",
    "FetchStatusError",
    "InvalidBucketNameError",
    "InvalidKeyError",
    "JetStreamError",
    "KeyDeletedError",
    "KeyNotFoundError",
    "KeyWrongLastSequenceError",
    "MessageNotFoundError",
    "MsgAlreadyAckdError",
    "NoKeysError",
    "NoStreamResponseError",
    "NotFoundError",
    "NotJSMessageError",
    "ServerError",
    "ServiceUnavailableError",
    "StreamNameAlreadyInUseError",
    "StreamNotFoundError",
    "WrongLastMsgIDError",
    "WrongLastSequenceError",
    "api_error",
]


class JetStreamError(Error):
    """Base class of every JetStream error."""

    description = "JetStream error"


class APIError(JetStreamError):
    """The JetStream API refused a request.

    Attributes:
        code: the HTTP-like status (400, 404, 503, ...), or ``None``.
        err_code: the JetStream error code (e.g. 10059 stream not found), or ``None``.
        description: the server's text (informative only; never matched).
        stream: the stream concerned, when known.
        seq: the sequence concerned, when known.
    """

    description = "JetStream API error"

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
    """No consumer by that name (err_code 10014)."""

    description = "consumer not found"


class MessageNotFoundError(NotFoundError):
    """No message at that sequence or subject (err_code 10037)."""

    description = "no message found"


class KeyNotFoundError(NotFoundError):
    """The key-value bucket holds no value for the key."""

    description = "key not found"


class KeyDeletedError(KeyNotFoundError):
    """The key's latest entry is a delete or purge marker.

    Attributes:
        entry: the marker entry (its ``revision`` and ``operation``), when known.
    """

    description = "key was deleted"

    def __init__(self, description: str = "", *, entry: object | None = None) -> None:
        super().__init__(description, code=404)
        self.entry = entry


class ServiceUnavailableError(APIError):
    """JetStream did not answer: not enabled for the account, or no leader (code 503)."""

    description = "JetStream not enabled or not available"


class ServerError(APIError):
    """The server failed internally (code 500)."""

    description = "JetStream server error"


class StreamNameAlreadyInUseError(APIError):
    """A stream with that name exists with a different configuration (err_code 10058)."""

    description = "stream name already in use with a different configuration"


class ConsumerNameExistsError(APIError):
    """A consumer with that name exists with a different configuration."""

    description = "consumer already exists"


class WrongLastSequenceError(APIError):
    """An expected-last-sequence check failed (err_code 10071)."""

    description = "wrong last sequence"


class WrongLastMsgIDError(APIError):
    """An expected-last-message-id check failed (err_code 10070)."""

    description = "wrong last message id"


class KeyWrongLastSequenceError(WrongLastSequenceError):
    """A key-value ``update``/``create`` lost a compare-and-set race (err_code 10071)."""

    description = "wrong last sequence for key"


class NoStreamResponseError(JetStreamError):
    """A JetStream publish got a "no responders" reply: no stream captures the subject."""

    description = "no response from stream"


class NotJSMessageError(JetStreamError):
    """The message was not delivered by JetStream, so it cannot be acknowledged."""

    description = "not a JetStream message"


class MsgAlreadyAckdError(JetStreamError):
    """The message was already acknowledged (ack, nak or term)."""

    description = "message was already acknowledged"


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


class BucketNotFoundError(JetStreamError):
    """No key-value bucket or object store by that name."""

    description = "bucket not found"


class InvalidBucketNameError(JetStreamError, InvalidInputError):
    """A bucket name may hold only letters, digits, ``-`` and ``_``."""

    description = "invalid bucket name"


class InvalidKeyError(JetStreamError, InvalidInputError):
    """A key is empty, starts/ends with ``.``, or holds characters keys may not hold."""

    description = "invalid key"


class NoKeysError(JetStreamError):
    """The bucket holds no keys (or no history for the key)."""

    description = "no keys found"


_BY_ERR_CODE: dict[int, type[APIError]] = {
    10059: StreamNotFoundError,
    10014: ConsumerNotFoundError,
    10037: MessageNotFoundError,
    10058: StreamNameAlreadyInUseError,
    10013: ConsumerNameExistsError,
    10105: ConsumerNameExistsError,
    10148: ConsumerNameExistsError,
    10070: WrongLastMsgIDError,
    10071: WrongLastSequenceError,
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
