"""The JetStream and key-value modes of ``rxnats bench``.

Every run creates its own stream (or bucket) under a fresh name on the target server,
in memory storage so that the disk's pace does not hide the clients' cost, and deletes
it afterwards. Set-up (creating, pre-filling, creating the consumer) and the checks
after the clock stops are done with rxnats and are not timed; only the loop below runs
through the library under test.

Modes (:data:`JS_MODES`):

- ``js-pub``: sequential ``await js.publish(subject, payload)``: one round trip each.
- ``js-pub-async``: ``await js.publish_async(subject, payload)`` for every message (at
  most :data:`ASYNC_IN_FLIGHT` acks outstanding), then ``publish_async_completed()``.
- ``js-fetch``: a durable pull consumer (explicit acks) over ``count`` stored messages;
  ``fetch(``:data:`FETCH_BATCH```)`` and ``await msg.ack()`` for each, then a flush.
- ``js-consume``: the same consumer read continuously and acked one by one: rxnats with
  ``async for msg in await consumer.messages()`` (ADR-37); nats-py 2.16 has no such
  API, so its row is the loop its users write instead: ``fetch(FETCH_BATCH)`` + ack.
- ``kv-put``: sequential ``await kv.put(key, payload)`` over :data:`KV_KEYS` keys.
- ``kv-get``: sequential ``await kv.get(key)`` over :data:`KV_KEYS` stored keys.

After each run the stream is checked: every published message stored, every fetched
message acknowledged (``ack_floor``), every get answered with the stored value; a run
that lost anything fails instead of reporting a rate.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

import rxnats
from rxnats.bench.adapters import natspy_available
from rxnats.bench.compare import CompareRow
from rxnats.bench.runner import BenchConfig, BenchResult, Ticker, rss_kib
from rxnats.jetstream.errors import ServiceUnavailableError
from rxnats.jetstream.models import StorageType
from rxnats.nuid import TextNUID

__all__ = [
    "ASYNC_IN_FLIGHT",
    "FETCH_BATCH",
    "JS_LIBRARIES",
    "JS_MODES",
    "KV_KEYS",
    "ROUND_TRIP_MODES",
    "finish_scene",
    "prepare_scene",
    "run_js_comparison",
    "run_js_mode",
    "run_prepared",
]

JS_MODES = ("js-pub", "js-pub-async", "js-fetch", "js-consume", "kv-put", "kv-get")
#: Modes bound by one server round trip per message: their count defaults lower.
ROUND_TRIP_MODES = ("js-pub", "kv-put", "kv-get")
#: The libraries these modes can drive.
JS_LIBRARIES = ("rxnats", "nats-py")
#: ``publish_async_max_pending`` of both libraries in ``js-pub-async``.
ASYNC_IN_FLIGHT = 30_000
#: Messages per ``fetch`` in ``js-fetch`` (and nats-py's ``js-consume`` loop).
FETCH_BATCH = 500
#: Distinct keys the ``kv-*`` modes cycle through.
KV_KEYS = 100
_TICK = 1000
_FETCH_WAIT = 5.0
_SETTLE_TIMEOUT = 30.0  # seconds the server may take to apply the last acks
_nuid = TextNUID()


class JsMsg(Protocol):
    """A message delivered by a pull consumer, as the loops use it."""

    @property
    def data(self) -> bytes: ...

    async def ack(self) -> None: ...


class Fetch(Protocol):
    """A pull subscription's ``fetch``."""

    def __call__(self, batch: int, timeout: float) -> Awaitable[Sequence[JsMsg]]: ...


class KvEntry(Protocol):
    """What a key-value ``get`` returns, reduced to its value."""

    @property
    def value(self) -> bytes | None: ...


JsPublish = Callable[[str, bytes], Awaitable[object]]


