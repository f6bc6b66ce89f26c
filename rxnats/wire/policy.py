"""Connect and reconnect policy as plain data (sans-I/O: no sockets, no clock, no sleeping).

The supervisor (:mod:`rxnats.wire.supervisor`) asks this module three things and does
what it is told:

* **Which server next?** :class:`ServerPool` holds the configured URLs plus those the
  cluster announces in INFO ``connect_urls``, shuffled unless ``randomize`` is off, and
  keeps per server what happened to it. A server is retired after
  ``max_reconnect_attempts`` failed attempts in a row (``-1``: never), after the same
  authorization error twice in a row, or after a failure no retry can fix
  (see :func:`classify_attempt_error`).
* **How long to wait?** :meth:`Backoff.delays` is an endless generator of waits: ``0``
  first (one immediate retry), then ``reconnect_time_wait`` plus random jitter so that
  many clients dropped together do not come back in step. :func:`reconnect_plan` walks
  the pool in passes and takes one wait per pass: every live server is tried once
  without waiting, then the plan waits before the next pass.
* **What does an error mean?** :func:`classify_attempt_error` sorts a failed attempt into
  retry, count-as-auth or retire; :func:`classify_server_error` sorts a ``-ERR`` on a live
  connection into keep, reconnect or auth; :func:`server_error_exception` turns its text
  into a typed exception.

Randomness is injected (``random.Random``) so that tests are deterministic.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum

from rxnats.errors import (
    AuthorizationError,
    Error,
    MaxConnectionsExceededError,
    PermissionsViolationError,
    SecureConnFailedError,
    SecureConnRequiredError,
    SecureConnWantedError,
    ServerError,
    StaleConnectionError,
)
from rxnats.wire.urls import ServerAddress, parse_server_url

__all__ = [
    "Attempt",
    "AttemptVerdict",
    "Backoff",
    "ErrAction",
    "PoolEntry",
    "ServerPool",
    "classify_attempt_error",
    "classify_server_error",
    "describe_error",
    "reconnect_plan",
    "server_error_exception",
]


# ---------------------------------------------------------------------------- errors
class AttemptVerdict(Enum):
    """What a failed connect attempt means for the server it was made to."""

    RETRY = "retry"  # network trouble, timeouts, server hiccups: try it again later
    AUTH = "auth"  # the credentials were refused: retire it after the same error twice
    RETIRE = "retire"  # a configuration mismatch no retry can fix: stop trying it


def classify_attempt_error(error: BaseException) -> AttemptVerdict:
    """Classify why an attempt to connect to one server failed.

    TLS mismatches (the server requires TLS and none is configured, TLS was asked for and
    the server offers none, the certificate does not verify) retire the server; a
    refused authorization is counted (:meth:`ServerPool.record_failure`); anything else
    (refused, reset, timed out, ``-ERR`` such as maximum connections) is retried.
    """
    if isinstance(error, AuthorizationError):
        return AttemptVerdict.AUTH
    if isinstance(error, SecureConnRequiredError | SecureConnWantedError | SecureConnFailedError):
        return AttemptVerdict.RETIRE
    return AttemptVerdict.RETRY


class ErrAction(Enum):
    """What a ``-ERR`` on a live connection means for it."""

    KEEP = "keep"  # report it; the connection stays up
    RECONNECT = "reconnect"  # the server closes the socket: reconnect (or close)
    AUTH = "auth"  # authorization failure: reconnect path, counted against the server


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


# ---------------------------------------------------------------------------- backoff
@dataclass(frozen=True, slots=True)
class Backoff:
    """How long to wait between passes over the pool.

    ``jitter`` is a fraction of ``reconnect_time_wait``: each wait is
    ``reconnect_time_wait * (1 + uniform(0, jitter))``.
    """

    reconnect_time_wait: float = 2.0
    jitter: float = 0.1

    def __post_init__(self) -> None:
        if self.reconnect_time_wait < 0 or self.jitter < 0:
            raise ValueError("reconnect_time_wait and jitter must be >= 0")

    def delays(self, rng: random.Random) -> Iterator[float]:
        """Yield the wait before each pass, forever: ``0`` first, then the jittered wait."""
        yield 0.0
        wait = self.reconnect_time_wait
        while True:
            yield wait + rng.uniform(0.0, self.jitter * wait)


# ---------------------------------------------------------------------------- pool
@dataclass(slots=True, eq=False)
class PoolEntry:
    """One server of the pool and what the client has seen of it."""

    address: ServerAddress
    discovered: bool = False
    failures: int = 0  # failed attempts since the last successful connect
    did_connect: bool = False
    last_attempt: float | None = None  # monotonic time of the last attempt (for display)
    last_error: BaseException | None = field(default=None, repr=False)
    auth_errors_in_a_row: int = 0
    last_auth_error: str = ""  # lower-cased text of the last authorization error
    retired_because: str = ""  # why the pool stopped trying it ("" while it is live)

    @property
    def url(self) -> str:
        """The server's URL without credentials."""
        return self.address.display()


