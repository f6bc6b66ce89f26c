"""Spans and trace context on a real server: two connections, as two services would have."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

pytest.importorskip("opentelemetry.sdk", reason="needs rxnats[otel] and opentelemetry-sdk")

from opentelemetry import trace
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode
from polling import eventually  # tests/ is on sys.path
from reactivex import operators as ops

import rxnats
from rxnats.errors import BadHeaderError
from rxnats.server import NatsServer

from ._helpers import Otel


@pytest.fixture
async def pair(nats_server: NatsServer) -> AsyncIterator[tuple[rxnats.NATS, rxnats.NATS]]:
    """A producer and a consumer connection (made while instrumented, when a test is)."""
    producer = await rxnats.connect(nats_server.url)
    consumer = await rxnats.connect(nats_server.url)
    yield producer, consumer
    await producer.close()
    await consumer.close()


def _ids(span: ReadableSpan) -> tuple[int, int]:
    assert span.context is not None
    return span.context.trace_id, span.context.span_id


def assert_child_of(child: ReadableSpan, parent: ReadableSpan) -> None:
    """``child`` is in ``parent``'s trace, its parent is ``parent``, and it links to it."""
    trace_id, span_id = _ids(parent)
    assert child.context is not None and child.context.trace_id == trace_id
    assert child.parent is not None and child.parent.span_id == span_id
    assert [link.context.span_id for link in child.links] == [span_id]


async def test_a_callback_continues_the_publishers_trace(
    otel: Otel, pair: tuple[rxnats.NATS, rxnats.NATS], nats_server: NatsServer
) -> None:
    producer, consumer = pair
    got: asyncio.Future[rxnats.Msg] = asyncio.get_running_loop().create_future()
    await consumer.subscribe(
        "orders.new", cb=lambda msg: got.set_result(msg) if not got.done() else None
    )
    await consumer.flush()

    await producer.publish("orders.new", b"order-1")
    msg = await asyncio.wait_for(got, 5)

    send, process = otel.span("publish orders.new"), otel.span("process orders.new")
    assert send.kind is SpanKind.PRODUCER and process.kind is SpanKind.CONSUMER
    assert_child_of(process, send)
    assert msg.headers is not None
    trace_id, span_id = _ids(send)
    assert msg.headers["traceparent"].split("-")[1:3] == [f"{trace_id:032x}", f"{span_id:016x}"]
    port = int(nats_server.url.rsplit(":", 1)[1])
    assert send.attributes == {
        "messaging.system": "nats",
        "messaging.operation.name": "publish",
        "messaging.operation.type": "send",
        "messaging.destination.name": "orders.new",
        "messaging.message.body.size": 7,
        "messaging.client.id": str(producer.client_id()),
        "server.address": "127.0.0.1",
        "server.port": port,
    }
    assert process.attributes is not None
    assert process.attributes["messaging.operation.type"] == "process"
    assert process.attributes["messaging.destination.name"] == "orders.new"
    assert process.attributes["messaging.destination.subscription.name"] == "orders.new"
    assert process.attributes["messaging.client.id"] == str(consumer.client_id())
    assert process.attributes["messaging.message.body.size"] == 7


async def test_an_async_callback_in_a_queue_group_on_a_wildcard_continues_the_trace(
    otel: Otel, pair: tuple[rxnats.NATS, rxnats.NATS]
) -> None:
    producer, consumer = pair
    seen: list[trace.SpanContext] = []
    done = asyncio.Event()

    async def handle(msg: rxnats.Msg) -> None:
        await asyncio.sleep(0)
        seen.append(trace.get_current_span().get_span_context())  # the span is current here
        done.set()

    await consumer.subscribe("orders.*", queue="workers", cb=handle)
    await consumer.flush()
    await producer.publish("orders.eu", b"x")
    await asyncio.wait_for(done.wait(), 5)

    send, process = otel.span("publish orders.eu"), otel.span("process orders.*")
    assert_child_of(process, send)
    assert seen == [process.context]
    assert process.attributes is not None
    assert process.attributes["messaging.destination.template"] == "orders.*"
    assert process.attributes["messaging.destination.name"] == "orders.eu"
    assert process.attributes["messaging.consumer.group.name"] == "workers"


