"""Endpoints whose requests are an Observable[Request], answered from Rx pipelines."""

from __future__ import annotations

import asyncio
import time

import pytest
import reactivex
from burst import publish_burst_while_blocked  # tests/ is on sys.path
from polling import eventually  # tests/ is on sys.path
from reactivex import operators as ops

import rxnats
from rxnats import Overflow, micro
from rxnats.errors import InvalidInputError, SlowConsumerError
from rxnats.server import NatsServer

from ._helpers import Recorder


def payload(req: micro.Request) -> bytes:
    return req.data


async def observed_endpoint(
    nc: rxnats.NATS, name: str = "obs", **options: object
) -> tuple[micro.Service, micro.Endpoint]:
    svc = await micro.add_service(nc, name="rx", version="1.0.0")
    endpoint = await svc.add_endpoint(name=name, **options)  # type: ignore[arg-type]  # test options
    return svc, endpoint


async def test_an_endpoint_without_handler_gives_its_requests_to_observers(
    nc: rxnats.NATS, caller: rxnats.NATS
) -> None:
    _, endpoint = await observed_endpoint(nc)
    seen: list[bytes] = []

    def answer(req: micro.Request) -> None:
        seen.append(req.data)
        req.respond_nowait(req.data[::-1])

    endpoint.observe().subscribe(answer)
    await nc.flush()
    assert (await caller.request("obs", b"abc", timeout=5)).data == b"cba"
    assert (await caller.request("obs", b"xyz", timeout=5)).data == b"zyx"
    assert seen == [b"abc", b"xyz"]
    stats = endpoint.stats()
    assert (stats.num_requests, stats.num_errors) == (2, 0)
    assert stats.processing_time > 0


async def test_reply_with_answers_from_a_pipeline_with_plain_and_async_functions(
    nc: rxnats.NATS, caller: rxnats.NATS
) -> None:
    svc = await micro.add_service(nc, name="rx", version="1.0.0")
    double = await svc.add_endpoint(name="double")
    slow = await svc.add_endpoint(name="slow")
    def not_skipped(req: micro.Request) -> bool:
        return req.data != b"skip"

    double.observe().pipe(
        ops.filter(not_skipped),
        micro.reply_with(lambda req: str(2 * int(req.data)).encode()),
    ).subscribe(micro.Reply.send)

    async def later(req: micro.Request) -> micro.Reply:
        await asyncio.sleep(0.01)
        return micro.Reply(req, b"later:" + req.data, headers={"Took": "a while"})

    slow.observe().pipe(micro.reply_with(later)).subscribe(micro.Reply.send)
    await nc.flush()
    assert (await caller.request("double", b"21", timeout=5)).data == b"42"
    reply = await caller.request("slow", b"x", timeout=5)
    assert reply.data == b"later:x"
    assert reply.headers is not None and reply.headers["Took"] == "a while"
    answers = await asyncio.gather(*(caller.request("slow", str(i).encode(), timeout=5) for i in range(20)))
    assert sorted(a.data for a in answers) == sorted(b"later:%d" % i for i in range(20))
    assert slow.stats().num_requests == 21


async def test_reply_with_turns_exceptions_into_error_answers_and_the_pipeline_lives_on(
    nc: rxnats.NATS, caller: rxnats.NATS
) -> None:
    _, endpoint = await observed_endpoint(nc)

    async def lookup(req: micro.Request) -> bytes:
        if req.data == b"missing":
            raise micro.ServiceError(404, "no such thing")
        if req.data == b"broken":
            raise RuntimeError("the store is down")
        if req.data == b"wrong":
            return "not bytes"  # type: ignore[return-value]  # a mistake on purpose
        return b"found:" + req.data

    end = Recorder[micro.Reply]()
    endpoint.observe().pipe(micro.reply_with(lambda req: lookup(req))).subscribe(
        on_next=micro.Reply.send, on_error=end.on_error, on_completed=end.on_completed
    )
    await nc.flush()
    expected = {
        b"missing": ("404", "no such thing"),
        b"broken": ("500", "the store is down"),
        b"wrong": ("500", "a reply function must return bytes or a Reply, not str"),
    }
    for data, (code, description) in expected.items():
        reply = await caller.request("obs", data, timeout=5)
        error = micro.ServiceError.from_msg(reply)
        assert error is not None and (error.code, error.description) == (code, description)
    assert (await caller.request("obs", b"a", timeout=5)).data == b"found:a"
    assert not end.done
    stats = endpoint.stats()
    assert (stats.num_requests, stats.num_errors) == (4, 3)


