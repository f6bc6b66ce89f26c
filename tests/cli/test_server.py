"""``rxnats server`` (running one) and ``rxnats server info|ping`` (asking one), for real."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import nkeys
import pytest
from cli_helpers import Cli, arun_cli, cli, one_line_error, run_cli  # tests/ is on sys.path
from jwt_helpers import new_keypair

import rxnats
from rxnats.server import NatsServer, free_port
from rxnats.testing.plugin import NatsServerFactory


def _get_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=10) as response:
        data: dict[str, Any] = json.loads(response.read())
    return data


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


@asynccontextmanager
async def running(*args: str) -> AsyncIterator[tuple[str, Cli, str]]:
    """``rxnats server --port P ARGS`` until the block ends: (its URL, the process, its banner)."""
    port = free_port()
    url = f"nats://127.0.0.1:{port}"
    async with cli("server", "--port", str(port), *args, url=None) as proc:
        banner = await proc.stderr_line()
        assert f"nats-server {url} running" in banner, banner + (await proc.finish())[2]
        try:
            yield url, proc, banner
        finally:
            if proc.proc.returncode is None:
                proc.proc.send_signal(signal.SIGTERM)
                code, _, err = await proc.finish()
                assert code == 0, err


# ---------------------------------------------------------------------- lifecycle
@pytest.mark.parametrize(("sig", "expected"), [(signal.SIGINT, 130), (signal.SIGTERM, 0)])
async def test_server_runs_until_stopped(sig: signal.Signals, expected: int) -> None:
    port = free_port()
    url = f"nats://127.0.0.1:{port}"
    async with cli("server", "--port", str(port), url=None) as server:
        assert f"nats-server {url} running" in await server.stderr_line()
        async with await rxnats.connect(url) as nc:
            assert nc.connected_server_version()
        server.proc.send_signal(sig)
        code, _, err = await server.finish()
    assert code == expected, err
    assert not _port_open(port)


async def test_jetstream_is_on_by_default_and_off_on_request() -> None:
    async with running() as (url, _, banner):
        assert "JetStream store" in banner and "temporary" in banner
        made = await arun_cli("stream", "add", "ORDERS", "--subjects", "orders.>", url=url)
        assert made.returncode == 0, made.stderr
    async with running("--no-jetstream") as (url, _, banner):
        assert "JetStream off" in banner
        refused = await arun_cli("stream", "add", "ORDERS", url=url)
    assert refused.returncode == 1
    assert "rxnats server" in one_line_error(refused)  # the hint says how to get JetStream


async def test_store_dir_keeps_streams_across_restarts(tmp_path: Path) -> None:
    store = tmp_path / "js"
    async with running("--store-dir", str(store)) as (url, _, banner):
        assert str(store) in banner and "(kept)" in banner
        assert (await arun_cli("stream", "add", "KEEP", "--subjects", "keep.>", url=url)).returncode == 0
        stored = await arun_cli("pub", "keep.it", "still here", "-J", url=url)
        assert stored.returncode == 0, stored.stderr
    assert store.is_dir()
    async with running("--store-dir", str(store)) as (url, _, _):
        view = await arun_cli("stream", "view", "KEEP", "--raw", url=url)
    assert view.returncode == 0, view.stderr
    assert view.stdout == "still here\n"


async def test_config_file_is_passed_through(tmp_path: Path) -> None:
    config = tmp_path / "server.conf"
    config.write_text("max_payload: 4096\n", encoding="utf-8")
    async with running("--config", str(config)) as (url, _, banner):
        assert f"config {config}" in banner
        shown = await arun_cli("server", "info", "--json", url=url)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["max_payload"] == 4096


async def test_monitoring_port_serves_varz() -> None:
    monitor = free_port()
    async with running("--monitor-port", str(monitor)) as (_, _, banner):
        assert f"monitoring http://127.0.0.1:{monitor}" in banner
        varz = await asyncio.to_thread(_get_json, f"http://127.0.0.1:{monitor}/varz")
    assert varz["jetstream"]["config"]["store_dir"]


# ---------------------------------------------------------------------- authentication
async def test_user_and_password_are_required_once_given() -> None:
    secret = 'pa ss"word'  # quoting survives the generated configuration
    async with running("--user", "alice", "--password", secret) as (url, _, banner):
        assert "authentication required" in banner
        anonymous = await arun_cli("pub", "x", "y", url=url)
        ok = await arun_cli("pub", "x", "y", "--user", "alice", "--password", secret, url=url)
        wrong = await arun_cli("pub", "x", "y", "--user", "alice", "--password", "nope", url=url)
    assert anonymous.returncode == 4 and "uthorization" in one_line_error(anonymous)
    assert ok.returncode == 0, ok.stderr
    assert wrong.returncode == 4


async def test_token_is_required_once_given() -> None:
    async with running("--token", "s3cr3t") as (url, _, _):
        anonymous = await arun_cli("pub", "x", "y", url=url)
        ok = await arun_cli("pub", "x", "y", "--token", "s3cr3t", url=url)
    assert anonymous.returncode == 4
    assert ok.returncode == 0, ok.stderr


async def test_nkey_users_by_seed_file_or_public_key(tmp_path: Path) -> None:
    alice, bob = new_keypair(nkeys.PREFIX_BYTE_USER), new_keypair(nkeys.PREFIX_BYTE_USER)
    (tmp_path / "alice.nk").write_text(alice.seed + "\n", encoding="utf-8")
    (tmp_path / "bob.nk").write_text(bob.seed + "\n", encoding="utf-8")
    stranger = new_keypair(nkeys.PREFIX_BYTE_USER)
    (tmp_path / "stranger.nk").write_text(stranger.seed + "\n", encoding="utf-8")
    async with running("--nkey", str(tmp_path / "alice.nk"), "--nkey", bob.public) as (url, _, _):
        results = {
            who: await arun_cli("pub", "x", "y", "--nkey", str(tmp_path / f"{who}.nk"), url=url)
            for who in ("alice", "bob", "stranger")
        }
        anonymous = await arun_cli("pub", "x", "y", url=url)
    assert results["alice"].returncode == 0, results["alice"].stderr
    assert results["bob"].returncode == 0, results["bob"].stderr
    assert results["stranger"].returncode == 4
    assert anonymous.returncode == 4


async def test_global_user_options_before_the_command_also_set_up_the_server() -> None:
    port = free_port()
    async with cli("--user", "u", "--password", "p", "server", "--port", str(port), url=None) as proc:
        assert "authentication required" in await proc.stderr_line()
        url = f"nats://127.0.0.1:{port}"
        assert (await arun_cli("pub", "x", url=url)).returncode == 4
        assert (await arun_cli("pub", "x", "--user", "u", "--password", "p", url=url)).returncode == 0
        proc.proc.send_signal(signal.SIGTERM)
        assert (await proc.finish())[0] == 0


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--user", "alice"), "--user needs --password"),
        (("--password", "x"), "--password needs --user"),
        (("--token", "t", "--user", "a", "--password", "b"), "--token cannot be combined"),
        (("--nkey", "UNOTAKEY"), "neither a user public key"),
        (("--config", "/no/such/file.conf"), "no such file"),
        (("--store-dir", "/tmp/x", "--no-jetstream"), "--store-dir needs JetStream"),
    ],
)
def test_options_it_cannot_honour_are_refused_in_one_line(args: tuple[str, ...], says: str) -> None:
    result = run_cli("server", "--port", str(free_port()), *args, url=None)
    assert result.returncode in (1, 2), result.stderr
    assert says in one_line_error(result)


def test_config_with_auth_flags_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "s.conf"
    config.write_text("port: 4222\n", encoding="utf-8")
    result = run_cli("server", "--config", str(config), "--token", "t", url=None)
    assert result.returncode == 2
    assert "put the users into" in one_line_error(result)


# ---------------------------------------------------------------------- failures in one line
def test_a_busy_port_is_one_line_with_a_hint(nats_server: NatsServer) -> None:
    result = run_cli("server", "--port", str(nats_server.port), url=None)
    assert result.returncode == 1
    line = one_line_error(result)
    assert f"port {nats_server.port}" in line and "already in use" in line and "--port" in line


def test_a_busy_monitoring_port_is_one_line_with_a_hint(nats_server: NatsServer) -> None:
    result = run_cli("server", "--port", str(free_port()), "--monitor-port", str(nats_server.port), url=None)
    assert result.returncode == 1
    assert "--monitor-port" in one_line_error(result)


def test_a_missing_binary_is_one_line_with_a_hint(tmp_path: Path) -> None:
    result = run_cli("server", "--port", str(free_port()), url=None,
                     env={"NATS_SERVER_BIN": str(tmp_path / "no-nats-server")})
    assert result.returncode == 1
    assert "NATS_SERVER_BIN" in one_line_error(result)


def test_a_config_nats_server_rejects_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "bad.conf"
    config.write_text("listen: {{{ not a config\n", encoding="utf-8")
    result = run_cli("server", "--port", str(free_port()), "--config", str(config), url=None)
    assert result.returncode == 1
    assert "nats-server did not start" in one_line_error(result)


# ---------------------------------------------------------------------- server info / ping
def test_server_info_shows_the_connected_servers_info(nats_jetstream_server: NatsServer) -> None:
    text = run_cli("server", "info", url=nats_jetstream_server.url)
    assert text.returncode == 0, text.stderr
    assert "Version" in text.stdout and "JetStream" in text.stdout and "round trip" in text.stdout
    as_json = run_cli("server", "info", "-j", url=nats_jetstream_server.url)
    info = json.loads(as_json.stdout)
    assert info["port"] == nats_jetstream_server.port and info["jetstream"] is True


SYSTEM_ACCOUNT = """
accounts {
  APP { jetstream: enabled, users: [{user: app, password: app}] }
  SYS { users: [{user: sys, password: sys}] }
}
system_account: SYS
"""


def test_server_ping_answers_for_a_system_user(nats_server_factory: NatsServerFactory) -> None:
    server = nats_server_factory(config=SYSTEM_ACCOUNT, server_name="pinged")
    result = run_cli("server", "ping", "--user", "sys", "--password", "sys", "--expect", "1", url=server.url)
    assert result.returncode == 0, result.stderr
    assert "pinged" in result.stdout and "1 server(s) answered" in result.stderr
    as_json = run_cli("server", "ping", "--user", "sys", "--password", "sys", "--expect", "1", "-j", url=server.url)
    assert json.loads(as_json.stdout)[0]["name"] == "pinged"
    refused = run_cli("server", "ping", "--user", "app", "--password", "app", "--timeout", "500ms", url=server.url)
    assert refused.returncode == 1
    assert "system account" in one_line_error(refused)
