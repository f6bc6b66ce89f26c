"""What another client of the same real nats-server can do to an rxnats connection: nothing.

A peer may publish a reply whose header block is malformed (the server passes header
blocks through unchanged), publish on a subject as long as the server allows, or make
the server reject a subscription each time the client re-sends it. None of that may take
the connection down, fail other requests, or make the client reconnect in a loop.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest

import rxnats
from rxnats import events as ev
from rxnats.errors import MalformedHeadersError
from rxnats.server import NatsServer


async def raw_responder(port: int, ready: asyncio.Event, bad_block: bytes) -> None:
    """A client written by hand: echoes requests on ``svc``; answers ``bad`` with a reply
    that has no payload and ``bad_block`` as its header block (what no rxnats encoder
    would send, and what the server forwards as it is)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        await reader.readuntil(b"\r\n")  # INFO
        writer.write(
            b'CONNECT {"verbose":false,"pedantic":false,"headers":true,"protocol":1}\r\n'
            b"SUB svc 1\r\nPING\r\n"
        )
        await reader.readuntil(b"PONG\r\n")
        ready.set()
        while True:
            line = (await reader.readuntil(b"\r\n"))[:-2]
            if line == b"PING":
                writer.write(b"PONG\r\n")
                continue
            if not line.startswith(b"MSG "):
                continue
            _, _subject, _sid, reply, size = line.split()
            payload = (await reader.readexactly(int(size) + 2))[:-2]
            if payload == b"bad":
                n = len(bad_block)
                writer.write(b"HPUB %b %d %d\r\n%b\r\n" % (reply, n, n, bad_block))
            else:
                writer.write(b"PUB %b %d\r\n%b\r\n" % (reply, len(payload), payload))
    finally:
        writer.close()


_BAD_BLOCKS = [
    "NATS/1.0 ²\r\n\r\n".encode(),
    b"NATS/1.0 " + b"9" * 5000 + b"\r\n\r\n",
    b"HTTP/1.1 503\r\n\r\n",
]


@pytest.mark.parametrize("bad_block", _BAD_BLOCKS, ids=["superscript", "5000-digits", "not-nats"])
async def test_a_malformed_reply_fails_its_own_request_and_no_other(
    nats_server: NatsServer, bad_block: bytes
) -> None:
    ready = asyncio.Event()
    responder = asyncio.create_task(raw_responder(nats_server.port, ready, bad_block))
    try:
        await asyncio.wait_for(ready.wait(), 10)
        events: list[ev.ConnectionEvent] = []
        nc = rxnats.NATS()
        nc.add_event_listener(events.append)
        await nc.connect(nats_server.url)
        payloads = [b"bad" if i == 100 else b"req-%d" % i for i in range(200)]
        results = await asyncio.gather(
            *(nc.request("svc", p, timeout=10) for p in payloads), return_exceptions=True
        )
        failed = [(i, r) for i, r in enumerate(results) if isinstance(r, BaseException)]
        assert [(i, type(r)) for i, r in failed] == [(100, MalformedHeadersError)]
        for payload, result in zip(payloads, results, strict=True):
            if payload != b"bad":
                assert isinstance(result, rxnats.Msg) and result.data == payload
        assert nc.is_connected and nc.stats.reconnects == 0
        assert not [e for e in events if isinstance(e, ev.Disconnected)]
        await nc.close()
    finally:
        responder.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await responder


async def test_a_subject_as_long_as_the_server_allows_reaches_a_wildcard_subscriber(
    nats_server: NatsServer,
) -> None:
    # nats-server takes a PUB line of up to 4 KiB (its max_control_line); the MSG line it
    # sends on adds the sid, so it is longer than that.
    async with await rxnats.connect(nats_server.url) as sub_nc:
        got: list[int] = []
        await sub_nc.subscribe(">", cb=lambda msg: got.append(len(msg.subject)))
        await sub_nc.flush()
        async with await rxnats.connect(nats_server.url) as pub_nc:
            for length in (4000, 4088, 4092):
                await pub_nc.publish("s" * length, b"x")
            await pub_nc.flush()
        await sub_nc.flush()
        assert got == [4000, 4088, 4092]
        assert sub_nc.stats.reconnects == 0


async def test_a_subscription_the_server_rejects_on_every_reconnect_is_retried_at_pace(
    nats_server: NatsServer,
) -> None:
    # A SUB longer than the server's max_control_line: the server answers -ERR and closes
    # the connection, the client reconnects, re-sends it, and is closed again.
    wait = 0.25
    reconnected: list[float] = []
    nc = rxnats.NATS()
    nc.add_event_listener(
        lambda e: reconnected.append(0.0) if isinstance(e, ev.Reconnected) else None
    )
    await nc.connect(
        nats_server.url, reconnect_time_wait=wait, max_reconnect_attempts=-1,
        error_cb=lambda exc: None,
    )
    await nc.subscribe("s" * 5 * 1024)
    await asyncio.sleep(1.0)
    count = len(reconnected)
    await nc.close()
    # Attempts start at least `wait` apart: within one second (plus one handshake's worth
    # of slack) at most 1.25 / 0.25 + 1 = 6 can have completed. An unpaced client makes
    # hundreds.
    assert count <= 6, count
