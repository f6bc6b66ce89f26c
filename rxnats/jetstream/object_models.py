"""Object store (ADR-20) types and wire encodings.

A bucket ``B`` is the stream ``OBJ_B`` capturing ``$O.B.C.>`` (chunks) and ``$O.B.M.>``
(meta). An object's bytes are the messages on ``$O.B.C.<nuid>``; its
:class:`ObjectInfo` is the JSON payload of the last message on ``$O.B.M.<name-encoded>``,
where the name is base64url-encoded (padded) because object names are unrestricted.
The digest is ``SHA-256=<base64url of the sha-256 of the whole object>``. ``mtime`` is
never stored: it is the meta message's stream timestamp.

Meta JSON comes from any client in any language, so it is decoded field by field and a
wrong type is a :class:`~rxnats.jetstream.object_errors.BadObjectMetaError`, never a
half-built object.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Self

from rxnats.jetstream.base import parse_time_or_none as parse_time
from rxnats.jetstream.models import Base, Placement, StorageType, StreamInfo
from rxnats.jetstream.object_errors import BadObjectMetaError, DigestMismatchError

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "DigestVerifier",
    "ObjectInfo",
    "ObjectLink",
    "ObjectMeta",
    "ObjectMetaOptions",
    "ObjectStoreConfig",
    "ObjectStoreStatus",
    "chunk_subject",
    "encode_name",
    "meta_subject",
    "parse_time",
    "stream_name",
]

DEFAULT_CHUNK_SIZE = 128 * 1024
DIGEST_PREFIX = "SHA-256="


def stream_name(bucket: str) -> str:
    """The stream backing ``bucket``."""
    return f"OBJ_{bucket}"


def encode_name(name: str) -> str:
    """An object name as a subject token: padded base64url of its UTF-8 bytes."""
    return base64.urlsafe_b64encode(name.encode()).decode()


def meta_subject(bucket: str, name: str) -> str:
    """The subject of ``name``'s meta messages."""
    return f"$O.{bucket}.M.{encode_name(name)}"


def chunk_subject(bucket: str, nuid: str) -> str:
    """The subject of the chunks of the object instance ``nuid``."""
    return f"$O.{bucket}.C.{nuid}"


# ------------------------------------------------------------------ digest
def format_digest(sha256: bytes) -> str:
    """The ADR-20 digest text of a raw SHA-256 value."""
    return DIGEST_PREFIX + base64.urlsafe_b64encode(sha256).decode()


def parse_digest(text: str) -> bytes:
    """The raw SHA-256 value of a digest text (either base64 alphabet, padding optional).

    Raises:
        BadObjectMetaError: not ``SHA-256=<base64 of 32 bytes>``.
    """
    if text[: len(DIGEST_PREFIX)].upper() != DIGEST_PREFIX:
        raise BadObjectMetaError(f"unsupported object digest {text!r}")
    body = text[len(DIGEST_PREFIX) :].translate(str.maketrans("+/", "-_"))
    body += "=" * (-len(body) % 4)
    try:
        raw = base64.urlsafe_b64decode(body)
    except (binascii.Error, ValueError) as exc:
        raise BadObjectMetaError(f"malformed object digest {text!r}") from exc
    if len(raw) != hashlib.sha256().digest_size:
        raise BadObjectMetaError(f"object digest {text!r} is not a SHA-256 value")
    return raw


class DigestVerifier:
    """Hashes an object's chunks as they arrive and checks the total against its meta."""

    __slots__ = ("_hash", "size")

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.size: int = 0

    def update(self, chunk: bytes) -> None:
        """Add the next chunk."""
        self._hash.update(chunk)
        self.size += len(chunk)

    @property
    def digest(self) -> str:
        """The ADR-20 digest text of everything added so far."""
        return format_digest(self._hash.digest())

    def verify(self, expected: str | None) -> None:
        """Check the bytes added against ``expected`` (the meta's ``digest``).

        An object stored without a digest (``None`` or empty) is accepted as is.

        Raises:
            DigestMismatchError: the bytes hash to something else.
            BadObjectMetaError: ``expected`` is not a SHA-256 digest text.
        """
        if not expected:
            return
        if parse_digest(expected) != self._hash.digest():
            raise DigestMismatchError(expected, self.digest)


# ------------------------------------------------------------------ meta JSON
def _opt_str(obj: Mapping[str, object], key: str) -> str | None:
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    raise BadObjectMetaError(f"object meta field {key!r} is not a string")


def _count(obj: Mapping[str, object], key: str) -> int:
    value = obj.get(key, 0)
    if value is None:
        return 0
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise BadObjectMetaError(f"object meta field {key!r} is not a count")


def _headers(value: object) -> dict[str, list[str]] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise BadObjectMetaError("object meta 'headers' is not an object")
    out: dict[str, list[str]] = {}
    for key, values in value.items():
        if isinstance(values, str):
            values = [values]
        if not isinstance(key, str) or not isinstance(values, list):
            raise BadObjectMetaError("object meta 'headers' must map names to strings")
        if not all(isinstance(v, str) for v in values):
            raise BadObjectMetaError("object meta 'headers' must map names to strings")
        out[key] = [str(v) for v in values]
    return out


