"""The supervisor with a scripted opener and resolver: no sockets, no real waiting."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

import pytest

from rxnats.errors import AuthorizationError, NoServersError, SecureConnRequiredError
from rxnats.testing.transport import MemoryTransport
from rxnats.wire.aio.supervisor import Supervisor, SupervisorSettings
from rxnats.wire.aio.transport import TLSSettings, Transport
from rxnats.wire.handshake import ConnectSettings
from rxnats.wire.policy import PoolEntry
from rxnats.wire.urls import ServerAddress

Outcome = BaseException | None  # None: the handshake succeeds


class Script:
    """A fake DNS and handshake: each host's addresses, each address's outcomes in turn."""

    def __init__(self, addresses: dict[str, list[str]], outcomes: dict[str, list[Outcome]]) -> None:
        self.addresses = addresses
        self.outcomes = outcomes
        self.tried: list[tuple[str, str | None, float]] = []  # (address, tls name, timeout)

    async def resolve(self, host: str, port: int) -> list[str]:
        return list(self.addresses.get(host, [host]))

    async def open(self, address: ServerAddress, tls: TLSSettings, timeout: float) -> Transport:
        self.tried.append((address.host, tls.hostname, timeout))
        queue = self.outcomes.get(address.host, [])
        outcome = queue.pop(0) if len(queue) > 1 else (queue[0] if queue else None)
        if outcome is not None:
            raise outcome
        return MemoryTransport(address)


def build(
    script: Script,
    urls: list[str],
    *,
    randomize: bool = False,
    max_reconnect_attempts: int = 60,
    reconnect_time_wait: float = 0.0,
    rng: random.Random | None = None,
    **handlers: Callable[..., None],
) -> Supervisor:
    return Supervisor(
        SupervisorSettings(
            urls=urls,
            randomize=randomize,
            connect_timeout=1.5,
            reconnect_time_wait=reconnect_time_wait,
            max_reconnect_attempts=max_reconnect_attempts,
        ),
        connect_settings=ConnectSettings(version="test"),
        opener=script.open,
        resolver=script.resolve,
        rng=rng,
        **handlers,
    )


async def test_each_address_is_tried_until_one_answers() -> None:
    script = Script(
        {"nats.example": ["10.0.0.1", "10.0.0.2", "10.0.0.3"]},
        {"10.0.0.1": [ConnectionRefusedError()], "10.0.0.2": [TimeoutError()]},
    )
    sup = build(script, ["nats://user:pw@nats.example:4222"])
    conn, entry = await sup.connect_initial()
    assert [t[0] for t in script.tried] == ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
    # TLS verifies the configured name, each address gets the whole connect_timeout
    assert {(t[1], t[2]) for t in script.tried} == {("nats.example", 1.5)}
    assert conn.address == entry.address  # reported as configured, credentials kept
    assert conn.address.host == "nats.example" and conn.address.password == "pw"


async def test_explicit_tls_hostname_wins() -> None:
    script = Script({"h": ["10.0.0.1"]}, {})
    sup = Supervisor(
        SupervisorSettings(urls=["nats://h:4222"], tls=TLSSettings(hostname="cert.name")),
        connect_settings=ConnectSettings(version="test"),
        opener=script.open,
        resolver=script.resolve,
    )
    await sup.connect_initial()
    assert script.tried[0][1] == "cert.name"


async def test_addresses_are_shuffled_when_randomized() -> None:
    orders = set()
    for seed in range(10):
        script = Script({"h": [f"10.0.0.{i}" for i in range(6)]}, {"10.0.0.5": [None]})
        for i in range(5):
            script.outcomes[f"10.0.0.{i}"] = [ConnectionRefusedError()]
        sup = build(script, ["nats://h:4222"], randomize=True, rng=random.Random(seed))
        await sup.connect_initial()
        orders.add(tuple(t[0] for t in script.tried))
    assert len(orders) > 1


async def test_a_server_answer_ends_the_attempt() -> None:
    script = Script(
        {"h": ["10.0.0.1", "10.0.0.2"]},
        {"10.0.0.1": [AuthorizationError("Authorization Violation")]},
    )
    sup = build(script, ["nats://h:4222"])
    with pytest.raises(AuthorizationError):  # one server: its own typed error
        await sup.connect_initial()
    assert [t[0] for t in script.tried] == ["10.0.0.1"]


async def test_initial_connect_names_each_server() -> None:
    script = Script(
        {},
        {"a": [ConnectionRefusedError()], "b": [SecureConnRequiredError("b requires TLS")]},
    )
    sup = build(script, ["nats://a:1", "nats://b:2"])
    with pytest.raises(NoServersError) as info:
        await sup.connect_initial()
    assert "nats://a:1: connection refused" in str(info.value)
    assert "nats://b:2: SecureConnRequiredError" in str(info.value)


async def test_resolution_failure_is_an_attempt_failure() -> None:
    class Unresolvable(Script):
        async def resolve(self, host: str, port: int) -> list[str]:
            raise OSError(f"cannot resolve {host}")

    sup = build(Unresolvable({}, {}), ["nats://nowhere:4222", "nats://other:4222"])
    with pytest.raises(NoServersError, match="cannot resolve nowhere"):
        await sup.connect_initial()


async def reconnect(sup: Supervisor) -> tuple[list[Transport], list[Exception]]:
    connected: list[Transport] = []
    gave_up: list[Exception] = []
    done = asyncio.Event()

    def on_connected(conn: Transport, entry: PoolEntry) -> None:
        connected.append(conn)
        done.set()

    def on_gave_up(err: Exception) -> None:
        gave_up.append(err)
        done.set()

    sup.start_reconnect(on_connected, on_gave_up)
    await asyncio.wait_for(done.wait(), 5)
    return connected, gave_up


async def test_reconnect_gives_up_after_max_attempts_per_server() -> None:
    script = Script({}, {"a": [None, ConnectionRefusedError()], "b": [ConnectionRefusedError()]})
    attempts: list[tuple[int, str, float]] = []
    sup = build(
        script,
        ["nats://a:1", "nats://b:2"],
        max_reconnect_attempts=3,
        on_attempt=lambda n, entry, delay: attempts.append((n, entry.url, delay)),
    )
    await sup.connect_initial()
    script.tried.clear()
    connected, gave_up = await reconnect(sup)
    assert connected == []
    assert len(gave_up) == 1 and isinstance(gave_up[0], NoServersError)
    assert "max_reconnect_attempts=3" in str(gave_up[0])
    # the lost server comes last in each pass; each server gets three attempts
    assert [url for _, url, _ in attempts] == ["nats://b:2", "nats://a:1"] * 3
    assert [n for n, _, _ in attempts] == [1, 2, 3, 4, 5, 6]


async def test_raising_handlers_do_not_stop_the_search() -> None:
    script = Script({}, {"a": [None, ConnectionRefusedError(), ConnectionRefusedError(), None]})

    def bad_attempt(n: int, entry: PoolEntry, delay: float) -> None:
        raise RuntimeError("user bug")

    def bad_failed(entry: PoolEntry, error: BaseException) -> None:
        raise RuntimeError("user bug")

    sup = build(
        script, ["nats://a:1"], max_reconnect_attempts=-1,
        on_attempt=bad_attempt, on_attempt_failed=bad_failed,
    )
    await sup.connect_initial()
    connected, gave_up = await reconnect(sup)
    assert len(connected) == 1 and gave_up == []
    assert len(script.tried) == 4


async def test_a_server_that_drops_every_connection_is_retried_at_the_set_pace() -> None:
    # Every attempt succeeds and every connection is lost at once: each reconnect episode
    # must still wait out the server's reconnect_time_wait (start to start).
    script = Script({}, {})
    delays: list[float] = []
    sup = build(
        script, ["nats://a:1"], max_reconnect_attempts=-1, reconnect_time_wait=3600,
        on_attempt=lambda n, entry, delay: delays.append(delay),
    )
    await sup.connect_initial()
    sup.pool.entries[0].not_before = float("-inf")  # as if the first connect was long ago
    connected, _ = await reconnect(sup)  # immediate: the wait is over
    assert len(connected) == 1 and delays == [0.0]
    sup.start_reconnect(lambda c, e: None, lambda err: None)  # lost again at once
    await asyncio.sleep(0.01)
    assert len(script.tried) == 2  # not a third: the next attempt waits the hour
    assert delays[1] > 3000
    await sup.stop()


async def test_auth_error_on_the_live_connection_counts() -> None:
    script = Script({}, {"a": [None, AuthorizationError("Authorization Violation")]})
    sup = build(script, ["nats://a:1"], max_reconnect_attempts=-1)
    await sup.connect_initial()
    sup.note_auth_error(AuthorizationError("Authorization Violation"))
    connected, gave_up = await reconnect(sup)
    assert connected == []
    assert "refused the same credentials twice" in str(gave_up[0])
    assert len(script.tried) == 2  # the first connect and one failed retry


async def test_stop_cancels_a_waiting_reconnect() -> None:
    script = Script({}, {"a": [None, ConnectionRefusedError()]})
    delays: list[float] = []
    sup = build(
        script, ["nats://a:1"], max_reconnect_attempts=-1, reconnect_time_wait=3600,
        on_attempt=lambda n, entry, delay: delays.append(delay),
    )
    await sup.connect_initial()
    sup.start_reconnect(lambda c, e: None, lambda err: None)
    sup.start_reconnect(lambda c, e: None, lambda err: None)  # already running: ignored
    await asyncio.sleep(0.01)
    assert sup.reconnecting
    # The connection was made a moment ago: the retry waits out the rest of the hour.
    assert len(script.tried) == 1
    assert len(delays) == 1 and delays[0] > 3000
    await asyncio.wait_for(sup.stop(), 1)
    assert not sup.reconnecting
    await sup.stop()