class JsBenchClient(Protocol):
    """One connection of the library under test with its JetStream context.

    ``publish`` and ``publish_async`` are the library's own bound methods, so the loops
    add nothing of the adapter's per message.
    """

    @property
    def publish(self) -> JsPublish:
        """``js.publish``: send and wait for the stream's ack."""
        ...

    @property
    def publish_async(self) -> JsPublish:
        """``js.publish_async``: send; return the ack's future."""
        ...

    async def publish_async_completed(self) -> None:
        """Wait until every ``publish_async`` ack arrived."""
        ...

    async def pull(self, stream: str, consumer: str) -> Fetch:
        """Bind to an existing durable pull consumer; return its ``fetch``."""
        ...

    async def consume(self, stream: str, consumer: str, count: int, tick: Ticker) -> None:
        """Read ``count`` messages continuously, acking each one."""
        ...

    async def kv(self, bucket: str) -> tuple[Callable[[str, bytes], Awaitable[object]],
                                             Callable[[str], Awaitable[KvEntry]]]:
        """Open the bucket; return its bound ``put`` and ``get``."""
        ...

    async def flush(self) -> None: ...

    async def close(self) -> None: ...


JsClientFactory = Callable[[str], Awaitable[JsBenchClient]]


# -- rxnats ---------------------------------------------------------------------------------
class _RxnatsJs:
    def __init__(self, nc: rxnats.NATS) -> None:
        self._nc = nc
        self._js = nc.jetstream(publish_async_max_pending=ASYNC_IN_FLIGHT)
        self.publish: JsPublish = self._js.publish
        self.publish_async: JsPublish = self._js.publish_async

    async def publish_async_completed(self) -> None:
        await self._js.publish_async_completed()

    async def pull(self, stream: str, consumer: str) -> Fetch:
        psub = await self._js.pull_subscribe_bind(consumer, stream)
        return psub.fetch

    async def consume(self, stream: str, consumer: str, count: int, tick: Ticker) -> None:
        c = await self._js.get_consumer(stream, consumer)
        got = 0
        async with await c.messages(max_messages=FETCH_BATCH) as messages:
            async for msg in messages:
                await msg.ack()
                got += 1
                if got % _TICK == 0:
                    tick(_TICK)
                if got >= count:
                    break

    async def kv(self, bucket: str) -> tuple[Callable[[str, bytes], Awaitable[object]],
                                             Callable[[str], Awaitable[KvEntry]]]:
        kv = await self._js.key_value(bucket)
        return kv.put, kv.get

    async def flush(self) -> None:
        await self._nc.flush(timeout=60)

    async def close(self) -> None:
        await self._nc.close()


async def rxnats_js_factory(url: str) -> JsBenchClient:
    """Connect an rxnats client for the JetStream loops."""
    return _RxnatsJs(await rxnats.connect(url, allow_reconnect=False, name="rxnats-bench"))


# -- nats-py (untyped: reached through getattr) ---------------------------------------------
class _NatsPyJs:
    def __init__(self, nc: object) -> None:
        self._nc = nc
        jetstream: Callable[..., object] = getattr(nc, "jetstream")  # noqa: B009
        self._js = jetstream(publish_async_max_pending=ASYNC_IN_FLIGHT)
        self.publish: JsPublish = getattr(self._js, "publish")  # noqa: B009
        self.publish_async: JsPublish = getattr(self._js, "publish_async")  # noqa: B009

    async def publish_async_completed(self) -> None:
        completed: Callable[[], Awaitable[None]] = getattr(self._js, "publish_async_completed")  # noqa: B009
        await completed()

    async def pull(self, stream: str, consumer: str) -> Fetch:
        bind: Callable[..., Awaitable[object]] = getattr(self._js, "pull_subscribe_bind")  # noqa: B009
        psub = await bind(durable=consumer, stream=stream)
        fetch: Fetch = getattr(psub, "fetch")  # noqa: B009
        return fetch

    async def consume(self, stream: str, consumer: str, count: int, tick: Ticker) -> None:
        await _fetch_loop(await self.pull(stream, consumer), count, tick)

    async def kv(self, bucket: str) -> tuple[Callable[[str, bytes], Awaitable[object]],
                                             Callable[[str], Awaitable[KvEntry]]]:
        key_value: Callable[[str], Awaitable[object]] = getattr(self._js, "key_value")  # noqa: B009
        kv = await key_value(bucket)
        return getattr(kv, "put"), getattr(kv, "get")  # noqa: B009

    async def flush(self) -> None:
        flush: Callable[..., Awaitable[None]] = getattr(self._nc, "flush")  # noqa: B009
        await flush(timeout=60)

    async def close(self) -> None:
        close: Callable[[], Awaitable[None]] = getattr(self._nc, "close")  # noqa: B009
        await close()


