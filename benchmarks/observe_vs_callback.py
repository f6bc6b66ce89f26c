"""Delivery rate of an ``nc.observe()`` pipeline against the callback API (issue 6 target: >= 80%).

A raw-socket publisher in a child process sends N 16-byte messages to one embedded
nats-server; the same rxnats client receives them either through ``subscribe(cb=...)`` with
a plain function, or through ``nc.observe(subject).subscribe(on_next=...)``. Runs
alternate; medians are reported.

    .venv/bin/python benchmarks/observe_vs_callback.py [--count 300000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time

import rxnats as nats
from rxnats.server import NatsServer

PUBLISHER = r"""
import socket, sys
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection((host, port)); s.recv(4096)
s.sendall(b'CONNECT {"verbose":false}\r\nPING\r\n'); s.recv(100)
chunk = (b"PUB bench 16\r\n" + b"x" * 16 + b"\r\n") * 1000
for _ in range(n // 1000):
    s.sendall(chunk)
s.sendall(b"PING\r\n"); s.recv(100)
"""


async def one_run(url: str, port: int, count: int, mode: str) -> float:
    nc = await nats.connect(url)
    done = asyncio.Event()
    received = 0

    def on_msg(_: nats.Msg) -> None:
        nonlocal received
        received += 1
        if received == count:
            done.set()

    limits = {"pending_msgs_limit": 10_000_000, "pending_bytes_limit": 1 << 32}
    if mode == "callback":
        await nc.subscribe("bench", cb=on_msg, **limits)
    else:
        nc.observe("bench", **limits).subscribe(on_next=on_msg)
    await nc.flush()
    start = time.perf_counter()
    pub = await asyncio.create_subprocess_exec(
        sys.executable, "-c", PUBLISHER, "127.0.0.1", str(port), str(count)
    )
    await asyncio.wait_for(done.wait(), 120)
    elapsed = time.perf_counter() - start
    await pub.wait()
    await nc.close()
    return count / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rates: dict[str, list[float]] = {"callback": [], "observe": []}
    with NatsServer() as server:
        for _ in range(args.rounds):
            for mode in rates:
                rates[mode].append(asyncio.run(one_run(server.url, server.port, args.count, mode)))
    med = {mode: statistics.median(r) for mode, r in rates.items()}
    for mode, r in rates.items():
        runs = " ".join(f"{x / 1000:.0f}k" for x in r)
        print(f"{mode:9} median {med[mode] / 1000:7.1f}k msgs/s   runs: {runs}")
    print(f"observe / callback = {med['observe'] / med['callback']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
