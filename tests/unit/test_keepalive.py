"""PING/PONG bookkeeping, without a clock: each PONG answers its own PING."""

from __future__ import annotations

from rxnats.wire.keepalive import Keepalive


def test_pongs_answer_pings_in_order_timer_pings_have_no_waiter() -> None:
    ka: Keepalive[str] = Keepalive(max_outstanding=2)
    ka.flush("first")
    assert ka.tick()  # the timer's PING, between two flushes
    ka.flush("second")
    assert len(ka) == 3
    assert ka.pong() == "first"
    assert ka.pong() is None  # the timer's
    assert ka.pong() == "second"
    assert ka.pong() is None  # nothing outstanding: an unsolicited PONG is harmless


def test_more_unanswered_timer_pings_than_allowed_is_stale() -> None:
    ka: Keepalive[str] = Keepalive(max_outstanding=2)
    assert ka.tick() and ka.tick()
    assert ka.unanswered == 2
    assert not ka.tick()  # the third: stale, and nothing more was queued
    assert len(ka) == 2


def test_any_pong_resets_the_count() -> None:
    ka: Keepalive[str] = Keepalive(max_outstanding=1)
    assert ka.tick()
    ka.pong()
    assert ka.unanswered == 0
    assert ka.tick()


def test_reconnected_keeps_only_the_flushes_still_waiting() -> None:
    ka: Keepalive[str] = Keepalive(max_outstanding=2)
    ka.flush("gave up")
    ka.tick()
    ka.flush("waiting")
    ka.tick()
    assert ka.reconnected(lambda w: w == "waiting") == 1  # one PING for the new server
    assert ka.unanswered == 0
    assert ka.pong() == "waiting"
    assert len(ka) == 0


def test_reset_returns_every_waiter_to_fail() -> None:
    ka: Keepalive[str] = Keepalive(max_outstanding=2)
    ka.flush("a")
    ka.tick()
    ka.flush("b")
    assert ka.reset() == ["a", "b"]
    assert len(ka) == 0 and ka.unanswered == 0