async def test_a_request_that_nobody_observes_is_answered_503(nc: rxnats.NATS, caller: rxnats.NATS) -> None:
    _, endpoint = await observed_endpoint(nc)
    await nc.flush()
    refused = await caller.request("obs", b"", timeout=5)
    error = micro.ServiceError.from_msg(refused)
    assert error is not None and error.code == "503" and "no observer" in error.description
    subscription = endpoint.observe().subscribe(lambda req: req.respond_nowait(b"here"))
    assert (await caller.request("obs", b"", timeout=5)).data == b"here"
    subscription.dispose()
    again = micro.ServiceError.from_msg(await caller.request("obs", b"", timeout=5))
    assert again is not None and again.code == "503"
    assert endpoint.stats().num_errors == 2


async def test_an_observer_that_raises_answers_500_and_still_gets_the_next_request(
    nc: rxnats.NATS, caller: rxnats.NATS
) -> None:
    _, endpoint = await observed_endpoint(nc)

    def picky(req: micro.Request) -> None:
        if req.data == b"bad":
            raise ValueError("bad request body")
        req.respond_nowait(b"ok")

    endpoint.observe().subscribe(picky)
    await nc.flush()
    reply = await caller.request("obs", b"bad", timeout=5)
    error = micro.ServiceError.from_msg(reply)
    assert error is not None and (error.code, error.description) == ("500", "bad request body")
    assert (await caller.request("obs", b"fine", timeout=5)).data == b"ok"
    assert endpoint.stats().last_error == "500:bad request body"


async def test_a_pipeline_that_errors_on_a_request_answers_it_500_rather_than_leave_it_waiting(
    nc: rxnats.NATS, caller: rxnats.NATS
) -> None:
    _, endpoint = await observed_endpoint(nc)
    end = Recorder[int]()
    def divide(req: micro.Request) -> int:
        return 1 // len(req.data)

    endpoint.observe().pipe(ops.map(divide)).subscribe(end)
    await nc.flush()
    reply = await caller.request("obs", b"", timeout=5)
    error = micro.ServiceError.from_msg(reply)
    assert error is not None and error.code == "500"
    assert isinstance(end.error, ZeroDivisionError)
    refused = micro.ServiceError.from_msg(await caller.request("obs", b"", timeout=5))
    assert refused is not None and refused.code == "503"  # the pipeline is gone, the endpoint is not


async def test_every_observer_sees_every_request(nc: rxnats.NATS, caller: rxnats.NATS) -> None:
    _, endpoint = await observed_endpoint(nc)
    audit = Recorder[bytes]()
    endpoint.observe().pipe(ops.map(payload)).subscribe(audit)
    endpoint.observe().subscribe(lambda req: req.respond_nowait(b"ok"))
    await nc.flush()
    for i in range(3):
        assert (await caller.request("obs", b"%d" % i, timeout=5)).data == b"ok"
    assert audit.items == [b"0", b"1", b"2"]


async def test_stop_completes_the_observers_after_the_requests_already_received(
    nc: rxnats.NATS, caller: rxnats.NATS
) -> None:
    svc, endpoint = await observed_endpoint(nc)
    first, second = Recorder[bytes](), Recorder[bytes]()
    # Two observers: requests pass through the buffer, which stop() must empty first.
    def answer(req: micro.Request) -> None:
        req.respond_nowait(b"ok:" + req.data)

    endpoint.observe().pipe(ops.map(payload)).subscribe(first)
    endpoint.observe().pipe(ops.do_action(answer), ops.map(payload)).subscribe(second)
    await nc.flush()
    inbox = caller.new_inbox()
    replies = await caller.subscribe(inbox)
    for i in range(50):
        await caller.publish("obs", b"%d" % i, reply=inbox)
    await caller.flush()
    await svc.stop()
    assert first.completed and second.completed
    assert first.items == second.items == [b"%d" % i for i in range(50)]
    answered = [(await replies.next_msg(timeout=5)).data for _ in range(50)]
    assert answered == [b"ok:%d" % i for i in range(50)]
    late = Recorder[micro.Request]()
    endpoint.observe().subscribe(late)
    assert late.completed  # a stopped endpoint completes new observers at once