def _metadata(value: object) -> dict[str, str] | None:
    if value is None:
        return None
    if isinstance(value, Mapping) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        return {str(k): str(v) for k, v in value.items()}
    raise BadObjectMetaError("object meta 'metadata' must map strings to strings")


class _MetaJSON:
    """nats-py's model methods for the meta types, on top of their own JSON codecs."""

    def to_json(self) -> object:
        raise NotImplementedError

    def as_dict(self) -> dict[str, object]:
        """The JSON form as a ``dict``."""
        value = self.to_json()
        if isinstance(value, bytes):
            loaded = json.loads(value)
            assert isinstance(loaded, dict)
            return loaded
        assert isinstance(value, dict)
        return value

    def evolve(self, **params: object) -> Self:
        """A copy with ``params`` replacing fields.

        Raises:
            TypeError: a parameter is not a field.
        """
        return dataclasses.replace(self, **params)  # type: ignore[type-var]  # the subclasses are dataclasses


@dataclass
class ObjectLink(_MetaJSON):
    """A link's target: an object (``name``) in ``bucket``, or the whole bucket."""

    bucket: str = ""
    name: str | None = None

    def to_json(self) -> dict[str, object]:
        """The JSON form (``name`` left out for a bucket link)."""
        out: dict[str, object] = {"bucket": self.bucket}
        if self.name:
            out["name"] = self.name
        return out

    @classmethod
    def from_response(cls, resp: Mapping[str, object]) -> ObjectLink:
        """Decode a link from its JSON object."""
        return cls.from_json(resp)

    @classmethod
    def from_json(cls, obj: object) -> ObjectLink:
        """Decode a link.

        Raises:
            BadObjectMetaError: not a JSON object with a string ``bucket``.
        """
        if not isinstance(obj, Mapping):
            raise BadObjectMetaError("object meta 'link' is not an object")
        bucket = _opt_str(obj, "bucket")
        if not bucket:
            raise BadObjectMetaError("object link names no bucket")
        return cls(bucket=bucket, name=_opt_str(obj, "name") or None)


@dataclass
class ObjectMetaOptions(_MetaJSON):
    """Per-object options: a link target, the chunk size used to store it."""

    link: ObjectLink | None = None
    max_chunk_size: int | None = None

    def to_json(self) -> dict[str, object]:
        """The JSON form (unset options left out)."""
        out: dict[str, object] = {}
        if self.link is not None:
            out["link"] = self.link.to_json()
        if self.max_chunk_size:
            out["max_chunk_size"] = self.max_chunk_size
        return out

    @classmethod
    def from_response(cls, resp: Mapping[str, object]) -> ObjectMetaOptions:
        """Decode the options from their JSON object."""
        return cls.from_json(resp)

    @classmethod
    def from_json(cls, obj: object) -> ObjectMetaOptions:
        """Decode the options.

        Raises:
            BadObjectMetaError: a field has the wrong type.
        """
        if not isinstance(obj, Mapping):
            raise BadObjectMetaError("object meta 'options' is not an object")
        link = obj.get("link")
        return cls(
            link=ObjectLink.from_json(link) if link else None,
            max_chunk_size=_count(obj, "max_chunk_size") or None,
        )


@dataclass
class ObjectMeta(_MetaJSON):
    """What the user says about an object: name, description, headers, metadata, options."""

    name: str = ""
    description: str | None = None
    headers: dict[str, list[str]] | None = None
    metadata: dict[str, str] | None = None
    options: ObjectMetaOptions | None = None

    def to_json(self) -> dict[str, object]:
        """The JSON form (unset fields left out)."""
        out: dict[str, object] = {"name": self.name}
        if self.description:
            out["description"] = self.description
        if self.headers:
            out["headers"] = self.headers
        if self.metadata:
            out["metadata"] = self.metadata
        if self.options is not None and (options := self.options.to_json()):
            out["options"] = options
        return out

    @classmethod
    def from_response(cls, resp: Mapping[str, object]) -> ObjectMeta:
        """Decode the meta from its JSON object.

        Raises:
            BadObjectMetaError: a field has the wrong type.
        """
        options = resp.get("options")
        return cls(
            name=_opt_str(resp, "name") or "",
            description=_opt_str(resp, "description"),
            headers=_headers(resp.get("headers")),
            metadata=_metadata(resp.get("metadata")),
            options=ObjectMetaOptions.from_json(options) if options else None,
        )


_INFO_KEYS = frozenset(
    {"name", "description", "headers", "metadata", "options", "bucket", "nuid", "size",
     "chunks", "digest", "deleted", "mtime"}
)


