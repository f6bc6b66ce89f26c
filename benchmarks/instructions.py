"""Instructions per message under callgrind: a repeatable verdict on a noisy machine.

    .venv/bin/python benchmarks/instructions.py pubsub   # publisher + subscriber, one process
    .venv/bin/python benchmarks/instructions.py pubsub-async  # ... with an `async def` callback
    .venv/bin/python benchmarks/instructions.py observe  # pubsub through nc.observe()
    .venv/bin/python benchmarks/instructions.py pub      # publish only
    .venv/bin/python benchmarks/instructions.py pub-varied  # publish, a new size each time
    .venv/bin/python benchmarks/instructions.py parse    # Parser.feed on 2 000-frame chunks
    .venv/bin/python benchmarks/instructions.py receive  # parse + dispatch to a callback, no socket
    .venv/bin/python benchmarks/instructions.py receive-headers  # ... HMSG, the callback reads a header
    .venv/bin/python benchmarks/instructions.py request  # sequential round trips, async echo responder
    .venv/bin/python benchmarks/instructions.py request-plain  # ... plain echo, msg.respond_nowait
    .venv/bin/python benchmarks/instructions.py bare-request  # the same on two bare asyncio Protocols
    .venv/bin/python benchmarks/instructions.py bare-request-timers  # ... with two timers armed
    .venv/bin/python benchmarks/instructions.py minimal-request  # ... a feature-less Python client
    .venv/bin/python benchmarks/instructions.py natspy-pub     # nats-py's pub, for the ratio
    .venv/bin/python benchmarks/instructions.py natspy-pubsub  # nats-py's pubsub, for the ratio
    .venv/bin/python benchmarks/instructions.py natspy-request # nats-py's round trips
    .venv/bin/python benchmarks/instructions.py request-x10    # 10 concurrent requesters (rxnats
    .venv/bin/python benchmarks/instructions.py natspy-request-x10  # bench's loop): rxnats async,
    .venv/bin/python benchmarks/instructions.py raw-request-x10     # nats-py, the raw client
    .venv/bin/python benchmarks/instructions.py kv-get   # JetStream: js-pub, js-pub-async,
    .venv/bin/python benchmarks/instructions.py natspy-kv-get  # js-fetch, js-consume, kv-put

The JetStream modes (those of ``rxnats bench``, see :mod:`rxnats.bench.jetstream`) count
the timed loop alone: the stream or bucket is made and filled by this process before the
measured one starts, and checked and deleted after it ends; 2k and 6k messages (round
trips for ``js-pub``, ``kv-put`` and ``kv-get``).

With ``RXNATS_BENCH_OTEL=1`` in the environment the measured program first instruments
rxnats (``rxnats.otel``) with the OpenTelemetry SDK's providers: every span recorded
(always-on sampling) but exported nowhere, metrics kept by a reader that is never read.
That is the instrumented cost; exporting adds the exporter's own. Instrumented runs send a
tenth of the messages (each costs some 100 times more). (``receive`` feeds a subscription
built directly, which no instrumentation wraps.)

``request`` counts per round trip (2k and 6k of them, so the figure is per round trip too);
it includes the event loop's own Python code, which is most of a round trip's instructions.
``bare-request`` is the same round trip on two bare ``asyncio.Protocol`` connections with no
client (no parsing, pre-encoded frames): the event loop's share alone;
``bare-request-timers`` the same with two far-off timers armed, as every client with a
keep-alive has (each loop turn then looks at its timer heap). ``minimal-request``
runs ``request_ceiling.py``'s ``python-minimal``, the feature-less client of
:mod:`rxnats.bench.rawclient` (frames split and ``MSG`` lines parsed, requests encoded,
writes batched per loop turn, a future and a timeout timer per round trip, nothing else):
the floor of any Python client on asyncio.

Each mode runs twice under ``valgrind --tool=callgrind`` (20k and 60k messages, 16-byte
payloads) and prints the difference divided by 40k, so start-up and connection set-up cancel
out. Wall-clock rates on the shared VM swing by a third between runs; these counts repeat to
within a fraction of a percent. Needs valgrind on PATH; the network modes start an embedded
nats-server.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import rxnats
from rxnats.bench.adapters import natspy_factory, rxnats_async_factory
from rxnats.bench.jetstream import (
    JS_MODES,
    ROUND_TRIP_MODES,
    finish_scene,
    prepare_scene,
    run_prepared,
)
from rxnats.bench.rawclient import raw_client_factory
from rxnats.bench.runner import BenchConfig, ClientFactory, run_mode
from rxnats.server import NatsServer
from rxnats.wire.parser import Parser

_SMALL, _LARGE = 20_000, 60_000
_ROUND_TRIPS = tuple(ROUND_TRIP_MODES)
_PAYLOAD = b"x" * 16


async def _network(mode: str, count: int, url: str) -> None:
    pub = await rxnats.connect(url, allow_reconnect=False)
    sub = await rxnats.connect(url, allow_reconnect=False)
    done = asyncio.Event()
    received = 0

    def on_msg(msg: rxnats.Msg) -> None:
        nonlocal received
        received += 1
        if received >= count:
            done.set()

    async def on_msg_async(msg: rxnats.Msg) -> None:
        on_msg(msg)

    disposable = None
    if mode == "pubsub":
        await sub.subscribe("ins", cb=on_msg, pending_msgs_limit=1 << 30,
                            pending_bytes_limit=1 << 30)
    elif mode == "pubsub-async":
        await sub.subscribe("ins", cb=on_msg_async, pending_msgs_limit=1 << 30,
                            pending_bytes_limit=1 << 30)
    elif mode == "observe":
        disposable = sub.observe("ins", pending_msgs_limit=1 << 30).subscribe(on_next=on_msg)
    await sub.flush()
    publish = pub.publish
    if mode == "pub-varied":  # sizes 10..41 in turn: every publish changes size
        payloads = [b"x" * n for n in range(10, 42)]
        for i in range(count):
            await publish("ins", payloads[i & 31])
    else:
        for _ in range(count):
            await publish("ins", _PAYLOAD)
    await pub.flush()
    if not mode.startswith("pub") or mode.startswith("pubsub"):
        await done.wait()
    if disposable is not None:
        disposable.dispose()
    await pub.close()
    await sub.close()


async def _request(
    count: int, url: str, connect: Callable[[str], Awaitable[Any]], *, plain: bool = False
) -> None:
    # Requester and `async` echo responder in one process, as rxnats.bench's request mode;
    # with ``plain`` a plain-function echo answering with respond_nowait (inline on the
    # reader), as request_ceiling.py's ``rxnats`` row.
    responder = await connect(url)
    requester = await connect(url)

    async def echo(msg: Any) -> None:
        await msg.respond(msg.data)

    def plain_echo(msg: Any) -> None:
        msg.respond_nowait(msg.data)

    await responder.subscribe("ins", cb=plain_echo if plain else echo)
    await responder.flush()
    await requester.request("ins", _PAYLOAD, timeout=5)
    for _ in range(count):
        await requester.request("ins", _PAYLOAD, timeout=5)
    await requester.close()
    await responder.close()


async def _natspy(mode: str, count: int, url: str) -> None:
    # nats-py's fastest forms (it takes coroutine callbacks only), as rxnats.bench drives it.
    import nats  # optional peer (nats-py), not a dependency

    if mode == "request":
        await _request(count, url, nats.connect)
        return
    pub = await nats.connect(url, allow_reconnect=False)
    sub = await nats.connect(url, allow_reconnect=False)
    done = asyncio.Event()
    received = 0

    async def on_msg(msg: object) -> None:
        nonlocal received
        received += 1
        if received >= count:
            done.set()

    if mode == "pubsub":
        await sub.subscribe("ins", cb=on_msg, pending_msgs_limit=1 << 30,
                            pending_bytes_limit=1 << 30)
    await sub.flush()
    publish = pub.publish
    if mode == "pub-varied":  # sizes 10..41 in turn: every publish changes size
        payloads = [b"x" * n for n in range(10, 42)]
        for i in range(count):
            await publish("ins", payloads[i & 31])
    else:
        for _ in range(count):
            await publish("ins", _PAYLOAD)
    await pub.flush()
    if mode == "pubsub":
        await done.wait()
    await pub.close()
    await sub.close()


def _parse(count: int) -> None:
    chunk = (b"MSG ins 1 16\r\n" + _PAYLOAD + b"\r\n") * 2000
    parser = Parser()
    for _ in range(count // 2000):
        parser.feed(chunk)


_HEADER_BLOCK = b"NATS/1.0\r\nKey: value\r\n\r\n"


def _receive(count: int, *, headers: bool = False) -> None:
    # The client's receive path without sockets or a server: parsed frames are dispatched by
    # NATS._on_frames to a subscription with a plain callback (private API: a measurement).
    # With headers, HMSG frames whose header the callback reads (decoding it).
    from rxnats.client import NATS
    from rxnats.subscription import Subscription

    if headers:
        size = len(_HEADER_BLOCK)
        frame = b"HMSG ins 1 %d %d\r\n%b%b\r\n" % (
            size, size + len(_PAYLOAD), _HEADER_BLOCK, _PAYLOAD
        )
    else:
        frame = b"MSG ins 1 16\r\n" + _PAYLOAD + b"\r\n"
    chunk = frame * 2000
    nc = NATS()
    received = 0

    def on_msg(msg: rxnats.Msg) -> None:
        nonlocal received
        received += 1
        if headers:
            assert msg.headers is not None and msg.headers["Key"] == "value"

    nc._subs[1] = Subscription(nc._port, 1, "ins", cb=on_msg)
    parser = Parser()
    for _ in range(count // 2000):
        nc._on_frames(parser.feed(chunk))
    assert received == count // 2000 * 2000


#: The ``-x10`` modes: rxnats bench's own request loop, 10 requesters sharing a connection.
_X10_LIBRARIES = {"request": "rxnats-async", "natspy-request": "nats-py", "raw-request": "raw-client"}


async def _request_x10(mode: str, count: int, url: str) -> None:
    # Exactly what `rxnats bench request --concurrency 10` times (latency histogram
    # included), for rxnats with its `async` echo, nats-py and the feature-less raw client.
    library = _X10_LIBRARIES[mode]
    factory: ClientFactory
    if library == "nats-py":
        factory = natspy_factory()
    elif library == "raw-client":
        factory = raw_client_factory
    else:
        factory = rxnats_async_factory
    await run_mode(library, factory, url, BenchConfig(mode="request", count=count, concurrency=10))


async def _with_timers(run: Awaitable[float], *, armed: bool) -> None:
    # ``bare-request-timers``: two far-off timers armed, as a client's keep-alive PING and
    # request deadline are, so every loop turn looks at the timer heap.
    loop = asyncio.get_running_loop()
    timers = [loop.call_later(delay, lambda: None) for delay in (120.0, 3600.0)] if armed else []
    await run
    for timer in timers:
        timer.cancel()


def _instrument() -> None:
    # RXNATS_BENCH_OTEL=1: traced and metered, nothing exported (see the module docstring).
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider

    from rxnats.otel import RxnatsInstrumentor

    RxnatsInstrumentor().instrument(
        tracer_provider=TracerProvider(),
        meter_provider=MeterProvider(metric_readers=[InMemoryMetricReader()]),
    )


def _instructions(mode: str, count: int, url: str) -> int:
    token = ""
    config = BenchConfig(mode=mode.removeprefix("natspy-"), count=count)
    if config.mode in JS_MODES:
        token = asyncio.run(prepare_scene(url, config))
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
         sys.executable, __file__, "--run", mode, str(count), url, token],
        capture_output=True, text=True, check=True,
    )
    if token:
        asyncio.run(finish_scene(url, config, token))
    found = re.search(r"Collected : (\d+)", out.stderr)
    if found is None:
        raise SystemExit(f"no callgrind total in:\n{out.stderr[-2000:]}")
    return int(found.group(1))


def main(argv: list[str]) -> None:
    if argv[:1] == ["--run"]:
        mode, count, url = argv[1], int(argv[2]), argv[3]
        if os.environ.get("RXNATS_BENCH_OTEL"):
            _instrument()
        if mode == "parse":
            _parse(count)
        elif mode == "receive":
            _receive(count)
        elif mode == "receive-headers":
            _receive(count, headers=True)
        elif mode.removeprefix("natspy-") in JS_MODES:
            library = "nats-py" if mode.startswith("natspy-") else "rxnats"
            config = BenchConfig(mode=mode.removeprefix("natspy-"), count=count)
            asyncio.run(run_prepared(library, url, config, argv[4]))
        elif mode == "request":
            asyncio.run(_request(count, url, rxnats.connect))
        elif mode == "request-plain":
            asyncio.run(_request(count, url, rxnats.connect, plain=True))
        elif mode in ("bare-request", "bare-request-timers", "minimal-request"):
            # The ceiling: two bare asyncio Protocols, no client; the floor of a client: a
            # feature-less one on two Protocols (both in benchmarks/request_ceiling.py).
            sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
            from request_ceiling import bare_asyncio, python_minimal

            port = int(url.rsplit(":", 1)[1])
            run = python_minimal if mode == "minimal-request" else bare_asyncio
            asyncio.run(_with_timers(run(port, count), armed=mode == "bare-request-timers"))
        elif mode.endswith("-x10"):
            asyncio.run(_request_x10(mode.removesuffix("-x10"), count, url))
        elif mode.startswith("natspy-"):
            asyncio.run(_natspy(mode.removeprefix("natspy-"), count, url))
        else:
            asyncio.run(_network(mode, count, url))
        return
    mode = argv[0] if argv else "pubsub"
    modes: tuple[str, ...] = ("pubsub", "pubsub-async", "observe", "pub", "pub-varied", "parse", "receive",
             "receive-headers", "request", "request-plain", "bare-request", "bare-request-timers", "minimal-request", "natspy-pub", "natspy-pub-varied", "natspy-pubsub", "natspy-request")
    modes += tuple(f"{m}-x10" for m in _X10_LIBRARIES)
    modes += (*JS_MODES, *(f"natspy-{m}" for m in JS_MODES))
    if mode not in modes:
        raise SystemExit(f"unknown mode {mode!r}: one of {', '.join(modes)}")
    js_mode = mode.removeprefix("natspy-") in JS_MODES
    small_n, large_n = (_SMALL, _LARGE) if "request" not in mode and not js_mode else (2_000, 6_000)
    if os.environ.get("RXNATS_BENCH_OTEL"):  # each message costs some 100 times more
        small_n, large_n = small_n // 10, large_n // 10
    with NatsServer(jetstream=js_mode) as server:
        small = _instructions(mode, small_n, server.url)
        large = _instructions(mode, large_n, server.url)
    unit = "round trip" if "request" in mode or mode.endswith(_ROUND_TRIPS) else "message"
    print(f"{mode}: {(large - small) // (large_n - small_n):,} instructions per {unit}")


if __name__ == "__main__":
    main(sys.argv[1:])
