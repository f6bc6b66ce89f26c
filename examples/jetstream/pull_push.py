"""Streams, publishing, pull and push consumers (nats-py's JetStream example, our way)."""

import asyncio
import os

import rxnats as nats
from rxnats.errors import TimeoutError
from rxnats.js.api import AckPolicy, ConsumerConfig, StorageType
from rxnats.js.errors import Error as JetStreamError


async def main() -> None:
    nc = await nats.connect(os.environ.get("NATS_URL", "nats://localhost:4222"))
    js = nc.jetstream()

    await js.add_stream(name="sample-stream", subjects=["foo"], storage=StorageType.MEMORY)
    for i in range(10):
        ack = await js.publish("foo", f"hello world: {i}".encode())
        print("stored", ack.stream, ack.seq)

    # A durable pull consumer: fetch one at a time, then a batch.
    psub = await js.pull_subscribe("foo", "psub")
    for _ in range(5):
        for msg in await psub.fetch(1):
            await msg.ack()
            print("pulled", msg.data.decode())
    batch = await psub.fetch(5, timeout=2)
    for msg in batch:
        await msg.ack()
    print("pulled a batch of", len(batch))
    try:
        await psub.fetch(1, timeout=0.5)
    except TimeoutError:
        print("nothing left to pull")

    # An ephemeral push consumer, read with next_msg.
    sub = await js.subscribe("foo")
    msg = await sub.next_msg()
    await msg.ack()
    print("pushed", msg.data.decode())

    # A durable push consumer takes one subscriber only.
    durable = await js.subscribe("foo", durable="myapp")
    msg = await durable.next_msg()
    await msg.ack()
    print("durable got", msg.data.decode(), "on its own deliver subject:", bool(durable.subject))
    try:
        await js.subscribe("foo", durable="myapp")
    except JetStreamError:
        print("a second subscriber of myapp is refused")

    # A deliver group shares the messages among its members.
    received: list[bytes] = []
    everything = asyncio.Event()

    async def worker(msg):
        received.append(msg.data)
        if len(received) == 10:
            everything.set()

    await js.subscribe("foo", "workers", cb=worker)
    await js.subscribe("foo", "workers", cb=worker)
    await asyncio.wait_for(everything.wait(), 10)
    print("the workers got", len(received), "messages between them")

    # A consumer made from a config, with explicit acks, bound later.
    await js.add_consumer(
        "sample-stream",
        config=ConsumerConfig(durable_name="audit", ack_policy=AckPolicy.EXPLICIT),
    )
    audit = await js.pull_subscribe_bind("audit", stream="sample-stream")
    msgs = await audit.fetch(3)
    print("audit read", [m.data.decode()[-1] for m in msgs])

    # An ordered consumer: every message once, in order, no acks.
    osub = await js.subscribe("foo", ordered_consumer=True)
    data = bytearray()
    while True:
        try:
            msg = await osub.next_msg(timeout=0.5)
            data.extend(msg.data)
        except TimeoutError:
            break
    print("all data in the stream:", len(data), "bytes")

    info = await js.stream_info("sample-stream")
    print("messages:", info.state.messages, "consumers:", info.state.consumer_count)
    await js.delete_stream("sample-stream")
    await nc.close()


if __name__ == "__main__":
    asyncio.run(main())