@dataclass
class ObjectInfo(_MetaJSON):
    """An object's meta plus what the store knows of it (``.name/.size/.digest/...``).

    ``mtime`` is the meta message's stream time when read from the server; after a
    ``put`` it is this client's clock (ADR-20 stores no time).
    """

    name: str
    bucket: str
    nuid: str
    size: int = 0
    chunks: int = 0
    digest: str | None = None
    deleted: bool = False
    mtime: dt.datetime | None = None
    description: str | None = None
    headers: dict[str, list[str]] | None = None
    metadata: dict[str, str] | None = None
    options: ObjectMetaOptions | None = None
    extra_fields: dict[str, object] = field(default_factory=dict, kw_only=True, repr=False)
    """Meta JSON keys this client does not model (another client's), written back as read."""

    def is_link(self) -> bool:
        """Whether this is a link to another object or bucket."""
        return self.options is not None and self.options.link is not None

    @property
    def link(self) -> ObjectLink | None:
        """The link's target, or ``None`` for a regular object."""
        return self.options.link if self.options is not None else None

    @property
    def meta(self) -> ObjectMeta:
        """The user-supplied part (a copy)."""
        return ObjectMeta(
            name=self.name,
            description=self.description,
            headers=self.headers,
            metadata=self.metadata,
            options=self.options,
        )

    def to_json(self) -> bytes:
        """The meta message payload (``mtime`` is never stored)."""
        out: dict[str, object] = {"name": self.name}
        if self.description:
            out["description"] = self.description
        if self.headers:
            out["headers"] = self.headers
        if self.metadata:
            out["metadata"] = self.metadata
        if self.options is not None and (options := self.options.to_json()):
            out["options"] = options
        out.update(bucket=self.bucket, nuid=self.nuid, size=self.size, chunks=self.chunks)
        if self.digest:
            out["digest"] = self.digest
        if self.deleted:
            out["deleted"] = True
        for key, value in self.extra_fields.items():
            out.setdefault(key, value)
        return json.dumps(out, separators=(",", ":")).encode()

    @classmethod
    def from_response(cls, resp: Mapping[str, object]) -> ObjectInfo:
        """Decode an info from its JSON object (see :meth:`from_json`)."""
        return cls.from_json(json.dumps(resp).encode())

    @classmethod
    def from_json(cls, data: bytes, *, mtime: dt.datetime | None = None) -> ObjectInfo:
        """Decode a meta message payload; ``mtime`` is the message's stream time.

        Raises:
            BadObjectMetaError: not a JSON object of the ADR-20 shape.
        """
        try:
            obj = json.loads(data)
        except ValueError as exc:
            raise BadObjectMetaError(f"object meta is not JSON: {data[:64]!r}") from exc
        if not isinstance(obj, dict):
            raise BadObjectMetaError("object meta is not a JSON object")
        name = _opt_str(obj, "name")
        if not name:
            raise BadObjectMetaError("object meta names no object")
        deleted = obj.get("deleted", False)
        if not isinstance(deleted, bool):
            raise BadObjectMetaError("object meta field 'deleted' is not a boolean")
        options = obj.get("options")
        return cls(
            name=name,
            bucket=_opt_str(obj, "bucket") or "",
            nuid=_opt_str(obj, "nuid") or "",
            size=_count(obj, "size"),
            chunks=_count(obj, "chunks"),
            digest=_opt_str(obj, "digest") or None,
            deleted=deleted,
            mtime=mtime,
            description=_opt_str(obj, "description"),
            headers=_headers(obj.get("headers")),
            metadata=_metadata(obj.get("metadata")),
            options=ObjectMetaOptions.from_json(options) if options else None,
            extra_fields={k: v for k, v in obj.items() if k not in _INFO_KEYS},
        )


# ------------------------------------------------------------------ buckets
@dataclass
class ObjectStoreConfig(Base):
    """An object store bucket's configuration (``ttl`` in seconds)."""

    bucket: str = ""
    description: str | None = None
    ttl: float | None = None
    max_bytes: int | None = None
    storage: StorageType | None = None
    replicas: int = 1
    placement: Placement | None = None
    compression: bool = False
    metadata: dict[str, str] | None = None


@dataclass(frozen=True)
class ObjectStoreStatus:
    """A bucket's state (``await obs.status()``), read from its stream."""

    stream_info: StreamInfo
    bucket: str
    backing_store: str = field(default="JetStream")

    @property
    def description(self) -> str | None:
        """The description given when the bucket was created."""
        return self.stream_info.config.description

    @property
    def ttl(self) -> float | None:
        """How long objects live, in seconds (``None`` or 0: forever)."""
        return self.stream_info.config.max_age

    @property
    def storage_type(self) -> StorageType | None:
        """File or memory storage."""
        return self.stream_info.config.storage

    @property
    def replicas(self) -> int | None:
        """How many replicas the stream keeps."""
        return self.stream_info.config.num_replicas

    @property
    def sealed(self) -> bool:
        """Whether the bucket is sealed (read-only)."""
        return self.stream_info.config.sealed

    @property
    def size(self) -> int:
        """Bytes stored, chunks and meta together."""
        return self.stream_info.state.bytes

    @property
    def metadata(self) -> dict[str, str] | None:
        """The bucket-level metadata."""
        return self.stream_info.config.metadata

    @property
    def is_compressed(self) -> bool:
        """Whether the stream compresses its data on disk."""
        compression = self.stream_info.config.compression
        return compression is not None and compression.value != "none"
