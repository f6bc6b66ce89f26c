"""The measured loops of ``rxnats bench``, shared by every client library it drives.

This module imports only the standard library, on purpose: the comparison run loads this
very file by path into a Python 3.13 interpreter to drive nats-core, so rxnats, nats-py
and nats-core are timed by the same loops. A library is plugged in through a small
:class:`BenchClient` adapter (see :mod:`rxnats.bench.adapters`); the loops call the
library's own bound ``publish``/``request`` methods, so the adapter adds nothing per
message on the publishing side.

Modes (:data:`MODES`):

- ``pub``: ``clients`` connections publish ``count`` messages in all, then flush.
- ``sub``: one subscriber of the library under test receives ``count`` messages that a
  raw socket in a child process publishes (pre-encoded frames, kept at most
  :data:`SUB_WINDOW` messages ahead of the subscriber so the server never has to drop).
- ``pubsub``: one publisher connection and ``clients`` subscriber connections in the
  same process; the time until every subscriber has all ``count`` messages.
- ``request``: a responder connection echoes; ``clients`` requester connections each run
  ``concurrency`` tasks doing sequential requests, ``count`` round trips in all. Each
  round trip is timed: the result carries its latency percentiles
  (:data:`LATENCY_PERCENTILES`, in microseconds).
- ``raw-pub``: the ceiling: pre-encoded ``PUB`` frames written to a plain socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import mmap
import os
import socket
import struct
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

__all__ = [
    "LATENCY_PERCENTILES",
    "MODES",
    "SUB_WINDOW",
    "BenchClient",
    "BenchConfig",
    "BenchResult",
    "ClientFactory",
    "LatencyHistogram",
    "Ticker",
    "rss_kib",
    "run_mode",
]

MODES = ("pub", "sub", "pubsub", "request", "raw-pub")
#: The latency percentiles a ``request`` run reports (as ``nats bench`` does), and max.
LATENCY_PERCENTILES = (("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("p99.9", 99.9), ("max", 100.0))
#: In ``sub`` mode the raw publisher stays at most this many messages ahead.
SUB_WINDOW = 50_000
_TICK = 1000  # messages between progress callbacks
_WAIT_TIMEOUT = 120.0  # seconds a receiving side may stall before the run is abandoned

Ticker = Callable[[int], None]
"""Called with the number of messages just completed (in blocks, for a progress bar)."""

OnData = Callable[[bytes], None]
Publish = Callable[[str, bytes], Awaitable[None]]


class Request(Protocol):
    """A library's ``request`` coroutine, reduced to what the loops use."""

    def __call__(self, subject: str, payload: bytes, *, timeout: float) -> Awaitable[bytes]: ...


class BenchClient(Protocol):
    """One connection of the library under test, as the loops see it."""

    @property
    def publish(self) -> Publish:
        """The library's own bound ``publish(subject, payload)`` coroutine function."""
        ...

    @property
    def request(self) -> Request:
        """A ``request(subject, payload, *, timeout=)`` returning the reply's payload."""
        ...

    async def subscribe(self, subject: str, on_data: OnData) -> None:
        """Subscribe with limits high enough that nothing is dropped; call ``on_data``."""
        ...

    async def serve_echo(self, subject: str) -> None:
        """Answer every request on ``subject`` with its own payload."""
        ...

    async def flush(self) -> None:
        """Wait until the server has everything sent so far."""
        ...

    async def close(self) -> None:
        """Close the connection."""
        ...


ClientFactory = Callable[[str], Awaitable[BenchClient]]
"""Connect a new client of the library under test to the given URL."""


@dataclass(frozen=True, slots=True)
class BenchConfig:
    """What to run: the mode, message size and count, and how many clients."""

    mode: str = "pub"
    size: int = 16
    count: int = 100_000
    clients: int = 1
    concurrency: int = 1
    subject: str = "rxnats.bench"
    request_timeout: float = 5.0


