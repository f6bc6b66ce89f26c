"""Connect and reconnect policy as plain data (sans-I/O: no sockets, no clock, no sleeping).

The supervisor (:mod:`rxnats.wire.aio.supervisor`) asks this module three things and does
what it is told:

* **Which server next?** :class:`ServerPool` holds the configured URLs plus those the
  cluster announces in INFO ``connect_urls`` (at most ``max_discovered``, deduplicated
  in one pass), shuffled unless ``randomize`` is off, and keeps per server what
  happened to it. A server is retired after ``max_reconnect_attempts`` failed attempts
  in a row (``-1``: never), after the same authorization error twice in a row, or after
  a failure no retry can fix (see :func:`classify_attempt_error`).
* **How long to wait?** Pacing is per server and holds across reconnect episodes: two
  attempts on one server start at least :meth:`Backoff.wait` apart, whatever ended the
  first (refused, timed out, or accepted and then dropped: a server that completes the
  handshake and closes the socket, or rejects a subscription the client re-sends, would
  otherwise be hammered). The wait is ``reconnect_time_wait`` plus random jitter, so
  that many clients dropped together do not come back in step; with ``max_wait`` it
  doubles with each attempt that does not give a lasting connection, up to that cap
  (ADR-40's exponential backoff). A connection that outlives its wait resets it, so
  the first attempt after losing a healthy connection is immediate.
  :func:`reconnect_plan` walks the pool and says, per attempt, when it may start.
* **What does an error mean?** :func:`classify_attempt_error` sorts a failed attempt into
  retry, count-as-auth or retire; :func:`classify_server_error` sorts a ``-ERR`` on a live
  connection into keep, reconnect or auth; :func:`server_error_exception` turns its text
  into a typed exception.

Randomness is injected (``random.Random``) and time is passed in (``now`` arguments,
``not_before`` results), so that tests are deterministic and never sleep.
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
    MissingDependencyError,
    PermissionsViolationError,
    SecureConnFailedError,
    SecureConnRequiredError,
    SecureConnWantedError,
    ServerError,
    StaleConnectionError,
)
from rxnats.wire.urls import ServerAddress, parse_server_url

#: Discovered servers a pool takes at most. nats-server announces every client address
#: of every server in the cluster (one per interface); a real cluster is tens of
#: servers, and a list far longer than this is a misconfiguration or an attack.
DEFAULT_MAX_DISCOVERED = 1024
_KNOWN_TEXTS_LIMIT = 4 * DEFAULT_MAX_DISCOVERED

__all__ = [
    "DEFAULT_MAX_DISCOVERED",
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
    the server offers none, the certificate does not verify) and a missing optional
    package (``ws://`` without the ``websocket`` extra) retire the server; a
    refused authorization is counted (:meth:`ServerPool.record_failure`); anything else
    (refused, reset, timed out, ``-ERR`` such as maximum connections) is retried.
    """
    if isinstance(error, AuthorizationError):
        return AttemptVerdict.AUTH
    if isinstance(
        error,
        SecureConnRequiredError | SecureConnWantedError | SecureConnFailedError
        | MissingDependencyError,
    ):
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
    """How long two attempts on one server must be apart (start to start).

    After ``streak`` attempts in a row that gave no lasting connection the wait is
    ``reconnect_time_wait``; with ``max_wait`` set it is ``reconnect_time_wait * 2 **
    (streak - 1)`` capped at ``max_wait``. ``jitter`` is a fraction of the wait: each
    wait is ``wait * (1 + uniform(0, jitter))``.
    """

    reconnect_time_wait: float = 2.0
    jitter: float = 0.1
    max_wait: float | None = None

    def __post_init__(self) -> None:
        if self.reconnect_time_wait < 0 or self.jitter < 0:
            raise ValueError("reconnect_time_wait and jitter must be >= 0")
        if self.max_wait is not None and self.max_wait < self.reconnect_time_wait:
            raise ValueError("max_wait must be at least reconnect_time_wait")

    def wait(self, streak: int, rng: random.Random) -> float:
        """The wait after ``streak`` attempts in a row without a lasting connection."""
        if streak <= 0:
            return 0.0
        wait = self.reconnect_time_wait
        if self.max_wait is not None:
            # min() on the exponent first: 2.0 ** 1100 overflows.
            wait = min(wait * 2.0 ** min(streak - 1, 64), self.max_wait)
        if self.jitter and wait:
            wait += rng.uniform(0.0, self.jitter * wait)
        return wait


