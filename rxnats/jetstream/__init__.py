"""JetStream: streams, consumers, key-value and object store.

Placeholder until the JetStream issue lands: the classes exist so that the client's
``jetstream()`` / ``jsm()`` accessors type-check, and constructing them says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rxnats.client import NATS

__all__ = ["JetStreamContext", "JetStreamManager"]


class JetStreamContext:
    """JetStream publishing and consuming (not implemented yet)."""

    def __init__(self, nc: NATS, *, prefix: str, domain: str | None, timeout: float) -> None:
        raise NotImplementedError("JetStream support is not implemented yet")


class JetStreamManager:
    """JetStream administration (not implemented yet)."""

    def __init__(self, nc: NATS, *, prefix: str, domain: str | None, timeout: float) -> None:
        raise NotImplementedError("JetStream support is not implemented yet")
