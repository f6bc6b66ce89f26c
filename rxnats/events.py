"""Connection events: a closed union of small frozen records.

The client tells its event listeners (see ``NATS.add_event_listener``) of every change
worth knowing about; the Rx layer turns them into ``nc.observe_events()``. Recoverable
problems are events, not failures: the client goes on.

Every event also says what it is and when it happened, for logs and tables
(``pandas.DataFrame``, :func:`rxnats.notebook.events_frame`): ``type`` is the class name,
``monotonic`` the :func:`time.monotonic` reading and ``timestamp`` the wall-clock time
(UTC) at which the event was made. These three are set by the record itself, take no
part in equality or ``repr()``, and are keyword-only.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

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


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# The three fields every event ends with. ``type`` is a field, not a property, so that
# dataclasses.asdict() and pandas see it; fields are spelled out in each class (rather
# than made by a helper) so that type checkers know them for what they are.


@dataclass(frozen=True, slots=True)
class Connected:
    """The first connection is up."""

    url: str
    type: str = field(default="Connected", init=False, repr=False, compare=False)
    monotonic: float = field(default_factory=time.monotonic, kw_only=True, repr=False, compare=False)
    timestamp: dt.datetime = field(default_factory=_utc_now, kw_only=True, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Disconnected:
    """The connection was lost; ``cause`` says why when known."""

    url: str
    cause: Exception | None
    type: str = field(default="Disconnected", init=False, repr=False, compare=False)
    monotonic: float = field(default_factory=time.monotonic, kw_only=True, repr=False, compare=False)
    timestamp: dt.datetime = field(default_factory=_utc_now, kw_only=True, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Reconnecting:
    """An attempt to reconnect is about to start (after ``delay`` seconds)."""

    attempt: int
    url: str
    delay: float
    type: str = field(default="Reconnecting", init=False, repr=False, compare=False)
    monotonic: float = field(default_factory=time.monotonic, kw_only=True, repr=False, compare=False)
    timestamp: dt.datetime = field(default_factory=_utc_now, kw_only=True, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Reconnected:
    """The connection is up again."""

    url: str
    type: str = field(default="Reconnected", init=False, repr=False, compare=False)
    monotonic: float = field(default_factory=time.monotonic, kw_only=True, repr=False, compare=False)
    timestamp: dt.datetime = field(default_factory=_utc_now, kw_only=True, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class ServersDiscovered:
    """The cluster announced servers the pool did not know."""

    urls: tuple[str, ...]
    type: str = field(default="ServersDiscovered", init=False, repr=False, compare=False)
    monotonic: float = field(default_factory=time.monotonic, kw_only=True, repr=False, compare=False)
    timestamp: dt.datetime = field(default_factory=_utc_now, kw_only=True, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class LameDuck:
    """The connected server is shutting down soon (lame duck mode)."""

    url: str
    type: str = field(default="LameDuck", init=False, repr=False, compare=False)
    monotonic: float = field(default_factory=time.monotonic, kw_only=True, repr=False, compare=False)
    timestamp: dt.datetime = field(default_factory=_utc_now, kw_only=True, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class SlowConsumer:
    """A subscription's pending limits overflowed; ``dropped`` counts its drops so far."""

    subject: str
    sid: int
    dropped: int
    type: str = field(default="SlowConsumer", init=False, repr=False, compare=False)
    monotonic: float = field(default_factory=time.monotonic, kw_only=True, repr=False, compare=False)
    timestamp: dt.datetime = field(default_factory=_utc_now, kw_only=True, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class ErrorReported:
    """An error that did not stop the client (server -ERR, failed attempt, callback error)."""

    error: Exception
    type: str = field(default="ErrorReported", init=False, repr=False, compare=False)
    monotonic: float = field(default_factory=time.monotonic, kw_only=True, repr=False, compare=False)
    timestamp: dt.datetime = field(default_factory=_utc_now, kw_only=True, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Closed:
    """The client is closed for good; ``error`` is the last error, if any."""

    error: Exception | None
    type: str = field(default="Closed", init=False, repr=False, compare=False)
    monotonic: float = field(default_factory=time.monotonic, kw_only=True, repr=False, compare=False)
    timestamp: dt.datetime = field(default_factory=_utc_now, kw_only=True, repr=False, compare=False)


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