# ---------------------------------------------------------------------------- pool
@dataclass(slots=True, eq=False)
class PoolEntry:
    """One server of the pool and what the client has seen of it."""

    address: ServerAddress
    discovered: bool = False
    failures: int = 0  # failed attempts since the last successful connect
    did_connect: bool = False
    last_attempt: float | None = None  # monotonic time the last attempt started
    streak: int = 0  # attempts since the last connection that outlived its wait
    not_before: float = float("-inf")  # the next attempt may not start before this
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
    explain a final :class:`~rxnats.errors.NoServersError`. ``backoff`` paces the
    attempts on each server (see :meth:`record_attempt`).
    """

    def __init__(
        self,
        urls: Sequence[str],
        *,
        randomize: bool = True,
        max_reconnect_attempts: int = 60,
        rng: random.Random | None = None,
        backoff: Backoff | None = None,
        max_discovered: int = DEFAULT_MAX_DISCOVERED,
    ) -> None:
        """Build the pool from configured URLs.

        Raises:
            InvalidURLError: a URL cannot be parsed.
        """
        self.rng: random.Random = rng if rng is not None else random.Random()
        self.randomize = randomize
        self.max_reconnect_attempts = max_reconnect_attempts
        self.backoff: Backoff = backoff if backoff is not None else Backoff()
        self.max_discovered = max_discovered
        self.entries: list[PoolEntry] = [PoolEntry(parse_server_url(u)) for u in urls]
        self.retired: list[PoolEntry] = []
        # (host, port) of every server the pool holds or held, and connect_urls texts
        # already known to name one of them: announcements are deduplicated in one pass.
        self._keys = {(e.address.host, e.address.port) for e in self.entries}
        self._known_texts: set[str] = set()
        self._discovered = 0
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
        server the pool retired is not brought back. The pool takes at most
        ``max_discovered`` discovered servers, and one call parses at most twice that many
        entries: an announcement of any length costs one set lookup per entry.
        """
        room = self.max_discovered - self._discovered
        if room <= 0:
            return []
        keys = self._keys
        texts = self._known_texts
        budget = 2 * self.max_discovered  # parses per call: garbage cannot stall the loop
        added: list[PoolEntry] = []
        for raw in connect_urls:
            if raw in texts:
                continue
            if budget <= 0 or len(added) >= room:
                break
            budget -= 1
            try:
                address = parse_server_url(f"{scheme}://{raw}", implicit=True)
            except ValueError:
                continue
            if len(texts) < _KNOWN_TEXTS_LIMIT:
                texts.add(raw)
            key = (address.host, address.port)
            if key in keys:
                continue
            keys.add(key)
            added.append(PoolEntry(address, discovered=True))
        if added:
            if self.randomize:
                self.rng.shuffle(added)
            self.entries.extend(added)
            self._discovered += len(added)
        return [e.url for e in added]

    def replace(self, urls: Sequence[str]) -> None:
        """Make ``urls`` the pool (``nc.set_server_pool()``), keeping what is known of each.

        A server already in the pool (same host and port) keeps its counters and its
        pacing; a retired one given again gets a fresh start. The order is shuffled
        unless ``randomize`` is off. Nothing changes when a URL is invalid.

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
                entry.streak = old.streak  # its pacing too: a new list is no reason to hurry
                entry.not_before = old.not_before
            entries.append(entry)
        if self.randomize:
            self.rng.shuffle(entries)
        self.entries = entries
        self.retired = [e for e in self.retired if (e.address.host, e.address.port) not in seen]
        self._keys = seen | {(e.address.host, e.address.port) for e in self.retired}
        self._known_texts.clear()  # they may name servers the pool no longer holds
        self._discovered = 0

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

    def record_attempt(self, entry: PoolEntry, now: float) -> None:
        """Note that an attempt on ``entry`` starts at ``now``: the next waits for this one.

        Sets ``entry.not_before`` to ``now`` plus the backoff's wait for the streak of
        attempts that gave no lasting connection, this one included.
        """
        entry.last_attempt = now
        entry.streak += 1
        entry.not_before = now + self.backoff.wait(entry.streak, self.rng)

    def record_loss(self, entry: PoolEntry, now: float) -> None:
        """Note that the live connection to ``entry`` was lost at ``now``.

        A connection that outlived the wait of the attempt that made it resets the
        streak (the next attempt may start at once, and backs off from the start). One
        lost sooner keeps it: the next attempt starts at ``entry.not_before``, whatever
        ended the connection.
        """
        if now >= entry.not_before:
            entry.streak = 0

    def record_failure(self, entry: PoolEntry, error: BaseException) -> None:
        """Note a failed attempt (or an auth ``-ERR`` on a live connection) on ``entry``.

        Retires the server at once when it got the same authorization error twice in a
        row or failed in a way no retry can fix; one that used up
        ``max_reconnect_attempts`` is retired by :meth:`next_candidate`.
        """
        entry.failures += 1
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

    def record_success(self, entry: PoolEntry) -> None:
        """Note a successful connect on ``entry``: its failure counters start again.

        The pacing (``streak``, ``not_before``) is left alone: only a connection that
        lasts resets it (see :meth:`record_loss`).
        """
        entry.failures = 0
        entry.did_connect = True
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
    """One step of a reconnect: try ``entry``, not before the time ``not_before``."""

    number: int  # 1-based within the episode
    entry: PoolEntry
    not_before: float  # in the caller's clock; -inf when the server was never tried

    def delay(self, now: float) -> float:
        """How long to wait at ``now`` before this attempt may start."""
        return max(0.0, self.not_before - now)


def reconnect_plan(pool: ServerPool, *, after: PoolEntry | None) -> Iterator[Attempt]:
    """Yield the attempts of one reconnect episode, lazily, until the pool is empty.

    Servers are tried in pool order starting with the one after ``after`` (the one just
    lost, which comes last). Each attempt says when it may start: the pool's pacing of
    that server (:meth:`ServerPool.record_attempt`), so a server tried moments ago, in
    this episode or the one before, is not tried again before its wait is over. The
    caller records each attempt's start and outcome on the pool before asking for the
    next one, which is how retired servers leave the plan; it stops asking once an
    attempt succeeds.
    """
    previous = after
    number = 0
    while True:
        entry = pool.next_candidate(previous)
        if entry is None:
            return
        number += 1
        yield Attempt(number, entry, entry.not_before)
        previous = entry
