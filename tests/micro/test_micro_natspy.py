"""rxnats.micro next to nats-py 2.16's nats.micro: the same names, and the same wire behaviour.

Skipped when nats-py is not installed (it is in the ``dev`` extra). The names are read
from the installed nats-py, so a nats-py upgrade that adds one fails here.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import re
from collections.abc import AsyncIterator
from types import ModuleType
from typing import Any

import pytest

import rxnats
from rxnats import micro
from rxnats.server import NatsServer

from ._schema import violations

try:
    import nats
    import nats.micro as nats_micro
    import nats.micro.request
    import nats.micro.service
    from nats.aio.client import Client as NatsPyClient
    from nats.micro.request import Request as NatsPyRequest
except ImportError:  # pragma: no cover - nats-py is in the dev extra
    pytest.skip("nats-py is not installed", allow_module_level=True)

MODULES = {
    "nats.micro": "rxnats.micro",
    "nats.micro.request": "rxnats.micro.request",
    "nats.micro.service": "rxnats.micro.service",
}
_TYPING_VALUES = [v for m in ("typing", "collections.abc") for v in vars(importlib.import_module(m)).values()]


def public_names(module: ModuleType) -> set[str]:
    """What a user of ``module`` can import from it: its own names and the constants.

    Left out: private names, modules, ``__future__`` features, typing helpers, and
    classes or functions that the module only imported from outside ``nats.micro``.
    """
    names = set()
    for name, value in vars(module).items():
        if name.startswith("_") or inspect.ismodule(value):
            continue
        if type(value).__name__ == "_Feature" or any(value is t for t in _TYPING_VALUES):
            continue
        if (inspect.isclass(value) or inspect.isfunction(value)) and not value.__module__.startswith(
            "nats.micro"
        ):
            continue
        names.add(name)
    return names


@pytest.mark.parametrize(("theirs", "ours"), MODULES.items())
def test_every_public_name_of_nats_py_micro_exists_in_rxnats_micro(theirs: str, ours: str) -> None:
    nats_py = importlib.import_module(theirs)
    rx = importlib.import_module(ours)
    names = public_names(nats_py)
    assert names, f"no public names found in {theirs}: the filter is wrong"
    assert sorted(names - set(dir(rx))) == []
    assert sorted(names - set(dir(micro))) == []  # the package has them all too
    for name in names:
        value = getattr(nats_py, name)
        mine = getattr(rx, name)
        if isinstance(value, str):
            assert mine == value, name
        elif isinstance(value, re.Pattern):
            assert mine.pattern == value.pattern, name
        elif inspect.isclass(value):
            assert inspect.isclass(mine), name
        elif callable(value):
            assert callable(mine), name


def field_names(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]


@pytest.mark.parametrize(
    "name",
    [
        "ServiceConfig",
        "EndpointConfig",
        "GroupConfig",
        "ServicePing",
        "ServiceInfo",
        "ServiceStats",
        "EndpointInfo",
        "EndpointStats",
    ],
)
def test_records_take_nats_py_fields_in_nats_py_order(name: str) -> None:
    theirs = field_names(getattr(nats.micro.service, name))
    ours = field_names(getattr(micro, name))
    assert ours[: len(theirs)] == theirs


@pytest.mark.parametrize("name", ["Service", "Group", "Request", "ServiceError"])
def test_methods_exist_with_the_same_sync_or_async_kind(name: str) -> None:
    theirs = getattr(nats.micro.service, name)
    ours = getattr(micro, name)
    for attr, value in vars(theirs).items():
        if attr.startswith("_") and attr not in ("__aenter__", "__aexit__"):
            continue
        if attr in {f.name for f in dataclasses.fields(theirs)} if dataclasses.is_dataclass(theirs) else False:
            continue
        assert hasattr(ours, attr), f"{name}.{attr}"
        assert inspect.iscoroutinefunction(getattr(ours, attr)) == inspect.iscoroutinefunction(value), (
            f"{name}.{attr}"
        )


# -- the same service on both, on one server --------------------------------------------------------
@pytest.fixture
async def natspy(nats_server: NatsServer) -> AsyncIterator[NatsPyClient]:
    client = await nats.connect(nats_server.url)
    try:
        yield client
    finally:
        await client.close()


async def natspy_ok(req: NatsPyRequest) -> None:
    await req.respond(b"ok:" + req.data, headers={"Served-By": "x"})


async def natspy_boom(req: NatsPyRequest) -> None:
    raise ValueError("broken input")


async def natspy_conflict(req: NatsPyRequest) -> None:
    await req.respond_error("409", "conflict", b"detail")


async def rx_ok(req: micro.Request) -> None:
    await req.respond(b"ok:" + req.data, headers={"Served-By": "x"})


async def rx_boom(req: micro.Request) -> None:
    raise ValueError("broken input")


async def rx_conflict(req: micro.Request) -> None:
    await req.respond_error("409", "conflict", b"detail")


async def build_natspy(nc: NatsPyClient, name: str) -> Any:
    svc = await nats_micro.add_service(
        nc, name=name, version="1.0.0", description="twin", metadata={"impl": "same"}
    )
    await svc.add_endpoint(name="ok", subject=f"{name}.ok", handler=natspy_ok, metadata={"m": "1"})
    await svc.add_endpoint(name="boom", subject=f"{name}.boom", handler=natspy_boom)
    group = svc.add_group(name=f"{name}.g", queue_group="gq")
    await group.add_endpoint(name="conflict", handler=natspy_conflict)
    await nc.flush()
    return svc


async def build_rx(nc: rxnats.NATS, name: str) -> micro.Service:
    svc = await micro.add_service(nc, name=name, version="1.0.0", description="twin", metadata={"impl": "same"})
    await svc.add_endpoint(name="ok", subject=f"{name}.ok", handler=rx_ok, metadata={"m": "1"})
    await svc.add_endpoint(name="boom", subject=f"{name}.boom", handler=rx_boom)
    group = svc.add_group(name=f"{name}.g", queue_group="gq")
    await group.add_endpoint(name="conflict", handler=rx_conflict)
    await nc.flush()
    return svc


async def exercise(requester: NatsPyClient, name: str) -> list[tuple[bytes, dict[str, str] | None]]:
    """The same three requests, as a nats-py client sees the answers."""
    seen = []
    for op in ("ok", "boom", "g.conflict"):
        msg = await requester.request(f"{name}.{op}", b"in", timeout=5)
        seen.append((msg.data, msg.headers))
    return seen


async def test_the_same_service_answers_nats_py_clients_alike_except_the_500_text(
    nc: rxnats.NATS, natspy: NatsPyClient
) -> None:
    await build_natspy(natspy, "theirs")
    await build_rx(nc, "ours")
    theirs = await exercise(natspy, "theirs")
    ours = await exercise(natspy, "ours")
    assert ours[0] == theirs[0] == (b"ok:in", {"Served-By": "x"})
    assert ours[2] == theirs[2] == (
        b"detail",
        {"Nats-Service-Error": "conflict", "Nats-Service-Error-Code": "409"},
    )
    # A raised exception: both answer 500; nats-py sends repr(exc), rxnats its text.
    assert theirs[1] == (b"", {"Nats-Service-Error": "ValueError('broken input')", "Nats-Service-Error-Code": "500"})
    assert ours[1] == (b"", {"Nats-Service-Error": "broken input", "Nats-Service-Error-Code": "500"})


async def discovery_json(nc: rxnats.NATS, verb: str, name: str) -> dict[str, Any]:
    doc = json.loads((await nc.request(f"$SRV.{verb}.{name}", b"", timeout=5)).data)
    assert isinstance(doc, dict)
    return doc


async def test_discovery_json_matches_nats_py_field_for_field_where_adr_32_allows(
    nats_server: NatsServer, nc: rxnats.NATS, natspy: NatsPyClient
) -> None:
    await build_natspy(natspy, "twin")
    theirs_id = json.loads((await nc.request("$SRV.PING.twin", b"", timeout=5)).data)["id"]
    await natspy.request("twin.ok", b"", timeout=5)
    await natspy.request("twin.g.conflict", b"", timeout=5)
    theirs = {verb: await discovery_json(nc, verb, "twin") for verb in ("PING", "INFO", "STATS")}
    # Now the rxnats twin, under the same name, the nats-py one stopped.
    await natspy.close()
    svc = await build_rx(nc, "twin")
    caller = await rxnats.connect(nats_server.url)
    try:
        await caller.request("twin.ok", b"", timeout=5)
        await caller.request("twin.g.conflict", b"", timeout=5)
        ours = {verb: await discovery_json(caller, verb, "twin") for verb in ("PING", "INFO", "STATS")}
    finally:
        await caller.close()

    for doc in theirs.values():
        assert doc.pop("id") == theirs_id
    for doc in ours.values():
        assert doc.pop("id") == svc.id
    assert ours["PING"] == theirs["PING"]
    # INFO: nats-py writes unset endpoint metadata as null; rxnats as {} (both allowed).
    for endpoint in theirs["INFO"]["endpoints"]:
        endpoint["metadata"] = endpoint["metadata"] or {}
    assert ours["INFO"] == theirs["INFO"]
    # STATS: the same shape; times differ, and so do two counts (see below).
    for doc in (ours["STATS"], theirs["STATS"]):
        doc.pop("started")
        for endpoint in doc["endpoints"]:
            assert endpoint.pop("processing_time") >= 0
            assert endpoint.pop("average_processing_time") >= 0
    conflict_theirs = theirs["STATS"]["endpoints"][2]
    conflict_ours = ours["STATS"]["endpoints"][2]
    # respond_error counts as an error in rxnats (as in nats.go), not in nats-py.
    assert (conflict_theirs["num_errors"], conflict_theirs["last_error"]) == (0, "")
    assert (conflict_ours["num_errors"], conflict_ours["last_error"]) == (1, "409:conflict")
    conflict_ours.update(num_errors=0, last_error="")
    assert ours["STATS"] == theirs["STATS"]


async def test_nats_py_output_and_the_adr_32_schema(nats_server: NatsServer, natspy: NatsPyClient) -> None:
    """nats-py's answers break the schema in one place (INFO without a description)."""
    svc = await nats_micro.add_service(natspy, name="plain", version="1.0.0")
    await svc.add_endpoint(name="ok", handler=natspy_ok)
    await natspy.flush()
    caller = await rxnats.connect(nats_server.url)
    try:
        for verb in ("PING", "STATS"):
            assert violations(verb.lower(), await discovery_json(caller, verb, "plain")) == []
        info = await discovery_json(caller, "INFO", "plain")
        assert violations("info", info) == ["info.description: None is not a string"]
        rx_svc = await micro.add_service(caller, name="plain2", version="1.0.0")
        await rx_svc.add_endpoint(name="ok", handler=rx_ok)
        assert violations("info", await discovery_json(caller, "INFO", "plain2"), strict=True) == []
    finally:
        await caller.close()


