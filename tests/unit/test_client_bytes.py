"""What the client writes, byte for byte, to a scripted server (rxnats.testing.fakeserver).

No nats-server: the fake server reads the client's commands off a real socket and keeps
their exact bytes, so these tests pin the wire format of a publish and the order a
reconnect re-sends things in.
"""

from __future__ import annotations

import asyncio

import rxnats
from rxnats.testing.fakeserver import Command, FakePeer, FakeServer


async def test_the_exact_bytes_of_publishes() -> None:
    got: list[bytes] = []
    done = asyncio.Event()

    async def script(peer: FakePeer) -> None:
        await peer.handshake()
        while True:
            command = await peer.read()
            if command.op == b"PING":  # the flush at the end
                peer.send(b"PONG\r\n")
                done.set()
                await peer.serve()
                return
            got.append(command.raw)

    async with FakeServer(script) as server:
        nc = await rxnats.connect(server.url)
        await nc.publish("greet", b"hello")
        await nc.publish("greet", b"again")  # the same subject and size: the cached line
        await nc.publish("greet", b"")
        await nc.publish("svc.add", b"1 2", reply="_INBOX.r1")
        await nc.publish("h", b"body", headers={"Trace-Id": "abc"})
        await nc.flush()
        await asyncio.wait_for(done.wait(), 5)
        await nc.close()
        assert server.errors == []
    header_block = b"NATS/1.0\r\nTrace-Id: abc\r\n\r\n"
    assert got == [
        b"PUB greet 5\r\nhello\r\n",
        b"PUB greet 5\r\nagain\r\n",
        b"PUB greet 0\r\n\r\n",
        b"PUB svc.add _INBOX.r1 3\r\n1 2\r\n",
        b"HPUB h %d %d\r\n%bbody\r\n" % (len(header_block), len(header_block) + 4, header_block),
    ]


async def test_a_reconnect_resends_subscriptions_then_waiting_flushes_then_buffered_publishes() -> None:
    first_ready = asyncio.Event()
    drop = asyncio.Event()
    published = asyncio.Event()
    second: list[Command] = []
    second_done = asyncio.Event()

    async def script(peer: FakePeer) -> None:
        if peer.number == 2:
            await published.wait()  # the reconnect waits for INFO: the publishes are buffered
        await peer.handshake()
        if peer.number == 1:
            # Read the subscriptions and the flush's PING, answer nothing more, then drop.
            while sum(c.op == b"PING" for c in peer.received) < 2:  # handshake's + flush's
                await peer.read()
            first_ready.set()
            await drop.wait()
            peer.abort()
            return
        while True:
            command = await peer.read()
            second.append(command)
            if command.op == b"PING":
                peer.send(b"PONG\r\n")
            if command.op == b"PUB" and command.payload == b"last":
                second_done.set()
                await peer.serve()
                return

    async with FakeServer(script) as server:
        nc = await rxnats.connect(server.url, reconnect_time_wait=0)
        await nc.subscribe("a")
        await nc.subscribe("b", queue="q")
        limited = await nc.subscribe("c", max_msgs=5)
        flush = asyncio.create_task(nc.flush(timeout=10))  # its PONG never comes
        await asyncio.wait_for(first_ready.wait(), 5)
        disconnected = asyncio.Event()
        nc.add_event_listener(
            lambda e: disconnected.set() if isinstance(e, rxnats.events.Disconnected) else None
        )
        drop.set()
        await asyncio.wait_for(disconnected.wait(), 5)
        await nc.publish("x", b"buffered")  # kept in the client's buffer meanwhile
        await nc.publish("x", b"last")
        assert nc.pending_data_size() == len(b"PUB x 8\r\nbuffered\r\nPUB x 4\r\nlast\r\n")
        published.set()
        await asyncio.wait_for(flush, 5)  # answered by the new server
        await asyncio.wait_for(second_done.wait(), 5)
        await nc.close()
        assert server.errors == []
    lines = [c.line for c in second]
    assert lines == [
        b"SUB a 1",
        b"SUB b q 2",
        b"SUB c 3",
        b"UNSUB 3 5",  # what is left of max_msgs
        b"PING",  # the flush that was waiting
        b"PUB x 8",
        b"PUB x 4",
    ]
    assert limited.max_msgs == 5