@dataclass(slots=True)
class BenchResult:
    """What one run measured. ``msgs`` counts messages (or round trips) completed."""

    library: str
    mode: str
    size: int
    count: int
    clients: int
    concurrency: int
    msgs: int
    elapsed_s: float
    rss_start_kib: int
    rss_end_kib: int
    python: str = field(default_factory=lambda: sys.version.split()[0])
    #: ``request`` runs: round-trip latency percentiles in microseconds (p50 ... max).
    latency_us: dict[str, float] = field(default_factory=dict)

    @property
    def msgs_per_sec(self) -> float:
        """Messages (or round trips) per second."""
        return self.msgs / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def bytes_per_sec(self) -> float:
        """Payload bytes per second (round trips count the payload once)."""
        return self.msgs_per_sec * self.size

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dict, the derived rates included."""
        data: dict[str, object] = asdict(self)
        data["msgs_per_sec"] = round(self.msgs_per_sec, 1)
        data["bytes_per_sec"] = round(self.bytes_per_sec, 1)
        return data


_LOG_STEP = math.log(1.01)  # histogram buckets 1% wide
_BUCKETS = int(math.log(1e10) / _LOG_STEP) + 2  # up to 10^10 µs: no request lasts that long


class LatencyHistogram:
    """Round-trip latencies in buckets 1% wide, from 1 µs up: constant memory whatever
    the count, percentiles within 1% (the maximum is exact)."""

    __slots__ = ("counts", "max_s")

    def __init__(self) -> None:
        #: Bucket ``i`` counts latencies in [1.01**i, 1.01**(i+1)) µs (bucket 0 also below).
        self.counts: list[int] = [0] * _BUCKETS
        #: The longest latency recorded, in seconds.
        self.max_s: float = 0.0

    @staticmethod
    def bucket(seconds: float) -> int:
        """The bucket of a latency of ``seconds``."""
        us = seconds * 1e6
        return int(math.log(us) / _LOG_STEP) if us > 1.0 else 0

    def record(self, seconds: float) -> None:
        """Count one latency."""
        self.counts[self.bucket(seconds)] += 1
        if seconds > self.max_s:
            self.max_s = seconds

    def percentiles(self) -> dict[str, float]:
        """:data:`LATENCY_PERCENTILES` in microseconds (empty when nothing was recorded).

        Nearest rank: the p-th percentile is the bucket holding the sample that at least
        p% of the samples do not exceed, reported as the bucket's middle (never above
        the maximum).
        """
        total = sum(self.counts)
        if not total:
            return {}
        max_us = self.max_s * 1e6
        out: dict[str, float] = {}
        for name, p in LATENCY_PERCENTILES:
            if p >= 100.0:
                out[name] = round(max_us, 1)
                continue
            rank = max(1, math.ceil(p / 100 * total))
            seen = 0
            for i, n in enumerate(self.counts):
                seen += n
                if seen >= rank:
                    out[name] = round(min(math.exp((i + 0.5) * _LOG_STEP), max_us), 1)
                    break
        return out


def rss_kib() -> int:
    """This process's resident set size in KiB, from ``/proc/self/statm`` (0 elsewhere)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            pages = int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


async def run_mode(
    library: str,
    factory: ClientFactory,
    url: str,
    config: BenchConfig,
    tick: Ticker | None = None,
) -> BenchResult:
    """Run one benchmark of ``config.mode`` against the server at ``url``.

    Raises:
        ValueError: unknown mode or a non-positive count/size/clients/concurrency.
        TimeoutError: the receiving side stalled for longer than two minutes.
        Whatever the library raises when it cannot connect.

    Cancelling it closes every connection it opened.
    """
    if config.mode not in MODES:
        raise ValueError(f"unknown mode {config.mode!r}; choose from {', '.join(MODES)}")
    if config.count <= 0 or config.size < 0 or config.clients <= 0 or config.concurrency <= 0:
        raise ValueError("count, clients and concurrency must be positive and size >= 0")
    ticker: Ticker = tick if tick is not None else _no_tick
    start_rss = rss_kib()
    runs: dict[str, Callable[[ClientFactory, str, BenchConfig, Ticker], Awaitable[tuple[int, float]]]] = {
        "pub": _run_pub,
        "sub": _run_sub,
        "pubsub": _run_pubsub,
        "raw-pub": _run_raw_pub,
    }
    latencies = LatencyHistogram()
    if config.mode == "request":
        msgs, elapsed = await _run_request(factory, url, config, ticker, latencies)
    else:
        msgs, elapsed = await runs[config.mode](factory, url, config, ticker)
    return BenchResult(
        library="raw-socket" if config.mode == "raw-pub" else library,
        mode=config.mode,
        size=config.size,
        count=config.count,
        clients=config.clients,
        concurrency=config.concurrency,
        msgs=msgs,
        elapsed_s=elapsed,
        rss_start_kib=start_rss,
        rss_end_kib=rss_kib(),
        latency_us=latencies.percentiles(),
    )


