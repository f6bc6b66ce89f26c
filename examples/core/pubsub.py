"""Publish and subscribe: a callback, an iterator, a limit and a wildcard.

A nats-py program with its import renamed (see README.md). NATS_URL names the server
(default nats://localhost:4222).
"""

import asyncio
import os

import rxnats as nats
from rxnats.aio.msg import Msg

URL = os.environ.get("NATS_URL", "nats://localhost:4222")


async def main() -> None:
    nc = await nats.connect(URL)

    # A callback subscription that stops by itself after two messages.
    greetings: list[str] = []
    two_done = asyncio.Event()

    async def on_greeting(msg: Msg) -> None:
        greetings.append(msg.data.decode())
        if len(greetings) == 2:
            two_done.set()

    sub = await nc.subscribe("greet.*", cb=on_greeting)
    await sub.unsubscribe(limit=2)
    for who in ("alice", "bob", "carol"):
        await nc.publish(f"greet.{who}", f"hello {who}".encode())
    await asyncio.wait_for(two_done.wait(), 5)
    print("callback got:", greetings)

    # An iterator: read until a message says stop, then clean up.
    sub = await nc.subscribe("numbers")
    for n in range(5):
        await nc.publish("numbers", str(n).encode())
    await nc.publish("numbers", b"stop")
    total = 0
    async for msg in sub.messages:
        if msg.data == b"stop":
            break
        total += int(msg.data)
    await sub.unsubscribe()
    print("sum of numbers:", total)

    # max_msgs: the iteration ends by itself, and unsubscribing afterwards is harmless.
    sub = await nc.subscribe("ticks", max_msgs=3)
    for n in range(10):
        await nc.publish("ticks", str(n).encode())
    ticks = [msg.data.decode() async for msg in sub.messages]
    await sub.unsubscribe()
    print("first three ticks:", ticks)

    # next_msg() with a timeout.
    sub = await nc.subscribe("quiet")
    try:
        await sub.next_msg(timeout=0.1)
    except nats.errors.TimeoutError:
        print("nothing on quiet")

    print("messages published:", nc.stats["out_msgs"])
    await nc.close()
    assert greetings == ["hello alice", "hello bob"] and total == 10
    assert ticks == ["0", "1", "2"]


if __name__ == "__main__":
    asyncio.run(main())
