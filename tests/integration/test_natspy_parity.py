"""The same program against rxnats and nats-py 2.16, on the same real server, alike.

Each test takes ``mod``: ``rxnats`` or the installed ``nats`` (nats-py, from the dev
extra; those cases skip when it is absent). Both run the scenario as a nats-py program
would (``async`` callbacks, ``await mod.connect(...)``), and the test asserts what both
must do. Where nats-py writes an accessor as a property and rxnats (after the seed) as a
method, :func:`value` reads either.

What rxnats deliberately does differently is not here but in docs/migrating.md, and
tested against rxnats alone elsewhere.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import ModuleType

import pytest
import trustme
from jwt_helpers import creds_text, operator_setup  # tests/ is on sys.path
from polling import eventually
from test_tls import make_certs  # (tests/integration is on sys.path for its modules)

import rxnats
from rxnats.server import NatsServer, free_port
from rxnats.testing.plugin import NatsServerFactory


@pytest.fixture(params=["rxnats", "nats-py"])
def mod(request: pytest.FixtureRequest) -> ModuleType:
    """The client library under test: rxnats, or nats-py when it is installed."""
    if request.param == "nats-py":
        natspy: ModuleType = pytest.importorskip("nats")
        return natspy
    return rxnats


def value(attribute: object) -> object:
    """An accessor's value: rxnats' method called, or nats-py's property as it is."""
    return attribute() if callable(attribute) else attribute


