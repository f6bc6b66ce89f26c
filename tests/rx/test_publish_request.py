"""nc.publisher(), nc.observe_request() and nc.observe_request_many() on a real server."""

from __future__ import annotations

import asyncio

import pytest
import reactivex

import rxnats as nats
from rxnats.errors import (
    ConnectionClosedError,
    InvalidInputError,
    NoRespondersError,
    TimeoutError,
)
from rxnats.msg import Msg
from rxnats.rx import OutMsg
from rxnats.rx import operators as nops

from ._helpers import Recorder

pytestmark = pytest.mark.asyncio


async def test_publisher_publishes_bytes_and_outmsgs_then_flushes(nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    try:
        sub = await nc.subscribe("sink.>")
        sink = nc.publisher("sink.default")
        items: list[bytes | OutMsg] = [b"a", OutMsg("sink.other", b"b", headers={"X-K": "v"}), b"c"]
        reactivex.from_iterable(items).subscribe(sink)
        await asyncio.wait_for(sink.done, 5)
        assert sink.published == 3
        got = [await sub.next_msg(timeout=2) for _ in range(3)]
        assert [(m.subject, m.data) for m in got] == [
            ("sink.default", b"a"),
            ("sink.other", b"b"),
            ("sink.default", b"c"),
        ]
        assert got[1].headers is not None and got[1].headers["X-K"] == "v"
    finally:
        await nc.close()


async def test_publisher_on_error_fails_done_and_stops(nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    try:
        sink = nc.publisher("sink.err")
        reactivex.concat(
            reactivex.of(b"1"), reactivex.throw(ValueError("upstream broke"))
        ).subscribe(sink)
        with pytest.raises(ValueError, match="upstream broke"):
            await sink.done
        assert sink.is_stopped
        sink.on_next(b"ignored")
        assert sink.published == 1
    finally:
        await nc.close()


async def test_publisher_without_subject_needs_outmsg_and_reports(nats_url: str) -> None:
    reported: list[Exception] = []
    nc = await nats.connect(nats_url, error_cb=reported.append)
    try:
        sink = nc.publisher()
        sink.on_next(b"no subject")
        with pytest.raises(InvalidInputError):
            await sink.done
        assert len(reported) == 1
    finally:
        await nc.close()


async def test_publisher_on_a_closed_client_fails(nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    sink = nc.publisher("x")
    await nc.close()
    sink.on_next(b"late")
    with pytest.raises(ConnectionClosedError):
        await sink.done


async def responder(nc: nats.NATS, subject: str, replies: list[bytes]) -> None:
    async def answer(msg: Msg) -> None:
        for data in replies:
            await msg.respond(data)

    await nc.subscribe(subject, cb=answer)
    await nc.flush()


async def test_observe_request_one_reply(nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    try:
        await responder(nc, "svc.echo", [b"pong"])
        rec = Recorder[bytes]()
        request = nc.observe_request("svc.echo", b"ping", timeout=2)
        assert len(nc._requests) == 0  # cold
        request.pipe(nops.payloads()).subscribe(rec)
        await rec.wait_done()
        assert rec.items == [b"pong"] and rec.completed
    finally:
        await nc.close()


async def test_observe_request_errors(nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    try:
        none = Recorder[Msg]()
        nc.observe_request("nobody.home", timeout=2).subscribe(none)
        await none.wait_done()
        assert isinstance(none.error, NoRespondersError)
        await nc.subscribe("svc.silent")
        silent = Recorder[Msg]()
        nc.observe_request("svc.silent", timeout=0.2).subscribe(silent)
        await silent.wait_done()
        assert isinstance(silent.error, TimeoutError)
    finally:
        await nc.close()


async def test_observe_request_dispose_forgets_it(nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    try:
        await nc.subscribe("svc.slow")
        rec = Recorder[Msg]()
        d = nc.observe_request("svc.slow", timeout=5).subscribe(rec)
        await asyncio.sleep(0.05)
        assert len(nc._requests) == 1
        d.dispose()
        await asyncio.sleep(0.05)
        assert len(nc._requests) == 0 and not rec.done
    finally:
        await nc.close()


async def test_request_many_ends_on_max_count(nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    try:
        await responder(nc, "svc.many", [b"1", b"2", b"3", b"4"])
        rec = Recorder[Msg]()
        nc.observe_request_many("svc.many", timeout=5, max_count=3).subscribe(rec)
        await rec.wait_done()
        assert [m.data for m in rec.items] == [b"1", b"2", b"3"] and rec.completed
        await nc.flush()
        assert len(nc._subs) == 1  # only the responder: the inbox was unsubscribed
    finally:
        await nc.close()


async def test_request_many_ends_on_sentinel(nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    try:
        await responder(nc, "svc.sentinel", [b"a", b"b", b"", b"after"])
        rec = Recorder[Msg]()
        nc.observe_request_many("svc.sentinel", timeout=5, sentinel=True).subscribe(rec)
        await rec.wait_done()
        assert [m.data for m in rec.items] == [b"a", b"b"] and rec.completed
    finally:
        await nc.close()


async def test_request_many_ends_on_stall_and_on_timeout(nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    try:
        await responder(nc, "svc.two", [b"x", b"y"])
        stalled = Recorder[Msg]()
        nc.observe_request_many("svc.two", timeout=30, stall=0.2).subscribe(stalled)
        await stalled.wait_done(timeout=10)  # long before the 30 s overall timeout
        assert [m.data for m in stalled.items] == [b"x", b"y"] and stalled.completed
        timed = Recorder[Msg]()
        nc.observe_request_many("svc.two", timeout=0.3).subscribe(timed)
        await timed.wait_done()
        assert [m.data for m in timed.items] == [b"x", b"y"] and timed.completed
    finally:
        await nc.close()


async def test_request_many_no_responders(nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    try:
        rec = Recorder[Msg]()
        nc.observe_request_many("nobody.there", timeout=2).subscribe(rec)
        await rec.wait_done()
        assert isinstance(rec.error, NoRespondersError)
        assert nc._subs == {}
    finally:
        await nc.close()