def natspy_js_factory() -> JsClientFactory:
    """A factory of nats-py clients for the JetStream loops.

    Raises:
        ImportError: nats-py is not installed.
    """
    connect: Callable[..., Awaitable[object]] = importlib.import_module("nats").connect

    async def factory(url: str) -> JsBenchClient:
        return _NatsPyJs(await connect(url, allow_reconnect=False, name="natspy-bench"))

    return factory


def js_factory(library: str) -> JsClientFactory:
    """The factory of ``library`` (one of :data:`JS_LIBRARIES`).

    Raises:
        ValueError: no JetStream adapter for ``library``.
        ImportError: nats-py is asked for and not installed.
    """
    if library == "rxnats":
        return rxnats_js_factory
    if library == "nats-py":
        return natspy_js_factory()
    raise ValueError(f"no JetStream bench for library {library!r}")


# -- the loops --------------------------------------------------------------------------------
async def _fetch_loop(fetch: Fetch, count: int, tick: Ticker) -> None:
    got = 0
    while got < count:
        msgs = await fetch(min(FETCH_BATCH, count - got), _FETCH_WAIT)
        for msg in msgs:
            await msg.ack()
        got += len(msgs)
        tick(len(msgs))


async def _publish_loop(
    publish: JsPublish, subject: str, payload: bytes, count: int, tick: Ticker
) -> None:
    full, rest = divmod(count, _TICK)
    for _ in range(full):
        for _ in range(_TICK):
            await publish(subject, payload)
        tick(_TICK)
    for _ in range(rest):
        await publish(subject, payload)
    tick(rest)


async def _sequential(op: Callable[[int], Awaitable[object]], count: int, tick: Ticker) -> None:
    full, rest = divmod(count, _TICK)
    i = 0
    for _ in range(full):
        for _ in range(_TICK):
            await op(i)
            i += 1
        tick(_TICK)
    for _ in range(rest):
        await op(i)
        i += 1
    tick(rest)


class _SceneRef:
    """The names of a scene, for a process that only runs the loop."""

    def __init__(self, mode: str, token: str) -> None:
        self.name = f"rxbench_{token}" if mode.startswith("kv-") else f"RXBENCH_{token}"
        self.subject = f"rxbench.{token}"
        self.consumer = "bench"


