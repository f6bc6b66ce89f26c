"""nats-py's ``nats.js.object_store``: object stores and their constants."""

from __future__ import annotations

from rxnats.jetstream.errors import NotFoundError
from rxnats.jetstream.headers import MSG_ROLLUP_SUBJECT
from rxnats.jetstream.kv import VALID_KEY_RE
from rxnats.jetstream.object_errors import (
    BadObjectMetaError,
    DigestMismatchError,
    LinkIsABucketError,
    ObjectAlreadyExists,
    ObjectDeletedError,
    ObjectNotFoundError,
)
from rxnats.jetstream.object_models import DEFAULT_CHUNK_SIZE, DIGEST_PREFIX
from rxnats.jetstream.object_store import ObjectStore
from rxnats.jetstream.watcher import StopIterSentinel
from rxnats.js import api
from rxnats.js.client import (
    OBJ_ALL_CHUNKS_PRE_TEMPLATE,
    OBJ_ALL_META_PRE_TEMPLATE,
    OBJ_STREAM_TEMPLATE,
    VALID_BUCKET_RE,
)

__all__ = [
    "MSG_ROLLUP_SUBJECT",
    "OBJ_ALL_CHUNKS_PRE_TEMPLATE",
    "OBJ_ALL_META_PRE_TEMPLATE",
    "OBJ_CHUNKS_PRE_TEMPLATE",
    "OBJ_DEFAULT_CHUNK_SIZE",
    "OBJ_DIGEST_TEMPLATE",
    "OBJ_DIGEST_TYPE",
    "OBJ_META_PRE_TEMPLATE",
    "OBJ_NO_PENDING",
    "OBJ_STREAM_TEMPLATE",
    "VALID_BUCKET_RE",
    "VALID_KEY_RE",
    "BadObjectMetaError",
    "DigestMismatchError",
    "LinkIsABucketError",
    "NotFoundError",
    "ObjectAlreadyExists",
    "ObjectDeletedError",
    "ObjectNotFoundError",
    "ObjectStore",
    "StopIterSentinel",
    "api",
]

OBJ_CHUNKS_PRE_TEMPLATE = "$O.{bucket}.C.{obj}"
OBJ_META_PRE_TEMPLATE = "$O.{bucket}.M.{obj}"
OBJ_DEFAULT_CHUNK_SIZE = DEFAULT_CHUNK_SIZE
OBJ_DIGEST_TYPE = DIGEST_PREFIX
OBJ_DIGEST_TEMPLATE = DIGEST_PREFIX + "{digest}"
OBJ_NO_PENDING = "0"
