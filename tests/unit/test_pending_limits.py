"""subscribe() and observe() apply the same limits: one burst, the same messages kept.

A scripted server sends the burst in one write, so the client reads it in one go and
the queue's policy (rxnats.pending) decides what is kept, deterministically.
"""

from __future__ import annotations

import asyncio

import pytest

import rxnats
from rxnats import Msg, Overflow
from rxnats import events as ev
from rxnats.testing.fakeserver import FakePeer, FakeServer, Script, sid_of

#: Five 2-byte messages, then one of 8: a 10-byte queue must drop four to keep the last.
PAYLOADS = [b"a1", b"a2", b"a3", b"a4", b"a5", b"12345678"]


def burst_script(subscribed: asyncio.Event) -> Script:
    async def script(peer: FakePeer) -> None:
        await peer.handshake()
        sid = sid_of((await peer.expect(b"SUB")).line)
        subscribed.set()
        peer.send(b"".join(b"MSG s %d %d\r\n%b\r\n" % (sid, len(p), p) for p in PAYLOADS))
        await peer.serve()

    return script


@pytest.mark.parametrize("overflow", [Overflow.DROP_OLDEST, Overflow.DROP_NEWEST])
async def test_subscribe_keeps_within_the_byte_limit(overflow: Overflow) -> None:
    subscribed = asyncio.Event()
    async with FakeServer(burst_script(subscribed)) as server:
        nc = await rxnats.connect(server.url)
        slow: list[ev.SlowConsumer] = []
        nc.add_event_listener(lambda e: slow.append(e) if isinstance(e, ev.SlowConsumer) else None)
        sub = await nc.subscribe("s", pending_bytes_limit=10, overflow=overflow)
        await subscribed.wait()
        await nc.flush()  # the PONG comes after the burst
        assert sub.pending_bytes <= 10
        kept = [(await sub.next_msg()).data for _ in range(sub.pending_msgs)]
        if overflow is Overflow.DROP_OLDEST:
            assert kept == [b"a5", b"12345678"] and sub.dropped == 4
        else:
            assert kept == PAYLOADS[:5] and sub.dropped == 1
        assert [e.dropped for e in slow] == [sub.dropped]  # one episode, one report
        await nc.close()
        assert server.errors == []


@pytest.mark.parametrize("overflow", [Overflow.DROP_OLDEST, Overflow.DROP_NEWEST])
async def test_observe_keeps_the_same_messages_as_subscribe(overflow: Overflow) -> None:
    subscribed = asyncio.Event()
    async with FakeServer(burst_script(subscribed)) as server:
        nc = await rxnats.connect(server.url)
        source = nc.observe("s", pending_bytes_limit=10, overflow=overflow)
        # Two observers share one buffer: every message waits in it (none is handed
        # over directly), so the burst meets the limit as a subscription's queue would.
        first: list[Msg] = []
        second: list[Msg] = []
        source.subscribe(on_next=first.append)
        source.subscribe(on_next=second.append)
        await subscribed.wait()
        await nc.flush()
        await asyncio.sleep(0.01)  # the buffer drains on later loop turns
        expected = [b"a5", b"12345678"] if overflow is Overflow.DROP_OLDEST else PAYLOADS[:5]
        assert [m.data for m in first] == expected
        assert [m.data for m in second] == expected
        await nc.close()
        assert server.errors == []


@pytest.mark.parametrize("limit", [0, -1])
async def test_a_limit_of_zero_or_less_is_no_limit_on_subscribe_and_observe(limit: int) -> None:
    subscribed = asyncio.Event()
    async with FakeServer(burst_script(subscribed)) as server:
        nc = await rxnats.connect(server.url)
        got: list[Msg] = []
        nc.observe("s", pending_msgs_limit=limit, pending_bytes_limit=limit).subscribe(
            on_next=got.append
        )
        await subscribed.wait()
        await nc.flush()
        await asyncio.sleep(0.01)
        assert [m.data for m in got] == PAYLOADS
        await nc.close()
