"""Typed operators for common message pipelines.

``from rxnats.rx import operators as nops`` then, for example::

    nc.observe("orders.>").pipe(
        nops.filter_subject("orders.*.created"),
        nops.decode_json(),
        nops.batch(1.0, 100),
    )  # Observable[list[JSONValue]]

Time-based operators take an optional ``scheduler``; without one they use the scheduler
given to ``subscribe(scheduler=...)``, else the running event loop's shared
``AsyncIOScheduler`` (the client's :attr:`~rxnats.NATS.rx_scheduler`), so nothing fires
on a timer thread.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TypeAlias, TypeVar, overload

import reactivex
from reactivex import Observable, abc
from reactivex import operators as ops

from rxnats.msg import Msg
from rxnats.rx.scheduling import loop_scheduler

__all__ = [
    "Batch",
    "JSONValue",
    "Rate",
    "Sample",
    "batch",
    "decode_json",
    "filter_msg",
    "filter_subject",
    "map_msg",
    "payloads",
    "rate",
    "sample",
    "subject_matches",
]

T = TypeVar("T")
R = TypeVar("R")

JSONValue: TypeAlias = (
    dict[str, "JSONValue"] | list["JSONValue"] | str | int | float | bool | None
)
"""What ``json.loads`` returns, spelled out so no ``Any`` reaches a pipeline."""



def subject_matches(pattern: str, subject: str) -> bool:
    """Whether ``subject`` matches ``pattern`` (``*`` is one token, a final ``>`` the rest)."""
    want = pattern.split(".")
    have = subject.split(".")
    for i, token in enumerate(want):
        if token == ">" and i == len(want) - 1:
            return len(have) > i
        if i >= len(have) or (token != "*" and token != have[i]):
            return False
    return len(want) == len(have)


def map_msg(mapper: Callable[[Msg], R]) -> Callable[[Observable[Msg]], Observable[R]]:
    """``ops.map`` for messages, typed so that mypy knows a lambda's parameter is a Msg.

    (reactivex's ``pipe`` is overloaded, and mypy infers the arguments of an overloaded
    call without their context: in ``.pipe(ops.map(lambda m: m.data))`` the ``m`` is
    unknown and mypy reports an error. ``.pipe(map_msg(lambda m: m.data))`` is
    ``Observable[bytes]``.)
    """
    return ops.map(mapper)


def filter_msg(predicate: Callable[[Msg], bool]) -> Callable[[Observable[Msg]], Observable[Msg]]:
    """``ops.filter`` for messages, typed like :func:`map_msg`."""
    return ops.filter(predicate)


def payloads() -> Callable[[Observable[Msg]], Observable[bytes]]:
    """Each message's payload (``msg.data``)."""
    return ops.map(_payload)


def _payload(msg: Msg) -> bytes:
    return msg.data


def filter_subject(pattern: str) -> Callable[[Observable[Msg]], Observable[Msg]]:
    """Keep the messages whose subject matches the NATS ``pattern`` (wildcards allowed)."""
    return ops.filter(lambda msg: subject_matches(pattern, msg.subject))


@overload
def decode_json() -> Callable[[Observable[Msg]], Observable[JSONValue]]: ...


@overload
def decode_json(into: Callable[[JSONValue], R]) -> Callable[[Observable[Msg]], Observable[R]]: ...


def decode_json(
    into: Callable[[JSONValue], R] | None = None,
) -> Callable[[Observable[Msg]], Observable[JSONValue]] | Callable[[Observable[Msg]], Observable[R]]:
    """Decode each message's payload as JSON, then (optionally) convert it with ``into``.

    A payload that is not valid JSON (or that ``into`` rejects) ends the stream with that
    error, as Rx's ``map`` does; put ``ops.retry()`` or ``ops.catch(...)`` after it to
    decide otherwise.
    """
    if into is None:
        return ops.map(_loads)
    convert = into

    def decode(msg: Msg) -> R:
        return convert(_loads(msg))

    return ops.map(decode)


