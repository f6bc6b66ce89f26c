"""The reconnect policy as plain data: pool, backoff, plan and error classifiers (no sleeping)."""

from __future__ import annotations

import ast
import itertools
import random
from pathlib import Path

import pytest

import rxnats.wire.policy as policy_module
from rxnats.errors import (
    AuthorizationError,
    MaxConnectionsExceededError,
    PermissionsViolationError,
    SecureConnRequiredError,
    SecureConnWantedError,
    ServerError,
    StaleConnectionError,
    UnexpectedEOF,
)
from rxnats.wire.policy import (
    AttemptVerdict,
    Backoff,
    ErrAction,
    ServerPool,
    classify_attempt_error,
    classify_server_error,
    reconnect_plan,
    server_error_exception,
)

URLS = [f"nats://10.0.0.{i}:4222" for i in range(1, 6)]


def test_policy_imports_no_io_or_clock() -> None:
    tree = ast.parse(Path(policy_module.__file__).read_text())
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    roots = {name.split(".")[0] for name in imported}
    assert not roots & {"asyncio", "socket", "ssl", "time", "threading", "selectors"}


# ---------------------------------------------------------------------------- pool
def test_pool_keeps_order_without_randomize() -> None:
    pool = ServerPool(URLS, randomize=False)
    assert pool.urls() == URLS


def test_pool_shuffle_is_seeded() -> None:
    a = ServerPool(URLS, rng=random.Random(7))
    b = ServerPool(URLS, rng=random.Random(7))
    assert a.urls() == b.urls()
    assert sorted(a.urls()) == sorted(URLS)
    orders = {tuple(ServerPool(URLS, rng=random.Random(seed)).urls()) for seed in range(20)}
    assert len(orders) > 1


def test_urls_never_show_credentials() -> None:
    pool = ServerPool(["nats://alice:secret@h1:4222", "nats://tok@h2:4223"], randomize=False)
    assert pool.urls() == ["nats://h1:4222", "nats://h2:4223"]


def test_add_discovered_skips_known_and_garbage() -> None:
    pool = ServerPool(["nats://127.0.0.1:4222"], randomize=False)
    added = pool.add_discovered(["127.0.0.1:4222", "127.0.0.1:4223", "bad host:x", "127.0.0.1:4223"])
    assert added == ["nats://127.0.0.1:4223"]
    assert pool.discovered_urls() == ["nats://127.0.0.1:4223"]
    assert pool.add_discovered(["127.0.0.1:4223"]) == []
    tls_added = pool.add_discovered(["10.1.1.1:4222"], scheme="tls")
    assert tls_added == ["tls://10.1.1.1:4222"]


def test_discovered_servers_are_shuffled_unless_told_not_to() -> None:
    new = [f"10.9.0.{i}:4222" for i in range(10)]
    pool = ServerPool(URLS[:1], randomize=False)
    assert pool.add_discovered(new) == [f"nats://{u}" for u in new]
    shuffled = ServerPool(URLS[:1], rng=random.Random(3))
    assert shuffled.add_discovered(new) != [f"nats://{u}" for u in new]


def test_next_candidate_rotates_current_to_the_back() -> None:
    pool = ServerPool(URLS[:3], randomize=False)
    first = pool.entries[0]
    nxt = pool.next_candidate(first)
    assert nxt is not None and nxt.url == URLS[1]
    assert pool.urls() == [URLS[1], URLS[2], URLS[0]]


def test_single_server_pool_retries_itself() -> None:
    pool = ServerPool(URLS[:1], randomize=False)
    only = pool.entries[0]
    assert pool.next_candidate(only) is only


def test_max_reconnect_attempts_retires_a_server() -> None:
    pool = ServerPool(URLS[:1], randomize=False, max_reconnect_attempts=3)
    entry = pool.entries[0]
    for n in range(3):
        assert pool.next_candidate(entry) is entry, n
        pool.record_failure(entry, ConnectionRefusedError(), now=float(n))
    assert pool.next_candidate(entry) is None
    assert pool.retired == [entry]
    assert "max_reconnect_attempts=3" in pool.failure_report()
    assert "connection refused" in pool.failure_report()


def test_zero_max_reconnect_attempts_means_no_retry() -> None:
    pool = ServerPool(URLS[:2], randomize=False, max_reconnect_attempts=0)
    assert pool.next_candidate(pool.entries[0]) is None


def test_forever_never_retires() -> None:
    pool = ServerPool(URLS[:1], randomize=False, max_reconnect_attempts=-1)
    entry = pool.entries[0]
    for n in range(1000):
        pool.record_failure(entry, TimeoutError(), now=float(n))
    assert pool.next_candidate(entry) is entry


