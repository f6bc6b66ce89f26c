"""``rxnats.notebook`` outside Jupyter: views drawn into a recording display, real servers.

The views take the display function as a parameter, so a test can count what they draw
and when: each redraw must happen while the code runs (not at the end), from the loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys

import pytest
from polling import eventually  # tests/ is on sys.path (conftest.py lives there)
from reactivex.subject import Subject

import rxnats
from rxnats import ConnectionStatus
from rxnats import notebook as nb
from rxnats.events import Closed, Reconnecting
from rxnats.server import NatsServer
from rxnats.testing.plugin import NatsServerFactory

pytest.importorskip("pandas", reason="pip install -e '.[dev]' (the notebooks extra)")
pytest.importorskip("IPython", reason="pip install -e '.[dev]' (the notebooks extra)")


class Screen:
    """A stand-in for IPython's display: records what is shown and each update."""

    def __init__(self) -> None:
        self.shown: list[object] = []
        self.frames: list[object] = []

    def display(self, obj: object) -> Screen:
        self.shown.append(obj)
        return self

    def update(self, obj: object) -> None:
        self.frames.append(obj)


def _html(obj: object) -> str:
    data: str = obj.data  # type: ignore[attr-defined]  # IPython.display.HTML
    return data


async def test_badge_and_log_follow_a_reconnect_as_it_happens(nats_server_factory: NatsServerFactory) -> None:
    server: NatsServer = nats_server_factory()
    nc = await rxnats.connect(server.url, reconnect_time_wait=0.05, max_reconnect_attempts=-1)
    screen = Screen()
    badge = nb.StatusBadge(nc, label="test", display=screen.display).show()
    log = nb.EventLog(nc, limit=3, display=screen.display).show()
    assert "test: CONNECTED" in _html(screen.shown[0]) and "no events yet" in _html(screen.shown[1])
    reconnecting = asyncio.Event()

    def on_event(event: object) -> None:
        if isinstance(event, Reconnecting):
            reconnecting.set()

    nc.observe_events().subscribe(on_event)
    await server.astop()
    await asyncio.wait_for(reconnecting.wait(), 20)
    # redrawn already, while this coroutine still runs
    assert any("test: RECONNECTING" in _html(f) for f in screen.frames)
    assert badge.status == ConnectionStatus.RECONNECTING
    await server.astart()
    await eventually(lambda: badge.status == ConnectionStatus.CONNECTED, 20, "reconnected")
    await nc.close()
    badge.close()
    log.close()
    assert badge.history == [ConnectionStatus.CONNECTED, ConnectionStatus.RECONNECTING,
                             ConnectionStatus.CONNECTED, ConnectionStatus.CLOSED]
    assert "test: CLOSED" in _html(screen.frames[-2]) or "test: CLOSED" in _html(screen.frames[-1])
    assert isinstance(log.events[-1], Closed)
    assert _html(screen.frames[-1]).count("<tr>") == 1 + 3  # heading + the last 3 events
    frame = log.frame()
    assert list(frame.columns[:3]) == ["timestamp", "monotonic", "type"]
    assert list(frame["type"]).count("Reconnected") == 1 and frame["type"].iloc[-1] == "Closed"
    assert str(frame["timestamp"].dtype).startswith("datetime64")


async def test_rate_chart_counts_every_item_and_redraws_per_interval() -> None:
    source: Subject[int] = Subject()
    screen = Screen()
    chart = nb.RateChart(source, interval=0.05, display=screen.display).show()
    for burst in range(3):
        for i in range(100):
            source.on_next(i)
        def counted(ticks: int = 2 * (burst + 1)) -> bool:
            return len(chart.counts) >= ticks

        await eventually(counted, 20, "two more intervals counted")
    chart.close()
    chart.close()  # idempotent
    assert chart.total == 300 and sum(chart.counts) == 300
    assert chart.updates == len(screen.frames) == len(chart.counts) + 1  # one per tick, one on close
    assert all(rate == count / 0.05 for (_, rate), count in zip(chart.rates, chart.counts, strict=True))
    assert chart.png().startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="interval must be positive"):
        nb.RateChart(source, interval=0)


async def test_record_and_events_frame_stamp_everything(nats_url: str) -> None:
    nc = await rxnats.connect(nats_url)
    statuses = nb.record(nc.observe_status())
    events = nb.record(nc.observe_events())
    await nc.close()
    assert statuses.items == [ConnectionStatus.CONNECTED, ConnectionStatus.CLOSED] and statuses.completed
    table = statuses.frame()
    assert list(table["type"]) == ["Status", "Status"] and list(table["status"]) == ["CONNECTED", "CLOSED"]
    assert table["timestamp"].iloc[0].tzinfo is not None
    closed = events.items[-1]
    assert isinstance(closed, Closed)
    row = nb.event_row(closed)
    assert row["type"] == "Closed" and row["timestamp"] == closed.timestamp and row["monotonic"] == closed.monotonic
    frame = nb.events_frame([closed, Reconnecting(2, "nats://h:1", 0.5)])
    assert list(frame["type"]) == ["Closed", "Reconnecting"] and frame["attempt"].iloc[1] == 2
    other = nb.event_row("plain", dt.datetime(2026, 1, 1, tzinfo=dt.UTC), 1.0)
    assert other == {"timestamp": dt.datetime(2026, 1, 1, tzinfo=dt.UTC), "monotonic": 1.0, "type": "str",
                     "value": "plain"}


def test_a_missing_optional_dependency_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # what an absent package looks like to import
    with pytest.raises(ImportError, match=r"needs pandas.*pip install 'rxnats\[notebooks\]'"):
        nb.events_frame([])
