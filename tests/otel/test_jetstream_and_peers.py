"""JetStream publish and acks, and the trace context of nats-py's own instrumentation."""

from __future__ import annotations

import asyncio
import importlib.util

import pytest

pytest.importorskip("opentelemetry.sdk", reason="needs rxnats[otel] and opentelemetry-sdk")

from opentelemetry.trace import SpanKind

import rxnats
from rxnats.server import NatsServer

from ._helpers import Otel
from .test_traces import assert_child_of


async def test_a_jetstream_publish_is_a_producer_span_its_consumer_continues(
    otel: Otel, nats_jetstream_server: NatsServer
) -> None:
    nc = await rxnats.connect(nats_jetstream_server.url)
    js = nc.jetstream()
    await js.add_stream(name="ORDERS", subjects=["orders.>"])
    ack = await js.publish("orders.eu", b"o-1", msg_id="o-1")
    future = await js.publish_async("orders.us", b"o-2")
    await js.publish_async_completed()
    assert (await future).seq == 2

    got: asyncio.Queue[rxnats.Msg] = asyncio.Queue()

    async def handle(msg: rxnats.Msg) -> None:
        await got.put(msg)
        await msg.ack()

    sub = await js.subscribe("orders.eu", cb=handle, durable="eu")
    await asyncio.wait_for(got.get(), 5)
    await sub.unsubscribe()
    await nc.close()

    send = otel.span("jetstream.publish orders.eu")
    assert send.kind is SpanKind.PRODUCER
    assert send.attributes is not None
    assert send.attributes["messaging.nats.jetstream.stream"] == "ORDERS"
    assert send.attributes["messaging.nats.jetstream.sequence"] == ack.seq
    assert send.attributes["messaging.message.id"] == "o-1"
    sent_async = otel.span("jetstream.publish orders.us")
    assert sent_async.attributes is not None
    assert sent_async.attributes["messaging.nats.jetstream.sequence"] == 2
    # A JetStream publish is a request underneath: it makes one span, not two.
    assert [s for s in otel.spans() if s.name.startswith("request orders")] == []
    assert_child_of(otel.span("process orders.eu"), send)
    settle = otel.span("ack orders.eu")
    assert settle.kind is SpanKind.CLIENT
    assert (
        settle.attributes is not None and settle.attributes["messaging.operation.type"] == "settle"
    )
    assert [link.context.span_id for link in settle.links] == [
        send.context.span_id if send.context else 0
    ]
    assert otel.total("rxnats.jetstream.acks", messaging__operation__name="ack") == 1
    assert not any(s.name.startswith("publish $JS.ACK") for s in otel.spans())


@pytest.mark.skipif(
    importlib.util.find_spec("otel_instrumentation_nats") is None
    or importlib.util.find_spec("nats") is None,
    reason="needs nats-py and otel-instrumentation-nats",
)
async def test_a_nats_py_publisher_traced_by_its_instrumentation_is_continued_by_rxnats(
    otel: Otel, nats_server: NatsServer
) -> None:
    import nats  # the peer (nats-py 2.16)
    from otel_instrumentation_nats import NatsInstrumentor

    peer = NatsInstrumentor()
    peer.instrument(tracer_provider=otel.tracer_provider)
    try:
        consumer = await rxnats.connect(nats_server.url)
        got: asyncio.Future[rxnats.Msg] = asyncio.get_running_loop().create_future()
        await consumer.subscribe(
            "interop", cb=lambda msg: got.set_result(msg) if not got.done() else None
        )
        await consumer.flush()
        producer = await nats.connect(nats_server.url)
        await producer.publish("interop", b"from nats-py")
        await producer.flush()
        await asyncio.wait_for(got, 5)
        await producer.close()
        await consumer.close()
    finally:
        peer.uninstrument()

    ours = otel.span("process interop")
    theirs = [s for s in otel.spans() if s.kind is SpanKind.PRODUCER]
    assert len(theirs) == 1 and theirs[0].instrumentation_scope is not None
    assert theirs[0].instrumentation_scope.name != "rxnats.otel"
    assert_child_of(ours, theirs[0])


@pytest.mark.skipif(
    importlib.util.find_spec("otel_instrumentation_nats") is None
    or importlib.util.find_spec("nats") is None,
    reason="needs nats-py and otel-instrumentation-nats",
)
async def test_an_rxnats_publisher_is_continued_by_a_traced_nats_py_subscriber(
    otel: Otel, nats_server: NatsServer
) -> None:
    import nats  # the peer (nats-py 2.16)
    from otel_instrumentation_nats import NatsInstrumentor

    peer = NatsInstrumentor()
    peer.instrument(tracer_provider=otel.tracer_provider)
    try:
        consumer = await nats.connect(nats_server.url)
        got: asyncio.Event = asyncio.Event()

        async def handle(msg: object) -> None:
            got.set()

        await consumer.subscribe("interop", cb=handle)
        await consumer.flush()
        producer = await rxnats.connect(nats_server.url)
        await producer.publish("interop", b"from rxnats")
        await asyncio.wait_for(got.wait(), 5)
        await producer.close()
        await consumer.close()
    finally:
        peer.uninstrument()

    ours = otel.span("publish interop")
    theirs = [s for s in otel.spans() if s.kind is SpanKind.CONSUMER]
    assert len(theirs) == 1
    assert theirs[0].parent is not None and ours.context is not None
    assert (theirs[0].context.trace_id if theirs[0].context else 0) == ours.context.trace_id
    assert theirs[0].parent.span_id == ours.context.span_id