def test_success_resets_the_counters() -> None:
    pool = ServerPool(URLS[:1], randomize=False, max_reconnect_attempts=2)
    entry = pool.entries[0]
    pool.record_failure(entry, ConnectionRefusedError(), now=1.0)
    pool.record_success(entry, now=2.0)
    pool.record_failure(entry, ConnectionRefusedError(), now=3.0)
    assert pool.next_candidate(entry) is entry
    assert entry.did_connect


def test_same_auth_error_twice_retires_the_server() -> None:
    pool = ServerPool(URLS[:2], randomize=False, max_reconnect_attempts=-1)
    entry = pool.entries[0]
    pool.record_failure(entry, AuthorizationError("Authorization Violation"), now=1.0)
    assert entry in pool.entries
    pool.record_failure(entry, AuthorizationError("authorization violation"), now=2.0)
    assert entry not in pool.entries
    assert pool.retired == [entry]
    assert "refused the same credentials twice" in pool.failure_report()


def test_different_auth_errors_or_a_gap_do_not_retire() -> None:
    pool = ServerPool(URLS[:1], randomize=False, max_reconnect_attempts=-1)
    entry = pool.entries[0]
    pool.record_failure(entry, AuthorizationError("Authorization Violation"), now=1.0)
    pool.record_failure(entry, AuthorizationError("User Authentication Expired"), now=2.0)
    assert entry in pool.entries
    pool.record_failure(entry, ConnectionRefusedError(), now=3.0)
    pool.record_failure(entry, AuthorizationError("User Authentication Expired"), now=4.0)
    assert entry in pool.entries


def test_tls_mismatch_retires_at_once() -> None:
    pool = ServerPool(URLS[:2], randomize=False)
    entry = pool.entries[0]
    pool.record_failure(entry, SecureConnRequiredError("needs TLS"), now=1.0)
    assert pool.retired == [entry]
    assert pool.urls() == [URLS[1]]


def test_retired_servers_are_not_rediscovered() -> None:
    pool = ServerPool(["nats://127.0.0.1:4222", "nats://127.0.0.1:4223"], randomize=False)
    pool.record_failure(pool.entries[0], SecureConnWantedError("no TLS"), now=1.0)
    assert pool.add_discovered(["127.0.0.1:4222"]) == []


# ---------------------------------------------------------------------------- backoff
def test_backoff_first_wait_is_zero_then_jittered_wait() -> None:
    delays = Backoff(2.0, jitter=0.1).delays(random.Random(1))
    first, *rest = itertools.islice(delays, 50)
    assert first == 0.0
    assert all(2.0 <= d <= 2.2 for d in rest)
    assert len(set(rest)) > 1  # jittered, not in step


def test_backoff_is_reproducible_with_a_seed() -> None:
    a = list(itertools.islice(Backoff(1.0).delays(random.Random(5)), 10))
    b = list(itertools.islice(Backoff(1.0).delays(random.Random(5)), 10))
    assert a == b


def test_backoff_without_jitter_or_wait() -> None:
    assert list(itertools.islice(Backoff(0.5, jitter=0).delays(random.Random()), 3)) == [0, 0.5, 0.5]
    assert list(itertools.islice(Backoff(0, jitter=0.5).delays(random.Random()), 3)) == [0, 0, 0]


def test_backoff_rejects_negative_values() -> None:
    with pytest.raises(ValueError):
        Backoff(-1.0)
    with pytest.raises(ValueError):
        Backoff(1.0, jitter=-0.1)


# ---------------------------------------------------------------------------- plan
def test_plan_tries_every_server_once_per_pass_and_waits_between_passes() -> None:
    pool = ServerPool(URLS[:3], randomize=False, max_reconnect_attempts=-1)
    lost = pool.entries[0]
    plan = reconnect_plan(pool, Backoff(1.0, jitter=0.0), after=lost)
    steps = []
    for attempt in itertools.islice(plan, 7):
        steps.append((attempt.number, attempt.entry.url, attempt.delay))
        pool.record_failure(attempt.entry, ConnectionRefusedError(), now=0.0)
    assert steps == [
        (1, URLS[1], 0.0),  # the first pass waits for nothing, the lost server comes last
        (2, URLS[2], 0.0),
        (3, URLS[0], 0.0),
        (4, URLS[1], 1.0),  # each later pass starts with one wait
        (5, URLS[2], 0.0),
        (6, URLS[0], 0.0),
        (7, URLS[1], 1.0),
    ]