_WARM_UP_ATTEMPTS = 5


def _no_tick(n: int) -> None:
    pass


def _split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


async def _connect_all(factory: ClientFactory, url: str, n: int) -> list[BenchClient]:
    return list(await asyncio.gather(*(factory(url) for _ in range(n))))


async def _close_all(clients: Sequence[BenchClient]) -> None:
    await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)


async def _publish_loop(pub: Publish, subject: str, payload: bytes, n: int, tick: Ticker) -> None:
    # Blocks of _TICK keep the progress callback out of the per-message cost.
    full, rest = divmod(n, _TICK)
    for _ in range(full):
        for _ in range(_TICK):
            await pub(subject, payload)
        tick(_TICK)
    for _ in range(rest):
        await pub(subject, payload)
    tick(rest)


async def _run_pub(
    factory: ClientFactory, url: str, config: BenchConfig, tick: Ticker
) -> tuple[int, float]:
    clients = await _connect_all(factory, url, config.clients)
    payload = b"x" * config.size
    try:
        start = time.perf_counter()

        async def one(client: BenchClient, n: int) -> None:
            await _publish_loop(client.publish, config.subject, payload, n, tick)
            await client.flush()

        await asyncio.gather(
            *(one(c, n) for c, n in zip(clients, _split(config.count, config.clients), strict=True))
        )
        return config.count, time.perf_counter() - start
    finally:
        await _close_all(clients)


class _Counter:
    """Counts deliveries and sets ``done`` when ``target`` is reached."""

    __slots__ = ("done", "n", "target", "tick")

    def __init__(self, target: int, tick: Ticker) -> None:
        self.n = 0
        self.target = target
        self.done = asyncio.Event()
        self.tick = tick

    def on_data(self, data: bytes) -> None:
        n = self.n + 1
        self.n = n
        if n % _TICK == 0:
            self.tick(_TICK)
        if n >= self.target:
            self.done.set()


async def _wait_counter(counter: _Counter, stalled: Callable[[], bool] | None = None) -> None:
    """Wait for ``counter.done``; give up when no progress is made for a long time."""
    last, last_change = -1, time.monotonic()
    while True:
        try:
            await asyncio.wait_for(counter.done.wait(), 1.0)
            return
        except TimeoutError:
            pass
        if counter.n != last:
            last, last_change = counter.n, time.monotonic()
        elif time.monotonic() - last_change > _WAIT_TIMEOUT or (stalled and stalled()):
            raise TimeoutError(f"received {counter.n} of {counter.target} messages, then stalled")


async def _run_pubsub(
    factory: ClientFactory, url: str, config: BenchConfig, tick: Ticker
) -> tuple[int, float]:
    publisher = await factory(url)
    subscribers = await _connect_all(factory, url, config.clients)
    counters = [_Counter(config.count, tick if i == 0 else _no_tick) for i in range(config.clients)]
    payload = b"x" * config.size
    try:
        for sub, counter in zip(subscribers, counters, strict=True):
            await sub.subscribe(config.subject, counter.on_data)
            await sub.flush()
        start = time.perf_counter()
        await _publish_loop(publisher.publish, config.subject, payload, config.count, _no_tick)
        await publisher.flush()
        for counter in counters:
            await _wait_counter(counter)
        return config.count * config.clients, time.perf_counter() - start
    finally:
        await _close_all([publisher, *subscribers])


