"""Every single-server usage example of the seed (core-nats-client.md), run as written.

Each test copies one fenced example's statements verbatim, with ``import rxnats as nats``
in place of ``import nats``. What the examples leave to the reader (``message_handler``'s
siblings ``process_work``, ``handle_notification``, ``some_condition``, and somebody
publishing or answering) is provided around them, and the effects are checked.

Deviations, each forced by the environment:

* ``nats.connect()`` uses the default ``nats://localhost:4222``: an embedded server is
  started on port 4222 when it is free; when it is taken that one example is skipped.
* The multi-server example names ``server1``..``server3``: those host names do not
  resolve here, so three local servers' URLs replace them.
* The authenticated, TLS and credentials-file examples belong to the auth/TLS tests.
* Examples that call ``nats.connect()`` elsewhere get ``nc`` from a fixture connected to a
  free-port server, since they only use ``nc``.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager

import pytest

import rxnats as nats
from rxnats import NATS, Msg, NoRespondersError
from rxnats.server import NatsServer, ServerStartError
from rxnats.testing.plugin import NatsServerFactory


@pytest.fixture
async def nc(nats_server: NatsServer) -> AsyncIterator[NATS]:
    client = await nats.connect(nats_server.url)
    yield client
    await client.close()


@pytest.fixture
async def spy(nats_server: NatsServer) -> AsyncIterator[nats.Subscription]:
    """A second client's subscription to everything."""
    client = await nats.connect(nats_server.url)
    sub = await client.subscribe(">")
    await client.flush()
    yield sub
    await client.close()


@asynccontextmanager
async def publishing(url: str, subject: str, every: float = 0.02) -> AsyncIterator[None]:
    """Publish ``subject`` from another client, again and again, while the block runs."""
    client = await nats.connect(url)
    count = 0

    async def loop() -> None:
        nonlocal count
        while True:
            count += 1
            await client.publish(subject, f"message {count}".encode())
            await asyncio.sleep(every)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await client.close()


@asynccontextmanager
async def responder(
    url: str, subject: str, answer: Callable[[Msg], bytes]
) -> AsyncIterator[list[Msg]]:
    """Answer requests on ``subject`` from another client; yield the requests seen."""
    client = await nats.connect(url)
    seen: list[Msg] = []

    async def handler(msg: Msg) -> None:
        seen.append(msg)
        await msg.respond(answer(msg))

    await client.subscribe(subject, cb=handler)
    await client.flush()
    try:
        yield seen
    finally:
        await client.close()


class _Condition:
    """A value whose truth is computed each time it is tested (for ``if some_condition:``)."""

    def __init__(self, check: Callable[[], bool]) -> None:
        self._check = check

    def __bool__(self) -> bool:
        return self._check()


def _port_4222_free() -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", 4222))
        except OSError:
            return False
    return True


@pytest.fixture
def default_url_server(nats_server_factory: NatsServerFactory) -> Iterator[NatsServer]:
    if not _port_4222_free():
        pytest.skip("port 4222 is in use here: the nats.connect() default URL example needs it")
    try:
        server = nats_server_factory(port=4222)
    except ServerStartError as exc:  # somebody took the port in between
        pytest.skip(f"could not start a server on port 4222: {exc}")
    yield server


# ---------------------------------------------------------------- Connection Management
async def test_basic_connection(default_url_server: NatsServer) -> None:
    # Basic connection
    nc = await nats.connect()

    try:
        assert nc.is_connected()
        assert nc.connected_url().endswith(":4222")
    finally:
        await nc.close()


async def test_multiple_servers_with_clustering(nats_server_factory: NatsServerFactory) -> None:
    server1, server2, server3 = (nats_server_factory() for _ in range(3))
    # Host names server1..server3 do not resolve here: three local servers stand in.
    url1, url2, url3 = server1.url, server2.url, server3.url

    # Multiple servers with clustering
    nc = await nats.connect([
        url1,
        url2,
        url3
    ])

    try:
        assert nc.is_connected()
        assert nc.connected_url() in (url1, url2, url3)
        assert sorted(nc.servers()) == sorted([url1, url2, url3])
    finally:
        await nc.close()


# ---------------------------------------------------------------- Connection Lifecycle
async def test_connection_lifecycle(nats_server: NatsServer) -> None:
    nc = await nats.connect(nats_server.url)
    assert (nats.NATS.DISCONNECTED, nats.NATS.CONNECTED, nats.NATS.CLOSED) == (0, 1, 2)
    assert (nats.NATS.RECONNECTING, nats.NATS.CONNECTING) == (3, 4)
    assert (nats.NATS.DRAINING_SUBS, nats.NATS.DRAINING_PUBS) == (5, 6)
    assert nc.is_connected()
    assert not nc.is_closed()
    assert not nc.is_reconnecting()
    assert not nc.is_connecting()
    assert not nc.is_draining()
    assert not nc.is_draining_pubs()
    await nc.drain()
    assert nc.is_closed()
    await nc.close()
    assert nc.is_closed()


# ---------------------------------------------------------------- Publishing
async def test_publishing_examples(nc: NATS, spy: nats.Subscription) -> None:
    # Simple publish
    await nc.publish("events.user.created", b'{"user_id": 123}')

    # Publish with reply subject
    await nc.publish("events.notify", b"Alert!", reply="responses.alerts")

    # Publish with headers
    headers = {"Content-Type": "application/json", "User-ID": "123"}
    await nc.publish("api.requests", b'{"action": "create"}', headers=headers)

    # Ensure delivery
    await nc.publish("critical.event", b"Important data")
    await nc.flush() # Wait for server acknowledgment

    assert nc.pending_data_size() == 0
    got = [await spy.next_msg(5) for _ in range(4)]
    assert [(m.subject, m.data) for m in got] == [
        ("events.user.created", b'{"user_id": 123}'),
        ("events.notify", b"Alert!"),
        ("api.requests", b'{"action": "create"}'),
        ("critical.event", b"Important data"),
    ]
    assert got[1].reply == "responses.alerts"
    assert got[2].headers == {"Content-Type": "application/json", "User-ID": "123"}


