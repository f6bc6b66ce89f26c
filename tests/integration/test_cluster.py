"""Cluster discovery and failover against a real 3-node routed cluster.

Timings are printed (run with ``-s``), never asserted.
"""

from __future__ import annotations

import asyncio
import time

import rxnats
from rxnats import events as ev
from rxnats.msg import Msg
from rxnats.server import NatsCluster


async def test_discovers_the_cluster_from_one_seed_and_follows_it_down(
    nats_cluster: NatsCluster,
) -> None:
    seed, *others = nats_cluster.servers
    discovered_calls: list[float] = []
    reconnected = asyncio.Queue[float]()
    events: list[ev.ConnectionEvent] = []

    nc = rxnats.NATS()
    nc.add_event_listener(events.append)
    await nc.connect(
        seed.url,
        discovered_server_cb=lambda: discovered_calls.append(time.monotonic()),
        reconnected_cb=lambda: reconnected.put_nowait(time.monotonic()),
        reconnect_time_wait=0.2,
        connect_timeout=1,
    )

    async def echo(msg: Msg) -> None:
        await msg.respond(msg.data)

    await nc.subscribe("cluster.echo", cb=echo)
    assert sorted(nc.discovered_servers()) == sorted(s.url for s in others)
    assert sorted(nc.servers()) == sorted(nats_cluster.urls)
    # Named in the handshake INFO: they join quietly (the callback and the event are
    # for servers that join later, as in nats-py).
    assert discovered_calls == []
    assert not [e for e in events if isinstance(e, ev.ServersDiscovered)]
    assert (await nc.request("cluster.echo", b"0", timeout=2)).data == b"0"

    running = list(nats_cluster.servers)
    failovers: list[str] = []
    for step in (1, 2):
        current = next(s for s in running if s.url == nc.connected_url())
        running.remove(current)
        t_stop = time.monotonic()
        await current.astop()
        t_back = await asyncio.wait_for(reconnected.get(), 10)
        assert nc.connected_url() in {s.url for s in running}
        reply = await nc.request("cluster.echo", str(step).encode(), timeout=2)
        assert reply.data == str(step).encode()
        failovers.append(f"{t_back - t_stop:.3f}s")
    print(
        f"\n[cluster] discovered {nc.discovered_servers()} from {seed.url}; "
        f"fail-over times (from the stop signal to reconnected): {', '.join(failovers)}"
    )
    assert nc.stats.reconnects == 2
    assert discovered_calls == []  # nothing new was announced afterwards
    await nc.close()


async def test_dont_randomize_keeps_the_given_order(nats_cluster: NatsCluster) -> None:
    nc = await rxnats.connect(nats_cluster.urls, dont_randomize=True)
    try:
        assert nc.servers()[:3] == nats_cluster.urls
        assert nc.connected_url() == nats_cluster.urls[0]
        assert nc.discovered_servers() == []  # every announced server was configured
    finally:
        await nc.close()
