"""Reconnects in a few seconds to a server that takes the client and drops it at once.

    .venv/bin/python benchmarks/reconnect_pacing.py [seconds] [reconnect_time_wait]

Two scenarios, each for rxnats and (when installed) nats-py 2.16, with the same options:

* **accept-then-drop**: a fake server (``tests/fakeserver.py``) completes the handshake
  (INFO, CONNECT, PING -> PONG) and closes the connection at once; counted are the
  connections it accepted.
* **rejected-resubscribe**: a real nats-server and a subscription whose SUB line is over
  the server's max_control_line (a 5 KiB subject): the server answers ``-ERR`` and closes
  the connection each time the client re-sends it; counted are the reconnects.

A paced client makes about ``seconds / reconnect_time_wait`` attempts. The counts are a
report, not a test (see ``tests/hostile/test_hostile_server.py`` for the assertions).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fakeserver import FakePeer, FakeServer

import rxnats
from rxnats.server import NatsServer


async def accept_then_drop(peer: FakePeer) -> None:
    await peer.handshake()


async def _quiet(*_: object) -> None:
    pass


async def _rxnats_connect(url: str, wait: float) -> Any:
    return await rxnats.connect(
        url, reconnect_time_wait=wait, max_reconnect_attempts=-1, error_cb=_quiet
    )


async def _natspy_connect(url: str, wait: float) -> Any:
    import nats  # nats-py, optional

    return await nats.connect(
        url, reconnect_time_wait=wait, max_reconnect_attempts=-1, error_cb=_quiet
    )


async def _close(nc: Any) -> None:
    # nats-py's close() raises when the server has just dropped the connection.
    with contextlib.suppress(Exception):
        await nc.close()


async def fake_server_count(connect: Any, seconds: float, wait: float) -> int:
    async with FakeServer(accept_then_drop) as server:
        nc = await connect(server.url, wait)
        await asyncio.sleep(seconds)
        count = len(server.accepted_at)
        await _close(nc)
    return count


async def rejected_subscription_count(connect: Any, url: str, seconds: float, wait: float) -> int:
    nc = await connect(url, wait)
    await nc.subscribe("s" * 5 * 1024)
    await asyncio.sleep(seconds)
    stats = nc.stats
    count = int(stats["reconnects"])
    await _close(nc)
    return count


async def main(seconds: float, wait: float) -> None:
    clients = {"rxnats": _rxnats_connect}
    try:
        import nats  # noqa: F401

        clients["nats-py"] = _natspy_connect
    except ImportError:
        print("nats-py is not installed: rxnats only")
    print(f"{seconds} s, reconnect_time_wait={wait}")
    for name, connect in clients.items():
        count = await fake_server_count(connect, seconds, wait)
        print(f"  accept-then-drop      {name:8} {count:6} connections")
    with NatsServer() as server:
        for name, connect in clients.items():
            count = await rejected_subscription_count(connect, server.url, seconds, wait)
            print(f"  rejected-resubscribe  {name:8} {count:6} reconnects")


if __name__ == "__main__":
    args = sys.argv[1:]
    asyncio.run(main(float(args[0]) if args else 3.0, float(args[1]) if len(args) > 1 else 0.5))
