"""The header names and status codes of JetStream messages (nats-py's ``api.Header``).

``Header`` members are strings, so ``headers={Header.MSG_ID: "order-42"}`` and
``msg.headers.get(Header.LAST_CONSUMER)`` work as with plain names.
"""

from __future__ import annotations

import math
from enum import StrEnum

from rxnats.errors import InvalidInputError

__all__ = [
    "KV_DEL",
    "KV_MARKER_REASON",
    "KV_OP",
    "KV_PURGE",
    "MSG_ROLLUP_SUBJECT",
    "SCHEDULE_DAILY",
    "SCHEDULE_HOURLY",
    "SCHEDULE_MONTHLY",
    "SCHEDULE_WEEKLY",
    "SCHEDULE_YEARLY",
    "Header",
    "MarkerReason",
    "StatusCode",
    "ttl_value",
]


class Header(StrEnum):
    """Header names JetStream reads or writes."""

    BATCH_COMMIT = "Nats-Batch-Commit"
    BATCH_ID = "Nats-Batch-Id"
    BATCH_SEQUENCE = "Nats-Batch-Sequence"
    CONSUMER_STALLED = "Nats-Consumer-Stalled"
    DESCRIPTION = "Description"
    EXPECTED_LAST_MSG_ID = "Nats-Expected-Last-Msg-Id"
    EXPECTED_LAST_SEQUENCE = "Nats-Expected-Last-Sequence"
    EXPECTED_LAST_SUBJECT_SEQUENCE = "Nats-Expected-Last-Subject-Sequence"
    EXPECTED_STREAM = "Nats-Expected-Stream"
    INCR = "Nats-Incr"
    LAST_CONSUMER = "Nats-Last-Consumer"
    LAST_STREAM = "Nats-Last-Stream"
    MARKER_REASON = "Nats-Marker-Reason"
    MSG_ID = "Nats-Msg-Id"
    MSG_TTL = "Nats-TTL"
    PENDING_BYTES = "Nats-Pending-Bytes"
    PENDING_MESSAGES = "Nats-Pending-Messages"
    PIN_ID = "Nats-Pin-Id"
    ROLLUP = "Nats-Rollup"
    SCHEDULE = "Nats-Schedule"
    SCHEDULE_NEXT = "Nats-Schedule-Next"
    SCHEDULE_ROLLUP = "Nats-Schedule-Rollup"
    SCHEDULE_SOURCE = "Nats-Schedule-Source"
    SCHEDULE_TARGET = "Nats-Schedule-Target"
    SCHEDULE_TIME_ZONE = "Nats-Schedule-Time-Zone"
    SCHEDULE_TTL = "Nats-Schedule-TTL"
    SCHEDULER = "Nats-Scheduler"
    STATUS = "Status"


class StatusCode(StrEnum):
    """Status codes of JetStream status messages, as text (``msg.status`` is the ``int``)."""

    SERVICE_UNAVAILABLE = "503"
    NO_MESSAGES = "404"
    REQUEST_TIMEOUT = "408"
    CONFLICT = "409"
    CONTROL_MESSAGE = "100"


class MarkerReason(StrEnum):
    """Why the server wrote a marker message (``Nats-Marker-Reason``, ADR-43/ADR-48)."""

    MAX_AGE = "MaxAge"
    PURGE = "Purge"
    REMOVE = "Remove"


SCHEDULE_YEARLY = "@yearly"
SCHEDULE_MONTHLY = "@monthly"
SCHEDULE_WEEKLY = "@weekly"
SCHEDULE_DAILY = "@daily"
SCHEDULE_HOURLY = "@hourly"

KV_OP = "KV-Operation"
KV_DEL = "DEL"
KV_PURGE = "PURGE"
KV_MARKER_REASON = Header.MARKER_REASON.value
MSG_ROLLUP_SUBJECT = "sub"


def ttl_value(ttl: float | str) -> str:
    """The ``Nats-TTL`` header value for ``ttl`` seconds (ADR-43).

    Whole seconds are sent as an integer, fractions as a duration (``"1.5s"``); a string
    (``"never"``, ``"1h"``) is sent as it is, and ``math.inf`` means ``"never"``.

    Raises:
        InvalidInputError: ``ttl`` is below the server's minimum of one second.
    """
    if isinstance(ttl, str):
        if not ttl:
            raise InvalidInputError("a message TTL cannot be empty")
        return ttl
    if math.isinf(ttl) and ttl > 0:
        return "never"
    if not ttl >= 1:
        raise InvalidInputError(f"a message TTL must be at least 1 second, not {ttl!r}")
    if ttl == int(ttl):
        return str(int(ttl))
    return f"{ttl!r}s"
