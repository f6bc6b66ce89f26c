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
    PoolEntry,
    ServerPool,
    classify_attempt_error,
    classify_server_error,
    reconnect_plan,
    server_error_exception,
)
from rxnats.wire.urls import ServerAddress, parse_server_url

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


def test_discovered_servers_are_bounded_and_deduplicated_in_one_pass() -> None:
    pool = ServerPool(URLS[:1], randomize=False, max_discovered=100)
    announced = [f"10.{i // 65536}.{i // 256 % 256}.{i % 256}:4222" for i in range(30_000)]
    added = pool.add_discovered(announced)
    assert len(added) == 100
    assert len(pool.discovered_urls()) == 100
    assert pool.add_discovered(announced) == []  # full: nothing more, nothing parsed
    # Deduplicated by host and port however a server is spelled, announced many times.
    pool = ServerPool(URLS[:1], randomize=False)
    again = ["10.0.0.1:4222", "10.0.0.9:4222", "10.0.0.9:4222", "nats://10.0.0.9:4222"] * 5_000
    assert pool.add_discovered(again) == ["nats://10.0.0.9:4222"]
    assert pool.add_discovered(again) == []


def test_add_discovered_parses_a_bounded_number_of_entries_per_announcement(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parsed = 0
    real_parse = parse_server_url

    def counting_parse(url: str, *, implicit: bool = False) -> ServerAddress:
        nonlocal parsed
        parsed += 1
        return real_parse(url, implicit=implicit)

    monkeypatch.setattr("rxnats.wire.policy.parse_server_url", counting_parse)
    pool = ServerPool(URLS[:1], randomize=False, max_discovered=50)
    parsed = 0
    garbage = [f"bad host {i}" for i in range(30_000)]
    assert pool.add_discovered(garbage) == []
    assert parsed <= 100
    parsed = 0
    same = ["10.0.0.9:4222"] * 30_000
    pool.add_discovered(same)
    pool.add_discovered(same)
    assert parsed == 1  # a known text is a set lookup, not a parse


def test_a_replaced_pool_keeps_each_servers_pace_and_can_discover_again() -> None:
    pool = ServerPool(URLS[:2], randomize=False, backoff=Backoff(2.0, jitter=0.0), max_discovered=1)
    first = pool.entries[0]
    pool.record_attempt(first, 10.0)
    assert pool.add_discovered(["10.9.9.9:4222"]) == ["nats://10.9.9.9:4222"]
    assert pool.add_discovered(["10.9.9.8:4222"]) == []  # full
    pool.replace([URLS[0], URLS[2]])
    kept = pool.find(first.address)
    assert kept is not None and (kept.streak, kept.not_before) == (1, 12.0)
    # The announced server left with the old pool: it may be discovered again.
    assert pool.add_discovered(["10.9.9.9:4222"]) == ["nats://10.9.9.9:4222"]


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
        pool.record_failure(entry, ConnectionRefusedError())
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
    for _n in range(1000):
        pool.record_failure(entry, TimeoutError())
    assert pool.next_candidate(entry) is entry


def test_success_resets_the_counters() -> None:
    pool = ServerPool(URLS[:1], randomize=False, max_reconnect_attempts=2)
    entry = pool.entries[0]
    pool.record_failure(entry, ConnectionRefusedError())
    pool.record_success(entry)
    pool.record_failure(entry, ConnectionRefusedError())
    assert pool.next_candidate(entry) is entry
    assert entry.did_connect


def test_same_auth_error_twice_retires_the_server() -> None:
    pool = ServerPool(URLS[:2], randomize=False, max_reconnect_attempts=-1)
    entry = pool.entries[0]
    pool.record_failure(entry, AuthorizationError("Authorization Violation"))
    assert entry in pool.entries
    pool.record_failure(entry, AuthorizationError("authorization violation"))
    assert entry not in pool.entries
    assert pool.retired == [entry]
    assert "refused the same credentials twice" in pool.failure_report()


def test_different_auth_errors_or_a_gap_do_not_retire() -> None:
    pool = ServerPool(URLS[:1], randomize=False, max_reconnect_attempts=-1)
    entry = pool.entries[0]
    pool.record_failure(entry, AuthorizationError("Authorization Violation"))
    pool.record_failure(entry, AuthorizationError("User Authentication Expired"))
    assert entry in pool.entries
    pool.record_failure(entry, ConnectionRefusedError())
    pool.record_failure(entry, AuthorizationError("User Authentication Expired"))
    assert entry in pool.entries


def test_tls_mismatch_retires_at_once() -> None:
    pool = ServerPool(URLS[:2], randomize=False)
    entry = pool.entries[0]
    pool.record_failure(entry, SecureConnRequiredError("needs TLS"))
    assert pool.retired == [entry]
    assert pool.urls() == [URLS[1]]


def test_retired_servers_are_not_rediscovered() -> None:
    pool = ServerPool(["nats://127.0.0.1:4222", "nats://127.0.0.1:4223"], randomize=False)
    pool.record_failure(pool.entries[0], SecureConnWantedError("no TLS"))
    assert pool.add_discovered(["127.0.0.1:4222"]) == []


# ---------------------------------------------------------------------------- backoff
def test_backoff_wait_is_the_jittered_reconnect_time_wait() -> None:
    backoff = Backoff(2.0, jitter=0.1)
    rng = random.Random(1)
    assert backoff.wait(0, rng) == 0.0  # nothing to wait for before a first attempt
    waits = [backoff.wait(streak, rng) for streak in range(1, 50)]
    assert all(2.0 <= w <= 2.2 for w in waits)
    assert len(set(waits)) > 1  # jittered, not in step


def test_backoff_is_reproducible_with_a_seed() -> None:
    a = [Backoff(1.0).wait(n, random.Random(5)) for n in range(10)]
    b = [Backoff(1.0).wait(n, random.Random(5)) for n in range(10)]
    assert a == b


def test_backoff_without_jitter_or_wait() -> None:
    assert [Backoff(0.5, jitter=0).wait(n, random.Random()) for n in range(3)] == [0, 0.5, 0.5]
    assert [Backoff(0, jitter=0.5).wait(n, random.Random()) for n in range(3)] == [0, 0, 0]


def test_exponential_backoff_doubles_up_to_its_cap() -> None:
    backoff = Backoff(0.5, jitter=0.0, max_wait=3.0)
    waits = [backoff.wait(n, random.Random()) for n in range(1, 7)]
    assert waits == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]
    assert backoff.wait(10_000, random.Random()) == 3.0  # no overflow however long
    jittered = Backoff(0.5, jitter=0.1, max_wait=3.0)
    assert all(3.0 <= jittered.wait(n, random.Random(n)) <= 3.3 for n in range(5, 40))


