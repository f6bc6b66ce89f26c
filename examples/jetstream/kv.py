"""Key-value buckets (nats-py's KV example, our way)."""

import asyncio
import os

import rxnats as nats
from rxnats.js.api import StorageType
from rxnats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError


async def main() -> None:
    nc = await nats.connect(os.environ.get("NATS_URL", "nats://localhost:4222"))
    js = nc.jetstream()

    kv = await js.create_key_value(bucket="MY_KV", history=5, storage=StorageType.MEMORY)

    await kv.put("hello", b"world")
    await kv.put("goodbye", b"farewell")
    await kv.put("greetings", b"hi")
    await kv.put("greeting", b"hey")

    entry = await kv.get("hello")
    print(f"KeyValue.Entry: key={entry.key}, value={entry.value}, revision={entry.revision}")

    print("all keys:", sorted(await kv.keys()))
    print("filtered keys:", sorted(await kv.keys(filters=["hello", "greet"])))

    # Compare-and-set: update only if nobody changed the key meanwhile.
    revision = await kv.update("hello", b"there", last=entry.revision)
    try:
        await kv.update("hello", b"stale", last=entry.revision)
    except KeyWrongLastSequenceError:
        print("a stale update is refused")
    print("hello is now", (await kv.get("hello")).value, "at", revision)

    # Watch a key: its current value, the up-to-date marker, then changes.
    watcher = await kv.watch("greeting")
    first = await watcher.updates(timeout=2)
    marker = await watcher.updates(timeout=2)
    print("watch starts with", first.value if first else None, "then", marker)
    await kv.put("greeting", b"yo")
    change = await watcher.updates(timeout=2)
    print("watch saw", change.value if change else None)
    await watcher.stop()

    await kv.delete("goodbye")
    try:
        await kv.get("goodbye")
    except KeyNotFoundError:
        print("goodbye is gone")
    print("history of hello:", [e.value for e in await kv.history("hello")])

    status = await kv.status()
    print("bucket", status.bucket, "keeps", status.history, "revisions, holds", status.values)

    await js.delete_key_value("MY_KV")
    await nc.close()


if __name__ == "__main__":
    asyncio.run(main())
