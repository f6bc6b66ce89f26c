"""Connection events: a closed union of small frozen records.

The client tells its event listeners (see ``NATS.add_event_listener``) of every change
worth knowing about; the Rx layer turns them into ``nc.observe_events()``. Recoverable
problems are events, not failures: the client goes on.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Closed",
    "Connected",
    "ConnectionEvent",
    "Disconnected",
    "ErrorReported",
    "LameDuck",
    "Reconnected",
    "Reconnecting",
    "ServersDiscovered",
    "SlowConsumer",
]


@dataclass(frozen=True, slots=True)
class Connected:
    """The first connection is up."""

    url: str


@dataclass(frozen=True, slots=True)
class Disconnected:
    """The connection was lost; ``cause`` says why when known."""

    url: str
    cause: Exception | None


@dataclass(frozen=True, slots=True)
class Reconnecting:
    """An attempt to reconnect is about to start (after ``delay`` seconds)."""

    attempt: int
    url: str
    delay: float


@dataclass(frozen=True, slots=True)
class Reconnected:
    """The connection is up again."""

    url: str


@dataclass(frozen=True, slots=True)
class ServersDiscovered:
    """The cluster announced servers the pool did not know."""

    urls: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LameDuck:
    """The connected server is shutting down soon (lame duck mode)."""

    url: str


@dataclass(frozen=True, slots=True)
class SlowConsumer:
    """A subscription's pending limits overflowed; ``dropped`` counts its drops so far."""

    subject: str
    sid: int
    dropped: int


@dataclass(frozen=True, slots=True)
class ErrorReported:
    """An error that did not stop the client (server -ERR, failed attempt, callback error)."""

    error: Exception


@dataclass(frozen=True, slots=True)
class Closed:
    """The client is closed for good; ``error`` is the last error, if any."""

    error: Exception | None


ConnectionEvent = (
    Connected
    | Disconnected
    | Reconnecting
    | Reconnected
    | ServersDiscovered
    | LameDuck
    | SlowConsumer
    | ErrorReported
    | Closed
)
