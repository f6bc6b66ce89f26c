"""Request and reply: a service, a timeout, no responders, and old-style inboxes.

A nats-py program with its imports renamed (see README.md).
"""

import asyncio
import json
import os

import rxnats as nats
from rxnats.aio.msg import Msg
from rxnats.errors import NoRespondersError, TimeoutError

URL = os.environ.get("NATS_URL", "nats://localhost:4222")


async def main() -> None:
    nc = await nats.connect(URL)

    async def add(msg: Msg) -> None:
        numbers = json.loads(msg.data)
        await msg.respond(json.dumps({"sum": sum(numbers)}).encode())

    async def silent(msg: Msg) -> None:
        pass  # never answers

    await nc.subscribe("math.add", queue="math", cb=add)
    await nc.subscribe("math.silent", cb=silent)

    reply = await nc.request("math.add", b"[1, 2, 3]", timeout=2)
    print("1 + 2 + 3 =", json.loads(reply.data)["sum"])

    replies = await asyncio.gather(
        *(nc.request("math.add", json.dumps([n, n]).encode(), timeout=2) for n in range(5))
    )
    print("doubled:", [json.loads(r.data)["sum"] for r in replies])

    reply = await nc.request("math.add", b"[40, 2]", timeout=2, old_style=True)
    print("old style:", json.loads(reply.data)["sum"])

    try:
        await nc.request("math.nobody", b"", timeout=2)
    except NoRespondersError:
        print("math.nobody: no responders")

    try:
        await nc.request("math.silent", b"", timeout=0.2)
    except TimeoutError:
        print("math.silent: timed out")

    # A reply subject of our own, answered by publish().
    inbox = nc.new_inbox()
    answers = await nc.subscribe(inbox)

    async def echo(msg: Msg) -> None:
        await nc.publish(msg.reply, msg.data.upper())

    await nc.subscribe("echo", cb=echo)
    await nc.publish("echo", b"shout", reply=inbox)
    print("echo:", (await answers.next_msg(timeout=2)).data.decode())
    await nc.close()


if __name__ == "__main__":
    asyncio.run(main())