# ---------------------------------------------------------------- Subscribing
async def test_callback_based_subscription(
    nc: NATS, capsys: pytest.CaptureFixture[str]
) -> None:
    # Callback-based subscription
    async def message_handler(msg):  # type: ignore[no-untyped-def]  # verbatim from the seed
        print(f"Received on {msg.subject}: {msg.data.decode()}")

    sub = await nc.subscribe("events.*", cb=message_handler)

    await nc.publish("events.a", b"first")
    await nc.publish("events.b.deeper", b"not matched")
    await nc.publish("events.c", b"second")
    await nc.flush()
    await sub.drain()
    assert capsys.readouterr().out.splitlines() == [
        "Received on events.a: first",
        "Received on events.c: second",
    ]


async def test_queue_group_subscription(nats_server: NatsServer, nc: NATS) -> None:
    done: list[bytes] = []

    async def process_work(msg: Msg) -> None:
        done.append(msg.data)

    # Queue group subscription for load balancing
    await nc.subscribe("work.queue", queue="workers", cb=process_work)

    other = await nats.connect(nats_server.url)
    try:
        other_done: list[bytes] = []
        await other.subscribe("work.queue", queue="workers", cb=lambda m: other_done.append(m.data))
        await other.flush()
        await nc.flush()
        for i in range(100):
            await nc.publish("work.queue", b"%d" % i)
        await nc.flush()
        for _ in range(500):
            if len(done) + len(other_done) >= 100:
                break
            await asyncio.sleep(0.01)
        assert sorted(done + other_done, key=int) == [b"%d" % i for i in range(100)]
        assert done and other_done
    finally:
        await other.close()


async def test_async_iteration_subscription(nats_server: NatsServer, nc: NATS) -> None:
    handled: list[Msg] = []

    async def handle_notification(msg: Msg) -> None:
        handled.append(msg)

    some_condition = _Condition(lambda: len(handled) >= 3)

    async with publishing(nats_server.url, "notifications"):
        # Async iteration subscription
        sub = await nc.subscribe("notifications")
        async for msg in sub.messages():
            await handle_notification(msg)
            if some_condition:
                break

    assert len(handled) == 3
    assert all(m.subject == "notifications" for m in handled)
    numbers = [int(m.data.split()[1]) for m in handled]
    assert numbers == sorted(numbers)


async def test_one_time_subscription(nats_server: NatsServer, nc: NATS) -> None:
    async with publishing(nats_server.url, "single.event"):
        # One-time subscription
        future = asyncio.Future()  # type: ignore[var-annotated]  # verbatim from the seed
        await nc.subscribe("single.event", future=future, max_msgs=1)
        msg = await future

    assert msg.subject == "single.event"
    assert msg.data.startswith(b"message ")


# ---------------------------------------------------------------- Request-Reply
async def _simple_request_example(nc: NATS) -> None:
    # Simple request-reply
    try:
        response = await nc.request("api.users.get", b'{"id": 123}', timeout=2.0)
        user_data = response.data.decode()
        print(f"User: {user_data}")
    except TimeoutError:
        print("Request timed out")
    except NoRespondersError:
        print("No service available")


async def test_simple_request_reply_answered(
    nats_server: NatsServer, nc: NATS, capsys: pytest.CaptureFixture[str]
) -> None:
    async with responder(nats_server.url, "api.users.get", lambda m: b'{"name": "Ada"}') as seen:
        await _simple_request_example(nc)
    assert capsys.readouterr().out == 'User: {"name": "Ada"}\n'
    assert [m.data for m in seen] == [b'{"id": 123}']


async def test_simple_request_reply_no_responders(
    nc: NATS, capsys: pytest.CaptureFixture[str]
) -> None:
    await _simple_request_example(nc)
    assert capsys.readouterr().out == "No service available\n"


async def test_simple_request_reply_timeout(
    nc: NATS, capsys: pytest.CaptureFixture[str]
) -> None:
    await nc.subscribe("api.users.get")  # takes the request and never answers
    await _simple_request_example(nc)
    assert capsys.readouterr().out == "Request timed out\n"


async def test_request_with_headers(nats_server: NatsServer, nc: NATS) -> None:
    def answer(msg: Msg) -> bytes:
        assert msg.headers is not None
        return msg.headers["Authorization"].encode()

    async with responder(nats_server.url, "secure.api.data", answer) as seen:
        # Request with headers
        headers = {"Authorization": "Bearer token123"}
        response = await nc.request(
            "secure.api.data",
            b'{"query": "SELECT * FROM users"}',
            headers=headers,
            timeout=5.0
        )

    assert response.data == b"Bearer token123"
    assert seen[0].data == b'{"query": "SELECT * FROM users"}'


# ---------------------------------------------------------------- Server Information
async def test_server_information(nats_server: NatsServer, nc: NATS) -> None:
    assert nc.connected_url() == nats_server.url
    assert nc.servers() == [nats_server.url]
    assert nc.discovered_servers() == []
    assert nc.max_payload() == 1024 * 1024
    assert nc.client_id() > 0
    assert nc.connected_server_version().count(".") >= 2
    assert nc.last_error() is None
    assert nc.new_inbox().startswith("_INBOX.")