async def test_closing_the_client_completes_the_observers(nats_server: NatsServer) -> None:
    client = await rxnats.connect(nats_server.url)
    _, endpoint = await observed_endpoint(client)
    watcher = Recorder[micro.Request]()
    endpoint.observe().subscribe(watcher)
    await client.close()
    await watcher.wait_done()
    assert watcher.completed and watcher.error is None


async def test_observe_is_refused_for_an_endpoint_with_a_handler(nc: rxnats.NATS) -> None:
    svc = await micro.add_service(nc, name="rx", version="1.0.0")
    endpoint = await svc.add_endpoint(name="h", handler=lambda req: req.respond_nowait(b""))
    with pytest.raises(InvalidInputError, match="has a handler"):
        endpoint.observe()


@pytest.mark.parametrize("overflow", [Overflow.DROP_NEWEST, Overflow.DROP_OLDEST])
async def test_a_slow_observer_loses_requests_to_the_overflow_policy_not_the_connection(
    nats_url: str, nc: rxnats.NATS, overflow: Overflow
) -> None:
    _, endpoint = await observed_endpoint(nc, pending_msgs_limit=10, overflow=overflow)
    got = Recorder[bytes]()

    def slow(req: micro.Request) -> None:
        time.sleep(0.001)
        got.on_next(req.data)

    endpoint.observe().subscribe(slow)
    await nc.flush()
    publish_burst_while_blocked(nats_url, "obs", 100)
    await nc.flush()
    sub = endpoint.subscription
    assert sub is not None
    await eventually(lambda: len(got.items) + sub.dropped == 100, what="every request kept or dropped")
    assert 0 < len(got.items) < 100
    assert endpoint.stats().num_requests == len(got.items)  # dropped requests never reached it
    if overflow is Overflow.DROP_NEWEST:
        assert got.items == [b"%d" % i for i in range(len(got.items))]
    else:
        assert got.items[-1] == b"99"
    assert nc.is_connected


async def test_the_error_overflow_policy_ends_the_observers_with_slow_consumer(
    nats_url: str, nc: rxnats.NATS
) -> None:
    _, endpoint = await observed_endpoint(
        nc, pending_msgs_limit=10, overflow=Overflow.ERROR
    )
    watcher = Recorder[micro.Request]()

    def slow(req: micro.Request) -> None:
        time.sleep(0.001)

    endpoint.observe().subscribe(slow)
    endpoint.observe().subscribe(watcher)
    await nc.flush()
    publish_burst_while_blocked(nats_url, "obs", 100)
    await watcher.wait_done()
    assert isinstance(watcher.error, SlowConsumerError)
    assert nc.is_connected


async def test_an_observed_endpoint_serves_a_concurrent_load_in_order(
    nc: rxnats.NATS, caller: rxnats.NATS
) -> None:
    _, endpoint = await observed_endpoint(nc)
    endpoint.observe().pipe(
        micro.reply_with(lambda req: req.data + b"!"),
    ).subscribe(micro.Reply.send)
    await nc.flush()
    answers = await asyncio.gather(*(caller.request("obs", b"%d" % i, timeout=10) for i in range(500)))
    assert [a.data for a in answers] == [b"%d!" % i for i in range(500)]
    assert endpoint.stats().num_requests == 500


def test_reply_with_is_typed_as_an_operator_from_requests_to_replies() -> None:
    source: reactivex.Observable[micro.Request] = reactivex.empty()
    replies: reactivex.Observable[micro.Reply] = source.pipe(micro.reply_with(lambda r: b""))
    assert replies is not None