class ServerPool:
    """The servers a client may connect to, in the order it will try them.

    ``entries`` is the live pool; ``retired`` holds servers the pool gave up on, kept to
    explain a final :class:`~rxnats.errors.NoServersError`.
    """

    def __init__(
        self,
        urls: Sequence[str],
        *,
        randomize: bool = True,
        max_reconnect_attempts: int = 60,
        rng: random.Random | None = None,
    ) -> None:
        """Build the pool from configured URLs.

        Raises:
            InvalidURLError: a URL cannot be parsed.
        """
        self.rng = rng if rng is not None else random.Random()
        self.randomize = randomize
        self.max_reconnect_attempts = max_reconnect_attempts
        self.entries: list[PoolEntry] = [PoolEntry(parse_server_url(u)) for u in urls]
        self.retired: list[PoolEntry] = []
        if randomize:
            self.rng.shuffle(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def urls(self) -> list[str]:
        """Every live server as a credential-free URL."""
        return [e.url for e in self.entries]

    def discovered_urls(self) -> list[str]:
        """The live servers learnt from INFO ``connect_urls``, credential-free."""
        return [e.url for e in self.entries if e.discovered]

    def add_discovered(self, connect_urls: Iterable[str], *, scheme: str = "nats") -> list[str]:
        """Add servers announced by the cluster; return the new ones' URLs.

        Discovered servers inherit the scheme of the configured ones (a cluster reached
        over TLS is reached over TLS everywhere). Unparseable entries are skipped, and a
        server the pool retired is not brought back.
        """
        known = {(e.address.host, e.address.port) for e in (*self.entries, *self.retired)}
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
                self.rng.shuffle(added)
            self.entries.extend(added)
        return [e.url for e in added]

    def replace(self, urls: Sequence[str]) -> None:
        """Make ``urls`` the pool (``nc.set_server_pool()``), keeping what is known of each.

        A server already in the pool (same host and port) keeps its counters; a retired
        one given again gets a fresh start. The order is shuffled unless ``randomize``
        is off. Nothing changes when a URL is invalid.

        Raises:
            InvalidURLError: a URL cannot be parsed.
        """
        addresses = [parse_server_url(u) for u in urls]
        known = {(e.address.host, e.address.port): e for e in self.entries}
        entries: list[PoolEntry] = []
        seen: set[tuple[str, int]] = set()
        for address in addresses:
            key = (address.host, address.port)
            if key in seen:
                continue
            seen.add(key)
            old = known.get(key)
            entry = PoolEntry(address)
            if old is not None:
                entry.failures = old.failures
                entry.did_connect = old.did_connect
                entry.last_attempt = old.last_attempt
                entry.last_error = old.last_error
            entries.append(entry)
        if self.randomize:
            self.rng.shuffle(entries)
        self.entries = entries
        self.retired = [e for e in self.retired if (e.address.host, e.address.port) not in seen]

    def find(self, address: ServerAddress) -> PoolEntry | None:
        """The live entry for ``address``'s host and port, if the pool has one."""
        for entry in self.entries:
            if (entry.address.host, entry.address.port) == (address.host, address.port):
                return entry
        return None

    def next_candidate(self, current: PoolEntry | None) -> PoolEntry | None:
        """The next server to try after ``current``, or None when none is left.

        Rotates ``current`` to the back, retires servers that failed
        ``max_reconnect_attempts`` times in a row, and returns the front. ``current``
        stays eligible itself (a single-server pool retries it).
        """
        if current is not None and current in self.entries:
            self.entries.remove(current)
            self.entries.append(current)
        limit = self.max_reconnect_attempts
        if limit >= 0:
            for entry in [e for e in self.entries if e.failures >= limit]:
                self._retire(entry, f"max_reconnect_attempts={limit} used up")
        return self.entries[0] if self.entries else None

    def record_failure(self, entry: PoolEntry, error: BaseException, now: float) -> None:
        """Note a failed attempt (or an auth ``-ERR`` on a live connection) on ``entry``.

        Retires the server at once when it got the same authorization error twice in a
        row or failed in a way no retry can fix; one that used up
        ``max_reconnect_attempts`` is retired by :meth:`next_candidate`.
        """
        entry.failures += 1
        entry.last_attempt = now
        entry.last_error = error
        verdict = classify_attempt_error(error)
        if verdict is AttemptVerdict.AUTH:
            text = str(error).strip().lower()
            same = text == entry.last_auth_error
            entry.auth_errors_in_a_row = entry.auth_errors_in_a_row + 1 if same else 1
            entry.last_auth_error = text
        else:
            entry.auth_errors_in_a_row = 0
            entry.last_auth_error = ""
        if verdict is AttemptVerdict.RETIRE:
            self._retire(entry, "it cannot work with this configuration")
        elif entry.auth_errors_in_a_row >= 2:
            self._retire(entry, "it refused the same credentials twice")

    def record_success(self, entry: PoolEntry, now: float) -> None:
        """Note a successful connect on ``entry``: its counters start again."""
        entry.failures = 0
        entry.did_connect = True
        entry.last_attempt = now
        entry.last_error = None
        entry.auth_errors_in_a_row = 0
        entry.last_auth_error = ""

    def _retire(self, entry: PoolEntry, reason: str) -> None:
        if entry in self.entries:
            self.entries.remove(entry)
            entry.retired_because = reason
            self.retired.append(entry)

    def failure_report(self) -> str:
        """One line per server (live and retired) with its last error, for NoServersError."""
        parts: list[str] = []
        for entry in (*self.entries, *self.retired):
            why = describe_error(entry.last_error) if entry.last_error else "not tried"
            if entry.retired_because:
                why += f" (gave up: {entry.retired_because})"
            parts.append(f"{entry.url}: {why}")
        return "; ".join(parts)


def describe_error(exc: BaseException) -> str:
    """A short human description of why a connect attempt failed."""
    if isinstance(exc, TimeoutError) and not isinstance(exc, Error):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"


# ---------------------------------------------------------------------------- the plan
@dataclass(frozen=True, slots=True)
class Attempt:
    """One step of a reconnect: wait ``delay`` seconds, then try ``entry``."""

    number: int  # 1-based within the episode
    entry: PoolEntry
    delay: float


def reconnect_plan(
    pool: ServerPool,
    backoff: Backoff,
    *,
    after: PoolEntry | None,
) -> Iterator[Attempt]:
    """Yield the attempts of one reconnect episode, lazily, until the pool is empty.

    The first pass starts with the server after ``after`` (the one just lost, which
    comes last) and waits for nothing; each later pass starts with one wait from
    :meth:`Backoff.delays`. A pass is as long as the pool is when it starts. The caller
    records each outcome on the pool (``record_failure``) before asking for the next
    attempt, which is how retired servers leave the plan; it stops asking once an
    attempt succeeds.
    """
    delays = backoff.delays(pool.rng)
    previous = after
    number = 0
    left_in_pass = 0
    while True:
        entry = pool.next_candidate(previous)
        if entry is None:
            return
        delay = 0.0
        if left_in_pass <= 0:
            delay = next(delays)
            left_in_pass = len(pool)
        left_in_pass -= 1
        number += 1
        yield Attempt(number, entry, delay)
        previous = entry