def test_backoff_rejects_negative_values_and_a_cap_below_the_wait() -> None:
    with pytest.raises(ValueError):
        Backoff(-1.0)
    with pytest.raises(ValueError):
        Backoff(1.0, jitter=-0.1)
    with pytest.raises(ValueError):
        Backoff(1.0, max_wait=0.5)


# ---------------------------------------------------------------------------- pacing
def test_two_attempts_on_one_server_start_a_wait_apart() -> None:
    pool = ServerPool(URLS[:1], randomize=False, backoff=Backoff(2.0, jitter=0.0))
    entry = pool.entries[0]
    assert entry.not_before == float("-inf")  # never tried: no wait
    pool.record_attempt(entry, now=10.0)
    assert entry.not_before == 12.0
    pool.record_failure(entry, ConnectionRefusedError())
    pool.record_attempt(entry, now=12.5)
    assert entry.not_before == 14.5


def test_a_connection_dropped_at_once_keeps_the_pace_across_episodes() -> None:
    # Accepted, then dropped: a handshake that succeeds must not reset the pacing, or a
    # server that closes every connection at once is reconnected to in a tight loop.
    pool = ServerPool(URLS[:1], randomize=False, backoff=Backoff(0.5, jitter=0.0))
    entry = pool.entries[0]
    now = 0.0
    starts = []
    for _episode in range(5):
        attempt = next(reconnect_plan(pool, after=entry))
        now = max(now, attempt.not_before)  # the supervisor sleeps attempt.delay(now)
        starts.append(now)
        pool.record_attempt(attempt.entry, now)
        pool.record_success(attempt.entry)
        now += 0.01  # the server drops the client 10 ms after accepting it
        pool.record_loss(attempt.entry, now)
    assert starts == [0.0, 0.5, 1.0, 1.5, 2.0]


def test_a_lasting_connection_makes_the_next_attempt_immediate_and_resets_the_backoff() -> None:
    pool = ServerPool(URLS[:1], randomize=False, backoff=Backoff(1.0, jitter=0.0, max_wait=8.0))
    entry = pool.entries[0]
    for now in (0.0, 1.0, 3.0, 7.0):  # each dropped at once: 1, 2, 4, then 8 s apart
        pool.record_attempt(entry, now)
        pool.record_loss(entry, now + 0.01)
    assert entry.not_before == 15.0
    pool.record_attempt(entry, 15.0)
    pool.record_loss(entry, 600.0)  # this connection lasted ten minutes
    attempt = next(reconnect_plan(pool, after=entry))
    assert attempt.delay(600.0) == 0.0
    pool.record_attempt(entry, 600.0)
    assert entry.not_before == 601.0  # backing off from the start again


