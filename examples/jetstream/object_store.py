"""Object stores (nats-py's object store usage, our way)."""

import asyncio
import io
import os
import tempfile

import rxnats as nats
from rxnats.js.api import ObjectMeta, StorageType
from rxnats.js.errors import ObjectNotFoundError


async def main() -> None:
    nc = await nats.connect(os.environ.get("NATS_URL", "nats://localhost:4222"))
    js = nc.jetstream()

    obs = await js.create_object_store("assets", storage=StorageType.MEMORY)

    info = await obs.put("greeting.txt", b"hello object store")
    print("stored", info.name, info.size, "bytes in", info.chunks, "chunk(s)")

    big = bytes(range(256)) * 4096  # 1 MiB: several chunks
    info = await obs.put("blob.bin", io.BytesIO(big), meta=ObjectMeta(description="a blob"))
    print("stored", info.name, info.size, "bytes in", info.chunks, "chunks")

    result = await obs.get("greeting.txt")
    print("read back:", result.data.decode())

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "blob.bin")
        with open(path, "wb") as out:  # noqa: ASYNC230 - a small local file
            await obs.get("blob.bin", writeinto=out)
        with open(path, "rb") as written:  # noqa: ASYNC230 - a small local file
            print("written to a file intact:", written.read() == big)

    described = await obs.get_info("blob.bin")
    print("info:", described.name, described.description, described.size)
    print("objects:", sorted(o.name for o in await obs.list()))

    await obs.delete("greeting.txt")
    try:
        await obs.get("greeting.txt")
    except ObjectNotFoundError:
        print("greeting.txt is gone")

    status = await obs.status()
    print("bucket sealed:", status.sealed)

    await js.delete_object_store("assets")
    await nc.close()


if __name__ == "__main__":
    asyncio.run(main())
