"""A plain-function callback stops its subscription at once, within the read it is in."""

from __future__ import annotations

import pytest
from polling import eventually

import rxnats
from rxnats.testing.fakeserver import FakePeer, FakeServer, sid_of

pytestmark = pytest.mark.timeout(60)


async def test_a_plain_callback_stops_its_subscription_within_the_same_read() -> None:
    async def script(peer: FakePeer) -> None:
        await peer.handshake()
        sid = sid_of((await peer.expect(b"SUB")).line)
        peer.send(b"".join(b"MSG s %d 1\r\n%d\r\n" % (sid, i) for i in range(10)))  # one write
        await peer.serve()

    async with FakeServer(script) as server:
        nc = await rxnats.connect(server.url)
        got: list[bytes] = []

        def first_only(msg: rxnats.Msg) -> None:
            got.append(msg.data)
            sub.unsubscribe_nowait()

        sub = await nc.subscribe("s", cb=first_only)
        await eventually(lambda: sub.is_closed, what="unsubscribed")
        await nc.flush()  # its PONG comes after the ten messages: all of them were read
        assert got == [b"0"]
        assert sub.delivered == 1
        await nc.close()
