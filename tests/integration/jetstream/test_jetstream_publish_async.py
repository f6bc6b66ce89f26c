"""js.publish_async: acks matched to their futures, timeouts, cancellation, the bound."""

from __future__ import annotations

import asyncio

import pytest

import rxnats
from rxnats.errors import TimeoutError
from rxnats.jetstream import PubAck


async def _silent_listener(nc: rxnats.NATS, subject: str) -> list[str]:
    """A plain subscriber on ``subject`` that never answers: publishes there get no ack."""
    replies: list[str] = []
    await nc.subscribe(subject, cb=lambda msg: replies.append(msg.reply))
    await nc.flush()
    return replies


async def test_a_publish_without_an_ack_fails_with_timeout_and_frees_its_place(
    nc: rxnats.NATS,
) -> None:
    js = nc.jetstream(publish_async_max_pending=2)
    replies = await _silent_listener(nc, "silent.x")
    future = await js.publish_async("silent.x", b"?", timeout=0.2)
    with pytest.raises(TimeoutError, match=r"within 0\.2 s"):
        await future
    assert js.publish_async_pending() == 0
    assert len(replies) == 1
    await js.publish_async_completed(timeout=1)


async def test_a_shorter_timeout_given_later_expires_first(nc: rxnats.NATS) -> None:
    js = nc.jetstream()
    await _silent_listener(nc, "silent.y")
    slow = await js.publish_async("silent.y", b"1", timeout=30)
    fast = await js.publish_async("silent.y", b"2", timeout=0.2)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(fast, 5)
    assert not slow.done()
    assert js.publish_async_pending() == 1
    slow.cancel()


async def test_acks_and_timeouts_mixed_each_reach_their_own_future(nc: rxnats.NATS) -> None:
    js = nc.jetstream()
    await js.add_stream(name="MIX", subjects=["mix.>"])
    await _silent_listener(nc, "silent.z")
    futures: list[tuple[str, asyncio.Future[PubAck]]] = []
    for i in range(200):
        subject = "silent.z" if i % 10 == 0 else "mix.a"
        futures.append((subject, await js.publish_async(subject, str(i).encode(), timeout=0.5)))
    await js.publish_async_completed(timeout=10)
    seqs = []
    for subject, future in futures:
        if subject == "silent.z":
            assert isinstance(future.exception(), TimeoutError)
        else:
            seqs.append(future.result().seq)
    assert seqs == list(range(1, 181))


async def test_a_cancelled_future_keeps_its_place_until_its_ack(nc: rxnats.NATS) -> None:
    js = nc.jetstream(publish_async_max_pending=1)
    await js.add_stream(name="CANCEL", subjects=["cancel.>"])
    first = await js.publish_async("cancel.a", b"1")
    first.cancel()
    # The stream still stores the message and owes its ack: the bound counts it until
    # the ack arrives, then the next publish goes out.
    second = await asyncio.wait_for(js.publish_async("cancel.a", b"2"), 5)
    assert (await second).seq == 2
    assert (await js.stream_info("CANCEL")).state.messages == 2