def test_plan_single_server_immediate_retry_then_backoff() -> None:
    pool = ServerPool(URLS[:1], randomize=False, max_reconnect_attempts=-1)
    plan = reconnect_plan(pool, Backoff(2.0, jitter=0.5), after=pool.entries[0])
    delays = []
    for attempt in itertools.islice(plan, 4):
        delays.append(attempt.delay)
        pool.record_failure(attempt.entry, TimeoutError(), now=0.0)
    assert delays[0] == 0.0
    assert all(2.0 <= d <= 3.0 for d in delays[1:])


def test_plan_ends_when_every_server_is_retired() -> None:
    pool = ServerPool(URLS[:2], randomize=False, max_reconnect_attempts=2)
    attempts = []
    for attempt in reconnect_plan(pool, Backoff(0.0), after=pool.entries[0]):
        attempts.append(attempt.entry.url)
        pool.record_failure(attempt.entry, ConnectionRefusedError(), now=0.0)
    assert attempts == [URLS[1], URLS[0], URLS[1], URLS[0]]
    assert pool.entries == []
    assert len(pool.retired) == 2


def test_plan_stops_on_auth_twice_and_keeps_the_other_server() -> None:
    pool = ServerPool(URLS[:2], randomize=False, max_reconnect_attempts=-1)
    bad, good = pool.entries
    plan = reconnect_plan(pool, Backoff(0.0), after=good)
    tried = []
    for attempt in itertools.islice(plan, 6):
        tried.append(attempt.entry)
        error: Exception = (
            AuthorizationError("Authorization Violation")
            if attempt.entry is bad
            else ConnectionRefusedError()
        )
        pool.record_failure(attempt.entry, error, now=0.0)
    assert tried.count(bad) == 2
    assert tried[-1] is good
    assert pool.entries == [good]


def test_plan_picks_up_servers_discovered_meanwhile() -> None:
    pool = ServerPool(URLS[:1], randomize=False, max_reconnect_attempts=-1)
    plan = reconnect_plan(pool, Backoff(0.0), after=pool.entries[0])
    first = next(plan)
    pool.record_failure(first.entry, ConnectionRefusedError(), now=0.0)
    pool.add_discovered(["10.7.7.7:4222"])
    urls = []
    for attempt in itertools.islice(plan, 3):
        urls.append(attempt.entry.url)
        pool.record_failure(attempt.entry, ConnectionRefusedError(), now=0.0)
    assert "nats://10.7.7.7:4222" in urls


# ---------------------------------------------------------------------------- classifiers
@pytest.mark.parametrize(
    ("error", "verdict"),
    [
        (ConnectionRefusedError(), AttemptVerdict.RETRY),
        (TimeoutError(), AttemptVerdict.RETRY),
        (UnexpectedEOF(), AttemptVerdict.RETRY),
        (MaxConnectionsExceededError("maximum connections exceeded"), AttemptVerdict.RETRY),
        (AuthorizationError("Authorization Violation"), AttemptVerdict.AUTH),
        (SecureConnRequiredError("x"), AttemptVerdict.RETIRE),
        (SecureConnWantedError("x"), AttemptVerdict.RETIRE),
    ],
)
def test_classify_attempt_error(error: BaseException, verdict: AttemptVerdict) -> None:
    assert classify_attempt_error(error) is verdict


@pytest.mark.parametrize(
    ("message", "action", "exc_type"),
    [
        ("Permissions Violation for Publish to \"x\"", ErrAction.KEEP, PermissionsViolationError),
        ("Invalid Subject", ErrAction.KEEP, ServerError),
        ("maximum subscriptions exceeded", ErrAction.KEEP, ServerError),
        ("Authorization Violation", ErrAction.AUTH, AuthorizationError),
        ("User Authentication Expired", ErrAction.AUTH, AuthorizationError),
        ("Authentication Timeout", ErrAction.AUTH, AuthorizationError),
        ("Stale Connection", ErrAction.RECONNECT, StaleConnectionError),
        ("maximum connections exceeded", ErrAction.RECONNECT, MaxConnectionsExceededError),
        ("Maximum Payload Violation", ErrAction.RECONNECT, ServerError),
        ("Unknown Protocol Operation", ErrAction.RECONNECT, ServerError),
    ],
)
def test_classify_server_error(message: str, action: ErrAction, exc_type: type[Exception]) -> None:
    assert classify_server_error(message) is action
    assert classify_server_error(message.upper()) is action
    err = server_error_exception(message)
    assert type(err) is exc_type
    assert message in str(err)
