"""Bounds that a server cannot push past: PONGs owed to a server that never reads, and the
servers it announces (rxnats.testing.fakeserver stands in for the server)."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest

import rxnats
from rxnats.testing.fakeserver import FakePeer, FakeServer, sid_of
from rxnats.wire.policy import DEFAULT_MAX_DISCOVERED

pytestmark = pytest.mark.timeout(60)


async def test_pongs_to_a_server_that_floods_pings_and_never_reads_stay_bounded() -> None:
    from rxnats.wire.aio.tcp import _WRITE_HIGH_WATER, TcpTransport

    pings = 400_000  # 2.4 MB of PONGs owed, more than twice what asyncio may hold
    reading = asyncio.Event()

    async def script(peer: FakePeer) -> None:
        await peer.handshake()
        sid = sid_of((await peer.expect(b"SUB")).line)
        chunk = b"PING\r\n" * 10_000
        for _ in range(pings // 10_000):  # and read nothing meanwhile
            peer.send(chunk)
            await peer.drain()
        peer.send(b"MSG done %d 0\r\n\r\n" % sid)  # after every PING, in order
        await reading.wait()
        await peer.serve()

    async with FakeServer(script, receive_buffer=4096) as server:
        nc = await rxnats.connect(server.url)
        conn = nc._conn  # what asyncio holds for the socket is the measure (private)
        assert isinstance(conn, TcpTransport) and conn.transport is not None
        transport = conn.transport
        sock = transport.get_extra_info("socket")
        assert sock is not None
        # A small kernel send buffer, so that what does not fit shows in asyncio's.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16 * 1024)
        done = asyncio.Event()
        await nc.subscribe("done", cb=lambda msg: done.set())
        await asyncio.wait_for(done.wait(), 50)
        # The PINGs of one read are answered in one write: past the high-water mark by
        # at most one read's worth of PONGs (asyncio reads at most max_size at a time).
        max_read: int = getattr(transport, "max_size")  # noqa: B009 - asyncio's, not typed
        assert transport.get_write_buffer_size() <= _WRITE_HIGH_WATER + max_read
        reading.set()
        await nc.flush(timeout=20)  # once the server reads again, all is well
        assert nc.is_connected and nc.stats.reconnects == 0
        await nc.close()
        assert server.errors == []


async def test_thirty_thousand_connect_urls_are_bounded_and_deduplicated() -> None:
    urls = [f"10.{i // 65536}.{i // 256 % 256}.{i % 256}:4222" for i in range(30_000)]

    async def script(peer: FakePeer) -> None:
        await peer.handshake(connect_urls=urls + urls[:5000])  # some of them twice
        await peer.expect(b"SUB")
        info = {**peer.info, "connect_urls": list(reversed(urls))}
        peer.send(b"INFO %b\r\n" % json.dumps(info).encode())
        await peer.serve()

    async with FakeServer(script) as server:
        nc = await rxnats.connect(server.url)
        discovered = nc.discovered_servers()
        assert len(discovered) == DEFAULT_MAX_DISCOVERED
        assert len(set(discovered)) == len(discovered)
        await nc.subscribe("x")
        await nc.flush()  # the second INFO came before the PONG
        assert nc.discovered_servers() == discovered  # full: nothing added, nothing lost
        assert len(nc.servers()) == DEFAULT_MAX_DISCOVERED + 1
        await nc.close()
