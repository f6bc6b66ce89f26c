"""The connect/reconnect supervisor (asyncio edge).

It owns the :class:`~rxnats.wire.policy.ServerPool` and the one task that looks for a
server after a loss. Policy lives in :mod:`rxnats.wire.policy` as plain data and pure
functions; this module only sleeps, connects and reports. It knows nothing about
subscriptions or publishes: on success it hands the new connection to the client, which
re-sends its state.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rxnats.errors import (
    AuthorizationError,
    Error,
    NoServersError,
    SecureConnFailedError,
    SecureConnRequiredError,
    SecureConnWantedError,
)
from rxnats.wire.policy import PoolEntry, ServerPool, delay_before
from rxnats.wire.transport import ConnectBuilder, Connection, TLSSettings, open_connection

__all__ = ["Supervisor", "SupervisorSettings"]

ConnectedHandler = Callable[[Connection, PoolEntry], None]
GaveUpHandler = Callable[[Exception], None]
AttemptFailedHandler = Callable[[PoolEntry, BaseException], None]
AttemptHandler = Callable[[int, PoolEntry, float], None]


@dataclass(frozen=True, slots=True)
class SupervisorSettings:
    """What the supervisor needs from the client's options."""

    urls: Sequence[str]
    randomize: bool = True
    connect_timeout: float = 2.0
    reconnect_time_wait: float = 2.0
    max_reconnect_attempts: int = 60
    reconnect_jitter: float = 0.1
    tls: TLSSettings = field(default_factory=TLSSettings)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError) and not isinstance(exc, Error):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate verification failed: {exc.verify_message}"
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"


class Supervisor:
    """Connects to the pool at start and reconnects after a loss."""

    def __init__(
        self,
        settings: SupervisorSettings,
        *,
        build_connect: ConnectBuilder,
        on_attempt_failed: AttemptFailedHandler | None = None,
        on_attempt: AttemptHandler | None = None,
    ) -> None:
        self.settings = settings
        self.pool = ServerPool(
            settings.urls,
            randomize=settings.randomize,
            max_reconnect_attempts=settings.max_reconnect_attempts,
        )
        self._build_connect = build_connect
        self._on_attempt_failed = on_attempt_failed
        self._on_attempt = on_attempt
        self._task: asyncio.Task[None] | None = None
        self.current: PoolEntry | None = None

    async def _try(self, entry: PoolEntry) -> Connection:
        entry.last_attempt = time.monotonic()
        return await open_connection(
            entry.address,
            build_connect=self._build_connect,
            tls=self.settings.tls,
            timeout=self.settings.connect_timeout,
        )

    async def connect_initial(self) -> tuple[Connection, PoolEntry]:
        """Try each server once, in pool order; return the first live connection.

        Raises:
            NoServersError: every server failed; the message lists each and why.
            AuthorizationError, SecureConn*Error: a single-server pool failed for that
                reason (a typed error says more than "no servers").

        Cancelling it closes any half-open connection.
        """
        failures: list[tuple[PoolEntry, BaseException]] = []
        for entry in self.pool.initial_order():
            try:
                conn = await self._try(entry)
            except (OSError, TimeoutError, Error) as exc:
                self.pool.record_failure(entry, exc, time.monotonic())
                failures.append((entry, exc))
                continue
            self.pool.record_success(entry, time.monotonic())
            self.current = entry
            return conn, entry
        typed = (
            AuthorizationError,
            SecureConnFailedError,
            SecureConnRequiredError,
            SecureConnWantedError,
        )
        if len(failures) == 1 and isinstance(failures[0][1], typed):
            raise failures[0][1]
        reasons = "; ".join(f"{e.address.display()}: {_describe(x)}" for e, x in failures)
        err = NoServersError(f"could not connect to any server: {reasons}")
        raise err from (failures[-1][1] if failures else None)

    def note_auth_error(self, err: Exception) -> None:
        """The live connection got an auth error: count it against its server."""
        if self.current is not None:
            self.pool.record_failure(self.current, err, time.monotonic())

    def start_reconnect(self, on_connected: ConnectedHandler, on_gave_up: GaveUpHandler) -> None:
        """Start looking for a server in the background (once at a time)."""
        if self._task is not None and not self._task.done():
            return
        self._task = asyncio.get_running_loop().create_task(
            self._reconnect(on_connected, on_gave_up), name="rxnats-reconnect"
        )

    async def _reconnect(self, on_connected: ConnectedHandler, on_gave_up: GaveUpHandler) -> None:
        wait = self.settings.reconnect_time_wait
        previous = self.current
        attempt = 0
        while True:
            entry = self.pool.next_candidate(previous)
            if entry is None:
                on_gave_up(NoServersError("no server left to reconnect to: every server "
                                          "failed its max_reconnect_attempts or refused the "
                                          "credentials twice"))
                return
            delay = delay_before(
                entry, time.monotonic(), wait, jitter=self.settings.reconnect_jitter
            )
            attempt += 1
            if self._on_attempt is not None:
                self._on_attempt(attempt, entry, delay)
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                conn = await self._try(entry)
            except (OSError, TimeoutError, Error) as exc:
                self.pool.record_failure(entry, exc, time.monotonic())
                if self._on_attempt_failed is not None:
                    self._on_attempt_failed(entry, exc)
                previous = entry
                continue
            self.pool.record_success(entry, time.monotonic())
            self.current = entry
            on_connected(conn, entry)
            return

    async def stop(self) -> None:
        """Stop reconnecting (if it is); safe to call many times."""
        task = self._task
        self._task = None
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                if asyncio.current_task() is not None and asyncio.current_task().cancelling():  # type: ignore[union-attr]  # checked on the left
                    raise
