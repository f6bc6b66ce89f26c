"""Acks written with the loop turn's other output: each one reaches the server once."""

from __future__ import annotations

import pytest

import rxnats
from rxnats.errors import BadSubjectError


async def test_every_ack_of_a_fetched_batch_reaches_the_server(nc: rxnats.NATS) -> None:
    js = nc.jetstream()
    await js.add_stream(name="ACKS", subjects=["acks.>"])
    for i in range(300):
        await js.publish_async("acks.x", str(i).encode())
    await js.publish_async_completed(timeout=10)
    await js.add_consumer("ACKS", durable_name="d", ack_policy="explicit", max_ack_pending=-1)
    psub = await js.pull_subscribe_bind("d", "ACKS")
    got = 0
    while got < 300:
        for msg in await psub.fetch(100, timeout=5):
            if got % 3 == 2:
                await msg.term()
            else:
                await msg.ack()
            got += 1
    await nc.flush()
    info = await js.consumer_info("ACKS", "d")
    assert info.ack_floor is not None and info.ack_floor.stream_seq == 300
    assert info.num_ack_pending == 0 and info.num_redelivered == 0


async def test_an_ack_to_a_tampered_reply_subject_is_refused_and_not_counted(
    nc: rxnats.NATS,
) -> None:
    js = nc.jetstream()
    await js.add_stream(name="TAMPER", subjects=["tamper.>"])
    await js.publish("tamper.x", b"1")
    await js.add_consumer("TAMPER", durable_name="d", ack_policy="explicit")
    msg = (await (await js.pull_subscribe_bind("d", "TAMPER")).fetch(1))[0]
    genuine = msg.reply
    msg.reply = genuine + " \r\nPUB evil 0\r\n"
    with pytest.raises(BadSubjectError):
        await msg.ack()
    assert not msg.is_acked
    msg.reply = genuine
    await msg.ack()  # the refused attempt did not count as one
    await nc.flush()
    info = await js.consumer_info("TAMPER", "d")
    assert info.num_ack_pending == 0 and nc.is_connected
