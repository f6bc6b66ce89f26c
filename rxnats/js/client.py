"""nats-py's ``nats.js.client``: the JetStream context and the names around it."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from rxnats.jetstream.context import (
    DEFAULT_JS_SUB_PENDING_BYTES_LIMIT,
    DEFAULT_JS_SUB_PENDING_MSGS_LIMIT,
    JetStreamContext,
)
from rxnats.jetstream.errors import (
    BadBucketError,
    BucketNotFoundError,
    FetchTimeoutError,
    InvalidBucketNameError,
    NotFoundError,
)
from rxnats.jetstream.kv import KeyValue
from rxnats.jetstream.manager import JetStreamManager
from rxnats.jetstream.object_store import ObjectStore
from rxnats.js import api
from rxnats.msg import Msg
from rxnats.subscription import Subscription

__all__ = [
    "DEFAULT_JS_SUB_PENDING_BYTES_LIMIT",
    "DEFAULT_JS_SUB_PENDING_MSGS_LIMIT",
    "KV_MAX_HISTORY",
    "KV_PRE_TEMPLATE",
    "KV_STREAM_TEMPLATE",
    "NATS_HDR_LINE",
    "NATS_HDR_LINE_SIZE",
    "NO_RESPONDERS_STATUS",
    "OBJ_ALL_CHUNKS_PRE_TEMPLATE",
    "OBJ_ALL_META_PRE_TEMPLATE",
    "OBJ_STREAM_TEMPLATE",
    "VALID_BUCKET_RE",
    "BadBucketError",
    "BucketNotFoundError",
    "Callback",
    "FetchTimeoutError",
    "InvalidBucketNameError",
    "JetStreamContext",
    "JetStreamManager",
    "KeyValue",
    "Msg",
    "NotFoundError",
    "ObjectStore",
    "Subscription",
    "api",
]

Callback = Callable[[Msg], Awaitable[None]]
"""The type of a coroutine message callback."""

NO_RESPONDERS_STATUS = "503"
NATS_HDR_LINE = bytearray(b"NATS/1.0")
NATS_HDR_LINE_SIZE = len(NATS_HDR_LINE)
KV_STREAM_TEMPLATE = "KV_{bucket}"
KV_PRE_TEMPLATE = "$KV.{bucket}."
KV_MAX_HISTORY = 64
OBJ_STREAM_TEMPLATE = "OBJ_{bucket}"
OBJ_ALL_CHUNKS_PRE_TEMPLATE = "$O.{bucket}.C.>"
OBJ_ALL_META_PRE_TEMPLATE = "$O.{bucket}.M.>"
VALID_BUCKET_RE = re.compile(r"^[a-zA-Z0-9_-]+$")
