"""Drain: a subscription and then the whole connection finish what they received.

Written the nats-py way, with the client class from nats.aio.client and callbacks;
only the import lines name rxnats (see README.md).
"""

import asyncio
import os

from rxnats.aio.client import Client as NATS
from rxnats.aio.msg import Msg

URL = os.environ.get("NATS_URL", "nats://localhost:4222")


async def main() -> None:
    events: list[str] = []
    closed = asyncio.Event()

    async def disconnected_cb() -> None:
        events.append("disconnected")

    async def closed_cb() -> None:
        events.append("closed")
        closed.set()

    nc = NATS()
    await nc.connect(URL, disconnected_cb=disconnected_cb, closed_cb=closed_cb)

    handled: list[int] = []

    async def slow_worker(msg: Msg) -> None:
        await asyncio.sleep(0.01)  # each message takes a while
        handled.append(int(msg.data))

    sub = await nc.subscribe("work", cb=slow_worker)
    for n in range(20):
        await nc.publish("work", str(n).encode())
    await nc.flush()
    # Unsubscribe, but let the callback finish the messages already received.
    await sub.drain()
    print("the drained subscription handled:", len(handled))

    results: list[int] = []

    async def collect(msg: Msg) -> None:
        await asyncio.sleep(0.001)
        results.append(int(msg.data))

    await nc.subscribe("results", cb=collect)
    for n in range(50):
        await nc.publish("results", str(n).encode())
    await nc.flush()
    # Drain the connection: subscriptions finish, publishes are flushed, then it closes.
    await nc.drain()
    await asyncio.wait_for(closed.wait(), 5)
    print("results after drain:", len(results), "in order:", results == sorted(results))
    print("callbacks:", events)
    print("closed:", nc.is_closed)
    assert handled == list(range(20)) and results == list(range(50))


if __name__ == "__main__":
    asyncio.run(main())
