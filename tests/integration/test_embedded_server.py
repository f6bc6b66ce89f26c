"""Tests of rxnats.server (real nats-server processes) and its pytest fixtures.

They talk to the server over raw sockets only, so they do not depend on the client.
Deadlines below only bound how long a broken test may hang; nothing asserts on timing.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from rxnats.server import (
    NatsCluster,
    NatsServer,
    ServerNotFoundError,
    ServerStartError,
    find_nats_server,
    free_port,
)
from rxnats.testing.plugin import NatsServerFactory, _require_binary

DEADLINE = 30.0


class RawClient:
    """A minimal line-oriented NATS protocol client over a blocking socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.file = sock.makefile("rb")

    def readline(self) -> bytes:
        line = self.file.readline()
        if not line:
            raise EOFError("server closed the connection")
        return line

    def info(self) -> dict[str, object]:
        line = self.readline()
        assert line.startswith(b"INFO "), line
        data = json.loads(line[5:])
        assert isinstance(data, dict)
        return data

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_until(self, marker: bytes) -> list[bytes]:
        """Read lines until one contains ``marker`` (the socket timeout bounds each read)."""
        lines: list[bytes] = []
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            lines.append(self.readline())
            if marker in lines[-1]:
                return lines
        raise AssertionError(f"{marker!r} not received; got {lines!r}")

    def request(self, subject: str, payload: bytes) -> bytes:
        """Publish ``payload`` on ``subject`` with a reply inbox and return the reply body."""
        inbox = f"_INBOX.{time.monotonic_ns()}"
        self.send(f"SUB {inbox} 1\r\n".encode())
        self.send(f"PUB {subject} {inbox} {len(payload)}\r\n".encode() + payload + b"\r\n")
        for line in self.read_until(b"MSG " + inbox.encode()):
            if line.startswith(b"MSG "):
                size = int(line.split()[-1])
                body = self.file.read(size + 2)[:-2]
                self.send(b"UNSUB 1\r\n")
                return body
        raise AssertionError("unreachable")


