"""Every connection event says what it is and when: ``type``, ``monotonic``, ``timestamp``."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from rxnats import events as ev


def test_every_event_has_a_type_and_two_timestamps_outside_equality() -> None:
    samples: list[ev.ConnectionEvent] = [
        ev.Connected("u"), ev.Disconnected("u", None), ev.Reconnecting(1, "u", 0.5), ev.Reconnected("u"),
        ev.ServersDiscovered(("a",)), ev.LameDuck("u"), ev.SlowConsumer("s", 1, 2),
        ev.ErrorReported(ValueError("x")), ev.Closed(None),
    ]
    for event in samples:
        assert event.type == type(event).__name__
        assert isinstance(event.monotonic, float)
        assert event.timestamp.tzinfo is dt.UTC
        fields = dataclasses.asdict(event) if not isinstance(event, ev.ErrorReported) else {
            f.name: getattr(event, f.name) for f in dataclasses.fields(event)
        }
        assert {"type", "monotonic", "timestamp"} <= set(fields)
        assert "monotonic" not in repr(event)
    later = ev.Connected("u")
    assert later == samples[0] and hash(later) == hash(samples[0])
    assert later.monotonic >= samples[0].monotonic
    with pytest.raises(TypeError):
        ev.Connected("u", 1.0)  # type: ignore[call-arg]  # the stamps are keyword-only: positions are unchanged