class _Scene:
    """A stream (or bucket) of its own on the server, made and removed with rxnats."""

    def __init__(self, nc: rxnats.NATS, mode: str, token: str | None = None) -> None:
        token = token or _nuid.next()
        self.token = token
        self.js = nc.jetstream(timeout=30.0, publish_async_max_pending=ASYNC_IN_FLIGHT)
        self.kv_mode = mode.startswith("kv-")
        self.name = f"RXBENCH_{token}" if not self.kv_mode else f"rxbench_{token}"
        self.subject = f"rxbench.{token}"
        self.consumer = "bench"

    async def create(self, config: BenchConfig, payload: bytes) -> None:
        if self.kv_mode:
            kv = await self.js.create_key_value(
                bucket=self.name, history=1, storage=StorageType.MEMORY
            )
            if config.mode == "kv-get":
                for k in range(min(KV_KEYS, config.count)):
                    await kv.put(_key(k), payload)
            return
        await self.js.add_stream(name=self.name, subjects=[self.subject], storage=StorageType.MEMORY)
        if config.mode in ("js-fetch", "js-consume"):
            for _ in range(config.count):
                await self.js.publish_async(self.subject, payload)
            await self.js.publish_async_completed()
            await self.js.add_consumer(
                self.name, durable_name=self.consumer, ack_policy="explicit",
                max_ack_pending=-1,
            )

    async def check(self, config: BenchConfig) -> None:
        """Raise when the server does not hold what the run should have left."""
        if self.kv_mode:
            info = await self.js.stream_info(f"KV_{self.name}")
            expected = min(KV_KEYS, config.count)
            if info.state.messages != expected:
                raise RuntimeError(f"the bucket holds {info.state.messages} keys, not {expected}")
            return
        if config.mode in ("js-pub", "js-pub-async"):
            info = await self.js.stream_info(self.name)
            if info.state.messages != config.count:
                raise RuntimeError(
                    f"the stream holds {info.state.messages} of {config.count} messages"
                )
            return
        deadline = time.monotonic() + _SETTLE_TIMEOUT
        while True:
            ci = await self.js.consumer_info(self.name, self.consumer)
            acked = ci.ack_floor.stream_seq if ci.ack_floor is not None else 0
            if acked >= config.count and ci.num_ack_pending == 0:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{acked} of {config.count} messages acknowledged")
            await asyncio.sleep(0.05)

    async def delete(self) -> None:
        if self.kv_mode:
            await self.js.delete_key_value(self.name)
        else:
            await self.js.delete_stream(self.name)


def _key(i: int) -> str:
    return f"k{i % KV_KEYS}"


async def _timed(
    client: JsBenchClient, scene: _Scene | _SceneRef, config: BenchConfig, payload: bytes, tick: Ticker
) -> float:
    mode, count, subject = config.mode, config.count, scene.subject
    if mode == "js-pub":
        start = time.perf_counter()
        await _publish_loop(client.publish, subject, payload, count, tick)
        return time.perf_counter() - start
    if mode == "js-pub-async":
        start = time.perf_counter()
        await _publish_loop(client.publish_async, subject, payload, count, tick)
        await client.publish_async_completed()
        return time.perf_counter() - start
    if mode == "js-fetch":
        fetch = await client.pull(scene.name, scene.consumer)
        start = time.perf_counter()
        await _fetch_loop(fetch, count, tick)
        await client.flush()
        return time.perf_counter() - start
    if mode == "js-consume":
        start = time.perf_counter()
        await client.consume(scene.name, scene.consumer, count, tick)
        await client.flush()
        return time.perf_counter() - start
    put, get = await client.kv(scene.name)
    if mode == "kv-put":
        start = time.perf_counter()
        await _sequential(lambda i: put(_key(i), payload), count, tick)
        return time.perf_counter() - start
    await get(_key(0))  # warm up: nats-py reads the bucket's settings on first use
    wrong = 0

    async def get_one(i: int) -> None:
        nonlocal wrong
        if (await get(_key(i))).value != payload:
            wrong += 1

    start = time.perf_counter()
    await _sequential(get_one, count, tick)
    elapsed = time.perf_counter() - start
    if wrong:
        raise RuntimeError(f"{wrong} of {count} gets returned another value")
    return elapsed


