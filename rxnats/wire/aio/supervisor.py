"""The connect/reconnect supervisor (asyncio edge).

Theory of operation. The supervisor owns the :class:`~rxnats.wire.policy.ServerPool` and
at most one task that looks for a server after a loss. Every decision (which server, how
long to wait, when to give up on a server) is made by :mod:`rxnats.wire.policy`; this
module only resolves names, sleeps, connects and reports through the handlers the client
gives it, and tells the pool the time: when each attempt starts and when a live
connection is lost (which is what paces attempts across reconnect episodes). It knows
nothing about subscriptions or publishes: on success it hands the new connection to the
client, which re-sends its state.

One attempt on a server resolves its host name (``loop.getaddrinfo``), shuffles the
addresses unless the pool is not randomized (ADR-11), and tries each address in turn,
each within ``connect_timeout``, until one completes the NATS handshake. TLS still
verifies the certificate against the configured host name, not the address. A network
error or a timeout moves on to the next address; an answer from the server (``-ERR``,
TLS mismatch) ends the attempt, since the other addresses are the same server.

A server is reached over TCP (``nats://``, ``tls://``) or a WebSocket (``ws://``,
``wss://``, :mod:`rxnats.wire.aio.ws`, which needs the ``websocket`` extra: see
:func:`websocket_opener`); one pool may mix them.

A handler that raises never stops the supervisor: the error is logged and it goes on.
"""

from __future__ import annotations

import asyncio
import builtins
import dataclasses
import logging
import random
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from rxnats.errors import (
    AuthorizationError,
    Error,
    MissingDependencyError,
    NoServersError,
    SecureConnFailedError,
    SecureConnRequiredError,
    SecureConnWantedError,
)
from rxnats.wire.aio.tcp import open_tcp
from rxnats.wire.aio.transport import Opener, TLSSettings, Transport
from rxnats.wire.handshake import ConnectSettings
from rxnats.wire.policy import Backoff, PoolEntry, ServerPool, describe_error, reconnect_plan
from rxnats.wire.urls import ServerAddress

__all__ = [
    "WEBSOCKET_EXTRA_HINT",
    "Opener",
    "Resolver",
    "Supervisor",
    "SupervisorSettings",
    "WebSocketOpener",
    "resolve_host",
    "websocket_opener",
]

log: logging.Logger = logging.getLogger("rxnats")

ConnectedHandler = Callable[[Transport, PoolEntry], None]
GaveUpHandler = Callable[[Exception], None]
AttemptFailedHandler = Callable[[PoolEntry, BaseException], None]
AttemptHandler = Callable[[int, PoolEntry, float], None]
#: Resolves a host name to the addresses to try: (host, port) -> addresses.
Resolver = Callable[[str, int], Awaitable[list[str]]]


class WebSocketOpener(Protocol):
    """Opens a WebSocket connection: :func:`rxnats.wire.aio.ws.open_ws`'s signature."""

    def __call__(
        self,
        address: ServerAddress,
        *,
        settings: ConnectSettings,
        tls: TLSSettings,
        timeout: float,
        headers: Sequence[tuple[str, str]] = (),
        compression: bool = False,
    ) -> Awaitable[Transport]:
        """Connect to ``address`` and complete the NATS handshake."""
        ...


#: What :class:`MissingDependencyError` says when a WebSocket URL is used without the extra.
WEBSOCKET_EXTRA_HINT = (
    "ws:// and wss:// server URLs need the websockets package: pip install 'rxnats[websocket]'"
)

# What a failed attempt may raise; anything else is a bug and propagates.
_ATTEMPT_ERRORS = (OSError, builtins.TimeoutError, Error)
# Errors a single-server pool reports as themselves rather than as "no servers".
_TYPED_INITIAL_ERRORS = (
    AuthorizationError,
    SecureConnFailedError,
    SecureConnRequiredError,
    SecureConnWantedError,
    MissingDependencyError,
)


def websocket_opener() -> WebSocketOpener:
    """The WebSocket transport's opener (it imports the ``websockets`` package).

    Raises:
        MissingDependencyError: ``websockets`` is not installed; the message says
            ``pip install 'rxnats[websocket]'``.
    """
    try:
        from rxnats.wire.aio.ws import open_ws  # the websocket extra: imported on first use
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] != "websockets":
            raise
        raise MissingDependencyError(WEBSOCKET_EXTRA_HINT, name="websockets") from exc
    return open_ws


