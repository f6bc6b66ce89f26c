"""Does memory stay flat? RSS over a long run through one subscription and of requests.

    .venv/bin/python benchmarks/memory.py                      # both, full size (a few minutes)
    .venv/bin/python benchmarks/memory.py --messages 200000 --requests 50000   # quick
    .venv/bin/python benchmarks/memory.py --json

Runs, in this process, against one embedded nats-server (or ``--server``):

- ``sub``: ``--messages`` 16-byte messages (default 5 000 000) that a raw-socket publisher
  in a child process sends to one rxnats subscription with a plain callback (the bench's
  ``sub`` mode);
- ``request``: ``--requests`` round trips (default 1 000 000), ``--concurrency`` (default
  100) tasks sharing one requester connection, against an ``async def`` echo responder of
  rxnats in the same process (the bench's ``request`` mode).

While each runs, the process's resident set size is sampled every 0.2 s; the report gives
it at the start, the peak and the end, and the growth (end minus start, and peak minus
start). The bench loops keep nothing per message (latencies go into a fixed histogram),
so growth is the client's.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
from contextlib import nullcontext

from rxnats.bench.adapters import rxnats_async_factory, rxnats_factory
from rxnats.bench.runner import BenchConfig, BenchResult, rss_kib, run_mode
from rxnats.server import NatsServer

_SAMPLE_EVERY = 0.2


async def _measure(url: str, config: BenchConfig) -> tuple[BenchResult, dict[str, float]]:
    gc.collect()
    start = rss_kib()
    peak = start
    stop = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, rss_kib())
            try:
                await asyncio.wait_for(stop.wait(), _SAMPLE_EVERY)
            except TimeoutError:
                pass

    sampler = asyncio.create_task(sample())
    factory = rxnats_factory if config.mode == "sub" else rxnats_async_factory
    try:
        result = await run_mode("rxnats", factory, url, config)
    finally:
        stop.set()
        await sampler
    gc.collect()
    end = rss_kib()
    peak = max(peak, end)
    mib = {
        "rss_start_mib": start / 1024,
        "rss_peak_mib": peak / 1024,
        "rss_end_mib": end / 1024,
        "growth_mib": (end - start) / 1024,
        "peak_growth_mib": (peak - start) / 1024,
    }
    return result, {k: round(v, 1) for k, v in mib.items()}


async def _main(args: argparse.Namespace, url: str) -> list[dict[str, object]]:
    configs = []
    if args.messages:
        configs.append(BenchConfig(mode="sub", count=args.messages, size=16))
    if args.requests:
        configs.append(BenchConfig(mode="request", count=args.requests, size=16,
                                   concurrency=args.concurrency))
    out: list[dict[str, object]] = []
    for config in configs:
        result, mib = await _measure(url, config)
        out.append({
            "mode": config.mode, "count": result.msgs, "concurrency": config.concurrency,
            "msgs_per_sec": round(result.msgs_per_sec, 1), **mib,
        })
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=5_000_000,
                        help="messages through one subscription (0: skip)")
    parser.add_argument("--requests", type=int, default=1_000_000,
                        help="round trips (0: skip)")
    parser.add_argument("--concurrency", type=int, default=100,
                        help="concurrent requesters on the one connection")
    parser.add_argument("--server", default="", help="a server URL (default: an embedded one)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    with NatsServer() if not args.server else nullcontext() as server:
        url = args.server or (server.url if server is not None else "")
        rows = asyncio.run(_main(args, url))
    if args.json:
        print(json.dumps({"python": sys.version.split()[0], "rows": rows}))
        return 0
    for row in rows:
        print(f"{row['mode']:8} {row['count']:>9,} x{row['concurrency']:<4} "
              f"{row['msgs_per_sec']:>11,.0f}/s  RSS start {row['rss_start_mib']:.1f} MiB, "
              f"peak {row['rss_peak_mib']:.1f}, end {row['rss_end_mib']:.1f}: "
              f"growth {row['growth_mib']:+.1f} MiB (peak {row['peak_growth_mib']:+.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