async def run_js_mode(
    library: str, url: str, config: BenchConfig, tick: Ticker | None = None
) -> BenchResult:
    """Run one JetStream benchmark of ``config.mode`` with ``library`` against ``url``.

    Raises:
        ValueError: unknown mode or library, or a non-positive count.
        RuntimeError: JetStream is not enabled on the server, or the server does not hold what the run should have left (a message,
            an ack or a value was lost).
        TimeoutError: the server did not answer in time.

    Cancelling it deletes the stream (or bucket) and closes every connection it opened.
    """
    if config.mode not in JS_MODES:
        raise ValueError(f"unknown mode {config.mode!r}; choose from {', '.join(JS_MODES)}")
    if config.count <= 0 or config.size < 0:
        raise ValueError("count must be positive and size >= 0")
    factory = js_factory(library)
    ticker: Ticker = tick if tick is not None else _no_tick
    payload = b"x" * config.size
    start_rss = rss_kib()
    admin = await rxnats.connect(url, allow_reconnect=False, name="rxnats-bench-admin")
    try:
        scene = _Scene(admin, config.mode)
        try:
            await scene.create(config, payload)
        except ServiceUnavailableError as exc:
            raise RuntimeError(
                f"JetStream is not enabled on the server at {url} (nats-server -js)"
            ) from exc
        try:
            client = await factory(url)
            try:
                elapsed = await _timed(client, scene, config, payload, ticker)
            finally:
                await client.close()
            await scene.check(config)
        finally:
            await scene.delete()
    finally:
        await admin.close()
    return BenchResult(
        library=library,
        mode=config.mode,
        size=config.size,
        count=config.count,
        clients=1,
        concurrency=1,
        msgs=config.count,
        elapsed_s=elapsed,
        rss_start_kib=start_rss,
        rss_end_kib=rss_kib(),
    )


def _no_tick(n: int) -> None:
    pass


# -- in separate processes (benchmarks/instructions.py counts the timed part alone) ---------
async def prepare_scene(url: str, config: BenchConfig) -> str:
    """Create (and fill) the stream or bucket of one run; return its token for
    :func:`run_prepared` and :func:`finish_scene`."""
    nc = await rxnats.connect(url, allow_reconnect=False, name="rxnats-bench-admin")
    try:
        scene = _Scene(nc, config.mode)
        await scene.create(config, b"x" * config.size)
        return scene.token
    finally:
        await nc.close()


async def run_prepared(library: str, url: str, config: BenchConfig, token: str) -> float:
    """Run the timed loop of ``library`` over the scene :func:`prepare_scene` made;
    return the seconds it took. Only ``library`` is used in this process."""
    client = await js_factory(library)(url)
    try:
        scene = _SceneRef(config.mode, token)
        return await _timed(client, scene, config, b"x" * config.size, _no_tick)
    finally:
        await client.close()


async def finish_scene(url: str, config: BenchConfig, token: str) -> None:
    """Check what a run left on the server (see :func:`run_js_mode`), then delete it."""
    nc = await rxnats.connect(url, allow_reconnect=False, name="rxnats-bench-admin")
    try:
        scene = _Scene(nc, config.mode, token)
        try:
            await scene.check(config)
        finally:
            await scene.delete()
    finally:
        await nc.close()


async def run_js_comparison(
    url: str,
    configs: Sequence[BenchConfig],
    *,
    rounds: int,
    libraries: Sequence[str],
    on_run: Callable[[str, BenchConfig], None] | None = None,
) -> list[CompareRow]:
    """:func:`~rxnats.bench.compare.run_comparison` for the JetStream modes.

    Only the libraries of :data:`JS_LIBRARIES` run (the others have no JetStream loops
    here); they take turns as in the core comparison. A library that is not installed,
    or a run that fails, leaves its row with ``error`` set.

    Cancelling it stops after removing the current run's stream and connections.
    """
    libs = [lib for lib in libraries if lib in JS_LIBRARIES]
    rows: list[CompareRow] = []
    for config in configs:
        table = {lib: CompareRow(lib, config.mode, config.size) for lib in libs}
        if "nats-py" in table and natspy_available() is None:
            table["nats-py"].error = "nats-py is not installed in this interpreter"
        for r in range(rounds):
            for lib in libs[r % len(libs):] + libs[: r % len(libs)]:
                row = table[lib]
                if row.error and not row.runs:
                    continue
                if on_run is not None:
                    on_run(lib, config)
                gc.collect()
                try:
                    row.runs.append(await run_js_mode(lib, url, config))
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    row.error = f"{type(exc).__name__}: {exc}"
                    print(f"rxnats bench: {lib} {config.mode} failed: {row.error}", file=sys.stderr)
        rows.extend(table.values())
    return rows