def test_attempt_delay_is_what_is_left_of_the_wait() -> None:
    pool = ServerPool(URLS[:1], randomize=False, backoff=Backoff(2.0, jitter=0.0))
    entry = pool.entries[0]
    pool.record_attempt(entry, now=100.0)
    attempt = next(reconnect_plan(pool, after=entry))
    assert attempt.delay(100.5) == 1.5
    assert attempt.delay(103.0) == 0.0


# ---------------------------------------------------------------------------- plan
def run_plan(
    pool: ServerPool, after: object, steps: int, outcome: Exception
) -> list[tuple[int, str, float]]:
    """Drive the plan as the supervisor does, on a clock that only moves by waiting."""
    now = 0.0
    done = []
    plan = reconnect_plan(pool, after=after if isinstance(after, PoolEntry) else None)
    for attempt in itertools.islice(plan, steps):
        delay = attempt.delay(now)
        now += delay
        done.append((attempt.number, attempt.entry.url, delay))
        pool.record_attempt(attempt.entry, now)
        pool.record_failure(attempt.entry, outcome)
    return done


def test_plan_tries_every_server_in_turn_and_paces_each() -> None:
    pool = ServerPool(
        URLS[:3], randomize=False, max_reconnect_attempts=-1, backoff=Backoff(1.0, jitter=0.0)
    )
    lost = pool.entries[0]
    pool.record_attempt(lost, 0.0)  # the lost connection was made at t=0
    pool.record_loss(lost, 0.0)
    assert run_plan(pool, lost, 7, ConnectionRefusedError()) == [
        (1, URLS[1], 0.0),  # never tried: at once; the lost server comes last
        (2, URLS[2], 0.0),
        (3, URLS[0], 1.0),  # started a second ago: waits for the rest of its wait
        (4, URLS[1], 0.0),  # its wait ran out meanwhile (attempts take no time here)
        (5, URLS[2], 0.0),
        (6, URLS[0], 1.0),
        (7, URLS[1], 0.0),
    ]


def test_plan_single_server_paces_every_attempt() -> None:
    pool = ServerPool(
        URLS[:1], randomize=False, max_reconnect_attempts=-1, backoff=Backoff(2.0, jitter=0.5)
    )
    delays = [delay for _, _, delay in run_plan(pool, pool.entries[0], 4, TimeoutError())]
    assert delays[0] == 0.0  # never tried before
    assert all(2.0 <= d <= 3.0 for d in delays[1:])


def test_plan_ends_when_every_server_is_retired() -> None:
    pool = ServerPool(URLS[:2], randomize=False, max_reconnect_attempts=2, backoff=Backoff(0.0))
    attempts = []
    for attempt in reconnect_plan(pool, after=pool.entries[0]):
        attempts.append(attempt.entry.url)
        pool.record_failure(attempt.entry, ConnectionRefusedError())
    assert attempts == [URLS[1], URLS[0], URLS[1], URLS[0]]
    assert pool.entries == []
    assert len(pool.retired) == 2


def test_plan_stops_on_auth_twice_and_keeps_the_other_server() -> None:
    pool = ServerPool(URLS[:2], randomize=False, max_reconnect_attempts=-1, backoff=Backoff(0.0))
    bad, good = pool.entries
    plan = reconnect_plan(pool, after=good)
    tried = []
    for attempt in itertools.islice(plan, 6):
        tried.append(attempt.entry)
        error: Exception = (
            AuthorizationError("Authorization Violation")
            if attempt.entry is bad
            else ConnectionRefusedError()
        )
        pool.record_failure(attempt.entry, error)
    assert tried.count(bad) == 2
    assert tried[-1] is good
    assert pool.entries == [good]


def test_plan_picks_up_servers_discovered_meanwhile() -> None:
    pool = ServerPool(URLS[:1], randomize=False, max_reconnect_attempts=-1, backoff=Backoff(0.0))
    plan = reconnect_plan(pool, after=pool.entries[0])
    first = next(plan)
    pool.record_failure(first.entry, ConnectionRefusedError())
    pool.add_discovered(["10.7.7.7:4222"])
    urls = []
    for attempt in itertools.islice(plan, 3):
        urls.append(attempt.entry.url)
        pool.record_failure(attempt.entry, ConnectionRefusedError())
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
