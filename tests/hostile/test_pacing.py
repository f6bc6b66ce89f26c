"""Reconnect pacing against a server that completes the handshake and drops the client at
once (rxnats.testing.fakeserver). Checked as a lower bound on the time the connections span,
which a slow machine only makes longer; nothing here asserts a duration.
"""

from __future__ import annotations

import pytest
from polling import eventually

import rxnats
from rxnats.testing.fakeserver import FakePeer, FakeServer

pytestmark = pytest.mark.timeout(60)


async def accept_then_drop(peer: FakePeer) -> None:
    """Accept the handshake, then close the connection at once (the server does it)."""
    await peer.handshake()


async def test_a_server_that_accepts_then_drops_is_reconnected_to_at_the_set_pace() -> None:
    wait = 0.2
    async with FakeServer(accept_then_drop) as server:
        nc = await rxnats.connect(server.url, reconnect_time_wait=wait, max_reconnect_attempts=-1)
        await eventually(lambda: len(server.accepted_at) >= 6, what="six connections")
        await nc.close()
        stamps = server.accepted_at[:6]
        # Start to start, each attempt waits reconnect_time_wait (jitter only adds), so six
        # connections span at least five waits. Measured from the server's side, so one
        # connection's latency may shift either end a little: hence 0.9. (A client that
        # retried each lost connection at once would make hundreds per second.)
        assert stamps[-1] - stamps[0] >= 0.9 * 5 * wait, stamps


async def test_exponential_backoff_spreads_the_attempts_out() -> None:
    async with FakeServer(accept_then_drop) as server:
        nc = await rxnats.connect(
            server.url, reconnect_time_wait=0.05, reconnect_max_wait=0.4,
            max_reconnect_attempts=-1,
        )
        await eventually(lambda: len(server.accepted_at) >= 6, what="six connections")
        await nc.close()
        stamps = server.accepted_at[:6]
        # Waits of 0.05, 0.1, 0.2, 0.4 and 0.4 s (doubled each time, then capped): 1.15 s
        # at least, where a constant 0.05 s would take 0.25 s.
        assert stamps[-1] - stamps[0] >= 0.9 * 1.15, stamps