async def _warm_up(request: Request, subject: str, payload: bytes, timeout: float) -> None:
    """One untimed request, retried briefly: a library's first request can race its own
    responder's interest reaching the server (nats-py once answered "no responders")."""
    for attempt in range(_WARM_UP_ATTEMPTS):
        try:
            await request(subject, payload, timeout=timeout)
            return
        except Exception:
            if attempt == _WARM_UP_ATTEMPTS - 1:
                raise
            await asyncio.sleep(0.1)


async def _run_request(
    factory: ClientFactory, url: str, config: BenchConfig, tick: Ticker,
    latencies: LatencyHistogram,
) -> tuple[int, float]:
    responder = await factory(url)
    requesters = await _connect_all(factory, url, config.clients)
    payload = b"x" * config.size
    subject, timeout = config.subject, config.request_timeout
    try:
        await responder.serve_echo(subject)
        await responder.flush()
        for r in requesters:  # warm up: set up each requester's reply subscription
            await _warm_up(r.request, subject, payload, timeout)
        start = time.perf_counter()

        async def one(request: Request, n: int) -> None:
            # Each round trip timed into the histogram, LatencyHistogram.record inlined.
            clock, log, counts = time.perf_counter, math.log, latencies.counts
            worst = 0.0
            done = 0
            for _ in range(n):
                sent = clock()
                await request(subject, payload, timeout=timeout)
                took = clock() - sent
                counts[int(log(took * 1e6) / _LOG_STEP) if took > 1e-6 else 0] += 1
                if took > worst:
                    worst = took
                done += 1
                if done == _TICK:
                    tick(done)
                    done = 0
            tick(done)
            if worst > latencies.max_s:
                latencies.max_s = worst

        shares = iter(_split(config.count, config.clients * config.concurrency))
        await asyncio.gather(
            *(one(r.request, next(shares)) for r in requesters for _ in range(config.concurrency))
        )
        return config.count, time.perf_counter() - start
    finally:
        await _close_all([responder, *requesters])


# -- raw sockets -------------------------------------------------------------------------
def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url if "://" in url else f"nats://{url}")
    return parts.hostname or "127.0.0.1", parts.port or 4222


class _WebSocketStream:
    """The part of a socket the raw publishers use, over a WebSocket (``ws://``, ``wss://``):
    each ``sendall`` is one binary frame, each ``recv`` one frame's bytes."""

    def __init__(self, url: str) -> None:
        from websockets.sync.client import connect  # the websocket extra

        # __enter__: what a with block does; the stream is closed by close() below.
        self._ws = connect(url, max_size=None, compression=None, open_timeout=30).__enter__()

    def sendall(self, data: bytes) -> None:
        self._ws.send(data)

    def recv(self, bufsize: int) -> bytes:
        data = self._ws.recv()
        return data.encode() if isinstance(data, str) else data

    def close(self) -> None:
        self._ws.close()

    def __enter__(self) -> _WebSocketStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _raw_connect(url: str) -> socket.socket | _WebSocketStream:
    if url.lower().startswith(("ws://", "wss://")):
        stream = _WebSocketStream(url)
        stream.recv(0)  # the INFO
        stream.sendall(b'CONNECT {"verbose":false,"pedantic":false,"protocol":1}\r\n')
        return stream
    sock = socket.create_connection(_address(url), timeout=30)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    info = b""
    while b"\r\n" not in info:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("server closed the connection before INFO")
        info += chunk
    sock.sendall(b'CONNECT {"verbose":false,"pedantic":false,"protocol":1}\r\n')
    return sock


def _raw_ping(sock: socket.socket | _WebSocketStream) -> None:
    """Send PING and read until the PONG (skipping anything else the server sends)."""
    sock.sendall(b"PING\r\n")
    seen = b""
    while b"PONG\r\n" not in seen:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        seen = seen[-8:] + chunk


def _frames(subject: str, size: int, n: int) -> bytes:
    frame = f"PUB {subject} {size}\r\n".encode() + b"x" * size + b"\r\n"
    return frame * n


