"""Discovering services with ServiceClient: observables that complete after a timeout, and lists."""

from __future__ import annotations

import asyncio
import json

import pytest

import rxnats
from rxnats import micro
from rxnats.errors import BadTimeoutError, ConnectionClosedError, InvalidInputError
from rxnats.server import NatsServer

from ._helpers import Recorder


async def two_kinds(nc: rxnats.NATS) -> tuple[micro.Service, micro.Service, micro.Service]:
    """Two instances of ``calc`` and one ``users``, with an endpoint each."""
    services = (
        await micro.add_service(nc, name="calc", version="1.0.0", metadata={"n": "1"}),
        await micro.add_service(nc, name="calc", version="1.0.1", metadata={"n": "2"}),
        await micro.add_service(nc, name="users", version="3.0.0", description="people"),
    )
    for svc in services:
        await svc.add_endpoint(
            name="op", subject=f"{svc.name}.op", handler=lambda r: r.respond_nowait(b"ok")
        )
    await nc.flush()
    return services


async def test_ping_info_and_stats_find_every_instance(nc: rxnats.NATS, caller: rxnats.NATS) -> None:
    a, b, users = await two_kinds(nc)
    await caller.request("calc.op", b"", timeout=5)
    client = micro.ServiceClient(caller, timeout=0.5)
    pings = await client.ping()
    assert sorted((p.name, p.id, p.version) for p in pings) == sorted(
        (s.name, s.id, s.version) for s in (a, b, users)
    )
    assert {p.id: p.metadata for p in pings}[b.id] == {"n": "2"}
    infos = {i.id: i for i in await client.info()}
    assert infos[users.id].description == "people"
    assert infos[users.id].endpoints[0].subject == "users.op"
    assert infos[a.id] == a.info()
    stats = {s.id: s for s in await client.stats()}
    assert sum(s.endpoints[0].num_requests for s in stats.values()) == 1
    assert stats[a.id].started == a.started


async def test_discovery_narrows_to_a_name_or_one_instance(nc: rxnats.NATS, caller: rxnats.NATS) -> None:
    a, b, users = await two_kinds(nc)
    client = micro.ServiceClient(caller, timeout=0.5)
    assert {p.id for p in await client.ping("calc")} == {a.id, b.id}
    assert [i.id for i in await client.info("users")] == [users.id]
    # Addressed by id, the one answer ends the wait.
    one = await client.stats("calc", b.id, timeout=10)
    assert [s.id for s in one] == [b.id]


async def test_the_observable_form_emits_each_answer_then_completes(
    nc: rxnats.NATS, caller: rxnats.NATS
) -> None:
    services = await two_kinds(nc)
    recorder = Recorder[micro.ServicePing]()
    micro.ServiceClient(caller).observe_ping(timeout=0.3).subscribe(recorder)
    await recorder.wait_done()
    assert recorder.completed and recorder.error is None
    assert {p.id for p in recorder.items} == {s.id for s in services}


async def test_the_observable_is_cold_each_observer_asks_again(nc: rxnats.NATS, caller: rxnats.NATS) -> None:
    infos = micro.ServiceClient(caller, timeout=0.3).observe_info("late")
    first = Recorder[micro.ServiceInfo]()
    infos.subscribe(first)
    await first.wait_done()
    assert first.items == []
    svc = await micro.add_service(nc, name="late", version="1.0.0")
    second = Recorder[micro.ServiceInfo]()
    infos.subscribe(second)
    await second.wait_done()
    assert [i.id for i in second.items] == [svc.id]


async def test_no_service_at_all_is_an_empty_answer(caller: rxnats.NATS) -> None:
    client = micro.ServiceClient(caller, timeout=0.3)
    assert await client.ping() == []
    assert await client.stats("nothing") == []


async def test_invalid_answers_are_skipped_and_the_valid_ones_kept(
    nc: rxnats.NATS, caller: rxnats.NATS
) -> None:
    svc = await micro.add_service(nc, name="calc", version="1.0.0")
    rogue = [
        b"not json",
        b"[1, 2]",
        json.dumps({"type": "io.nats.micro.v1.info_response", "id": "x", "name": "n", "version": "1.0.0"}).encode(),
        json.dumps({"type": "io.nats.micro.v1.ping_response", "name": "n", "version": "1.0.0"}).encode(),
    ]

    async def impostor(msg: rxnats.Msg) -> None:
        for body in rogue:
            await msg.respond(body)
        await msg.respond(b"", headers={micro.ERROR_HEADER: "down", micro.ERROR_CODE_HEADER: "500"})

    await caller.subscribe("$SRV.PING", cb=impostor)
    await caller.flush()
    pings = await micro.ServiceClient(caller, timeout=0.5).ping()
    assert [p.id for p in pings] == [svc.id]


async def test_bad_discovery_arguments_are_refused_before_anything_is_sent(caller: rxnats.NATS) -> None:
    client = micro.ServiceClient(caller)
    with pytest.raises(InvalidInputError, match="name"):
        client.observe_ping(None, "ID")
    with pytest.raises(InvalidInputError):
        client.observe_info("bad name")
    with pytest.raises(BadTimeoutError):
        client.observe_stats(timeout=0)
    with pytest.raises(BadTimeoutError):
        micro.ServiceClient(caller, timeout=-1)
    with pytest.raises(InvalidInputError, match="prefix"):
        micro.ServiceClient(caller, prefix="a b")


async def test_discovery_on_a_closed_client_fails_clearly(nats_server: NatsServer) -> None:
    client = await rxnats.connect(nats_server.url)
    await client.close()
    with pytest.raises(ConnectionClosedError):
        await micro.ServiceClient(client, timeout=0.2).ping()


async def test_cancelling_a_list_discovery_forgets_the_request(nc: rxnats.NATS, caller: rxnats.NATS) -> None:
    await two_kinds(nc)
    before = len(caller._subs)
    task = asyncio.ensure_future(micro.ServiceClient(caller, timeout=30).ping())
    await asyncio.sleep(0.1)
    assert len(caller._subs) == before + 1  # the inbox collecting the answers
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(caller._subs) == before


async def test_a_custom_prefix_is_discovered_with_the_same_prefix(nc: rxnats.NATS, caller: rxnats.NATS) -> None:
    svc = await micro.add_service(nc, name="calc", version="1.0.0", prefix="$TEAM")
    assert await micro.ServiceClient(caller, timeout=0.3).ping() == []
    pings = await micro.ServiceClient(caller, timeout=0.3, prefix="$TEAM").ping()
    assert [p.id for p in pings] == [svc.id]
