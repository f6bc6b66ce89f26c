"""observe_status / observe_events across a real server stop and restart."""

from __future__ import annotations

import asyncio

import pytest
from reactivex import abc
from reactivex.testing import ReactiveTest, TestScheduler

import rxnats as nats
from rxnats import ConnectionStatus as S
from rxnats import events as ev
from rxnats.errors import UnexpectedEOF
from rxnats.server import NatsServer

from ._helpers import Recorder

on_next = ReactiveTest.on_next
on_completed = ReactiveTest.on_completed


async def wait_for(rec: Recorder[S], status: S, timeout: float = 15.0) -> None:
    async with asyncio.timeout(timeout):
        while status not in rec.items:
            await rec.wait_items(len(rec.items) + 1, timeout=timeout)


async def test_status_and_events_across_a_restart(nats_server_factory: object) -> None:
    server: NatsServer = nats_server_factory()  # type: ignore[operator]  # the fixture is a factory
    nc = await nats.connect(server.url, reconnect_time_wait=0.05, max_reconnect_attempts=-1)
    statuses = Recorder[S]()
    events = Recorder[ev.ConnectionEvent]()
    nc.observe_status().subscribe(statuses)
    nc.observe_events().subscribe(events)
    assert statuses.items == [S.CONNECTED]  # the current value, at once

    await server.astop()
    await wait_for(statuses, S.RECONNECTING)
    await server.astart()
    async with asyncio.timeout(15):
        while statuses.items.count(S.CONNECTED) < 2:
            await statuses.wait_items(len(statuses.items) + 1)

    late = Recorder[S]()
    nc.observe_status().subscribe(late)
    assert late.items == [S.CONNECTED]

    await nc.close()
    await statuses.wait_done()
    await events.wait_done()
    assert statuses.items == [S.CONNECTED, S.RECONNECTING, S.CONNECTED, S.CLOSED]
    assert statuses.completed and late.completed
    kinds = [type(e) for e in events.items]
    # The loss is reported first (error_cb's ErrorReported), then Disconnected, as
    # nats-py calls error_cb then disconnected_cb.
    assert kinds[:2] == [ev.ErrorReported, ev.Disconnected]
    first = events.items[0]
    assert isinstance(first, ev.ErrorReported) and isinstance(first.error, UnexpectedEOF)
    assert ev.Reconnecting in kinds
    assert kinds[-1] is ev.Closed
    assert kinds.index(ev.Reconnected) < kinds.index(ev.Closed)
    # A failed attempt while the server was down is an event, never on_error.
    assert events.error is None and statuses.error is None


async def test_observe_status_on_a_closed_client_gives_closed_then_completes(
    nats_url: str,
) -> None:
    nc = await nats.connect(nats_url)
    await nc.close()
    rec = Recorder[S]()
    nc.observe_status().subscribe(rec)
    assert rec.items == [S.CLOSED] and rec.completed
    events = Recorder[ev.ConnectionEvent]()
    nc.observe_events().subscribe(events)
    assert events.items == [] and events.completed


async def test_events_complete_when_the_first_connect_fails() -> None:
    nc = nats.NATS()
    events = Recorder[ev.ConnectionEvent]()
    statuses = Recorder[S]()
    nc.observe_events().subscribe(events)
    nc.observe_status().subscribe(statuses)
    with pytest.raises(nats.errors.Error):
        await nc.connect("nats://127.0.0.1:1", connect_timeout=0.5)
    await events.wait_done()
    assert statuses.items == [S.DISCONNECTED, S.CONNECTING, S.DISCONNECTED, S.CLOSED]
    assert statuses.completed


async def test_status_observer_exception_is_reported_not_raised(nats_url: str) -> None:
    reported: list[Exception] = []
    nc = await nats.connect(nats_url, error_cb=reported.append)

    def explode(status: S) -> None:
        raise RuntimeError(f"observer saw {status.name}")

    nc.observe_status().subscribe(on_next=explode)
    good = Recorder[S]()
    nc.observe_status().subscribe(good)
    await nc.close()  # CLOSED reaches the good observer despite the bad one
    assert good.items == [S.CONNECTED, S.CLOSED]
    assert [str(e) for e in reported] == ["observer saw CONNECTED", "observer saw CLOSED"]


async def test_disposing_stops_the_stream(nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    rec = Recorder[S]()
    nc.observe_status().subscribe(rec).dispose()
    await nc.close()
    assert rec.items == [S.CONNECTED] and not rec.completed


def test_status_marbles_across_a_reconnect() -> None:
    """Virtual time: current value on subscribe, each change once, completion at CLOSED."""
    scheduler = TestScheduler()
    nc = nats.NATS()  # never connected: the test drives its status cell directly
    changes = [
        (210, S.CONNECTING),
        (220, S.CONNECTED),
        (300, S.RECONNECTING),
        (310, S.RECONNECTING),  # not a change: not emitted
        (400, S.CONNECTED),
        (500, S.CLOSED),
    ]
    for time, status in changes:

        def change(_s: abc.SchedulerBase, _state: object = None, status: S = status) -> None:
            nc._life.set_status(status)

        scheduler.schedule_absolute(time, change)
    late = scheduler.create_observer()

    def subscribe_late(_s: abc.SchedulerBase, _state: object = None) -> None:
        nc.observe_status().subscribe(late)

    scheduler.schedule_absolute(350, subscribe_late)
    results = scheduler.start(nc.observe_status, created=100, subscribed=200, disposed=1000)
    assert results.messages == [
        on_next(200, S.DISCONNECTED),
        on_next(210, S.CONNECTING),
        on_next(220, S.CONNECTED),
        on_next(300, S.RECONNECTING),
        on_next(400, S.CONNECTED),
        on_next(500, S.CLOSED),
        on_completed(500),
    ]
    assert late.messages == [
        on_next(350, S.RECONNECTING),
        on_next(400, S.CONNECTED),
        on_next(500, S.CLOSED),
        on_completed(500),
    ]
