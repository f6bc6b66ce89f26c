"""Connect and reconnect policy as plain data (sans-I/O; time is passed in).

* :class:`ServerPool` is the list of servers to try: the configured URLs plus those the
  cluster announces in INFO ``connect_urls``, shuffled unless ``randomize`` is off. It
  counts attempts per server and drops a server after ``max_reconnect_attempts``
  failures in a row (``-1`` is never), or after the same auth error twice in a row.
* :func:`reconnect_delays` yields the wait before each attempt: none for the very first
  retry, then ``reconnect_time_wait`` plus jitter once every server has been tried.
* :func:`classify_server_error` sorts ``-ERR`` texts into what the client must do.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum

from rxnats.errors import (
    AuthorizationError,
    MaxConnectionsExceededError,
    PermissionsViolationError,
    ServerError,
    StaleConnectionError,
)
from rxnats.wire.urls import ServerAddress, parse_server_url

__all__ = [
    "ErrAction",
    "PoolEntry",
    "ServerPool",
    "classify_server_error",
    "delay_before",
    "reconnect_delays",
    "server_error_exception",
]


@dataclass(slots=True, eq=False)
class PoolEntry:
    """One server of the pool and what the client has seen of it."""

    address: ServerAddress
    discovered: bool = False
    failures: int = 0  # failed attempts since the last successful connect
    did_connect: bool = False
    last_attempt: float | None = None  # monotonic time of the last attempt
    last_error: BaseException | None = field(default=None, repr=False)
    auth_errors_in_a_row: int = 0


class ServerPool:
    """The servers a client may connect to, in the order it will try them."""

    def __init__(
        self,
        urls: Sequence[str],
        *,
        randomize: bool = True,
        max_reconnect_attempts: int = 60,
        rng: random.Random | None = None,
    ) -> None:
        self._rng = rng or random.Random()
        self.randomize = randomize
        self.max_reconnect_attempts = max_reconnect_attempts
        self.entries: list[PoolEntry] = [PoolEntry(parse_server_url(u)) for u in urls]
        if randomize:
            self._rng.shuffle(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def urls(self) -> list[str]:
        """Every server as a credential-free URL."""
        return [e.address.display() for e in self.entries]

    def discovered_urls(self) -> list[str]:
        """The servers learnt from INFO ``connect_urls``, credential-free."""
        return [e.address.display() for e in self.entries if e.discovered]

    def add_discovered(self, connect_urls: Iterable[str], *, scheme: str = "nats") -> list[str]:
        """Add servers announced by the cluster; return the new ones' URLs.

        Discovered servers inherit the scheme of the configured ones (a cluster reached
        over TLS is reached over TLS everywhere). Unparseable entries are skipped.
        """
        known = {(e.address.host, e.address.port) for e in self.entries}
        added: list[PoolEntry] = []
        for raw in connect_urls:
            try:
                address = parse_server_url(f"{scheme}://{raw}", implicit=True)
            except ValueError:
                continue
            key = (address.host, address.port)
            if key in known:
                continue
            known.add(key)
            added.append(PoolEntry(address, discovered=True))
        if added:
            if self.randomize:
                self._rng.shuffle(added)
            self.entries.extend(added)
        return [e.address.display() for e in added]

    def initial_order(self) -> list[PoolEntry]:
        """The servers in the order of the first connect: each tried once."""
        return list(self.entries)

    def next_candidate(self, current: PoolEntry | None) -> PoolEntry | None:
        """The next server to try after ``current``, or None when none is left.

        Rotates ``current`` to the back, then drops servers that exhausted their
        attempts. ``current`` stays eligible itself (a single-server pool retries it).
        """
        if current is not None and current in self.entries:
            self.entries.remove(current)
            self.entries.append(current)
        self.entries = [e for e in self.entries if self._eligible(e)]
        return self.entries[0] if self.entries else None

    def _eligible(self, entry: PoolEntry) -> bool:
        if entry.auth_errors_in_a_row >= 2:
            return False
        limit = self.max_reconnect_attempts
        return limit < 0 or entry.failures <= limit

    def record_failure(self, entry: PoolEntry, error: BaseException, now: float) -> None:
        """Note a failed attempt on ``entry``."""
        entry.failures += 1
        entry.last_attempt = now
        entry.last_error = error
        if isinstance(error, AuthorizationError):
            entry.auth_errors_in_a_row += 1
        else:
            entry.auth_errors_in_a_row = 0

    def record_success(self, entry: PoolEntry, now: float) -> None:
        """Note a successful connect on ``entry``: its counters start again."""
        entry.failures = 0
        entry.did_connect = True
        entry.last_attempt = now
        entry.last_error = None
        entry.auth_errors_in_a_row = 0


def delay_before(
    entry: PoolEntry,
    now: float,
    reconnect_time_wait: float,
    *,
    jitter: float = 0.1,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before trying ``entry`` again.

    A server not tried within the last ``reconnect_time_wait`` seconds is tried at once
    (so the first retry after a loss is immediate); otherwise the rest of that wait, plus
    up to ``jitter`` of it so that many clients dropped together do not return in step.
    """
    if entry.last_attempt is None:
        return 0.0
    remaining = entry.last_attempt + reconnect_time_wait - now
    if remaining <= 0:
        return 0.0
    r = rng or random
    return remaining + r.uniform(0.0, jitter * reconnect_time_wait)


def reconnect_delays(
    reconnect_time_wait: float,
    *,
    jitter: float = 0.1,
    rng: random.Random | None = None,
) -> Iterator[float]:
    """Yield how long to wait before each reconnect attempt on one server.

    The first attempt after a loss is immediate; each later one waits
    ``reconnect_time_wait`` plus up to ``jitter`` times that, so that many clients
    dropped at once do not return in step.
    """
    r = rng or random.Random()
    yield 0.0
    while True:
        yield reconnect_time_wait + r.uniform(0.0, jitter * reconnect_time_wait)


class ErrAction(Enum):
    """What a ``-ERR`` means for the connection."""

    KEEP = "keep"  # report it; the connection stays up
    RECONNECT = "reconnect"  # the server closes the socket: reconnect (or close)
    AUTH = "auth"  # authorization failure: reconnect path, counted per server


_KEEP_PREFIXES = ("permissions violation", "invalid subject", "maximum subscriptions exceeded")
_AUTH_PREFIXES = (
    "authorization violation",
    "authentication timeout",
    "user authentication expired",
    "user authentication revoked",
    "account authentication expired",
)


def classify_server_error(message: str) -> ErrAction:
    """Classify a ``-ERR`` text (case-insensitive prefix match, as nats-server words them)."""
    text = message.strip().lower()
    if text.startswith(_KEEP_PREFIXES):
        return ErrAction.KEEP
    if text.startswith(_AUTH_PREFIXES):
        return ErrAction.AUTH
    return ErrAction.RECONNECT


def server_error_exception(message: str) -> ServerError | StaleConnectionError:
    """The typed exception for a ``-ERR`` text."""
    text = message.strip().lower()
    if text.startswith("permissions violation"):
        return PermissionsViolationError(message)
    if text.startswith(_AUTH_PREFIXES):
        return AuthorizationError(message)
    if text.startswith("stale connection"):
        return StaleConnectionError(message)
    if text.startswith(("maximum connections exceeded", "maximum account active connections")):
        return MaxConnectionsExceededError(message)
    return ServerError(message)
