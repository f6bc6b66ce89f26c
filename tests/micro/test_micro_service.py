"""Services on a real nats-server: discovery, queue groups, groups, statistics, errors, stopping."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest

import rxnats
from rxnats import micro
from rxnats.errors import NoRespondersError
from rxnats.micro.models import parse_started
from rxnats.server import NatsServer

from ._helpers import gather_json, request_json
from ._schema import violations


async def echo(req: micro.Request) -> None:
    await req.respond(b"echo:" + req.data)


def upper(req: micro.Request) -> None:
    req.respond_nowait(req.data.upper())


async def calc_service(nc: rxnats.NATS) -> micro.Service:
    svc = await micro.add_service(
        nc,
        name="calc",
        version="1.2.3-beta.1",
        description="adds and doubles",
        metadata={"region": "eu"},
    )
    await svc.add_endpoint(name="echo", handler=echo, metadata={"kind": "test"})
    math = svc.add_group(name="calc.math", queue_group="math-q")
    await math.add_endpoint(name="upper", handler=upper, subject="up")
    await svc.add_endpoint(name="all", handler=upper, queue_group_disabled=True)
    await nc.flush()
    return svc


# -- discovery --------------------------------------------------------------------------------
@pytest.mark.parametrize("verb", ["PING", "INFO", "STATS"])
@pytest.mark.parametrize("scope", ["all", "name", "id"])
async def test_every_discovery_subject_answers_with_the_adr_32_json(
    nc: rxnats.NATS, caller: rxnats.NATS, verb: str, scope: str
) -> None:
    svc = await calc_service(nc)
    subject = {"all": f"$SRV.{verb}", "name": f"$SRV.{verb}.calc", "id": f"$SRV.{verb}.calc.{svc.id}"}[scope]
    doc = await request_json(caller, subject)
    kind = verb.lower()
    assert violations(kind, doc, strict=True) == []
    assert isinstance(doc, dict)
    assert doc["type"] == f"io.nats.micro.v1.{kind}_response"
    assert (doc["name"], doc["id"], doc["version"]) == ("calc", svc.id, "1.2.3-beta.1")
    assert doc["metadata"] == {"region": "eu"}
    if verb == "INFO":
        assert doc["description"] == "adds and doubles"
        assert doc["endpoints"] == [
            {"name": "echo", "subject": "echo", "queue_group": "q", "metadata": {"kind": "test"}},
            {"name": "upper", "subject": "calc.math.up", "queue_group": "math-q", "metadata": {}},
            {"name": "all", "subject": "all", "queue_group": "", "metadata": {}},
        ]
    if verb == "STATS":
        assert [(e["name"], e["subject"], e["queue_group"]) for e in doc["endpoints"]] == [
            ("echo", "echo", "q"),
            ("upper", "calc.math.up", "math-q"),
            ("all", "all", ""),
        ]
        assert parse_started(doc["started"]) == svc.started
        assert doc["started"].endswith("Z")


async def test_every_instance_answers_for_all_and_for_its_name_and_one_for_its_id(
    nats_server: NatsServer, caller: rxnats.NATS
) -> None:
    clients = [await rxnats.connect(nats_server.url) for _ in range(2)]
    try:
        services = [await micro.add_service(c, name="calc", version="1.0.0") for c in clients]
        other = await micro.add_service(clients[0], name="other", version="2.0.0")
        ids = {s.id for s in services}
        everyone = await gather_json(caller, "$SRV.PING", expected=3)
        assert {d["id"] for d in everyone if isinstance(d, dict)} == {*ids, other.id}
        named = await gather_json(caller, "$SRV.INFO.calc", expected=2)
        assert {d["id"] for d in named if isinstance(d, dict)} == ids
        target = services[1]
        one = await request_json(caller, f"$SRV.STATS.calc.{target.id}")
        assert isinstance(one, dict) and one["id"] == target.id
        with pytest.raises(NoRespondersError):
            await caller.request("$SRV.PING.nobody", b"", timeout=5)
    finally:
        for c in clients:
            await c.close()


async def test_several_services_share_one_connection(nc: rxnats.NATS, caller: rxnats.NATS) -> None:
    a = await micro.add_service(nc, name="a", version="1.0.0")
    b = await micro.add_service(nc, name="b", version="1.0.0")
    await a.add_endpoint(name="x", handler=echo, subject="a.x")
    await b.add_endpoint(name="x", handler=upper, subject="b.x")
    await nc.flush()
    assert (await caller.request("a.x", b"hi", timeout=5)).data == b"echo:hi"
    assert (await caller.request("b.x", b"hi", timeout=5)).data == b"HI"
    await a.stop()
    assert (await caller.request("b.x", b"yo", timeout=5)).data == b"YO"
    ping = await request_json(caller, "$SRV.PING.b")
    assert isinstance(ping, dict) and ping["id"] == b.id


async def test_the_discovery_prefix_can_be_changed(nc: rxnats.NATS, caller: rxnats.NATS) -> None:
    svc = await micro.add_service(nc, name="calc", version="1.0.0", prefix="$ACC1")
    doc = await request_json(caller, f"$ACC1.PING.calc.{svc.id}")
    assert violations("ping", doc, strict=True) == []
    with pytest.raises(NoRespondersError):
        await caller.request("$SRV.PING", b"", timeout=5)


# -- queue groups and groups ------------------------------------------------------------------
async def test_endpoints_listen_in_queue_group_q_by_default(nc: rxnats.NATS) -> None:
    svc = await micro.add_service(nc, name="calc", version="1.0.0")
    endpoint = await svc.add_endpoint(name="echo", handler=echo)
    assert endpoint.queue_group == micro.DEFAULT_QUEUE_GROUP == "q"
    assert endpoint.subscription is not None and endpoint.subscription.queue == "q"


async def test_queue_groups_resolve_from_endpoint_group_and_service(nc: rxnats.NATS) -> None:
    svc = await micro.add_service(nc, name="calc", version="1.0.0", queue_group="svc-q")
    plain = await svc.add_endpoint(name="a", handler=echo)
    own = await svc.add_endpoint(name="b", handler=echo, queue_group="own-q")
    off = await svc.add_endpoint(name="c", handler=echo, queue_group_disabled=True)
    group = svc.add_group(name="g", queue_group_disabled=True)
    in_off_group = await group.add_endpoint(name="d", handler=echo)
    named_in_off_group = await group.add_endpoint(name="e", handler=echo, queue_group="e-q")
    nested = group.add_group(name="n", queue_group="n-q")
    in_nested = await nested.add_endpoint(name="f", handler=echo)
    got = {
        e.name: (e.subject, e.queue_group, e.subscription.queue if e.subscription else None)
        for e in (plain, own, off, in_off_group, named_in_off_group, in_nested)
    }
    assert got == {
        "a": ("a", "svc-q", "svc-q"),
        "b": ("b", "own-q", "own-q"),
        "c": ("c", None, ""),
        "d": ("g.d", None, ""),
        "e": ("g.e", "e-q", "e-q"),
        "f": ("g.n.f", "n-q", "n-q"),
    }
    no_queue_service = await micro.add_service(nc, name="calc2", version="1.0.0", queue_group_disabled=True)
    endpoint = await no_queue_service.add_endpoint(name="a", handler=echo, subject="x.a")
    assert endpoint.queue_group is None
    assert endpoint.info().queue_group == ""


@pytest.mark.parametrize(
    ("options", "answers"),
    [({}, 1), ({"queue_group_disabled": True}, 2)],
    ids=["queue-group-q", "no-queue-group"],
)
async def test_a_queue_group_gives_each_request_to_one_instance_and_none_gives_it_to_all(
    nats_server: NatsServer, caller: rxnats.NATS, options: dict[str, object], answers: int
) -> None:
    clients = [await rxnats.connect(nats_server.url) for _ in range(2)]
    try:
        for client in clients:
            svc = await micro.add_service(client, name="worker", version="1.0.0")

            def answer(req: micro.Request, me: str = svc.id) -> None:
                req.respond_nowait(json.dumps(me).encode())

            await svc.add_endpoint(name="work", handler=answer, **options)  # type: ignore[arg-type]  # test options
            await client.flush()
        # Every instance that got the request has answered within this window; with two
        # answers the wait ends at the second.
        got = await gather_json(caller, "work", expected=2, timeout=3.0)
        assert len(got) == answers
    finally:
        for client in clients:
            await client.close()


async def test_group_endpoints_listen_under_the_group_prefix(nc: rxnats.NATS, caller: rxnats.NATS) -> None:
    svc = await micro.add_service(nc, name="calc", version="1.0.0")
    v1 = svc.add_group(name="api.v1")
    users = v1.add_group(name="users")
    await users.add_endpoint(name="get", handler=echo)
    await v1.add_endpoint(name="status", handler=upper, subject="health.status")
    root = svc.add_group(name="")
    await root.add_endpoint(name="top", handler=echo)
    await nc.flush()
    assert [e.subject for e in svc.endpoints] == ["api.v1.users.get", "api.v1.health.status", "top"]
    assert (await caller.request("api.v1.users.get", b"7", timeout=5)).data == b"echo:7"
    assert (await caller.request("api.v1.health.status", b"ok", timeout=5)).data == b"OK"
    assert (await caller.request("top", b"t", timeout=5)).data == b"echo:t"


async def test_endpoints_on_wildcard_subjects_see_the_request_subject(
    nc: rxnats.NATS, caller: rxnats.NATS
) -> None:
    svc = await micro.add_service(nc, name="calc", version="1.0.0")

    def subject(req: micro.Request) -> None:
        req.respond_nowait(req.subject.encode())

    await svc.add_group(name="files").add_endpoint(name="any", handler=subject, subject=">")
    await nc.flush()
    assert (await caller.request("files.a.b", b"", timeout=5)).data == b"files.a.b"


# -- handlers, errors and statistics --------------------------------------------------------------
async def test_statistics_count_requests_errors_and_processing_time(
    nc: rxnats.NATS, caller: rxnats.NATS
) -> None:
    svc = await micro.add_service(nc, name="calc", version="1.0.0")

    async def divide(req: micro.Request) -> None:
        a, b = (int(x) for x in req.data.split(b"/"))
        if b == 0:
            await req.respond_error(400, "division by zero", b"{}")
            return
        await asyncio.sleep(0.001)
        await req.respond(str(a // b).encode())

    endpoint = await svc.add_endpoint(name="divide", handler=divide)
    await nc.flush()
    assert (await caller.request("divide", b"9/3", timeout=5)).data == b"3"
    assert (await caller.request("divide", b"8/2", timeout=5)).data == b"4"
    error = await caller.request("divide", b"1/0", timeout=5)
    assert error.data == b"{}"
    assert error.headers is not None
    assert error.headers[micro.ERROR_HEADER] == "division by zero"
    assert error.headers[micro.ERROR_CODE_HEADER] == "400"
    stats = endpoint.stats()
    assert (stats.num_requests, stats.num_errors, stats.last_error) == (3, 1, "400:division by zero")
    assert stats.processing_time > 0
    assert stats.average_processing_time == stats.processing_time // 3
    doc = await request_json(caller, "$SRV.STATS.calc")
    assert isinstance(doc, dict)
    (wire,) = doc["endpoints"]
    assert wire["num_requests"] == 3 and wire["num_errors"] == 1
    assert wire["last_error"] == "400:division by zero"
    assert wire["processing_time"] >= stats.processing_time
    assert wire["data"] is None


@pytest.mark.parametrize("kind", ["plain", "async", "plain-returning-awaitable"])
async def test_a_raising_handler_answers_500_with_its_text_and_the_endpoint_keeps_serving(
    nc: rxnats.NATS, caller: rxnats.NATS, kind: str
) -> None:
    svc = await micro.add_service(nc, name="calc", version="1.0.0")

    def check(req: micro.Request) -> None:
        if req.data == b"bad":
            raise ValueError(f"cannot use {req.data.decode()}\nat all")
        req.respond_nowait(b"ok")

    async def check_async(req: micro.Request) -> None:
        check(req)

    handler: micro.Handler = {
        "plain": check,
        "async": check_async,
        "plain-returning-awaitable": lambda req: check_async(req),
    }[kind]
    endpoint = await svc.add_endpoint(name="check", handler=handler)
    await nc.flush()
    for _ in range(2):
        failed = await caller.request("check", b"bad", timeout=5)
        assert micro.ServiceError.from_msg(failed) is not None
        assert failed.headers is not None
        assert failed.headers[micro.ERROR_CODE_HEADER] == "500"
        assert failed.headers[micro.ERROR_HEADER] == "cannot use bad at all"
        assert (await caller.request("check", b"good", timeout=5)).data == b"ok"
    stats = endpoint.stats()
    assert (stats.num_requests, stats.num_errors, stats.last_error) == (4, 2, "500:cannot use bad at all")


async def test_a_raised_service_error_answers_with_its_own_code(nc: rxnats.NATS, caller: rxnats.NATS) -> None:
    svc = await micro.add_service(nc, name="users", version="1.0.0")

    async def get(req: micro.Request) -> None:
        raise micro.ServiceError(404, f"user {req.data.decode()} not found")

    endpoint = await svc.add_endpoint(name="get", handler=get)
    await nc.flush()
    reply = await caller.request("get", b"7", timeout=5)
    error = micro.ServiceError.from_msg(reply)
    assert error is not None and (error.code, error.description) == ("404", "user 7 not found")
    assert endpoint.stats().last_error == "404:user 7 not found"


async def test_a_service_error_with_a_code_adr_32_forbids_still_answers_500(
    nc: rxnats.NATS, caller: rxnats.NATS
) -> None:
    svc = await micro.add_service(nc, name="users", version="1.0.0")

    def get(req: micro.Request) -> None:
        raise micro.ServiceError("NOT_FOUND", "no such user")

    await svc.add_endpoint(name="get", handler=get)
    await nc.flush()
    reply = await caller.request("get", b"", timeout=5)
    assert reply.headers is not None and reply.headers[micro.ERROR_CODE_HEADER] == "500"
    assert "no such user" in reply.headers[micro.ERROR_HEADER]


async def test_an_exception_after_the_answer_sends_nothing_more_but_counts_one_error(
    nc: rxnats.NATS, caller: rxnats.NATS
) -> None:
    svc = await micro.add_service(nc, name="calc", version="1.0.0")

    async def answer_then_fail(req: micro.Request) -> None:
        await req.respond(b"done")
        raise RuntimeError("cleanup failed")

    endpoint = await svc.add_endpoint(name="op", handler=answer_then_fail)
    await nc.flush()
    inbox = caller.new_inbox()
    sub = await caller.subscribe(inbox)
    await caller.publish("op", b"", reply=inbox)
    assert (await sub.next_msg(timeout=5)).data == b"done"
    await caller.flush()
    await nc.flush()
    with pytest.raises(rxnats.errors.TimeoutError):
        await sub.next_msg(timeout=0.3)  # no second (error) answer
    stats = endpoint.stats()
    assert (stats.num_requests, stats.num_errors, stats.last_error) == (1, 1, "500:cleanup failed")


async def test_a_published_request_without_reply_is_handled_and_its_failure_counted(
    nc: rxnats.NATS, caller: rxnats.NATS
) -> None:
    svc = await micro.add_service(nc, name="calc", version="1.0.0")
    seen: list[bytes] = []

    def note(req: micro.Request) -> None:
        seen.append(req.data)
        req.respond_nowait(b"nobody listens")

    endpoint = await svc.add_endpoint(name="note", handler=note)
    await nc.flush()
    await caller.publish("note", b"fire-and-forget")
    await caller.flush()
    await svc.stop()  # drains: the request has been handled
    assert seen == [b"fire-and-forget"]
    stats = endpoint.stats()
    assert (stats.num_requests, stats.num_errors) == (1, 1)
    assert stats.last_error is not None and "no reply subject" in stats.last_error


async def test_error_answers_keep_the_callers_headers(nc: rxnats.NATS, caller: rxnats.NATS) -> None:
    svc = await micro.add_service(nc, name="calc", version="1.0.0")

    def refuse(req: micro.Request) -> None:
        req.respond_error_nowait(
            "409", "conflict", b"details", headers={"Trace": "t1", "nats-service-error": "spoof"}
        )

    await svc.add_endpoint(name="op", handler=refuse)
    await nc.flush()
    reply = await caller.request("op", b"", timeout=5)
    assert reply.data == b"details"
    assert reply.headers is not None
    assert dict(reply.headers) == {
        "Trace": "t1",
        micro.ERROR_HEADER: "conflict",
        micro.ERROR_CODE_HEADER: "409",
    }


async def test_the_stats_handler_fills_each_endpoints_data(nc: rxnats.NATS, caller: rxnats.NATS) -> None:
    def extra(stats: micro.EndpointStats) -> rxnats.rx.operators.JSONValue:
        return {"endpoint": stats.name, "doubled": stats.num_requests * 2}

    svc = await micro.add_service(nc, name="calc", version="1.0.0", stats_handler=extra)
    await svc.add_endpoint(name="echo", handler=echo)
    await nc.flush()
    await caller.request("echo", b"", timeout=5)
    doc = await request_json(caller, f"$SRV.STATS.calc.{svc.id}")
    assert violations("stats", doc, strict=True) == []
    assert isinstance(doc, dict)
    assert doc["endpoints"][0]["data"] == {"endpoint": "echo", "doubled": 2}
    assert svc.stats().endpoints[0].data == {"endpoint": "echo", "doubled": 2}


async def test_a_failing_stats_handler_makes_stats_an_error_answer_not_a_dead_service(
    nc: rxnats.NATS, caller: rxnats.NATS
) -> None:
    def broken(stats: micro.EndpointStats) -> rxnats.rx.operators.JSONValue:
        raise KeyError("gone")

    svc = await micro.add_service(nc, name="calc", version="1.0.0", stats_handler=broken)
    await svc.add_endpoint(name="echo", handler=echo)
    reply = await caller.request(f"$SRV.STATS.calc.{svc.id}", b"", timeout=5)
    error = micro.ServiceError.from_msg(reply)
    assert error is not None and error.code == "500" and "gone" in error.description
    assert violations("ping", await request_json(caller, "$SRV.PING.calc")) == []


async def test_reset_zeroes_the_statistics_and_restarts_the_clock(nc: rxnats.NATS, caller: rxnats.NATS) -> None:
    svc = await micro.add_service(nc, name="calc", version="1.0.0")

    def fail(req: micro.Request) -> None:
        raise ValueError("no")

    await svc.add_endpoint(name="fail", handler=fail)
    await nc.flush()
    await caller.request("fail", b"", timeout=5)
    before = svc.started
    await svc.reset()
    stats = svc.stats()
    assert stats.started >= before
    assert [(e.num_requests, e.num_errors, e.processing_time, e.last_error) for e in stats.endpoints] == [
        (0, 0, 0, None)
    ]
    assert stats.endpoints[0].queue_group == "q"  # identity is kept


async def test_started_is_the_utc_start_time(nc: rxnats.NATS, caller: rxnats.NATS) -> None:
    before = datetime.now(UTC)
    svc = await micro.add_service(nc, name="calc", version="1.0.0")
    after = datetime.now(UTC)
    doc = await request_json(caller, "$SRV.STATS.calc")
    assert isinstance(doc, dict)
    started = parse_started(doc["started"])
    assert before <= started <= after
    assert started == svc.started


async def test_metadata_cannot_change_once_set(nc: rxnats.NATS, caller: rxnats.NATS) -> None:
    meta = {"zone": "a"}
    svc = await micro.add_service(nc, name="calc", version="1.0.0", metadata=meta)
    endpoint_meta = {"v": "1"}
    endpoint = await svc.add_endpoint(name="echo", handler=echo, metadata=endpoint_meta)
    meta["zone"] = "b"
    endpoint_meta["v"] = "2"
    with pytest.raises(TypeError):
        svc.metadata["zone"] = "c"  # type: ignore[index]  # read-only on purpose
    with pytest.raises(TypeError):
        endpoint.metadata["v"] = "3"  # type: ignore[index]  # read-only on purpose
    doc = await request_json(caller, "$SRV.INFO.calc")
    assert isinstance(doc, dict)
    assert doc["metadata"] == {"zone": "a"}
    assert doc["endpoints"][0]["metadata"] == {"v": "1"}
    ping = await request_json(caller, "$SRV.PING.calc")
    assert isinstance(ping, dict) and ping["metadata"] == {"zone": "a"}


async def test_configs_and_keywords_are_accepted_as_in_nats_py(nc: rxnats.NATS, caller: rxnats.NATS) -> None:
    config = micro.ServiceConfig(name="calc", version="1.0.0", description="from a config")
    svc = await micro.add_service(nc, config, version="1.1.0")
    assert (svc.name, svc.version, svc.description) == ("calc", "1.1.0", "from a config")
    await svc.add_endpoint(micro.EndpointConfig(name="echo", handler=echo, subject="svc.echo"))
    await svc.add_endpoint(micro.EndpointConfig(name="up", handler=echo), handler=upper)
    group = svc.add_group(micro.GroupConfig(name="g", queue_group="gq"))
    endpoint = await group.add_endpoint(name="e", handler=echo)
    await nc.flush()
    assert (await caller.request("svc.echo", b"a", timeout=5)).data == b"echo:a"
    assert (await caller.request("up", b"a", timeout=5)).data == b"A"
    assert (endpoint.subject, endpoint.queue_group) == ("g.e", "gq")
    with pytest.raises(rxnats.errors.InvalidInputError, match="name="):
        await svc.add_endpoint(handler=echo)
    with pytest.raises(rxnats.errors.InvalidInputError, match="name= and version="):
        await micro.add_service(nc, name="x")
    with pytest.raises(rxnats.errors.InvalidInputError, match="endpoint name"):
        await svc.add_endpoint(name="bad name", handler=echo)
    assert len(svc.endpoints) == 3  # the refused ones were not added


# -- stopping --------------------------------------------------------------------------------------
async def test_stop_drains_the_requests_in_flight_then_takes_no_more(
    nc: rxnats.NATS, caller: rxnats.NATS
) -> None:
    svc = await micro.add_service(nc, name="slow", version="1.0.0")
    release = asyncio.Event()
    started = asyncio.Event()

    async def slow(req: micro.Request) -> None:
        started.set()
        await release.wait()
        await req.respond(b"finished")

    await svc.add_endpoint(name="slow", handler=slow)
    await nc.flush()
    pending = asyncio.ensure_future(caller.request("slow", b"", timeout=10))
    await started.wait()
    stopping = asyncio.ensure_future(svc.stop())
    await asyncio.sleep(0.05)
    assert not stopping.done()  # waiting for the request in flight
    release.set()
    assert (await pending).data == b"finished"
    await stopping
    assert svc.stopped.is_set()
    with pytest.raises(NoRespondersError):
        await caller.request("slow", b"", timeout=5)
    with pytest.raises(NoRespondersError):
        await caller.request("$SRV.PING.slow", b"", timeout=5)
    await svc.stop()  # again: nothing happens
    with pytest.raises(rxnats.errors.InvalidInputError, match="stopped"):
        await svc.add_endpoint(name="late", handler=echo)
    assert svc.stats().endpoints[0].num_requests == 1  # statistics outlive the stop


async def test_a_service_stops_when_its_client_closes(nats_server: NatsServer) -> None:
    client = await rxnats.connect(nats_server.url)
    svc = await micro.add_service(client, name="calc", version="1.0.0")
    await svc.add_endpoint(name="echo", handler=echo)
    await client.close()
    assert svc.stopped.is_set()
    await svc.stop()  # after the client closed: nothing to do, no error


async def test_draining_the_client_answers_requests_in_flight_and_stops_the_service(
    nats_server: NatsServer, caller: rxnats.NATS
) -> None:
    client = await rxnats.connect(nats_server.url)
    svc = await micro.add_service(client, name="slow", version="1.0.0")
    started = asyncio.Event()

    async def slow(req: micro.Request) -> None:
        started.set()
        await asyncio.sleep(0.2)
        await req.respond(b"finished")

    await svc.add_endpoint(name="slow", handler=slow)
    await client.flush()
    pending = asyncio.ensure_future(caller.request("slow", b"", timeout=10))
    await started.wait()
    await client.drain()
    assert (await pending).data == b"finished"
    assert svc.stopped.is_set()


async def test_a_service_is_an_async_context_manager(nc: rxnats.NATS, caller: rxnats.NATS) -> None:
    async with micro.Service(nc, micro.ServiceConfig("ctx", "1.0.0")) as svc:
        await svc.add_endpoint(name="echo", handler=echo, subject="ctx.echo")
        await nc.flush()
        assert (await caller.request("ctx.echo", b"x", timeout=5)).data == b"echo:x"
    assert svc.stopped.is_set()
    with pytest.raises(NoRespondersError):
        await caller.request("ctx.echo", b"x", timeout=5)
    with pytest.raises(rxnats.errors.InvalidInputError, match="stopped"):
        await svc.start()


async def test_the_info_json_lists_endpoints_added_after_the_start(nc: rxnats.NATS, caller: rxnats.NATS) -> None:
    svc = await micro.add_service(nc, name="calc", version="1.0.0")
    first = await request_json(caller, "$SRV.INFO.calc")
    assert isinstance(first, dict) and first["endpoints"] == []
    await svc.add_endpoint(name="late", handler=echo)
    later = await request_json(caller, "$SRV.INFO.calc")
    assert isinstance(later, dict) and [e["name"] for e in later["endpoints"]] == ["late"]
    assert json.loads(json.dumps(svc.info().to_dict())) == later


async def test_a_service_keeps_serving_and_answering_discovery_across_a_reconnect(
    nc: rxnats.NATS, caller: rxnats.NATS
) -> None:
    svc = await micro.add_service(nc, name="calc", version="1.0.0")
    await svc.add_endpoint(name="echo", handler=echo)
    await nc.flush()
    await nc.force_reconnect()
    await nc.flush()  # the subscriptions were sent again before this PING
    assert (await caller.request("echo", b"again", timeout=5)).data == b"echo:again"
    ping = await request_json(caller, f"$SRV.PING.calc.{svc.id}")
    assert isinstance(ping, dict) and ping["id"] == svc.id
    assert not svc.stopped.is_set()
