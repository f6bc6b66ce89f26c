"""Headers: on a publish, on a request and its reply.

A nats-py program with its import renamed (see README.md).
"""

import asyncio
import os

import rxnats as nats
from rxnats.aio.msg import Msg

URL = os.environ.get("NATS_URL", "nats://localhost:4222")


async def main() -> None:
    nc = await nats.connect(URL)

    sub = await nc.subscribe("orders")
    await nc.publish(
        "orders",
        b'{"id": 7}',
        headers={"Content-Type": "application/json", "Order-Id": "7", "": "dropped"},
    )
    msg = await sub.next_msg(timeout=2)
    print("content type:", msg.headers["Content-Type"])
    print("order id:", msg.headers.get("Order-Id"), "missing:", msg.headers.get("Nope"))
    print("keys:", sorted(msg.headers))
    print("header is headers:", msg.header == msg.headers)

    async def lookup(msg: Msg) -> None:
        trace = msg.headers["Trace-Id"] if msg.headers else "none"
        await nc.publish(msg.reply, b"found", headers={"Trace-Id": trace, "Cache": "miss"})

    await nc.subscribe("lookup", cb=lookup)
    reply = await nc.request("lookup", b"item", timeout=2, headers={"Trace-Id": "abc-123"})
    print("reply:", reply.data.decode(), "trace:", reply.headers["Trace-Id"], "cache:", reply.headers["Cache"])

    plain = await nc.subscribe("plain")
    await nc.publish("plain", b"no headers here")
    print("headers of a plain message:", (await plain.next_msg(timeout=2)).headers)
    await nc.close()


if __name__ == "__main__":
    asyncio.run(main())