@contextmanager
def raw_client(server: NatsServer, connect: bool = True) -> Iterator[RawClient]:
    """Open a raw connection to ``server``; with ``connect``, do the CONNECT/PING handshake."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE)
    client = RawClient(sock)
    try:
        if connect:
            client.info()
            client.send(b'CONNECT {"verbose":false,"protocol":1}\r\nPING\r\n')
            client.read_until(b"PONG")
        yield client
    finally:
        client.file.close()
        sock.close()


def first_info(server: NatsServer) -> dict[str, object]:
    with raw_client(server, connect=False) as client:
        return client.info()


def test_server_sends_info(nats_server: NatsServer, nats_url: str) -> None:
    info = first_info(nats_server)
    assert isinstance(info["server_id"], str) and info["server_id"]
    assert isinstance(info["version"], str) and info["version"]
    assert info["port"] == nats_server.port
    assert nats_url == f"nats://127.0.0.1:{nats_server.port}"
    assert nats_server.is_running() and nats_server.pid is not None
    assert "Server is ready" in nats_server.log_text()


def test_restart_keeps_port(nats_server: NatsServer) -> None:
    port, pid = nats_server.port, nats_server.pid
    first_id = first_info(nats_server)["server_id"]
    nats_server.restart()
    assert nats_server.port == port
    assert nats_server.pid != pid
    info = first_info(nats_server)
    assert info["port"] == port
    assert info["server_id"] != first_id  # really a new process


def test_kill_then_start(nats_server: NatsServer) -> None:
    nats_server.kill()
    assert not nats_server.is_running()
    assert nats_server.pid is None
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", nats_server.port), timeout=DEADLINE).close()
    nats_server.kill()  # idempotent
    nats_server.stop()
    nats_server.start()
    assert "server_id" in first_info(nats_server)


def test_config_text_is_honoured(nats_server_factory: NatsServerFactory) -> None:
    server = nats_server_factory(config="max_payload: 2048\n")
    with raw_client(server, connect=False) as client:
        line = client.readline()
    assert b'"max_payload":2048' in line


def test_start_with_log_redirected_by_config(
    nats_server_factory: NatsServerFactory, tmp_path: Path
) -> None:
    log_file = tmp_path / "server.log"
    server = nats_server_factory(config=f"log_file: {json.dumps(str(log_file))}\n")
    assert "server_id" in first_info(server)
    assert "Server is ready" in log_file.read_text()


def test_jetstream_server(nats_jetstream_server: NatsServer) -> None:
    assert first_info(nats_jetstream_server)["jetstream"] is True
    store = nats_jetstream_server.store_dir
    assert store is not None and (store / "jetstream").is_dir()


def test_jetstream_data_survives_restart(nats_jetstream_server: NatsServer) -> None:
    server = nats_jetstream_server
    config = json.dumps({"name": "KEEP", "subjects": ["keep.>"], "storage": "file"})
    with raw_client(server) as client:
        created = json.loads(client.request("$JS.API.STREAM.CREATE.KEEP", config.encode()))
        assert "error" not in created, created
        acked = json.loads(client.request("keep.one", b"hello"))
        assert acked["stream"] == "KEEP", acked
    server.restart()
    with raw_client(server) as client:
        info = json.loads(client.request("$JS.API.STREAM.INFO.KEEP", b""))
    assert "error" not in info, info
    assert info["state"]["messages"] == 1


def test_cluster_has_full_mesh(nats_cluster: NatsCluster) -> None:
    assert len(nats_cluster.servers) == 3
    assert len(set(nats_cluster.urls)) == 3
    ids = {str(first_info(server)["server_id"]) for server in nats_cluster.servers}
    for server in nats_cluster.servers:
        routez = server.monitor("routez")
        peers = server.route_peers()
        assert peers == ids - {routez["server_id"]}
        # num_routes counts pooled connections, so it is at least one per peer
        assert isinstance(routez["num_routes"], int) and routez["num_routes"] >= 2
    assert nats_cluster.servers[0].route_url.startswith("nats-route://127.0.0.1:")


def test_lame_duck_sends_ldm_info(nats_server: NatsServer) -> None:
    with raw_client(nats_server) as client:
        nats_server.lame_duck()
        lines = client.read_until(b'"ldm":true')
    assert lines[-1].startswith(b"INFO ")
    assert json.loads(lines[-1][5:])["ldm"] is True
    nats_server.stop()  # must not wait for the lame duck grace period
    assert not nats_server.is_running()


def test_bad_config_raises_with_log() -> None:
    server = NatsServer(config="this is { not valid\n")
    try:
        with pytest.raises(ServerStartError) as excinfo:
            server.start()
    finally:
        server.close()
    message = str(excinfo.value)
    assert "exited with code" in message
    assert "Parse error" in message  # the server's own stderr
    assert not server.is_running()


def test_occupied_port_fails_clearly() -> None:
    with NatsServer() as first:
        second = NatsServer(port=first.port)
        try:
            with pytest.raises(ServerStartError, match="address already in use"):
                second.start()
        finally:
            second.close()
        assert first.is_running()


def test_find_nats_server_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real = find_nats_server()
    assert os.access(real, os.X_OK)
    bogus = str(tmp_path / "no-such-nats-server")
    monkeypatch.setenv("NATS_SERVER_BIN", bogus)
    with pytest.raises(ServerNotFoundError, match="no-such-nats-server"):
        find_nats_server()
    with pytest.raises(ServerNotFoundError):
        NatsServer()
    monkeypatch.setenv("NATS_SERVER_BIN", real)
    assert find_nats_server() == real


def test_fixtures_fail_without_binary_unless_opted_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NATS_SERVER_BIN", "/nonexistent/nats-server")
    monkeypatch.delenv("RXNATS_SKIP_NO_SERVER", raising=False)
    with pytest.raises(pytest.fail.Exception, match="RXNATS_SKIP_NO_SERVER=1"):
        _require_binary()
    monkeypatch.setenv("RXNATS_SKIP_NO_SERVER", "1")
    with pytest.raises(pytest.skip.Exception, match="/nonexistent/nats-server"):
        _require_binary()


def test_context_manager_and_close_cleanup() -> None:
    with NatsServer(jetstream=True) as server:
        assert server.is_running()
        store = server.store_dir
        assert store is not None and store.is_dir()
    assert not server.is_running()
    assert not store.exists()
    server.stop()  # idempotent after close


def test_addresses_without_cluster_or_monitoring(nats_server: NatsServer) -> None:
    assert nats_server.cluster_port is None
    with pytest.raises(ValueError):
        _ = nats_server.route_url
    with pytest.raises(ValueError):
        _ = nats_server.monitor_url
    with pytest.raises(ValueError):
        nats_server.wait_for_routes(1)


def test_two_server_cluster_via_factory(nats_server_factory: NatsServerFactory) -> None:
    seed = nats_server_factory(cluster_name="pair", monitor_port=free_port())
    other = nats_server_factory(
        cluster_name="pair", routes=[seed.route_url], monitor_port=free_port()
    )
    seed.wait_for_routes(1)
    other.wait_for_routes(1)
    assert seed.cluster_port is not None and seed.cluster_port != other.cluster_port


async def test_async_start_stop() -> None:
    server = NatsServer()
    try:
        await server.astart()
        assert server.is_running()
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        assert (await reader.readline()).startswith(b"INFO ")
        writer.close()
        await writer.wait_closed()
        await server.astop()
        assert not server.is_running()
    finally:
        server.close()
