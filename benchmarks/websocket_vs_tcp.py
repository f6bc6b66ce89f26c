"""rxnats over a WebSocket against rxnats over TCP, on the same server in the same run.

    .venv/bin/python benchmarks/websocket_vs_tcp.py [--modes pub,pubsub,request]
        [--size 16] [--count 100000] [--request-count 3000] [--rounds 3] [--json]

Starts one embedded nats-server with a plaintext ``websocket`` listener and runs the
``rxnats bench`` loops (:func:`rxnats.bench.runner.run_mode`) against its ``nats://``
and its ``ws://`` URL alternately, ``--rounds`` times each, then prints the medians and
the ratio WebSocket / TCP for each mode. Both URLs reach the same server process, so the
difference is the WebSocket framing (masking the client's frames, the server's frame
parsing and its one-frame-per-flush writes) and nothing else.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics

from rxnats.bench.adapters import rxnats_factory
from rxnats.bench.runner import BenchConfig, run_mode
from rxnats.server import NatsServer


async def measure(
    tcp_url: str, ws_url: str, modes: list[str], size: int, count: int, request_count: int,
    rounds: int,
) -> dict[str, dict[str, list[float]]]:
    """msgs/s per mode and transport, one figure per round."""
    rates: dict[str, dict[str, list[float]]] = {m: {"tcp": [], "ws": []} for m in modes}
    for _ in range(rounds):
        for mode in modes:
            n = request_count if mode == "request" else count
            config = BenchConfig(mode=mode, size=size, count=n)
            for transport, url in (("tcp", tcp_url), ("ws", ws_url)):
                result = await run_mode("rxnats", rxnats_factory, url, config)
                rates[mode][transport].append(result.msgs_per_sec)
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--modes", default="pub,pubsub,request")
    parser.add_argument("--size", type=int, default=16)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--request-count", type=int, default=3_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    with NatsServer(websocket=True) as server:
        rates = asyncio.run(
            measure(server.url, server.ws_url, modes, args.size, args.count,
                    args.request_count, args.rounds)
        )
    if args.json:
        print(json.dumps(rates))
        return
    print(f"{args.size}-byte payloads, {args.rounds} alternating rounds, medians (msgs/s)")
    print(f"{'mode':8} {'tcp':>10} {'ws':>10} {'ws / tcp':>9}")
    for mode, by in rates.items():
        tcp, ws = statistics.median(by["tcp"]), statistics.median(by["ws"])
        print(f"{mode:8} {tcp:10.0f} {ws:10.0f} {ws / tcp:9.2f}")
        print(f"{'':8} runs tcp {' '.join(f'{r:.0f}' for r in by['tcp'])}; "
              f"ws {' '.join(f'{r:.0f}' for r in by['ws'])}")


if __name__ == "__main__":
    main()
