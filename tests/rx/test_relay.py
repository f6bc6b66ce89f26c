"""The relay between the reader and Rx observers, in virtual time (no server).

The buffer's own policies are tested in tests/unit/test_pending.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

import pytest
from reactivex import abc
from reactivex.testing import TestScheduler

from rxnats.pending import Overflow, OverflowBuffer
from rxnats.rx._relay import Relay

T = TypeVar("T")


class Collect(abc.ObserverBase[T]):
    def __init__(self, scheduler: TestScheduler, fail_on: T | None = None) -> None:
        self.scheduler = scheduler
        self.events: list[tuple[float, str, object]] = []
        self.fail_on = fail_on

    def on_next(self, value: T) -> None:
        self.events.append((self.scheduler.clock, "next", value))
        if value == self.fail_on:
            raise RuntimeError(f"observer fails on {value}")

    def on_error(self, error: Exception) -> None:
        self.events.append((self.scheduler.clock, "error", type(error).__name__))

    def on_completed(self) -> None:
        self.events.append((self.scheduler.clock, "completed", None))


def make_relay(
    scheduler: TestScheduler, overflow: Overflow, *, max_items: int = 3, batch: int = 256
) -> tuple[Relay[int], list[Exception], list[tuple[int, bool]], list[int]]:
    reported: list[Exception] = []
    drops: list[tuple[int, bool]] = []
    rejects: list[int] = []
    relay: Relay[int] = Relay(
        scheduler,
        OverflowBuffer(
            max_items=max_items,
            overflow=overflow,
            on_drop=lambda count, episode: drops.append((count, episode)),
        ),
        report=reported.append,
        on_reject=rejects.append,
        batch=batch,
    )
    return relay, reported, drops, rejects


def at(scheduler: TestScheduler, time: float, fn: Callable[[], object]) -> None:
    """Run ``fn`` at virtual time ``time``."""

    def action(_s: abc.SchedulerBase, _state: object = None) -> None:
        fn()

    scheduler.schedule_absolute(time, action)


def burst(scheduler: TestScheduler, relay: Relay[T], at: float, items: Iterable[T]) -> None:
    """Push ``items`` synchronously at virtual time ``at`` (as one socket read would)."""

    def push(_s: abc.SchedulerBase, _state: object = None) -> None:
        for i in items:
            relay.push(i)

    scheduler.schedule_absolute(at, push)


@pytest.mark.parametrize(
    ("overflow", "expected"),
    [
        # 0-2 are handed over directly (the turn's allowance is max_items), 3-5 wait in
        # the buffer, and the policy decides about 6-8.
        (Overflow.DROP_NEWEST, [0, 1, 2, 3, 4, 5, 10]),
        (Overflow.DROP_OLDEST, [0, 1, 2, 6, 7, 8, 10]),
    ],
)
def test_relay_applies_the_policy_to_a_burst_and_emits_later(
    overflow: Overflow, expected: list[int]
) -> None:
    scheduler = TestScheduler()
    relay, reported, drops, _ = make_relay(scheduler, overflow)
    obs = Collect[int](scheduler)
    relay.add(obs)
    burst(scheduler, relay, 100, range(9))  # 9 items: 3 direct, a buffer of 3
    burst(scheduler, relay, 200, range(10, 11))
    scheduler.start()
    assert [v for _, kind, v in obs.events if kind == "next"] == expected
    # Emission happens on the scheduler (after the push), at the push's virtual time.
    assert {t for t, _, _ in obs.events} == {100, 200}
    # Each drop is told; only the first of the episode starts one.
    assert drops == [(1, True), (1, False), (1, False)]
    assert relay.dropped == 3
    assert reported == []


def test_relay_hands_over_directly_until_the_turn_allowance_is_spent() -> None:
    scheduler = TestScheduler()
    relay, _, _, _ = make_relay(scheduler, Overflow.DROP_NEWEST, max_items=3)
    obs = Collect[int](scheduler)
    relay.add(obs)
    seen_in_push: list[int] = []

    def push(start: int) -> Callable[[abc.SchedulerBase, object], None]:
        def action(_s: abc.SchedulerBase, _state: object = None) -> None:
            for i in range(start, start + 4):
                relay.push(i)
                seen_in_push.append(len(obs.events))

        return action

    scheduler.schedule_absolute(100, push(0))
    scheduler.schedule_absolute(200, push(10))
    scheduler.start()
    # Within push() for the first three of each turn, after the turn for the fourth,
    # and in order: the allowance is back on the next turn.
    assert seen_in_push == [1, 2, 3, 3, 5, 6, 7, 7]
    assert [v for _, _, v in obs.events] == [0, 1, 2, 3, 10, 11, 12, 13]


def test_relay_direct_hand_over_reports_an_observer_exception_and_goes_on() -> None:
    scheduler = TestScheduler()
    relay, reported, _, _ = make_relay(scheduler, Overflow.DROP_NEWEST, max_items=10)
    obs = Collect[int](scheduler, fail_on=1)
    relay.add(obs)
    burst(scheduler, relay, 100, range(3))  # all three handed over directly
    scheduler.start()
    assert [v for _, _, v in obs.events] == [0, 1, 2]
    assert [str(e) for e in reported] == ["observer fails on 1"]
    assert relay.pending == 0


def test_relay_reports_a_new_episode_after_direct_hand_overs() -> None:
    # Once a turn's direct allowance is spent, an item larger than the whole byte budget
    # is dropped without anything being buffered. The next turn's items go directly:
    # the buffer had room, so the next such drop starts a new episode.
    scheduler = TestScheduler()
    drops: list[tuple[int, bool]] = []
    relay: Relay[bytes] = Relay(
        scheduler,
        OverflowBuffer(
            max_items=2,
            max_bytes=4,
            size=len,
            on_drop=lambda count, episode: drops.append((count, episode)),
        ),
        report=lambda exc: None,
    )
    obs = Collect[bytes](scheduler)
    relay.add(obs)
    burst(scheduler, relay, 100, [b"a", b"b", b"too large"])  # 2 direct, then a drop
    burst(scheduler, relay, 200, [b"c", b"d", b"too large again"])
    scheduler.start()
    assert [v for _, _, v in obs.events] == [b"a", b"b", b"c", b"d"]
    assert drops == [(1, True), (1, True)]


def test_relay_never_hands_over_directly_past_buffered_items() -> None:
    scheduler = TestScheduler()
    relay, _, _, _ = make_relay(scheduler, Overflow.DROP_NEWEST, max_items=2, batch=1)
    obs = Collect[int](scheduler)
    relay.add(obs)
    seen_at_9: list[int] = []

    def push_9(_s: abc.SchedulerBase, _state: object = None) -> None:
        relay.push(9)
        seen_at_9.append(len(obs.events))

    def push_burst(_s: abc.SchedulerBase, _state: object = None) -> None:
        for i in range(4):  # 0, 1 direct; 2, 3 buffered, drained one per turn
            relay.push(i)
        # Runs after the first drain: the allowance is back, but 3 is still waiting, so
        # 9 must queue behind it.
        scheduler.schedule(push_9)

    scheduler.schedule_absolute(100, push_burst)
    scheduler.start()
    assert seen_at_9 == [3]  # 0, 1, 2 so far: 9 was not handed over
    assert [v for _, _, v in obs.events] == [0, 1, 2, 3, 9]


def test_relay_error_policy_rejects_then_errors_after_the_buffered_items() -> None:
    scheduler = TestScheduler()
    rejects: list[int] = []

    def owner_ends_source(dropped: int) -> None:
        rejects.append(dropped)
        relay.end(RuntimeError(f"slow consumer, {dropped} dropped"))

    relay: Relay[int] = Relay(
        scheduler,
        OverflowBuffer(max_items=3, overflow=Overflow.ERROR),
        report=lambda exc: None,
        on_reject=owner_ends_source,
    )
    obs = Collect[int](scheduler)
    relay.add(obs)
    burst(scheduler, relay, 100, range(8))  # 3 direct, 3 buffered, the 7th is rejected
    scheduler.start()
    assert obs.events == [
        (100, "next", 0),
        (100, "next", 1),
        (100, "next", 2),
        (100, "next", 3),
        (100, "next", 4),
        (100, "next", 5),
        (100, "error", "RuntimeError"),
    ]
    assert rejects == [1]  # once: the relay accepts nothing after the source ended


def test_relay_emits_in_batches_and_yields_between_them() -> None:
    scheduler = TestScheduler()
    relay, _, _, _ = make_relay(scheduler, Overflow.DROP_NEWEST, max_items=10, batch=4)
    obs = Collect[int](scheduler)
    relay.add(obs)
    turns: list[int] = []

    def mark(_s: abc.SchedulerBase, _state: object = None) -> None:
        turns.append(len(obs.events))

    def push_then_mark(_s: abc.SchedulerBase, _state: object = None) -> None:
        for i in range(20):
            relay.push(i)  # 10 direct; the 11th schedules a drain
        scheduler.schedule(mark)  # queued after that drain, before the one it reschedules

    scheduler.schedule_absolute(100, push_then_mark)
    scheduler.start()
    assert [v for _, _, v in obs.events] == list(range(20))
    assert turns == [10 + 4]


def test_relay_observer_exception_is_reported_and_others_get_everything() -> None:
    scheduler = TestScheduler()
    relay, reported, _, _ = make_relay(scheduler, Overflow.DROP_NEWEST, max_items=10)
    bad = Collect[int](scheduler, fail_on=1)
    good = Collect[int](scheduler)
    relay.add(bad)
    relay.add(good)
    burst(scheduler, relay, 100, range(3))
    at(scheduler, 150, lambda: relay.end(None))
    scheduler.start()
    assert [v for _, k, v in good.events if k == "next"] == [0, 1, 2]
    assert [v for _, k, v in bad.events if k == "next"] == [0, 1, 2]
    assert good.events[-1] == (150, "completed", None)
    assert [str(e) for e in reported] == ["observer fails on 1"]


def test_relay_removed_observer_gets_nothing_more_and_abandon_is_silent() -> None:
    scheduler = TestScheduler()
    relay, _, _, _ = make_relay(scheduler, Overflow.DROP_NEWEST, max_items=10)
    first, second, third = Collect[int](scheduler), Collect[int](scheduler), Collect[int](scheduler)
    for obs in (first, second, third):
        relay.add(obs)  # several observers: every item goes through the buffer
    burst(scheduler, relay, 100, range(2))
    at(scheduler, 150, lambda: relay.remove(first))
    burst(scheduler, relay, 200, range(2, 4))
    at(scheduler, 200, relay.abandon)
    scheduler.start()
    assert [v for _, _, v in first.events] == [0, 1]
    # abandon() ran before the drain of the second burst: nothing more, no completion.
    assert [v for _, _, v in second.events] == [0, 1]
    assert [v for _, _, v in third.events] == [0, 1]
    assert relay.ended
