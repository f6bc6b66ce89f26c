"""Metric values after a known workload on a real server."""

from __future__ import annotations

import pytest

pytest.importorskip("opentelemetry.sdk", reason="needs rxnats[otel] and opentelemetry-sdk")

import asyncio

from polling import eventually  # tests/ is on sys.path

import rxnats
from rxnats.server import NatsServer

from ._helpers import Otel

N, SIZE = 10, 100  # published messages and their size
M = 3  # requests
REQUEST, REPLY = b"ping", b"pong!"


async def test_counters_and_durations_after_a_known_workload(
    otel: Otel, nats_server: NatsServer
) -> None:
    producer = await rxnats.connect(nats_server.url)
    consumer = await rxnats.connect(nats_server.url)
    received = 0
    done = asyncio.Event()

    def count(msg: rxnats.Msg) -> None:
        nonlocal received
        received += 1
        if received == N:
            done.set()

    await consumer.subscribe("work", cb=count)
    await consumer.subscribe("svc", cb=lambda msg: msg.respond_nowait(REPLY))
    await consumer.flush()
    for _ in range(N):
        await producer.publish("work", b"x" * SIZE)
    await asyncio.wait_for(done.wait(), 5)
    for _ in range(M):
        await producer.request("svc", REQUEST, timeout=5)
    await producer.close()
    await consumer.close()

    # Semantic-convention instruments, recorded with the spans.
    assert otel.total("messaging.client.sent.messages", messaging__operation__name="publish") == N
    assert otel.total("messaging.client.sent.messages", messaging__operation__name="request") == M
    assert otel.total("messaging.client.sent.messages", messaging__operation__name="respond") == M
    assert (
        otel.total(
            "messaging.client.consumed.messages", messaging__destination__subscription__name="work"
        )
        == N
    )
    assert (
        otel.total("messaging.process.duration", messaging__destination__subscription__name="svc")
        == M
    )
    assert (
        otel.total("messaging.client.operation.duration", messaging__operation__name="request") == M
    )
    # Connection counters from nc.stats, both clients (closed, so counted in full).
    assert otel.total("rxnats.client.sent.messages") == N + M + M
    assert otel.total("rxnats.client.sent.bytes") == N * SIZE + M * len(REQUEST) + M * len(REPLY)
    assert otel.total("rxnats.client.received.messages") == N + M + M
    assert otel.total("rxnats.client.received.bytes") == N * SIZE + M * len(REQUEST) + M * len(
        REPLY
    )
    assert otel.total("rxnats.client.reconnects") == 0
    port = int(nats_server.url.rsplit(":", 1)[1])
    attrs = {
        attrs_
        for attrs_, _ in [
            (tuple(sorted(a.items())), v) for a, v in otel.points("rxnats.client.sent.messages")
        ]
    }
    assert attrs == {
        (("messaging.system", "nats"), ("server.address", "127.0.0.1"), ("server.port", port))
    }


async def test_reconnects_are_counted(otel: Otel, nats_server: NatsServer) -> None:
    reconnected = asyncio.Event()

    async def on_reconnect() -> None:
        reconnected.set()

    nc = await rxnats.connect(
        nats_server.url, reconnected_cb=on_reconnect, reconnect_time_wait=0.05
    )
    await nc.force_reconnect()
    await asyncio.wait_for(reconnected.wait(), 10)
    assert otel.total("rxnats.client.reconnects") == 1
    await nc.close()
    assert otel.total("rxnats.client.reconnects") == 1


async def test_slow_consumer_drops_and_pending_messages(
    otel: Otel, nats_server: NatsServer
) -> None:
    nc = await rxnats.connect(nats_server.url, error_cb=_ignore)
    release = asyncio.Event()

    async def stuck(msg: rxnats.Msg) -> None:
        await release.wait()

    slow = await nc.subscribe("slow", cb=stuck, pending_msgs_limit=2)
    unread = await nc.subscribe("unread")
    for _ in range(10):
        await nc.publish("slow", b"abc")
    for _ in range(3):
        await nc.publish("unread", b"12345")
    await nc.flush()
    await eventually(lambda: slow.received == 10 and unread.pending_msgs == 3, what="all delivered")

    assert slow.dropped > 0
    assert (
        otel.total(
            "rxnats.subscription.dropped.messages",
            messaging__destination__subscription__name="slow",
        )
        == slow.dropped
    )
    assert (
        otel.total(
            "rxnats.subscription.pending.messages",
            messaging__destination__subscription__name="unread",
        )
        == 3
    )
    assert (
        otel.total(
            "rxnats.subscription.pending.bytes", messaging__destination__subscription__name="unread"
        )
        == 15
    )
    assert otel.total("rxnats.client.pending.bytes") == 0  # all flushed
    release.set()
    await nc.close()


async def _ignore(exc: Exception) -> None:
    pass


async def test_clients_made_before_instrumenting_are_counted_from_their_first_use(
    nats_server: NatsServer,
) -> None:
    from rxnats.otel import RxnatsInstrumentor

    from ._helpers import make_otel

    nc = await rxnats.connect(nats_server.url)
    await nc.publish("before", b"12345")
    recorded = make_otel()
    instrumentor = RxnatsInstrumentor()
    instrumentor.instrument(
        tracer_provider=recorded.tracer_provider, meter_provider=recorded.meter_provider
    )
    try:
        await nc.publish("after", b"123")
        await nc.flush()
        assert recorded.total("rxnats.client.sent.bytes") == 3
        assert recorded.span("publish after").attributes is not None
    finally:
        instrumentor.uninstrument()
        await nc.close()
