"""Typing test for rxnats.micro: mypy --strict must infer these types (no Any).

Checked by mypy in CI (``mypy --strict rxnats tests``); never executed, and not
collected by pytest (its name does not start with ``test_``).
"""

from __future__ import annotations

from typing import assert_type

from reactivex import Observable

import rxnats as nats
from rxnats import micro
from rxnats.micro.models import InfoResponseDict, StatsResponseDict
from rxnats.rx.operators import JSONValue


async def sync_handler(req: micro.Request) -> None:
    await req.respond(req.data)


def plain_handler(req: micro.Request) -> None:
    req.respond_nowait(req.data)


def extra_stats(stats: micro.EndpointStats) -> JSONValue:
    return {"requests": stats.num_requests}


async def users_services(nc: nats.NATS) -> None:
    svc = await micro.add_service(nc, name="s", version="1.0.0", stats_handler=extra_stats)
    assert_type(svc, micro.Service)
    endpoint = await svc.add_endpoint(name="a", handler=sync_handler)
    assert_type(endpoint, micro.Endpoint)
    await svc.add_endpoint(name="b", handler=plain_handler)
    await svc.add_endpoint(name="c", handler=lambda req: req.respond_nowait(b""))
    group = svc.add_group(name="g")
    assert_type(group, micro.Group)

    # Services and groups are nats-py's two managers.
    managers: list[micro.EndpointManager] = [svc, group]
    groups: list[micro.GroupManager] = [svc, group]
    assert managers and groups

    assert_type(endpoint.observe(), Observable[micro.Request])
    replies = endpoint.observe().pipe(micro.reply_with(lambda req: req.data))
    assert_type(replies, Observable[micro.Reply])
    replies.subscribe(micro.Reply.send)

    assert_type(svc.info().to_dict(), InfoResponseDict)
    assert_type(svc.stats().to_dict(), StatsResponseDict)
    assert_type(svc.stats().endpoints[0].data, JSONValue)

    client = micro.ServiceClient(nc)
    assert_type(await client.ping(), list[micro.ServicePing])
    assert_type(client.observe_stats("s"), Observable[micro.ServiceStats])
    error = micro.ServiceError.from_msg(await nc.request("s.a", b""))
    assert_type(error, micro.ServiceError | None)
