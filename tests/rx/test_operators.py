"""rxnats.rx.operators: marble tests in virtual time, plus the pure helpers."""

from __future__ import annotations

import json

import pytest
from reactivex import Observable
from reactivex.notification import OnError
from reactivex.testing import ReactiveTest, TestScheduler

from rxnats.msg import Msg
from rxnats.rx import operators as nops

on_next = ReactiveTest.on_next
on_completed = ReactiveTest.on_completed
on_error = ReactiveTest.on_error


@pytest.mark.parametrize(
    ("pattern", "subject", "expected"),
    [
        ("a.b", "a.b", True),
        ("a.b", "a.c", False),
        ("a.*", "a.b", True),
        ("a.*", "a.b.c", False),
        ("a.>", "a.b.c", True),
        ("a.>", "a", False),
        ("*.b.>", "x.b.y", True),
        ("a.b.c", "a.b", False),
    ],
)
def test_subject_matches(pattern: str, subject: str, expected: bool) -> None:
    assert nops.subject_matches(pattern, subject) is expected


def test_batch_skips_empty_windows() -> None:
    scheduler = TestScheduler()
    source = scheduler.create_hot_observable(
        on_next(210, 1),
        on_next(220, 2),
        on_next(230, 3),
        on_next(240, 4),  # the count of 3 closed the first batch at 230
        on_next(420, 5),  # windows ending at 330 and 380 saw nothing: no []
        on_completed(500),
    )
    results = scheduler.start(
        lambda: source.pipe(nops.batch(50, 3, scheduler=scheduler)), disposed=1000
    )
    assert results.messages == [
        on_next(230, [1, 2, 3]),
        on_next(280, [4]),
        on_next(430, [5]),
        on_completed(500),
    ]


def test_sample_emits_the_latest_of_each_interval_and_nothing_for_quiet_ones() -> None:
    scheduler = TestScheduler()
    source = scheduler.create_hot_observable(
        on_next(210, "a"),
        on_next(220, "b"),
        on_next(260, "c"),
        on_completed(400),
    )
    results = scheduler.start(
        lambda: source.pipe(nops.sample(50, scheduler=scheduler)), disposed=1000
    )
    assert results.messages == [on_next(250, "b"), on_next(300, "c"), on_completed(400)]


def test_rate_counts_per_interval_including_quiet_ones() -> None:
    scheduler = TestScheduler()
    source = scheduler.create_hot_observable(
        on_next(210, 0),
        on_next(220, 0),
        on_next(230, 0),
        on_next(310, 0),
        on_completed(390),
    )
    results = scheduler.start(
        lambda: source.pipe(nops.rate(100, scheduler=scheduler)), disposed=1000
    )
    assert results.messages == [on_next(300, 3 / 100), on_next(390, 1 / 100), on_completed(390)]


def test_batch_without_scheduler_uses_the_subscribe_scheduler() -> None:
    scheduler = TestScheduler()
    source = scheduler.create_hot_observable(on_next(210, 1), on_completed(300))
    results = scheduler.start(lambda: source.pipe(nops.batch(20, 10)), disposed=1000)
    assert results.messages == [on_next(220, [1]), on_completed(300)]


def msg(subject: str, data: bytes) -> Msg:
    return Msg(None, subject, "", data)


def test_filter_subject_and_decode_json() -> None:
    scheduler = TestScheduler()
    source: Observable[Msg] = scheduler.create_hot_observable(
        on_next(210, msg("orders.eu.created", b'{"id": 1}')),
        on_next(220, msg("orders.eu.deleted", b'{"id": 2}')),
        on_next(230, msg("orders.us.created", b"[3]")),
        on_completed(300),
    )
    results = scheduler.start(
        lambda: source.pipe(nops.filter_subject("orders.*.created"), nops.decode_json())
    )
    assert results.messages == [on_next(210, {"id": 1}), on_next(230, [3]), on_completed(300)]


def test_decode_json_into_a_type_and_invalid_json_errors() -> None:
    scheduler = TestScheduler()
    source: Observable[Msg] = scheduler.create_hot_observable(
        on_next(210, msg("n", b"41")),
        on_next(220, msg("n", b"not json")),
        on_next(230, msg("n", b"43")),
    )

    def as_int(value: nops.JSONValue) -> int:
        assert isinstance(value, int)
        return value

    results = scheduler.start(lambda: source.pipe(nops.decode_json(as_int)))
    assert results.messages[0] == on_next(210, 41)
    assert len(results.messages) == 2
    error = results.messages[1].value
    assert isinstance(error, OnError)
    assert isinstance(error.exception, json.JSONDecodeError)
