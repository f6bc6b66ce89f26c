"""The bench's own arithmetic, without a server: latency percentiles and the argument lists."""

from __future__ import annotations

import argparse
import math
import random

import pytest

from rxnats.bench.command import _configs, add_bench_arguments
from rxnats.bench.runner import LATENCY_PERCENTILES, LatencyHistogram


def test_latency_percentiles_are_within_one_percent_and_max_is_exact() -> None:
    rng = random.Random(7)
    samples = [rng.lognormvariate(-8, 1) for _ in range(20_000)]  # around 300 µs
    hist = LatencyHistogram()
    for s in samples:
        hist.record(s)
    got = hist.percentiles()
    assert list(got) == [name for name, _ in LATENCY_PERCENTILES]
    ordered = sorted(samples)
    for name, p in LATENCY_PERCENTILES[:-1]:
        exact = ordered[max(0, math.ceil(len(ordered) * p / 100) - 1)] * 1e6  # nearest rank
        assert got[name] == pytest.approx(exact, rel=0.01)
    assert got["max"] == pytest.approx(ordered[-1] * 1e6, abs=0.1)


def test_latency_histogram_edges() -> None:
    hist = LatencyHistogram()
    assert hist.percentiles() == {}
    hist.record(0.0)  # below a microsecond: the first bucket
    hist.record(5.0)  # the request timeout, long after anything else
    got = hist.percentiles()
    assert got["p50"] <= 1.01 and got["max"] == 5e6
    assert all(v <= got["max"] for v in got.values())


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_bench_arguments(parser)
    return parser.parse_args(list(argv))


def test_each_concurrency_is_a_request_run_of_its_own() -> None:
    configs = _configs(_args("request,pub", "--concurrency", "1,10,100"))
    assert [(c.mode, c.concurrency) for c in configs] == [
        ("request", 1), ("request", 10), ("request", 100), ("pub", 1),
    ]
    assert [c.concurrency for c in _configs(_args("request"))] == [1]