async def test_nats_py_reads_rxnats_discovery_json_with_its_own_records(
    nc: rxnats.NATS, natspy: NatsPyClient
) -> None:
    svc = await build_rx(nc, "ours")
    await natspy.request("ours.g.conflict", b"", timeout=5)
    ping = nats.micro.service.ServicePing.from_dict(
        json.loads((await natspy.request(f"$SRV.PING.ours.{svc.id}", b"", timeout=5)).data)
    )
    info = nats.micro.service.ServiceInfo.from_dict(
        json.loads((await natspy.request("$SRV.INFO.ours", b"", timeout=5)).data)
    )
    stats = nats.micro.service.ServiceStats.from_dict(
        json.loads((await natspy.request("$SRV.STATS", b"", timeout=5)).data)
    )
    assert (ping.id, ping.name, ping.version, ping.metadata) == (svc.id, "ours", "1.0.0", {"impl": "same"})
    assert [e.to_dict() for e in info.endpoints] == [e.to_dict() for e in svc.info().endpoints]
    assert info.description == "twin"
    assert stats.started == svc.started.replace(tzinfo=None)  # nats-py reads naive UTC
    assert [(e.name, e.num_requests, e.num_errors, e.last_error) for e in stats.endpoints] == [
        ("ok", 0, 0, ""),
        ("boom", 0, 0, ""),
        ("conflict", 1, 1, "409:conflict"),
    ]


async def test_rxnats_discovers_a_nats_py_service_like_its_own(
    nc: rxnats.NATS, natspy: NatsPyClient
) -> None:
    theirs = await build_natspy(natspy, "theirs")
    ours = await build_rx(nc, "ours")
    client = micro.ServiceClient(nc, timeout=0.5)
    pings = {p.name: p for p in await client.ping()}
    assert pings["theirs"].id == theirs.id and pings["ours"].id == ours.id
    infos = {i.name: i for i in await client.info()}
    assert infos["theirs"].description == infos["ours"].description == "twin"
    assert [(e.name, e.subject, e.queue_group) for e in infos["theirs"].endpoints] == [
        ("ok", "theirs.ok", "q"),
        ("boom", "theirs.boom", "q"),
        ("conflict", "theirs.g.conflict", "gq"),
    ]
    assert [(e.name, e.queue_group) for e in infos["ours"].endpoints] == [
        (e.name, e.queue_group) for e in infos["theirs"].endpoints
    ]
    stats = {s.name: s for s in await client.stats()}
    assert [e.name for e in stats["theirs"].endpoints] == ["ok", "boom", "conflict"]
    assert stats["theirs"].started.tzinfo is not None  # read as UTC
