"""nats-py's ``nats.js.manager``: the JetStream manager and the names around it."""

from __future__ import annotations

from rxnats.errors import NoRespondersError
from rxnats.jetstream.errors import (
    APIError,
    ConsumerInvalidResetError,
    NotFoundError,
    ServiceUnavailableError,
)
from rxnats.jetstream.manager import JetStreamManager
from rxnats.js import api
from rxnats.js.client import NATS_HDR_LINE, NATS_HDR_LINE_SIZE

__all__ = [
    "NATS_HDR_LINE",
    "NATS_HDR_LINE_SIZE",
    "APIError",
    "ConsumerInvalidResetError",
    "JetStreamManager",
    "NoRespondersError",
    "NotFoundError",
    "ServiceUnavailableError",
    "api",
]
