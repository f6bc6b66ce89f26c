"""Errors of the object store (ADR-20), in the JetStream error tree.

Names follow nats-py's ``nats.js.errors`` (``ObjectNotFoundError``, ``ObjectDeletedError``,
``BadObjectMetaError``, ``DigestMismatchError``, ``LinkIsABucketError``,
``ObjectAlreadyExists``) so code catching those keeps working::

    JetStreamError
    ├── APIError
    │   └── NotFoundError
    │       ├── ObjectNotFoundError          (no object by that name)
    │       │   └── ObjectDeletedError       (the object's latest meta is a delete marker)
    │       └── NoObjectsError               (``list()`` found nothing)
    ├── ObjectAlreadyExistsError             (a rename or link would hide a live object)
    ├── BadObjectMetaError                   (the stored meta is unusable, or chunks are missing)
    ├── DigestMismatchError                  (the chunks read do not hash to the meta's digest)
    ├── LinkIsABucketError                   (``get`` of a link to a whole bucket)
    └── LinkToLinkError                      (also InvalidInputError: links cannot chain)
"""

from __future__ import annotations

from rxnats.errors import InvalidInputError
from rxnats.jetstream.errors import JetStreamError, NotFoundError

__all__ = [
    "BadObjectMetaError",
    "DigestMismatchError",
    "LinkIsABucketError",
    "LinkToLinkError",
    "NoObjectsError",
    "ObjectAlreadyExists",
    "ObjectAlreadyExistsError",
    "ObjectDeletedError",
    "ObjectNotFoundError",
]


class ObjectNotFoundError(NotFoundError):
    """The bucket holds no object by that name."""

    description = "object not found"

    def __init__(self, description: str = "", *, stream: str | None = None) -> None:
        super().__init__(description, code=404, stream=stream)


class ObjectDeletedError(ObjectNotFoundError):
    """The object was deleted (its latest meta is a delete marker)."""

    description = "object was deleted"


class NoObjectsError(NotFoundError):
    """``list()`` found no objects in the bucket."""

    description = "no objects found"

    def __init__(self, description: str = "", *, stream: str | None = None) -> None:
        super().__init__(description, code=404, stream=stream)


class ObjectAlreadyExistsError(JetStreamError):
    """A rename or a link would replace a live (not deleted, not link) object."""

    description = "an object already exists with that name"


ObjectAlreadyExists = ObjectAlreadyExistsError
"""nats-py's name for :class:`ObjectAlreadyExistsError`."""


class BadObjectMetaError(JetStreamError):
    """The object's meta message cannot be used.

    Raised when it is not a JSON object of the ADR-20 shape, names no ``nuid``, when a
    ``put`` asks for something the meta cannot hold (a link, a bad chunk size), or when
    the stream holds fewer chunks than the meta promises.
    """

    description = "bad object meta"


class DigestMismatchError(JetStreamError):
    """The bytes read do not hash to the digest the object's meta records.

    Attributes:
        expected: the meta's digest (``SHA-256=<base64url>``).
        actual: the digest of the bytes read, in the same form.
    """

    description = "object digest mismatch"

    def __init__(self, expected: str, actual: str) -> None:
        super().__init__(f"nats: object digest mismatch: expected {expected}, got {actual}")
        self.expected = expected
        self.actual = actual


class LinkIsABucketError(JetStreamError):
    """``get`` was asked for a link to a whole bucket, which holds no bytes itself."""

    description = "object is a link to a bucket"


class LinkToLinkError(JetStreamError, InvalidInputError):
    """A link may point at an object, not at another link."""

    description = "a link cannot point at another link"
