"""rxnats on uvloop: the same client code, on the event loop many production apps use.

uvloop's transports are not subclasses of ``asyncio.Transport``; an isinstance check in
the handshake once made every connect fail there. These tests run the core paths
(callbacks, iterators, headers, request/reply, reconnect with buffered publishes, drain)
on a uvloop loop against a real server.
"""

from __future__ import annotations

import asyncio

import pytest

import rxnats as nats
from rxnats.server import NatsServer

uvloop = pytest.importorskip("uvloop", reason="uvloop is in the dev extra; absent on Windows")


def test_pubsub_request_and_drain_on_uvloop(nats_server: NatsServer) -> None:
    async def scenario() -> tuple[list[bytes], bytes, str | None, str]:
        loop_name = type(asyncio.get_running_loop()).__module__
        nc = await nats.connect(nats_server.url)
        got: list[bytes] = []
        await nc.subscribe("cb.*", cb=lambda msg: got.append(msg.data))
        it = await nc.subscribe("it")

        async def answer(msg: nats.Msg) -> None:
            await msg.respond(b"re:" + msg.data)

        await nc.subscribe("svc", cb=answer)
        for i in range(100):
            await nc.publish(f"cb.{i % 3}", str(i).encode())
        await nc.publish("it", b"h", headers={"K": ["1", "2"]})
        first = await it.next_msg(timeout=5)
        reply = await nc.request("svc", b"ping", timeout=5)
        await nc.drain()
        assert nc.is_closed()
        assert first.headers is not None
        return got, reply.data, ",".join(first.headers.get_all("K")), loop_name

    got, reply, header, loop_module = uvloop.run(scenario())
    assert loop_module.startswith("uvloop")
    assert got == [str(i).encode() for i in range(100)]
    assert reply == b"re:ping"
    assert header == "1,2"


def test_reconnect_delivers_buffered_publishes_on_uvloop(nats_server: NatsServer) -> None:
    async def scenario() -> list[bytes]:
        reconnected = asyncio.Event()
        nc = await nats.connect(
            nats_server.url,
            reconnect_time_wait=0.1,
            max_reconnect_attempts=-1,
            reconnected_cb=reconnected.set,
        )
        sub = await nc.subscribe("buf")
        await nc.flush()
        await asyncio.to_thread(nats_server.kill)
        for _ in range(500):  # wait until the client noticed the loss
            if nc.is_reconnecting():
                break
            await asyncio.sleep(0.01)
        assert nc.is_reconnecting()
        for i in range(20):  # published while disconnected: buffered, sent after reconnect
            await nc.publish("buf", str(i).encode())
        await asyncio.to_thread(nats_server.start)
        await asyncio.wait_for(reconnected.wait(), 15)
        await nc.flush(timeout=5)
        out = [(await sub.next_msg(timeout=5)).data for _ in range(20)]
        await nc.close()
        return out

    assert uvloop.run(scenario()) == [str(i).encode() for i in range(20)]


def test_request_timeouts_and_concurrent_replies_on_uvloop(nats_server: NatsServer) -> None:
    # The request multiplexer's one timer against uvloop's millisecond clock: every
    # request times out, and concurrent ones are each answered with their own reply.
    async def scenario() -> tuple[int, list[bytes]]:
        nc = await nats.connect(nats_server.url)
        await nc.subscribe("silent")  # interest, but nobody answers
        await nc.subscribe("echo", cb=lambda msg: msg.respond_nowait(msg.data))
        await nc.flush()
        silent = [nc.request("silent", b"", timeout=0.05 + i / 1000) for i in range(20)]
        results = await asyncio.gather(*silent, return_exceptions=True)
        timeouts = sum(isinstance(r, nats.errors.TimeoutError) for r in results)
        answers = await asyncio.gather(*(nc.request("echo", b"%d" % i, timeout=5) for i in range(200)))
        await nc.close()
        return timeouts, [m.data for m in answers]

    timeouts, answers = uvloop.run(scenario())
    assert timeouts == 20
    assert answers == [b"%d" % i for i in range(200)]