async def test_request_responder_and_reply_are_one_trace(
    otel: Otel, pair: tuple[rxnats.NATS, rxnats.NATS]
) -> None:
    requester, responder = pair

    async def echo(msg: rxnats.Msg) -> None:
        await msg.respond(msg.data.upper())

    await responder.subscribe("svc.upper", cb=echo)
    await responder.flush()
    reply = await requester.request("svc.upper", b"hi", timeout=5)
    assert reply.data == b"HI"

    request, process, respond = (
        otel.span("request svc.upper"),
        otel.span("process svc.upper"),
        otel.span("respond"),
    )
    assert request.kind is SpanKind.CLIENT and respond.kind is SpanKind.PRODUCER
    assert_child_of(process, request)
    assert respond.parent is not None and respond.parent.span_id == _ids(process)[1]
    assert respond.context is not None and respond.context.trace_id == _ids(request)[0]
    assert respond.attributes is not None
    assert respond.attributes["messaging.destination.temporary"] is True
    assert respond.attributes["messaging.client.id"] == str(responder.client_id())
    # The reply carries the responder's context: the inbox never names a span.
    assert reply.headers is not None and f"{_ids(respond)[1]:016x}" in reply.headers["traceparent"]
    assert not any("_INBOX" in s.name for s in otel.spans())


async def test_a_plain_callback_that_returns_an_awaitable_keeps_its_span_open(
    otel: Otel, pair: tuple[rxnats.NATS, rxnats.NATS]
) -> None:
    requester, responder = pair
    await responder.subscribe("svc.echo", cb=lambda msg: msg.respond(msg.data))
    await responder.flush()
    assert (await requester.request("svc.echo", b"1", timeout=5)).data == b"1"
    process, respond = otel.span("process svc.echo"), otel.span("respond")
    assert respond.parent is not None and respond.parent.span_id == _ids(process)[1]
    assert process.end_time is not None and respond.end_time is not None
    assert process.end_time >= respond.end_time


@pytest.mark.parametrize("is_async", [False, True], ids=["plain", "async"])
async def test_an_exception_in_a_callback_is_recorded_on_its_span_and_still_reported(
    otel: Otel, nats_server: NatsServer, is_async: bool
) -> None:
    reported: list[Exception] = []

    async def error_cb(exc: Exception) -> None:
        reported.append(exc)

    nc = await rxnats.connect(nats_server.url, error_cb=error_cb)

    def fail(msg: rxnats.Msg) -> None:
        raise ValueError("bad order")

    async def fail_async(msg: rxnats.Msg) -> None:
        raise ValueError("bad order")

    await nc.subscribe("orders", cb=fail_async if is_async else fail)
    await nc.publish("orders", b"x")
    await eventually(lambda: reported, what="error_cb told")
    await nc.close()

    process = otel.span("process orders")
    assert process.status.status_code is StatusCode.ERROR
    assert process.attributes is not None and process.attributes["error.type"] == "ValueError"
    assert [e.name for e in process.events] == ["exception"]
    assert isinstance(reported[0], ValueError)
    failed = otel.total("messaging.process.duration", error__type="ValueError")
    assert failed == 1


async def test_user_headers_are_kept_and_the_dict_passed_is_not_changed(
    otel: Otel, pair: tuple[rxnats.NATS, rxnats.NATS]
) -> None:
    producer, consumer = pair
    sub = await consumer.subscribe("h")
    await consumer.flush()
    headers = {"Order-Id": "42", "Tags": ["a", "b"]}
    await producer.publish("h", b"", headers=headers)
    msg = await sub.next_msg(5)
    assert headers == {"Order-Id": "42", "Tags": ["a", "b"]}
    assert msg.headers is not None
    assert msg.headers["Order-Id"] == "42" and msg.headers.get_all("Tags") == ["a", "b"]
    assert "traceparent" in msg.headers


async def test_a_traceparent_the_user_set_is_kept_and_linked(
    otel: Otel, pair: tuple[rxnats.NATS, rxnats.NATS]
) -> None:
    producer, consumer = pair
    sub = await consumer.subscribe("own")
    await consumer.flush()
    own = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    await producer.publish("own", b"", headers={"TraceParent": own})
    msg = await sub.next_msg(5)
    assert msg.headers is not None and msg.headers.get_all("TraceParent") == [own]
    assert "traceparent" not in msg.headers
    send = otel.span("publish own")
    assert [link.context.span_id for link in send.links] == [0xB7AD6B7169203331]
    receive = otel.span("receive own")
    assert [link.context.trace_id for link in receive.links] == [0x0AF7651916CD43DD8448EB211C80319C]


async def test_next_msg_and_the_iterator_make_receive_spans_linked_to_the_producer(
    otel: Otel, pair: tuple[rxnats.NATS, rxnats.NATS]
) -> None:
    producer, consumer = pair
    sub = await consumer.subscribe("pull")
    await consumer.flush()
    await producer.publish("pull", b"1")
    await producer.publish("pull", b"2")
    await sub.next_msg(5)
    async for _msg in sub.messages:
        break
    await sub.unsubscribe()
    assert [m async for m in sub.messages] == []  # the end of the iteration makes no span

    sends, receives = otel.spans("publish pull"), otel.spans("receive pull")
    assert len(receives) == 2
    for send, receive in zip(sends, receives, strict=True):
        assert receive.kind is SpanKind.CLIENT
        assert [link.context.span_id for link in receive.links] == [_ids(send)[1]]
        assert receive.parent is None  # no span was current where it was called
    assert (
        otel.total("messaging.client.consumed.messages", messaging__operation__name="receive") == 2
    )


