"""consumer.messages() refills its buffer as it is read, by messages and by bytes."""

from __future__ import annotations

import pytest

from rxnats.jetstream import JetStreamContext


@pytest.mark.parametrize("limit", [{"max_messages": 7}, {"max_bytes": 600}])
async def test_a_stream_many_times_the_buffer_is_read_to_the_end(
    js: JetStreamContext, limit: dict[str, int]
) -> None:
    await js.add_stream(name="R", subjects=["r.>"])
    for i in range(120):
        await js.publish_async("r.x", f"{i:08}".encode())
    await js.publish_async_completed(timeout=10)
    consumer = await js.stream("R").create_consumer(durable_name="r")
    got: list[bytes] = []
    async with await consumer.messages(expires=2, **limit) as msgs:  # type: ignore[arg-type]  # parametrized keywords
        async for msg in msgs:
            await msg.ack()
            got.append(msg.data)
            if len(got) == 120:
                break
    assert got == [f"{i:08}".encode() for i in range(120)]