class Calls:
    """Records lifecycle callbacks (async, as nats-py requires) in the order they ran."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self.errors: list[BaseException] = []

    def options(self) -> dict[str, Callable[..., Awaitable[None]]]:
        async def error_cb(e: Exception) -> None:
            self.errors.append(e)
            self.items.append(f"error:{type(e).__name__}")

        async def disconnected_cb() -> None:
            self.items.append("disconnected")

        async def closed_cb() -> None:
            self.items.append("closed")

        async def reconnected_cb() -> None:
            self.items.append("reconnected")

        return {
            "error_cb": error_cb,
            "disconnected_cb": disconnected_cb,
            "closed_cb": closed_cb,
            "reconnected_cb": reconnected_cb,
        }


# ---------------------------------------------------------------- credentials (security)
NO_AUTH_USER_CONFIG = """
accounts {
  A {
    users: [
      { user: alice, password: s3cret, permissions: { publish: { deny: ["forbidden.>"] } } },
      { user: guest, password: guest }
    ]
  }
}
no_auth_user: guest
"""


async def test_configured_credentials_reach_a_server_that_does_not_ask_for_them(
    mod: ModuleType,
) -> None:
    # A no_auth_user server does not advertise auth_required; the client must still log
    # in as the user it was configured with, not as the server's default user.
    with NatsServer(config=NO_AUTH_USER_CONFIG, monitor_port=free_port()) as server:
        calls = Calls()
        nc = await mod.connect(
            server.url, user="alice", password="s3cret", name="who-am-i", **calls.options()
        )
        try:
            connz = server.monitor("connz?auth=1")
            connections = connz["connections"]
            assert isinstance(connections, list)
            users = {c["name"]: c.get("authorized_user") for c in connections}
            assert users == {"who-am-i": "alice"}
            # Only alice is denied forbidden.>: the server enforces her permissions.
            await nc.publish("forbidden.x", b"")
            await nc.flush()
            await eventually(lambda: calls.errors, 5, "the permissions violation")
            assert "permissions violation" in str(calls.errors[0]).lower()
        finally:
            await nc.close()


async def test_raw_credentials_hold_the_text_of_a_creds_file(
    mod: ModuleType, nats_server_factory: NatsServerFactory
) -> None:
    setup = operator_setup()
    server = nats_server_factory(config=setup.config)
    raw_credentials = mod.aio.client.RawCredentials  # nats-py's path, as ported code uses it
    creds = raw_credentials(creds_text(setup.user_jwt, setup.user.seed))
    nc = await mod.connect(server.url, user_credentials=creds, allow_reconnect=False)
    try:
        sub = await nc.subscribe("raw.creds")
        await nc.publish("raw.creds", b"in")
        assert (await sub.next_msg(timeout=5)).data == b"in"
    finally:
        await nc.close()


async def test_a_token_function_is_called_for_connect(
    mod: ModuleType, nats_server_factory: NatsServerFactory
) -> None:
    server = nats_server_factory(config='authorization { token: "t0ken" }\n')
    nc = await mod.connect(server.url, token=lambda: "t0ken", allow_reconnect=False)
    try:
        assert value(nc.is_connected)
    finally:
        await nc.close()


# ---------------------------------------------------------------- lifecycle
async def test_a_lost_connection_is_told_to_error_cb_then_disconnected_cb(
    mod: ModuleType, nats_server_factory: NatsServerFactory
) -> None:
    server = nats_server_factory()
    calls = Calls()
    nc = await mod.connect(server.url, reconnect_time_wait=0.2, **calls.options())
    try:
        server.stop()
        await eventually(lambda: "disconnected" in calls.items, 10, "disconnected_cb")
        assert calls.items[:2] == ["error:UnexpectedEOF", "disconnected"]
    finally:
        await nc.close()


async def test_a_failed_first_connect_tells_error_cb_of_each_server_and_sets_last_error(
    mod: ModuleType,
) -> None:
    ports = [free_port(), free_port()]
    calls = Calls()
    nc = mod.NATS()
    with pytest.raises(mod.errors.NoServersError) as info:
        await nc.connect(
            [f"nats://127.0.0.1:{p}" for p in ports],
            allow_reconnect=False,
            max_reconnect_attempts=1,
            reconnect_time_wait=0.01,
            **calls.options(),
        )
    await asyncio.sleep(0.05)  # let async callbacks already due run
    for port in ports:
        assert any(f"{port}" in str(e) for e in calls.errors), (port, calls.errors)
    assert all(isinstance(e, ConnectionRefusedError) for e in calls.errors)
    assert value(nc.last_error) is info.value
    # It never connected: closed_cb and disconnected_cb are not called.
    assert "closed" not in calls.items and "disconnected" not in calls.items


async def test_close_calls_disconnected_cb_then_closed_cb(mod: ModuleType, nats_url: str) -> None:
    calls = Calls()
    nc = await mod.connect(nats_url, **calls.options())
    await nc.close()
    assert calls.items == ["disconnected", "closed"]


async def test_last_error_is_none_until_an_error_happens(mod: ModuleType, nats_url: str) -> None:
    nc = await mod.connect(nats_url)
    sub = await nc.subscribe("quiet")
    await nc.publish("quiet", b"x")
    await sub.next_msg(timeout=5)
    await nc.close()
    assert value(nc.last_error) is None


async def test_a_closed_client_connects_again(mod: ModuleType, nats_url: str) -> None:
    nc = mod.NATS()
    await nc.connect(nats_url)
    await nc.close()
    assert value(nc.is_closed)
    await nc.connect(nats_url)
    try:
        assert value(nc.is_connected)
        sub = await nc.subscribe("again")
        await nc.publish("again", b"yes")
        assert (await sub.next_msg(timeout=5)).data == b"yes"
    finally:
        await nc.close()


# ---------------------------------------------------------------- subscriptions
async def test_unsubscribe_after_max_msgs_is_a_no_op(mod: ModuleType, nats_url: str) -> None:
    nc = await mod.connect(nats_url)
    try:
        sub = await nc.subscribe("limited", max_msgs=2)
        for i in range(3):
            await nc.publish("limited", b"%d" % i)
        got = [msg.data async for msg in sub.messages]
        assert got == [b"0", b"1"]
        await sub.unsubscribe()  # the usual clean-up after the loop: no error
    finally:
        await nc.close()


async def test_unsubscribe_keeps_what_next_msg_and_the_iterator_have_not_read(
    mod: ModuleType, nats_url: str
) -> None:
    nc = await mod.connect(nats_url)
    try:
        for subject in ("kept.next", "kept.iter"):
            sub = await nc.subscribe(subject)
            for i in range(3):
                await nc.publish(subject, b"%d" % i)
            await nc.flush()
            await eventually(lambda: sub.pending_msgs == 3, 5, "three queued")  # noqa: B023 - awaited here
            await sub.unsubscribe()
            if subject == "kept.next":
                got = [(await sub.next_msg(timeout=1)).data for _ in range(3)]
            else:
                got = [msg.data async for msg in sub.messages]  # then the iteration ends
            assert got == [b"0", b"1", b"2"]
    finally:
        await nc.close()


async def test_next_msg_waiting_when_the_client_closes_raises_connection_closed(
    mod: ModuleType, nats_url: str
) -> None:
    nc = await mod.connect(nats_url)
    sub = await nc.subscribe("never")
    waiter = asyncio.ensure_future(sub.next_msg(timeout=30))
    await asyncio.sleep(0.05)
    await nc.close()
    with pytest.raises(mod.errors.ConnectionClosedError):
        await asyncio.wait_for(waiter, 5)


@pytest.mark.parametrize("limit", [0, -1])
async def test_pending_limits_of_zero_or_less_mean_no_limit(
    mod: ModuleType, nats_url: str, limit: int
) -> None:
    nc = await mod.connect(nats_url)
    try:
        sub = await nc.subscribe("unlimited", pending_msgs_limit=limit, pending_bytes_limit=limit)
        for _ in range(200):
            await nc.publish("unlimited", b"0123456789")
        await nc.flush()
        await eventually(lambda: sub.pending_msgs == 200, 5, "200 queued, none dropped")
        assert sub.pending_bytes == 2000
    finally:
        await nc.close()


async def test_a_denied_subscription_is_reported_and_not_ended(
    mod: ModuleType, nats_server_factory: NatsServerFactory
) -> None:
    server = nats_server_factory(
        config='authorization { users: [ { user: u, password: p, '
        'permissions: { subscribe: { deny: ["hidden.>"] } } } ] }\n'
    )
    calls = Calls()
    nc = await mod.connect(server.url, user="u", password="p", **calls.options())
    try:
        sub = await nc.subscribe("hidden.things")
        await nc.flush()
        await eventually(lambda: calls.errors, 5, "the permissions violation")
        assert "hidden.things" in str(calls.errors[0])
        assert value(nc.is_connected)
        await sub.unsubscribe()  # it was not ended: unsubscribing it is no error
    finally:
        await nc.close()


async def test_discovered_server_cb_is_for_servers_learnt_after_the_first_info(
    mod: ModuleType, nats_server_factory: NatsServerFactory
) -> None:
    first = nats_server_factory(cluster_name="parity")
    second = nats_server_factory(
        cluster_name="parity", routes=[first.route_url], monitor_port=free_port()
    )
    second.wait_for_routes(1)
    discovered: list[str] = []

    async def discovered_server_cb() -> None:
        discovered.append("discovered")

    # The handshake INFO names `second` already: it joins the pool quietly.
    nc = await mod.connect(first.url, discovered_server_cb=discovered_server_cb)
    try:
        await nc.flush()
        assert len(value(nc.discovered_servers)) == 1  # type: ignore[arg-type]  # a list
        assert discovered == []
        # A server joining later is announced in an INFO of its own: the callback fires.
        nats_server_factory(cluster_name="parity", routes=[first.route_url])
        await eventually(lambda: discovered, 15, "discovered_server_cb")
        assert len(value(nc.discovered_servers)) == 2  # type: ignore[arg-type]  # a list
    finally:
        await nc.close()


# ---------------------------------------------------------------- headers
async def test_empty_and_blank_header_keys_are_left_out(mod: ModuleType, nats_url: str) -> None:
    nc = await mod.connect(nats_url)
    try:
        sub = await nc.subscribe("hdr")
        await nc.publish("hdr", b"p", headers={"": "x", "   ": "y", "Kept": "v"})
        msg = await sub.next_msg(timeout=5)
        assert msg.headers is not None and dict(msg.headers) == {"Kept": "v"}
        assert msg.header == msg.headers  # nats-py's older name
    finally:
        await nc.close()


# ---------------------------------------------------------------- connecting
async def test_a_tls_handshake_failure_is_an_ssl_error(
    mod: ModuleType, nats_server_factory: NatsServerFactory, tmp_path: Path
) -> None:
    certs = make_certs(tmp_path / "certs", "localhost", "127.0.0.1")
    server = nats_server_factory(config=certs.tls_block())
    distrusting = ssl.create_default_context()
    trustme.CA().configure_trust(distrusting)  # some other CA: the server's cert fails
    with pytest.raises(ssl.SSLCertVerificationError):
        await mod.connect(
            f"tls://127.0.0.1:{server.port}",
            tls=distrusting,
            allow_reconnect=False,
            max_reconnect_attempts=1,
        )


# ---------------------------------------------------------------- API that nats-py programs use
async def test_rtt_client_ip_and_the_server_pool(mod: ModuleType, nats_url: str) -> None:
    other = f"nats://127.0.0.1:{free_port()}"
    nc = await mod.connect(nats_url, dont_randomize=True)
    try:
        rtt = await nc.rtt()
        assert isinstance(rtt, float) and rtt > 0
        assert value(nc.client_ip) == "127.0.0.1"
        pool = value(nc.server_pool)
        assert isinstance(pool, list) and len(pool) == 1
        assert pool[0].uri.port == int(nats_url.rsplit(":", 1)[1]) and pool[0].reconnects == 0
        nc.set_server_pool([nats_url, other])
        ports = [s.uri.port for s in value(nc.server_pool)]  # type: ignore[attr-defined]  # a list
        assert sorted(ports) == sorted(int(u.rsplit(":", 1)[1]) for u in (nats_url, other))
        assert value(nc.is_connected)  # the live connection is left alone
    finally:
        await nc.close()
    with pytest.raises(mod.errors.ConnectionClosedError):
        nc.set_server_pool([nats_url])


def test_nuid_gives_bytes(mod: ModuleType) -> None:
    from importlib import import_module

    nuid = import_module(f"{mod.__name__}.nuid").NUID()
    first, second = nuid.next(), nuid.next()
    assert isinstance(first, bytes | bytearray) and len(first) == 22 and first != second
    assert bytes(first).decode().isalnum()


async def test_an_async_responder_runs_in_its_task_one_message_at_a_time(
    mod: ModuleType, nats_url: str
) -> None:
    # The responder relies on running as a task (current_task(), asyncio.timeout(),
    # a context variable it keeps between messages) and on running one message at a
    # time; half of its answers wait a little. 50 concurrent requests, all answered.
    import contextvars

    seen: contextvars.ContextVar[int] = contextvars.ContextVar("seen", default=0)
    nc = await mod.connect(nats_url)
    running = 0
    overlaps = 0
    tasks: set[asyncio.Task[object] | None] = set()

    async def answer(msg: rxnats.Msg) -> None:
        nonlocal running, overlaps
        running += 1
        overlaps += running > 1
        tasks.add(asyncio.current_task())
        seen.set(seen.get() + 1)
        async with asyncio.timeout(5):
            if int(msg.data) % 2:
                await asyncio.sleep(0.001)
        running -= 1
        await msg.respond(b"%d:%d" % (int(msg.data), seen.get()))

    await nc.subscribe("svc.task", cb=answer)
    await nc.flush()
    replies = await asyncio.gather(
        *(nc.request("svc.task", b"%d" % i, timeout=5) for i in range(50))
    )
    answered = [r.data.split(b":") for r in replies]
    assert [int(i) for i, _ in answered] == list(range(50))
    assert sorted(int(n) for _, n in answered) == list(range(1, 51))
    assert overlaps == 0
    assert len(tasks) == 1 and None not in tasks
    await nc.close()