@dataclass(frozen=True, slots=True)
class SupervisorSettings:
    """What the supervisor needs from the client's options."""

    urls: Sequence[str]
    randomize: bool = True
    connect_timeout: float = 2.0
    reconnect_time_wait: float = 2.0
    max_reconnect_attempts: int = 60
    reconnect_jitter: float = 0.1
    reconnect_max_wait: float | None = None  # exponential backoff up to this; None: none
    tls: TLSSettings = field(default_factory=TLSSettings)
    #: Headers of every WebSocket upgrade request, and whether to offer compression.
    ws_headers: tuple[tuple[str, str], ...] = ()
    ws_compression: bool = False


async def resolve_host(host: str, port: int) -> list[str]:
    """Resolve ``host`` to its TCP addresses, in the resolver's order, without duplicates.

    Raises:
        OSError: the name does not resolve (``socket.gaierror``).

    Cancelling it abandons the lookup.
    """
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class Supervisor:
    """Connects to the pool at start and reconnects after a loss."""

    def __init__(
        self,
        settings: SupervisorSettings,
        *,
        connect_settings: ConnectSettings,
        on_attempt_failed: AttemptFailedHandler | None = None,
        on_attempt: AttemptHandler | None = None,
        opener: Opener | None = None,
        resolver: Resolver | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """Set up the pool from ``settings``; nothing connects until asked.

        ``opener`` and ``resolver`` replace the real handshake and DNS (tests use
        scripted fakes); ``rng`` makes the shuffles and jitter reproducible.

        Raises:
            InvalidURLError: a configured URL cannot be parsed.
        """
        self.settings = settings
        self.pool: ServerPool = ServerPool(
            settings.urls,
            randomize=settings.randomize,
            max_reconnect_attempts=settings.max_reconnect_attempts,
            rng=rng,
            backoff=Backoff(
                settings.reconnect_time_wait,
                settings.reconnect_jitter,
                settings.reconnect_max_wait,
            ),
        )
        self._connect_settings = connect_settings
        self._open: Opener = opener or self._open_real
        self._resolve: Resolver = resolver or resolve_host
        self._on_attempt_failed = on_attempt_failed
        self._on_attempt = on_attempt
        self._task: asyncio.Task[None] | None = None
        self.current: PoolEntry | None = None

    async def _open_real(
        self, address: ServerAddress, tls: TLSSettings, timeout: float
    ) -> Transport:
        if address.websocket:
            open_ws = websocket_opener()
            settings = self.settings
            conn: Transport = await open_ws(
                address,
                settings=self._connect_settings,
                tls=tls,
                timeout=timeout,
                headers=settings.ws_headers,
                compression=settings.ws_compression,
            )
            return conn
        return await open_tcp(
            address, settings=self._connect_settings, tls=tls, timeout=timeout
        )

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    async def _try(self, entry: PoolEntry) -> Transport:
        """One attempt on ``entry``: each of its addresses in turn.

        Raises:
            OSError, builtins.TimeoutError: no address answered (the last one's error).
            Error: the server refused (``-ERR``, TLS mismatch) or misbehaved.
        """
        address = entry.address
        timeout = self.settings.connect_timeout
        self.pool.record_attempt(entry, self._now())
        try:
            async with asyncio.timeout(timeout):
                hosts = await self._resolve(address.host, address.port)
        except builtins.TimeoutError as exc:
            raise builtins.TimeoutError(f"resolving {address.host!r} timed out") from exc
        if not hosts:
            raise OSError(f"{address.host!r} resolved to no address")
        if self.settings.randomize:
            self.pool.rng.shuffle(hosts)
        tls = self.settings.tls
        # Connect to the address but verify the certificate against the configured name.
        tls = dataclasses.replace(tls, hostname=tls.hostname or address.host)
        last: OSError | builtins.TimeoutError | None = None
        for host in hosts:
            try:
                conn = await self._open(dataclasses.replace(address, host=host), tls, timeout)
            except (OSError, builtins.TimeoutError) as exc:
                if isinstance(exc, SecureConnFailedError):
                    raise  # (an OSError too, as ssl.SSLError): the same server everywhere
                last = exc  # the next address may answer
                continue
            conn.address = address  # report the configured name, with its credentials
            return conn
        assert last is not None  # hosts is not empty
        raise last

    async def connect_initial(self) -> tuple[Transport, PoolEntry]:
        """Try each server of the pool once, in pool order; return the first live one.

        At most ``connect_timeout`` seconds are spent per address of each server; each
        failure is told to ``on_attempt_failed`` as it happens.

        Raises:
            NoServersError: every server failed; the message lists each and why.
            AuthorizationError, SecureConn*Error: a single-server pool failed for that
                reason (a typed error says more than "no servers").

        Cancelling it closes any half-open connection.
        """
        failures: list[tuple[PoolEntry, BaseException]] = []
        for entry in list(self.pool.entries):
            try:
                conn = await self._try(entry)
            except _ATTEMPT_ERRORS as exc:
                self.pool.record_failure(entry, exc)
                failures.append((entry, exc))
                _call(self._on_attempt_failed, entry, exc)
                continue
            self.pool.record_success(entry)
            self.current = entry
            return conn, entry
        if len(failures) == 1 and isinstance(failures[0][1], _TYPED_INITIAL_ERRORS):
            raise failures[0][1]
        reasons = "; ".join(f"{e.url}: {describe_error(x)}" for e, x in failures)
        err = NoServersError(f"could not connect to any server: {reasons or 'no server given'}")
        raise err from (failures[-1][1] if failures else None)

    def set_pool(self, urls: Sequence[str]) -> None:
        """Replace the pool (see :meth:`ServerPool.replace`); the live connection stays.

        Raises:
            InvalidURLError: a URL cannot be parsed (the pool is left as it was).
        """
        self.pool.replace(urls)
        if self.current is not None:
            self.current = self.pool.find(self.current.address) or self.current

    def note_auth_error(self, err: Exception) -> None:
        """The live connection got an auth error: count it against its server."""
        if self.current is not None:
            self.pool.record_failure(self.current, err)

    @property
    def reconnecting(self) -> bool:
        """Whether the reconnect task is running."""
        return self._task is not None and not self._task.done()

    def start_reconnect(self, on_connected: ConnectedHandler, on_gave_up: GaveUpHandler) -> None:
        """Start looking for a server in the background (once at a time).

        A call made from inside the reconnect task (the new connection died while it was
        being handed over) starts a new search: the old task is about to end.
        """
        task = self._task
        if task is not None and not task.done() and task is not asyncio.current_task():
            return
        self._task = asyncio.get_running_loop().create_task(
            self._reconnect(on_connected, on_gave_up), name="rxnats-reconnect"
        )

    async def _reconnect(self, on_connected: ConnectedHandler, on_gave_up: GaveUpHandler) -> None:
        if self.current is not None:
            self.pool.record_loss(self.current, self._now())
        for attempt in reconnect_plan(self.pool, after=self.current):
            delay = attempt.delay(self._now())
            _call(self._on_attempt, attempt.number, attempt.entry, delay)
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                conn = await self._try(attempt.entry)
            except _ATTEMPT_ERRORS as exc:
                self.pool.record_failure(attempt.entry, exc)
                _call(self._on_attempt_failed, attempt.entry, exc)
                continue
            self.pool.record_success(attempt.entry)
            self.current = attempt.entry
            if not _call(on_connected, conn, attempt.entry):
                conn.abort()  # the client could not take it; its loss starts a new search
            return
        _call(
            on_gave_up,
            NoServersError(f"gave up reconnecting: {self.pool.failure_report()}"),
        )

    async def stop(self) -> None:
        """Stop reconnecting (if it is); safe to call many times.

        Cancelling it leaves the reconnect task cancelled but maybe not yet finished.
        """
        task = self._task
        self._task = None
        if task is None or task.done() or task is asyncio.current_task():
            return
        task.cancel()
        await asyncio.wait([task])


def _call(handler: Callable[..., None] | None, *args: object) -> bool:
    """Call a client handler; log (never propagate) what it raises; return if it did not."""
    if handler is None:
        return True
    try:
        handler(*args)
    except Exception:
        log.exception("rxnats: reconnect handler %r raised", handler)
        return False
    return True