def _loads(msg: Msg) -> JSONValue:
    value: JSONValue = json.loads(msg.data)
    return value


def _scheduled(
    source: Observable[T],
    scheduler: abc.SchedulerBase | None,
    build: Callable[[Observable[T], abc.SchedulerBase], Observable[R]],
) -> Observable[R]:
    """``build(source, scheduler)``, with the scheduler chosen when an observer subscribes."""

    def subscribe(
        observer: abc.ObserverBase[R], subscribe_scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        chosen = scheduler or subscribe_scheduler or loop_scheduler()
        return build(source, chosen).subscribe(observer, scheduler=subscribe_scheduler)

    return reactivex.create(subscribe)


# The time-based operators are small classes with a generic ``__call__`` rather than
# closures: mypy then infers their item type from the pipeline at any position of
# ``pipe(...)``, where a closure's type variable would be left unsolved.


class Batch:
    """The operator made by :func:`batch`."""

    __slots__ = ("max_count", "scheduler", "timespan")

    def __init__(
        self, timespan: float, max_count: int, scheduler: abc.SchedulerBase | None
    ) -> None:
        self.timespan: float = timespan
        self.max_count: int = max_count
        self.scheduler: abc.SchedulerBase | None = scheduler

    def __call__(self, source: Observable[T]) -> Observable[list[T]]:
        def build(src: Observable[T], chosen: abc.SchedulerBase) -> Observable[list[T]]:
            return src.pipe(
                ops.buffer_with_time_or_count(self.timespan, self.max_count, scheduler=chosen),
                ops.filter(_not_empty),
            )

        return _scheduled(source, self.scheduler, build)


def _not_empty(items: list[T]) -> bool:
    return len(items) > 0


def batch(
    timespan: float, max_count: int, scheduler: abc.SchedulerBase | None = None
) -> Batch:
    """Lists of items, emitted every ``timespan`` seconds or at ``max_count`` items,
    whichever comes first; windows with no items emit nothing."""
    return Batch(timespan, max_count, scheduler)


class Sample:
    """The operator made by :func:`sample`."""

    __slots__ = ("interval", "scheduler")

    def __init__(self, interval: float, scheduler: abc.SchedulerBase | None) -> None:
        self.interval: float = interval
        self.scheduler: abc.SchedulerBase | None = scheduler

    def __call__(self, source: Observable[T]) -> Observable[T]:
        def build(src: Observable[T], chosen: abc.SchedulerBase) -> Observable[T]:
            return src.pipe(ops.sample(self.interval, scheduler=chosen))

        return _scheduled(source, self.scheduler, build)


def sample(interval: float, scheduler: abc.SchedulerBase | None = None) -> Sample:
    """The latest item of each ``interval`` seconds (nothing for a quiet interval)."""
    return Sample(interval, scheduler)


class Rate:
    """The operator made by :func:`rate`."""

    __slots__ = ("interval", "scheduler")

    def __init__(self, interval: float, scheduler: abc.SchedulerBase | None) -> None:
        self.interval: float = interval
        self.scheduler: abc.SchedulerBase | None = scheduler

    def __call__(self, source: Observable[T]) -> Observable[float]:
        interval = self.interval

        def count(window: Observable[T]) -> Observable[int]:
            return window.pipe(ops.count())

        def per_second(n: int) -> float:
            return n / interval

        def build(src: Observable[T], chosen: abc.SchedulerBase) -> Observable[float]:
            return src.pipe(
                ops.window_with_time(interval, scheduler=chosen),
                ops.flat_map(count),
                ops.map(per_second),
            )

        return _scheduled(source, self.scheduler, build)


def rate(interval: float, scheduler: abc.SchedulerBase | None = None) -> Rate:
    """Items per second, measured over each ``interval`` seconds (0.0 for a quiet one)."""
    return Rate(interval, scheduler)