def _raw_publish(url: str, subject: str, size: int, count: int, tick: Ticker) -> float:
    sock = _raw_connect(url)
    try:
        _raw_ping(sock)
        per_chunk = max(1, min(_TICK * 10, (256 * 1024) // (size + 32)))
        chunk = _frames(subject, size, per_chunk)
        start = time.perf_counter()
        sent = 0
        while sent < count:
            n = min(per_chunk, count - sent)
            sock.sendall(chunk if n == per_chunk else _frames(subject, size, n))
            sent += n
            tick(n)
        _raw_ping(sock)
        return time.perf_counter() - start
    finally:
        sock.close()


async def _run_raw_pub(
    factory: ClientFactory, url: str, config: BenchConfig, tick: Ticker
) -> tuple[int, float]:
    elapsed = await asyncio.to_thread(
        _raw_publish, url, config.subject, config.size, config.count, tick
    )
    return config.count, elapsed


def _windowed_publisher(url: str, subject: str, size: int, count: int, counter_path: str) -> None:
    """Publish ``count`` frames, never more than ``SUB_WINDOW`` ahead of the subscriber.

    Runs in a child process (``python runner.py``), so it takes no CPU time from the
    measured subscriber's interpreter; the subscriber's count is read from the 8-byte
    file ``counter_path`` that the parent updates through ``mmap``.
    """
    with open(counter_path, "r+b") as f, mmap.mmap(f.fileno(), 8) as shared:
        sock = _raw_connect(url)
        try:
            _raw_ping(sock)
            print("ready", flush=True)  # the parent starts its clock now
            per_chunk = max(1, min(SUB_WINDOW // 4, (256 * 1024) // (size + 32)))
            chunk = _frames(subject, size, per_chunk)
            sent = 0
            while sent < count:
                if sent - struct.unpack_from("q", shared)[0] > SUB_WINDOW:
                    time.sleep(0.0002)
                    continue
                n = min(per_chunk, count - sent)
                sock.sendall(chunk if n == per_chunk else _frames(subject, size, n))
                sent += n
            _raw_ping(sock)
        finally:
            sock.close()


_THIS_FILE = os.path.abspath(__file__)


@contextlib.contextmanager
def _shared_counter(directory: str) -> Iterator[tuple[str, mmap.mmap]]:
    """An 8-byte file in ``directory``, mapped: the parent writes, the child reads."""
    path = os.path.join(directory, "count")
    with open(path, "wb") as blank:
        blank.write(bytes(8))
    with open(path, "r+b") as f, mmap.mmap(f.fileno(), 8) as shared:
        yield path, shared


async def _run_sub(
    factory: ClientFactory, url: str, config: BenchConfig, tick: Ticker
) -> tuple[int, float]:
    subscriber = await factory(url)
    try:
        with tempfile.TemporaryDirectory(prefix="rxnats-bench-") as tmp, _shared_counter(
            tmp
        ) as (counter_path, shared):
            counter = _Counter(config.count, tick)

            def progress(n: int) -> None:
                struct.pack_into("q", shared, 0, counter.n)
                tick(n)

            counter.tick = progress
            await subscriber.subscribe(config.subject, counter.on_data)
            await subscriber.flush()
            child = await asyncio.create_subprocess_exec(
                sys.executable, _THIS_FILE, "raw-publisher",
                url, config.subject, str(config.size), str(config.count), counter_path,
                stdout=asyncio.subprocess.PIPE,
            )
            try:
                assert child.stdout is not None
                if await child.stdout.readline() != b"ready\n":
                    raise ConnectionError("the raw publisher could not connect")
                start = time.perf_counter()
                await _wait_counter(counter, stalled=lambda: child.returncode not in (None, 0))
            finally:
                if child.returncode is None:
                    child.kill()
                await child.wait()
            return config.count, time.perf_counter() - start
    finally:
        await subscriber.close()


if __name__ == "__main__":
    # The child process of the ``sub`` mode: python runner.py raw-publisher URL SUBJECT
    # SIZE COUNT COUNTER_FILE
    if len(sys.argv) != 7 or sys.argv[1] != "raw-publisher":
        sys.exit("usage: runner.py raw-publisher URL SUBJECT SIZE COUNT COUNTER_FILE")
    _windowed_publisher(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6])
