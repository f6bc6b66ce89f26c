"""Connecting and the client's accessors, against real nats-server processes."""

from __future__ import annotations

import asyncio
import json
import re

import pytest

import rxnats as nats
from rxnats import NATS, ConnectionStatus
from rxnats.errors import (
    InvalidURLError,
    NoServersError,
    PermissionsViolationError,
)
from rxnats.server import NatsServer, free_port
from rxnats.testing.plugin import NatsServerFactory


async def _raw_info(server: NatsServer) -> dict[str, object]:
    """The INFO a server sends to a plain TCP client, parsed."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        line = await asyncio.wait_for(reader.readline(), 5)
    finally:
        writer.close()
        await writer.wait_closed()
    assert line.startswith(b"INFO ")
    info = json.loads(line[5:])
    assert isinstance(info, dict)
    return info


async def _roundtrip(nc: NATS, subject: str = "basic.ping") -> None:
    """Prove the connection carries messages: subscribe, publish, receive."""
    sub = await nc.subscribe(subject)
    await nc.publish(subject, b"ping")
    msg = await sub.next_msg(timeout=5)
    assert msg.data == b"ping"
    await sub.unsubscribe()


# ---------------------------------------------------------------- connect variants
async def test_connect_with_url_string(nats_server: NatsServer) -> None:
    nc = await nats.connect(nats_server.url)
    try:
        assert nc.is_connected()
        await _roundtrip(nc)
    finally:
        await nc.close()
    assert nc.is_closed()


async def test_connect_with_list_of_servers(nats_server_factory: NatsServerFactory) -> None:
    a = nats_server_factory()
    b = nats_server_factory()
    nc = await nats.connect([a.url, b.url])
    try:
        assert nc.connected_url() in (a.url, b.url)
        assert sorted(nc.servers()) == sorted([a.url, b.url])
        await _roundtrip(nc)
    finally:
        await nc.close()


async def test_connect_skips_dead_server_in_list(nats_server: NatsServer) -> None:
    dead = f"nats://127.0.0.1:{free_port()}"
    nc = await nats.connect([dead, nats_server.url], dont_randomize=True, connect_timeout=1)
    try:
        assert nc.connected_url() == nats_server.url
    finally:
        await nc.close()


async def test_nats_py_habit_construct_then_connect(nats_server: NatsServer) -> None:
    nc = NATS()
    assert nc.is_connected() is False
    assert nc.status == ConnectionStatus.DISCONNECTED
    await nc.connect(servers=[nats_server.url])
    try:
        assert nc.is_connected()
        await _roundtrip(nc)
    finally:
        await nc.close()


async def test_async_with_closes_at_the_end(nats_server: NatsServer) -> None:
    async with await nats.connect(nats_server.url) as nc:
        assert nc.is_connected()
        await _roundtrip(nc)
    assert nc.is_closed()


async def test_async_with_closes_on_error(nats_server: NatsServer) -> None:
    nc_seen: NATS | None = None
    with pytest.raises(RuntimeError, match="boom"):
        async with await nats.connect(nats_server.url) as nc:
            nc_seen = nc
            raise RuntimeError("boom")
    assert nc_seen is not None and nc_seen.is_closed()


async def test_connect_twice_is_refused(nats_server: NatsServer) -> None:
    nc = await nats.connect(nats_server.url)
    try:
        with pytest.raises(nats.errors.Error):
            await nc.connect(nats_server.url)
        assert nc.is_connected()
    finally:
        await nc.close()


# ---------------------------------------------------------------- accessors
async def test_accessors_on_a_connected_client(nats_server: NatsServer) -> None:
    info = await _raw_info(nats_server)
    nc = await nats.connect(nats_server.url)
    try:
        assert nc.connected_url() == nats_server.url
        assert nc.servers() == [nats_server.url]
        assert nc.discovered_servers() == []
        assert nc.max_payload() == info["max_payload"]
        assert isinstance(nc.client_id(), int) and nc.client_id() > 0
        assert nc.connected_server_version() == info["version"]
        assert re.fullmatch(r"\d+\.\d+\.\d+.*", nc.connected_server_version())
        assert nc.last_error() is None
        assert nc.pending_data_size() == 0
    finally:
        await nc.close()
    # Not connected any more: accessors say so instead of raising.
    assert nc.connected_url() == ""
    assert nc.client_id() == 0


async def test_client_ids_differ_per_connection(nats_server: NatsServer) -> None:
    a = await nats.connect(nats_server.url)
    b = await nats.connect(nats_server.url)
    try:
        assert a.client_id() != b.client_id()
    finally:
        await a.close()
        await b.close()


async def test_max_payload_comes_from_the_server(nats_server_factory: NatsServerFactory) -> None:
    server = nats_server_factory(config="max_payload: 4096\n")
    nc = await nats.connect(server.url)
    try:
        assert nc.max_payload() == 4096
    finally:
        await nc.close()


async def test_connected_url_has_no_credentials(nats_server_factory: NatsServerFactory) -> None:
    server = nats_server_factory(
        config='authorization { user: "alice", password: "s3cret" }\n'
    )
    url_with_creds = f"nats://alice:s3cret@127.0.0.1:{server.port}"
    nc = await nats.connect(url_with_creds)
    try:
        assert nc.connected_url() == server.url
        assert "s3cret" not in nc.connected_url()
        assert all("s3cret" not in u and "alice" not in u for u in nc.servers())
        assert "s3cret" not in repr(nc)
        await _roundtrip(nc)
    finally:
        await nc.close()


async def test_pending_data_size_counts_unsent_bytes(nats_server: NatsServer) -> None:
    nc = await nats.connect(nats_server.url)
    try:
        await nc.publish("pending.size", b"x" * 1000)
        # Publishes are buffered until the event loop turns.
        assert nc.pending_data_size() >= 1000
        await nc.flush()
        assert nc.pending_data_size() == 0
    finally:
        await nc.close()


async def test_last_error_holds_a_permissions_violation(
    nats_server_factory: NatsServerFactory,
) -> None:
    server = nats_server_factory(
        config=(
            "authorization { users = [ { user: a, password: b, "
            'permissions: { publish: { deny: ["secret.>"] } } } ] }\n'
        )
    )
    errors: list[Exception] = []
    nc = await nats.connect(
        f"nats://a:b@127.0.0.1:{server.port}", error_cb=errors.append
    )
    try:
        assert nc.last_error() is None
        await nc.publish("secret.plans", b"x")
        await nc.flush()
        # The -ERR may come after the PONG; wait for it a bit.
        for _ in range(100):
            if nc.last_error() is not None:
                break
            await asyncio.sleep(0.02)
        assert isinstance(nc.last_error(), PermissionsViolationError)
        assert any(isinstance(e, PermissionsViolationError) for e in errors)
        # The connection stays usable.
        assert nc.is_connected()
        await _roundtrip(nc)
    finally:
        await nc.close()


async def test_name_is_visible_in_connz(nats_server_factory: NatsServerFactory) -> None:
    server = nats_server_factory(monitor_port=free_port())
    nc = await nats.connect(server.url, name="rxnats-basic-test")
    try:
        await nc.flush()
        connz = await asyncio.to_thread(server.monitor, "connz")
        conns = connz["connections"]
        assert isinstance(conns, list)
        mine = [c for c in conns if c.get("cid") == nc.client_id()]
        assert len(mine) == 1
        assert mine[0]["name"] == "rxnats-basic-test"
        assert mine[0]["lang"] == "python3"
    finally:
        await nc.close()


# ---------------------------------------------------------------- status and predicates
def test_status_constants_match_the_enum() -> None:
    names = [
        "DISCONNECTED",
        "CONNECTED",
        "CLOSED",
        "RECONNECTING",
        "CONNECTING",
        "DRAINING_SUBS",
        "DRAINING_PUBS",
    ]
    for value, name in enumerate(names):
        assert getattr(NATS, name) == value
        assert ConnectionStatus[name] == value
        assert ConnectionStatus(value).name == name
    assert len(ConnectionStatus) == 7


async def test_predicates_work_called_and_as_bools(nats_server: NatsServer) -> None:
    nc = await nats.connect(nats_server.url)
    try:
        assert nc.is_connected() is True
        assert nc.is_connected
        if not nc.is_connected:
            pytest.fail("is_connected must be truthy")
        for pred in (
            nc.is_closed,
            nc.is_reconnecting,
            nc.is_connecting,
            nc.is_draining,
            nc.is_draining_pubs,
        ):
            assert pred() is False
            assert not pred
        assert nc.status == ConnectionStatus.CONNECTED
        assert int(nc.status) == NATS.CONNECTED
    finally:
        await nc.close()
    assert nc.is_closed() is True
    assert nc.is_closed
    assert not nc.is_connected
    assert nc.is_connected() is False
    assert int(nc.status) == NATS.CLOSED


# ---------------------------------------------------------------- connect failures
async def test_nothing_listening_raises_no_servers_error() -> None:
    port = free_port()
    url = f"nats://127.0.0.1:{port}"
    nc = NATS()
    with pytest.raises(NoServersError) as info:
        await nc.connect(url, connect_timeout=0.5, allow_reconnect=False)
    text = str(info.value)
    assert url in text
    assert "refused" in text
    assert nc.is_closed()


async def test_no_servers_error_names_every_server() -> None:
    urls = [f"nats://127.0.0.1:{free_port()}" for _ in range(2)]
    with pytest.raises(NoServersError) as info:
        await nats.connect(urls, connect_timeout=0.5)
    for url in urls:
        assert url in str(info.value)


class _SilentServer:
    """A TCP server that accepts connections and never says anything (no INFO)."""

    def __init__(self) -> None:
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self.url = ""

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        try:
            await reader.read()  # until the client goes away
        except ConnectionError:
            pass
        writer.close()

    async def __aenter__(self) -> _SilentServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.url = f"nats://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.close()
        await self._server.wait_closed()


async def test_silent_server_times_out_with_no_servers_error() -> None:
    async with _SilentServer() as silent:
        with pytest.raises(NoServersError) as info:
            await nats.connect(silent.url, connect_timeout=0.3)
        text = str(info.value)
        assert silent.url in text
        assert "INFO" in text or "timed out" in text


async def test_cancelling_connect_closes_the_client() -> None:
    async with _SilentServer() as silent:
        nc = NATS()
        task = asyncio.create_task(nc.connect(silent.url, connect_timeout=30))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert nc.is_closed()
        with pytest.raises(nats.errors.ConnectionClosedError):
            await nc.publish("x", b"")


@pytest.mark.parametrize(
    "bad",
    ["foo://x", "nats://h:99999", "nats://has space", "nats://", "nats://h:notaport"],
)
async def test_bad_url_raises_before_any_io(
    nats_server_factory: NatsServerFactory, bad: str
) -> None:
    server = nats_server_factory(monitor_port=free_port())
    before = await asyncio.to_thread(server.monitor, "varz")
    nc = NATS()
    # A valid, live server comes first: had the client done any I/O it would have
    # connected to it.
    with pytest.raises(InvalidURLError):
        await nc.connect([server.url, bad], dont_randomize=True)
    assert not nc.is_connected()
    after = await asyncio.to_thread(server.monitor, "varz")
    assert after["total_connections"] == before["total_connections"]
    # ValueError, too, for code that catches that.
    with pytest.raises(ValueError):
        await nats.connect(bad)
