"""Where the time goes: CPU of the client process and of nats-server, per message.

    .venv/bin/python benchmarks/cpu_split.py [--uvloop] [--rounds 3]

Runs ``pubsub`` (200 000 messages) and ``request`` (20 000 round trips, 10 and 100 concurrent)
for rxnats (``async def`` callbacks, the like-for-like form) and nats-py against one
embedded nats-server, and reports per message (per round trip for ``request``) the wall
time, the CPU time of this process (both client connections live in it: user plus
system, so the kernel's socket work is included) and the server's CPU time (from
``/proc``), medians over the rounds. On a 2-core machine a mode whose client CPU is close
to its wall time is bound by the client's core; one whose client plus server CPU is close
to twice the wall time is bound by the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

from rxnats.bench.adapters import natspy_available, natspy_factory, rxnats_async_factory
from rxnats.bench.runner import BenchConfig, ClientFactory, run_mode
from rxnats.server import NatsServer

_TICKS = os.sysconf("SC_CLK_TCK")


def _server_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime + stime


def _own_cpu() -> float:
    t = os.times()
    return t.user + t.system


async def _one(factory: ClientFactory, url: str, pid: int, config: BenchConfig) -> tuple[float, float, float]:
    wall0, cpu0, srv0 = time.perf_counter(), _own_cpu(), _server_cpu(pid)
    result = await run_mode("x", factory, url, config)
    n = result.msgs
    return ((time.perf_counter() - wall0) / n * 1e6, (_own_cpu() - cpu0) / n * 1e6,
            (_server_cpu(pid) - srv0) / n * 1e6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uvloop", action="store_true")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    libs: dict[str, ClientFactory] = {"rxnats-async": rxnats_async_factory}
    if natspy_available():
        libs["nats-py"] = natspy_factory()
    configs = [BenchConfig(mode="pubsub", count=200_000),
               BenchConfig(mode="request", count=20_000, concurrency=10),
               BenchConfig(mode="request", count=20_000, concurrency=100)]
    run = asyncio.run
    if args.uvloop:
        import uvloop  # the optional 'uvloop' extra

        run = uvloop.run
    with NatsServer() as server:
        assert server.pid is not None
        for config in configs:
            for lib, factory in libs.items():
                samples = [run(_one(factory, server.url, server.pid, config)) for _ in range(args.rounds)]
                wall, client, srv = (statistics.median(s[i] for s in samples) for i in range(3))
                label = f"{config.mode} x{config.concurrency}" if config.mode == "request" else config.mode
                print(f"{label:13s} {lib:13s} wall {wall:6.2f} µs   client CPU {client:6.2f} µs   "
                      f"server CPU {srv:6.2f} µs   per {'round trip' if config.mode == 'request' else 'message'}")


if __name__ == "__main__":
    main()
