"""Reconnect, keepalive and server errors against real nats-server processes.

Servers are killed (``kill -9``) and restarted on the same port, and a TCP proxy
(``tests/proxy.py``) freezes or cuts the network. Timings are printed (run with ``-s``)
but never asserted: the machine is shared.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from polling import eventually  # tests/ is on sys.path (conftest.py lives there)
from proxy import Proxy

import rxnats
from rxnats import events as ev
from rxnats.errors import (
    AuthorizationError,
    FlushTimeoutError,
    MaxPayloadError,
    NoServersError,
    OutboundBufferLimitError,
    StaleConnectionError,
)
from rxnats.msg import Msg
from rxnats.server import NatsServer, free_port
from rxnats.testing.plugin import NatsServerFactory

FAST = {"reconnect_time_wait": 0.1, "connect_timeout": 1.0}


@dataclass
class Recorder:
    """Records callbacks and events in order; tests wait on it."""

    calls: list[str] = field(default_factory=list)
    errors: list[Exception] = field(default_factory=list)
    events: list[ev.ConnectionEvent] = field(default_factory=list)
    stamps: dict[str, list[float]] = field(default_factory=dict)

    def _note(self, name: str) -> None:
        self.calls.append(name)
        self.stamps.setdefault(name, []).append(time.monotonic())

    def disconnected(self) -> None:
        self._note("disconnected")

    def reconnected(self) -> None:
        self._note("reconnected")

    def closed(self) -> None:
        self._note("closed")

    def lame_duck(self) -> None:
        self._note("lame_duck")

    def error(self, exc: Exception) -> None:
        self.errors.append(exc)

    def event(self, event: ev.ConnectionEvent) -> None:
        self.events.append(event)

    def count(self, name: str) -> int:
        return self.calls.count(name)

    async def wait(self, name: str, count: int = 1, timeout: float = 10.0) -> float:
        """Wait until callback ``name`` was called ``count`` times; return when (monotonic)."""
        await eventually(lambda: self.count(name) >= count, timeout, f"{name} x{count}")
        return self.stamps[name][count - 1]

    def options(self) -> dict[str, Callable[..., None]]:
        return {
            "disconnected_cb": self.disconnected,
            "reconnected_cb": self.reconnected,
            "closed_cb": self.closed,
            "lame_duck_mode_cb": self.lame_duck,
            "error_cb": self.error,
        }


async def connect(rec: Recorder, servers: str | list[str], **options: object) -> rxnats.NATS:
    nc = rxnats.NATS()
    nc.add_event_listener(rec.event)
    await nc.connect(servers, **{**FAST, **rec.options(), **options})  # type: ignore[arg-type]  # options are typed by connect()
    return nc


# ---------------------------------------------------------------------------- connect
async def test_initial_connect_names_every_server_and_why() -> None:
    ports = [free_port(), free_port()]
    urls = [f"nats://127.0.0.1:{p}" for p in ports]
    t0 = time.monotonic()
    with pytest.raises(NoServersError) as info:
        await rxnats.connect(urls, connect_timeout=1)
    print(f"\n[connect] NoServersError after {time.monotonic() - t0:.3f}s: {info.value}")
    for url in urls:
        assert url in str(info.value)
    assert str(info.value).count("connection refused") == 2


async def test_hostname_is_resolved_and_reported_as_given(nats_server: NatsServer) -> None:
    # "localhost" may resolve to ::1 first, where nothing listens: the next address is tried.
    url = f"nats://localhost:{nats_server.port}"
    nc = await rxnats.connect(url, dont_randomize=True)
    try:
        assert nc.connected_url() == url
        await nc.flush()
    finally:
        await nc.close()


# ---------------------------------------------------------------------------- kill -9
async def test_kill_restart_delivers_what_was_published_while_disconnected(
    nats_server: NatsServer,
) -> None:
    rec = Recorder()
    nc = await connect(rec, nats_server.url)
    received: list[int] = []

    def on_msg(msg: Msg) -> None:
        received.append(int(msg.data))

    await nc.subscribe("seq", cb=on_msg)
    await nc.flush()
    while_disconnected: list[int] = []
    stop = asyncio.Event()

    async def publisher() -> int:
        seq = 0
        while not stop.is_set():
            reconnecting = bool(nc.is_reconnecting())
            await nc.publish("seq", str(seq).encode())
            if reconnecting:
                while_disconnected.append(seq)
            seq += 1
            await asyncio.sleep(0.002)
        return seq

    task = asyncio.create_task(publisher())
    await asyncio.sleep(0.3)
    t_kill = time.monotonic()
    nats_server.kill()
    t_lost = await rec.wait("disconnected")
    await asyncio.sleep(0.3)
    t_restart = time.monotonic()
    await nats_server.astart()
    t_started = time.monotonic()
    t_back = await rec.wait("reconnected")
    await asyncio.sleep(0.2)
    stop.set()
    published = await task
    await nc.flush()
    await eventually(lambda: set(while_disconnected) <= set(received), 5, "buffered messages")
    await nc.close()

    print(
        f"\n[kill -9] published {published}, {len(while_disconnected)} while disconnected, "
        f"received {len(received)}; loss seen {t_lost - t_kill:.3f}s after kill; "
        f"restart took {t_started - t_restart:.3f}s; reconnected {t_back - t_started:+.3f}s "
        f"after the server was up ({t_back - t_kill:.3f}s after kill)"
    )
    assert while_disconnected, "nothing was published while disconnected"
    assert len(received) == len(set(received)), "duplicates"
    assert received == sorted(received), "out of order"
    assert set(while_disconnected) <= set(received)
    assert rec.calls == ["disconnected", "reconnected", "disconnected", "closed"]
    assert nc.stats.reconnects == 1


async def test_request_inbox_and_max_msgs_survive_a_restart(nats_server: NatsServer) -> None:
    rec = Recorder()
    nc = await connect(rec, nats_server.url)

    async def echo(msg: Msg) -> None:
        await msg.respond(b"re:" + msg.data)

    await nc.subscribe("echo", cb=echo)
    limited = await nc.subscribe("limited", max_msgs=5)
    assert (await nc.request("echo", b"1", timeout=2)).data == b"re:1"
    resp_sub = nc._requests.subscription
    for i in range(2):
        await nc.publish("limited", str(i).encode())
    await nc.flush()
    await eventually(lambda: limited.received == 2, 5, "2 limited messages")

    nats_server.kill()
    await rec.wait("disconnected")
    await nats_server.astart()
    await rec.wait("reconnected")

    assert (await nc.request("echo", b"2", timeout=2)).data == b"re:2"
    assert nc._requests.subscription is resp_sub
    for i in range(10):
        await nc.publish("limited", str(i).encode())
    await nc.flush()
    await eventually(lambda: limited.is_closed, 5, "limited subscription to end")
    assert limited.received == 5  # 2 before, the remaining 3 after the reconnect
    await nc.close()


async def test_buffer_limit_while_disconnected_loses_nothing_accepted(
    nats_server: NatsServer,
) -> None:
    rec = Recorder()
    nc = await connect(rec, nats_server.url, pending_size=4096)
    received: list[int] = []
    await nc.subscribe("buf", cb=lambda m: received.append(int(m.data)))
    # Fixed-size payloads, published once while connected: what follows takes the
    # publish hot path (cached PUB line), which must still meet pending_size.
    accepted: list[int] = [0]
    await nc.publish("buf", b"%05d" % 0)
    await nc.flush()
    nats_server.kill()
    await rec.wait("disconnected")
    with pytest.raises(OutboundBufferLimitError):
        for seq in range(1, 10_000):
            await nc.publish("buf", b"%05d" % seq)
            accepted.append(seq)
    rejected = len(accepted)
    with pytest.raises(OutboundBufferLimitError):
        await nc.publish("buf", b"again")
    await nats_server.astart()
    await rec.wait("reconnected")
    await nc.flush()
    await eventually(lambda: len(received) >= len(accepted), 5, "accepted messages")
    await asyncio.sleep(0.1)
    print(f"\n[buffer] pending_size=4096 accepted {len(accepted)} publishes, refused #{rejected}")
    assert received == accepted
    await nc.close()


async def test_max_payload_of_a_new_server_applies_after_a_reconnect() -> None:
    # publish() caches each subject's PUB line with the size it checked against
    # max_payload: reconnecting to a stricter server must not let an old line through.
    port = free_port()
    loose = NatsServer(port=port, config="max_payload: 8192\n")
    strict = NatsServer(port=port, config="max_payload: 1024\n")
    loose.start()
    try:
        rec = Recorder()
        nc = await connect(rec, loose.url)
        got: list[int] = []
        await nc.subscribe("big", cb=lambda m: got.append(len(m.data)))
        for _ in range(3):
            await nc.publish("big", b"x" * 2000)
        await nc.flush()
        loose.kill()
        await rec.wait("disconnected")
        await strict.astart()
        await rec.wait("reconnected")
        assert nc.max_payload() == 1024
        # The first publish after the reconnect arms the writer, so the next one may
        # take the hot path: only the cleared cache stops it there.
        await nc.publish("other", b"")
        assert nc._writer is not None and nc._writer.armed
        with pytest.raises(MaxPayloadError):
            await nc.publish("big", b"x" * 2000)
        await nc.publish("big", b"x" * 1000)
        await nc.flush()
        await eventually(lambda: len(got) == 4, 5, "the allowed messages")
        assert got == [2000, 2000, 2000, 1000]
        await nc.close()
    finally:
        loose.close()
        strict.close()


async def test_flush_while_reconnecting_waits_for_the_reconnect(nats_server: NatsServer) -> None:
    rec = Recorder()
    nc = await connect(rec, nats_server.url)
    nats_server.kill()
    await rec.wait("disconnected")
    with pytest.raises(FlushTimeoutError):
        await nc.flush(timeout=0.2)
    flushing = asyncio.create_task(nc.flush(timeout=10))
    await asyncio.sleep(0.2)
    assert not flushing.done()
    await nats_server.astart()
    await asyncio.wait_for(flushing, 10)
    assert rec.count("reconnected") == 1
    await nc.close()


# ---------------------------------------------------------------------------- callbacks
async def test_allow_reconnect_false_goes_straight_to_closed(nats_server: NatsServer) -> None:
    rec = Recorder()
    nc = await connect(rec, nats_server.url, allow_reconnect=False)
    statuses: list[str] = []
    nc.add_event_listener(lambda e: statuses.append(type(e).__name__))
    nats_server.kill()
    await rec.wait("closed")
    await asyncio.sleep(0.1)
    assert rec.calls == ["disconnected", "closed"]
    assert nc.is_closed()
    assert "Reconnecting" not in statuses
    await nc.close()  # idempotent
    assert rec.calls == ["disconnected", "closed"]


async def test_raising_callbacks_never_stop_the_client(nats_server: NatsServer) -> None:
    calls: list[str] = []
    errors: list[Exception] = []

    def disconnected() -> None:
        calls.append("disconnected")
        raise RuntimeError("bug in disconnected_cb")

    async def reconnected() -> None:
        calls.append("reconnected")
        raise RuntimeError("bug in reconnected_cb")

    def closed() -> None:
        calls.append("closed")
        raise RuntimeError("bug in closed_cb")

    nc = await rxnats.connect(
        nats_server.url,
        disconnected_cb=disconnected,
        reconnected_cb=reconnected,
        closed_cb=closed,
        error_cb=errors.append,
        **FAST,  # type: ignore[arg-type]  # floats for float options
    )
    sub = await nc.subscribe("alive")
    for episode in range(1, 3):
        nats_server.kill()
        await eventually(lambda: calls.count("disconnected") == episode, 10, "disconnect")  # noqa: B023 - awaited within the iteration
        await nats_server.astart()
        await eventually(lambda: calls.count("reconnected") == episode, 10, "reconnect")  # noqa: B023 - awaited within the iteration
    await nc.publish("alive", b"yes")
    assert (await sub.next_msg(timeout=2)).data == b"yes"
    await nc.close()
    await nc.close()
    assert calls == ["disconnected", "reconnected"] * 2 + ["disconnected", "closed"]
    bugs = [str(e) for e in errors if isinstance(e, RuntimeError)]
    assert bugs.count("bug in disconnected_cb") == 3
    assert bugs.count("bug in reconnected_cb") == 2


async def test_force_reconnect(nats_server: NatsServer) -> None:
    rec = Recorder()
    nc = await connect(rec, nats_server.url)
    sub = await nc.subscribe("after.force")
    first_id = nc.client_id()
    await nc.force_reconnect()
    await rec.wait("reconnected")
    assert nc.client_id() != first_id
    await nc.publish("after.force", b"x")
    assert (await sub.next_msg(timeout=2)).data == b"x"
    assert rec.calls == ["disconnected", "reconnected"]
    await nc.close()
    with pytest.raises(rxnats.errors.ConnectionClosedError):
        await nc.force_reconnect()


# ---------------------------------------------------------------------------- keepalive
async def test_frozen_proxy_is_detected_as_stale_then_reconnects(nats_server: NatsServer) -> None:
    ping_interval, max_outstanding = 0.3, 2
    async with Proxy("127.0.0.1", nats_server.port) as proxy:
        rec = Recorder()
        nc = await connect(
            rec,
            proxy.url,
            ping_interval=ping_interval,
            max_outstanding_pings=max_outstanding,
            connect_timeout=0.5,
            reconnect_time_wait=0.2,
        )
        sub = await nc.subscribe("through.proxy")
        await nc.flush()
        proxy.freeze()
        t_freeze = time.monotonic()
        t_stale = await rec.wait("disconnected", timeout=10)
        assert isinstance(nc.last_error(), StaleConnectionError)
        assert any(isinstance(e, StaleConnectionError) for e in rec.errors)
        await asyncio.sleep(0.3)  # attempts meanwhile hang in the frozen proxy and time out
        proxy.restore()
        t_restore = time.monotonic()
        t_back = await rec.wait("reconnected", timeout=10)
        await nc.publish("through.proxy", b"again")
        assert (await sub.next_msg(timeout=2)).data == b"again"
        await nc.close()
    print(
        f"\n[frozen proxy] stale detected {t_stale - t_freeze:.3f}s after the freeze "
        f"(ping_interval*(max_outstanding_pings+1) = {ping_interval * (max_outstanding + 1):.1f}s);"
        f" reconnected {t_back - t_restore:.3f}s after restore"
    )


async def test_cut_proxy_reconnects(nats_server: NatsServer) -> None:
    async with Proxy("127.0.0.1", nats_server.port) as proxy:
        rec = Recorder()
        nc = await connect(rec, proxy.url)
        sub = await nc.subscribe("cut")
        await nc.flush()
        t_cut = time.monotonic()
        proxy.cut()
        await rec.wait("disconnected")
        t_back = await rec.wait("reconnected")
        await nc.publish("cut", b"ok")
        assert (await sub.next_msg(timeout=2)).data == b"ok"
        await nc.close()
    print(f"\n[cut proxy] reconnected {t_back - t_cut:.3f}s after the cut")


# ---------------------------------------------------------------------------- server side
async def test_lame_duck_fires_callback_and_event(nats_server: NatsServer) -> None:
    rec = Recorder()
    nc = await connect(rec, nats_server.url)
    t0 = time.monotonic()
    nats_server.lame_duck()
    t_ldm = await rec.wait("lame_duck")
    print(f"\n[lame duck] callback {t_ldm - t0:.3f}s after SIGUSR2")
    assert [e for e in rec.events if isinstance(e, ev.LameDuck)] == [ev.LameDuck(nats_server.url)]
    assert nc.is_connected()
    await nc.close()
    assert rec.count("lame_duck") == 1


AUTH_CONFIG = 'authorization {{ user: alice, password: "{password}" }}\n'


async def test_wrong_credentials_on_reconnect_end_closed(
    nats_server_factory: NatsServerFactory,
) -> None:
    server = nats_server_factory(config=AUTH_CONFIG.format(password="first"))
    rec = Recorder()
    nc = await connect(
        rec,
        server.url,
        user="alice",
        password="first",
        max_reconnect_attempts=-1,  # forever: only the auth rule may stop it
        reconnect_time_wait=0.2,
    )
    await nc.flush()
    port = server.port
    await server.astop()
    t0 = time.monotonic()
    changed = nats_server_factory(port=port, config=AUTH_CONFIG.format(password="second"))
    assert changed.port == port
    t_closed = await rec.wait("closed", timeout=20)
    auth_errors = [e for e in rec.errors if isinstance(e, AuthorizationError)]
    print(
        f"\n[wrong credentials] closed {t_closed - t0:.3f}s after the server came back with "
        f"another password, after {len(auth_errors)} auth errors: {nc.last_error()}"
    )
    assert nc.is_closed()
    assert len(auth_errors) == 2
    last = nc.last_error()
    assert isinstance(last, NoServersError)
    assert "refused the same credentials twice" in str(last)
    assert rec.calls == ["disconnected", "closed"]
