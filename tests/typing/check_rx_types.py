"""Typing test for the Rx layer: mypy --strict must infer these types (no Any).

Checked by mypy in CI (``mypy --strict rxnats tests``); never executed, and not
collected by pytest (its name does not start with ``test_``).

A known limit of reactivex under mypy: ``Observable.pipe`` is overloaded, and mypy
infers the arguments of an overloaded call without their context, so in
``obs.pipe(ops.map(lambda m: m.data))`` the lambda's ``m`` is unknown and mypy reports
an error (it does not silently give ``Any``). Pipelines type-check with a typed function
(``ops.map(data_of)``), with rxnats's Msg-typed operators (``nops.map_msg(lambda m:
m.data)``, ``nops.payloads()``), or with an annotated target.
"""

from __future__ import annotations

from typing import assert_type

from reactivex import Observable
from reactivex import operators as ops

import rxnats as nats
from rxnats import ConnectionStatus, Msg
from rxnats.events import ConnectionEvent
from rxnats.rx import ObservableIterator, OutMsg, PublishSink, to_async_iterator
from rxnats.rx import operators as nops
from rxnats.rx.operators import JSONValue


def data_of(msg: Msg) -> bytes:
    return msg.data


def size_of(data: bytes) -> int:
    return len(data)


def as_text(value: JSONValue) -> str:
    return str(value)


def to_outmsg(msg: Msg) -> OutMsg:
    return OutMsg("out", msg.data)


async def users_pipelines(nc: nats.NATS, sub: nats.Subscription) -> None:
    assert_type(nc.observe("x"), Observable[Msg])
    assert_type(sub.observe(), Observable[Msg])
    assert_type(nc.observe_status(), Observable[ConnectionStatus])
    assert_type(nc.observe_events(), Observable[ConnectionEvent])
    assert_type(nc.observe_request("svc"), Observable[Msg])
    assert_type(nc.observe_request_many("svc", max_count=3), Observable[Msg])
    assert_type(nc.publisher("out"), PublishSink)

    assert_type(nc.observe("x").pipe(ops.map(data_of)), Observable[bytes])
    assert_type(nc.observe("x").pipe(nops.map_msg(lambda m: m.data)), Observable[bytes])
    assert_type(nc.observe("x").pipe(nops.map_msg(lambda m: m.subject)), Observable[str])
    assert_type(nc.observe("x").pipe(nops.payloads()), Observable[bytes])
    assert_type(
        nc.observe("x").pipe(nops.filter_msg(lambda m: m.reply != ""), nops.payloads()),
        Observable[bytes],
    )
    assert_type(
        nc.observe("x").pipe(nops.payloads(), ops.map(size_of), nops.batch(1.0, 100)),
        Observable[list[int]],
    )
    assert_type(
        nc.observe("orders.>").pipe(nops.filter_subject("orders.*.new"), nops.decode_json()),
        Observable[JSONValue],
    )
    assert_type(nc.observe("n").pipe(nops.decode_json(as_text)), Observable[str])
    assert_type(nc.observe("x").pipe(nops.batch(1.0, 100)), Observable[list[Msg]])
    assert_type(nc.observe("x").pipe(nops.sample(0.5)), Observable[Msg])
    assert_type(nc.observe("x").pipe(nops.rate(1.0)), Observable[float])
    assert_type(nc.observe_status().pipe(ops.distinct_until_changed()), Observable[ConnectionStatus])

    messages = to_async_iterator(nc.observe("x"), maxsize=10)
    assert_type(messages, ObservableIterator[Msg])
    async with messages:
        async for msg in messages:
            assert_type(msg, Msg)
    datas = to_async_iterator(nc.observe("x").pipe(nops.payloads()))
    async for data in datas:
        assert_type(data, bytes)

    # The sink accepts streams of bytes, of OutMsg, or of both.
    nc.observe("in").pipe(nops.payloads()).subscribe(nc.publisher("out"))
    nc.observe("in").pipe(ops.map(to_outmsg)).subscribe(nc.publisher())