async def test_a_receive_inside_a_span_is_its_child(
    otel: Otel, pair: tuple[rxnats.NATS, rxnats.NATS]
) -> None:
    producer, consumer = pair
    sub = await consumer.subscribe("pull")
    await consumer.flush()
    await producer.publish("pull", b"1")
    tracer = otel.tracer_provider.get_tracer("test")
    with tracer.start_as_current_span("work") as work:
        await sub.next_msg(5)
    receive = otel.span("receive pull")
    assert receive.parent is not None and receive.parent.span_id == work.get_span_context().span_id


async def test_a_next_msg_timeout_is_an_error_span(
    otel: Otel, pair: tuple[rxnats.NATS, rxnats.NATS]
) -> None:
    _, consumer = pair
    sub = await consumer.subscribe("quiet")
    with pytest.raises(rxnats.TimeoutError):
        await sub.next_msg(0.05)
    receive = otel.span("receive quiet")
    assert receive.attributes is not None
    assert receive.attributes["error.type"] == "rxnats.errors.TimeoutError"


async def test_observe_deliveries_are_process_spans(
    otel: Otel, pair: tuple[rxnats.NATS, rxnats.NATS]
) -> None:
    producer, consumer = pair
    got: list[bytes] = []

    def data(msg: rxnats.Msg) -> bytes:
        return msg.data

    observing = consumer.observe("rx").pipe(ops.map(data)).subscribe(got.append)
    await consumer.flush()
    await producer.publish("rx", b"1")
    await eventually(lambda: got == [b"1"], what="the observer got it")
    observing.dispose()
    assert_child_of(otel.span("process rx"), otel.span("publish rx"))


async def test_a_subscriptions_observe_is_traced_too(
    otel: Otel, pair: tuple[rxnats.NATS, rxnats.NATS]
) -> None:
    producer, consumer = pair
    sub = await consumer.subscribe("rx2")
    got: list[rxnats.Msg] = []
    observing = sub.observe().subscribe(got.append)
    await consumer.flush()
    await producer.publish("rx2", b"1")
    await eventually(lambda: got, what="the observer got it")
    observing.dispose()
    assert_child_of(otel.span("process rx2"), otel.span("publish rx2"))


async def test_bad_headers_fail_as_without_instrumentation(
    otel: Otel, pair: tuple[rxnats.NATS, rxnats.NATS]
) -> None:
    producer, _ = pair
    with pytest.raises(BadHeaderError):
        await producer.publish("h", b"", headers={"Bad Key": "v"})
    with pytest.raises(BadHeaderError):
        await producer.publish("h", b"", headers={"k": 1})  # type: ignore[dict-item]  # the bad input
    failed = otel.spans("publish h")
    assert len(failed) == 2
    assert all(
        s.attributes is not None and s.attributes["error.type"] == "rxnats.errors.BadHeaderError"
        for s in failed
    )


async def test_a_request_without_responders_is_an_error_span(
    otel: Otel, pair: tuple[rxnats.NATS, rxnats.NATS]
) -> None:
    producer, _ = pair
    with pytest.raises(rxnats.NoRespondersError):
        await producer.request("nobody.home", b"", timeout=2)
    span = otel.span("request nobody.home")
    assert span.status.status_code is StatusCode.ERROR
    assert (
        otel.total(
            "messaging.client.operation.duration",
            messaging__operation__name="request",
            error__type="rxnats.errors.NoRespondersError",
        )
        == 1
    )


async def test_suppressed_instrumentation_makes_no_span_and_sends_no_context(
    otel: Otel, pair: tuple[rxnats.NATS, rxnats.NATS]
) -> None:
    producer, consumer = pair
    sub = await consumer.subscribe("quiet")
    await consumer.flush()
    with suppress_instrumentation():
        await producer.publish("quiet", b"")
    msg = await sub.next_msg(5)
    assert msg.headers is None
    assert otel.spans("publish quiet") == []


async def test_old_style_requests_are_traced_once(
    otel: Otel, pair: tuple[rxnats.NATS, rxnats.NATS]
) -> None:
    requester, responder = pair
    await responder.subscribe("svc.old", cb=lambda msg: msg.respond_nowait(b"ok"))
    await responder.flush()
    reply = await requester.request("svc.old", b"", timeout=5, old_style=True)
    assert reply.data == b"ok"
    assert_child_of(otel.span("process svc.old"), otel.span("request svc.old"))
    assert otel.span("respond").kind is SpanKind.PRODUCER
