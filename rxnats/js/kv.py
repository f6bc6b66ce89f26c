"""nats-py's ``nats.js.kv``: key-value buckets and their constants."""

from __future__ import annotations

from rxnats.jetstream.kv import (
    KV_DEL,
    KV_MARKER_REASON,
    KV_OP,
    KV_PURGE,
    MSG_ROLLUP_SUBJECT,
    VALID_KEY_RE,
    KeyValue,
    StopIterSentinel,
    logger,
)
from rxnats.js import api

__all__ = [
    "KV_DEL",
    "KV_MARKER_REASON",
    "KV_OP",
    "KV_PURGE",
    "MSG_ROLLUP_SUBJECT",
    "VALID_KEY_RE",
    "KeyValue",
    "StopIterSentinel",
    "api",
    "logger",
]
