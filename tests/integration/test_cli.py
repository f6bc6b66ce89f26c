"""The ``rxnats`` command line, end to end: ``python -m rxnats ...`` against real servers."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import trustme

import rxnats
from rxnats.server import NatsServer, free_port
from rxnats.testing.plugin import NatsServerFactory

WAIT = 20.0  # generous bound for a subprocess to start or finish on a busy machine


def _env(url: str) -> dict[str, str]:
    env = dict(os.environ)
    env["NATS_URL"] = url
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_cli(
    *args: str, url: str, stdin: bytes | None = None, timeout: float = WAIT
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m rxnats ARGS`` to completion; stdout/stderr as text."""
    return subprocess.run(
        [sys.executable, "-m", "rxnats", *args],
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        env=_env(url),
        timeout=timeout,
        check=False,
    )


async def arun_cli(*args: str, url: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """:func:`run_cli` without blocking the event loop."""
    return await asyncio.to_thread(run_cli, *args, url=url, stdin=stdin)


class Cli:
    """A running ``python -m rxnats`` process whose output is read asynchronously."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    async def stderr_line(self) -> str:
        assert self.proc.stderr is not None
        return (await asyncio.wait_for(self.proc.stderr.readline(), WAIT)).decode()

    async def stdout_line(self) -> str:
        assert self.proc.stdout is not None
        return (await asyncio.wait_for(self.proc.stdout.readline(), WAIT)).decode()

    async def finish(self) -> tuple[int, str, str]:
        out, err = await asyncio.wait_for(self.proc.communicate(), WAIT)
        assert self.proc.returncode is not None
        return self.proc.returncode, out.decode(), err.decode()


@asynccontextmanager
async def cli(*args: str, url: str) -> AsyncIterator[Cli]:
    """Start ``python -m rxnats ARGS``; kill it on the way out if it still runs."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rxnats", *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=_env(url),
    )
    try:
        yield Cli(proc)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


# ---------------------------------------------------------------------- help and usage
def test_help_shows_commands_examples_and_exit_codes() -> None:
    result = run_cli("--help", url="nats://127.0.0.1:4222")
    assert result.returncode == 0
    for word in ("pub", "sub", "req", "reply", "server", "demo", "bench", "examples:", "exit codes"):
        assert word in result.stdout
    assert "130" in result.stdout and "connection failure" in result.stdout


def test_subcommand_help_shows_shared_options() -> None:
    result = run_cli("sub", "--help", url="nats://127.0.0.1:4222")
    assert result.returncode == 0
    for option in ("--server", "--creds", "--user", "--password", "--token", "--tls-ca", "--count", "--queue", "--raw"):
        assert option in result.stdout


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "rxnats"
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=WAIT, check=False)
    assert result.returncode == 0
    assert result.stdout.strip() == f"rxnats {rxnats.__version__}"


@pytest.mark.parametrize(
    "args",
    [
        ("pub",),  # no subject
        ("pub", "x", "--header", "no-colon"),
        ("sub", "x", "--count", "0"),
        ("pub", "x", "--tls-key", "key.pem"),  # a key without a certificate
        ("frobnicate",),
    ],
)
def test_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    result = run_cli(*args, url="nats://127.0.0.1:1")
    assert result.returncode == 2, result.stderr
    assert "usage:" in result.stderr
    assert "Traceback" not in result.stderr


# ---------------------------------------------------------------------- messaging
async def test_sub_count_receives_two_messages_from_pub(nats_url: str) -> None:
    async with cli("sub", "cli.greet", "--count", "2", url=nats_url) as sub:
        assert "listening on 'cli.greet'" in await sub.stderr_line()
        first = await arun_cli("pub", "cli.greet", "hello", "-H", "Trace-Id:abc", "-H", "Tag: x", "-H", "Tag:y", url=nats_url)
        assert first.returncode == 0, first.stderr
        assert "published 1 message" in first.stderr
        second = await arun_cli("pub", "cli.greet", "world", url=nats_url)
        assert second.returncode == 0, second.stderr
        code, out, _ = await sub.finish()
    assert code == 0
    assert '[#1] Received on "cli.greet"' in out and '[#2] Received on "cli.greet"' in out
    assert "Trace-Id: abc" in out and "Tag: x\nTag: y" in out
    assert out.index("hello") < out.index("world")


async def test_pub_count_and_stdin_with_raw_sub(nats_url: str) -> None:
    async with cli("sub", "cli.raw", "--count", "3", "--raw", url=nats_url) as sub:
        await sub.stderr_line()
        counted = await arun_cli("pub", "cli.raw", "again", "--count", "2", url=nats_url)
        assert counted.returncode == 0 and "published 2 messages" in counted.stderr
        piped = await arun_cli("pub", "cli.raw", "-", url=nats_url, stdin=b"from stdin")
        assert piped.returncode == 0, piped.stderr
        code, out, _ = await sub.finish()
    assert code == 0
    assert out.splitlines() == ["again", "again", "from stdin"]


async def test_req_gets_the_answer_of_a_reply_process(nats_url: str) -> None:
    async with cli("reply", "cli.time", "it is noon", "--count", "1", url=nats_url) as reply:
        assert "answering requests on 'cli.time'" in await reply.stderr_line()
        result = await arun_cli("req", "cli.time", "what time?", "--raw", url=nats_url)
        assert result.returncode == 0, result.stderr
        assert result.stdout == "it is noon\n"
        code, out, _ = await reply.finish()
    assert code == 0
    assert "what time?" in out  # the replier shows the request it answered


async def test_reply_echoes_data_and_headers(nats_url: str) -> None:
    async with cli("reply", "cli.echo", "--count", "1", url=nats_url) as reply:
        assert "echoing requests" in await reply.stderr_line()
        result = await arun_cli("req", "cli.echo", "ping", "-H", "K:v1", "-H", "K:v2", url=nats_url)
        code, _, _ = await reply.finish()
    assert result.returncode == 0 and code == 0
    assert "K: v1\nK: v2" in result.stdout
    assert result.stdout.rstrip().endswith("ping")


async def test_queue_group_splits_messages_and_ctrl_c_exits_130(nats_url: str) -> None:
    async with (
        cli("sub", "cli.jobs", "--queue", "workers", url=nats_url) as a,
        cli("sub", "cli.jobs", "--queue", "workers", url=nats_url) as b,
    ):
        for worker in (a, b):
            assert "in queue 'workers'" in await worker.stderr_line()
        result = await arun_cli("pub", "cli.jobs", "job", "--count", "10", url=nats_url)
        assert result.returncode == 0, result.stderr
        # Each message arrives at exactly one member: the headings add up to 10.
        counts = [0, 0]
        all_seen = asyncio.Event()

        async def count(i: int, worker: Cli) -> None:
            while not all_seen.is_set():
                line = await worker.stdout_line()
                if not line:
                    return
                if "Received on" in line:
                    counts[i] += 1
                    if sum(counts) == 10:
                        all_seen.set()

        tasks = [asyncio.create_task(count(i, w)) for i, w in enumerate((a, b))]
        await asyncio.wait_for(all_seen.wait(), WAIT)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert sum(counts) == 10
        for worker in (a, b):
            worker.proc.send_signal(signal.SIGINT)
            code, _, err = await worker.finish()
            assert code == 130, err
            assert "Traceback" not in err


# ---------------------------------------------------------------------- failures
async def test_req_to_nobody_exits_3(nats_url: str) -> None:
    result = await arun_cli("req", "cli.nobody", "hi", url=nats_url)
    assert result.returncode == 3
    assert "no responders on 'cli.nobody'" in result.stderr
    assert "Traceback" not in result.stderr


async def test_req_timeout_exits_3(nats_url: str) -> None:
    nc = await rxnats.connect(nats_url)
    try:
        await nc.subscribe("cli.silent")  # a subscriber that never answers
        await nc.flush()
        result = await arun_cli("req", "cli.silent", "--timeout", "0.3", url=nats_url)
    finally:
        await nc.close()
    assert result.returncode == 3
    assert "no reply on 'cli.silent' within 0.3 s" in result.stderr


def test_bad_subject_exits_1_with_a_clear_message(nats_url: str) -> None:
    result = run_cli("pub", "bad subject", "x", url=nats_url)
    assert result.returncode == 1
    assert result.stderr.strip() == "rxnats pub: error: invalid publish subject 'bad subject'"


def test_no_server_exits_4() -> None:
    dead = f"nats://127.0.0.1:{free_port()}"
    result = run_cli("pub", "x", "y", url=dead)
    assert result.returncode == 4
    assert "could not connect" in result.stderr and dead in result.stderr
    assert "Traceback" not in result.stderr


def test_server_option_wins_over_nats_url(nats_url: str) -> None:
    dead = f"nats://127.0.0.1:{free_port()}"
    assert run_cli("pub", "x", "y", "-s", nats_url, url=dead).returncode == 0
    assert run_cli("pub", "x", "y", "--server", dead, url=nats_url).returncode == 4


def test_user_and_password(nats_server_factory: NatsServerFactory) -> None:
    server = nats_server_factory(config='authorization { user: alice, password: "s3cret" }')
    ok = run_cli("pub", "x", "y", "--user", "alice", "--password", "s3cret", url=server.url)
    assert ok.returncode == 0, ok.stderr
    refused = run_cli("pub", "x", "y", "--user", "alice", "--password", "wrong", url=server.url)
    assert refused.returncode == 4
    assert "uthorization" in refused.stderr and "Traceback" not in refused.stderr


def test_token(nats_server_factory: NatsServerFactory) -> None:
    server = nats_server_factory(config='authorization { token: "t0ken" }')
    assert run_cli("pub", "x", "--token", "t0ken", url=server.url).returncode == 0
    assert run_cli("pub", "x", "--token", "nope", url=server.url).returncode == 4


def test_unreadable_tls_ca_exits_1(nats_url: str, tmp_path: Path) -> None:
    result = run_cli("pub", "x", "--tls-ca", str(tmp_path / "missing.pem"), url=nats_url)
    assert result.returncode == 1
    assert "missing.pem" in result.stderr and "Traceback" not in result.stderr


# ---------------------------------------------------------------------- server
@pytest.mark.parametrize(("sig", "expected"), [(signal.SIGINT, 130), (signal.SIGTERM, 0)])
async def test_server_runs_until_stopped(sig: signal.Signals, expected: int) -> None:
    port = free_port()
    url = f"nats://127.0.0.1:{port}"
    async with cli("server", "--port", str(port), url=url) as server:
        assert f"nats-server {url} running" in await server.stderr_line()
        async with await rxnats.connect(url) as nc:
            assert nc.connected_server_version()
        server.proc.send_signal(sig)
        code, _, err = await server.finish()
    assert code == expected, err
    assert not _port_open(port)


def test_server_reports_a_busy_port(nats_server: NatsServer) -> None:
    result = run_cli("server", "--port", str(nats_server.port), url=nats_server.url)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr


def test_mutual_tls_with_ca_cert_and_key_files(
    nats_server_factory: NatsServerFactory, tmp_path: Path
) -> None:
    ca = trustme.CA()
    server_cert = ca.issue_cert("127.0.0.1", "localhost")
    client_cert = ca.issue_cert("cli@example.test")
    files = {
        "ca": ca.cert_pem,
        "server.pem": server_cert.cert_chain_pems[0],
        "server.key": server_cert.private_key_pem,
        "client.pem": client_cert.cert_chain_pems[0],
        "client.key": client_cert.private_key_pem,
    }
    for name, blob in files.items():
        blob.write_to_path(str(tmp_path / name))
    server = nats_server_factory(
        config=(
            f'tls {{\n cert_file: "{tmp_path / "server.pem"}"\n key_file: "{tmp_path / "server.key"}"\n'
            f' ca_file: "{tmp_path / "ca"}"\n verify: true\n}}\n'
        )
    )
    url = f"tls://127.0.0.1:{server.port}"
    tls = ["--tls-ca", str(tmp_path / "ca")]
    client = ["--tls-cert", str(tmp_path / "client.pem"), "--tls-key", str(tmp_path / "client.key")]
    ok = run_cli("pub", "x", "y", *tls, *client, url=url)
    assert ok.returncode == 0, ok.stderr
    without_cert = run_cli("pub", "x", "y", *tls, url=url)
    assert without_cert.returncode == 4, without_cert.stderr
    assert "Traceback" not in without_cert.stderr
    untrusted = run_cli("pub", "x", "y", *client, url=url)  # the system CAs do not know ours
    assert untrusted.returncode == 4, untrusted.stderr


# ---------------------------------------------------------------------- bench (delegated)
def test_bench_is_delegated_to_rxnats_bench(nats_url: str) -> None:
    shown = run_cli("bench", "--help", url=nats_url)
    assert shown.returncode == 0
    assert shown.stdout.startswith("usage: rxnats bench")
    result = run_cli("bench", "pub", "--count", "1000", "--json", "--no-progress", "-s", nats_url, url=nats_url)
    assert result.returncode == 0, result.stderr
    assert '"pub"' in result.stdout
    assert run_cli("bench", "--no-such-option", url=nats_url).returncode == 2
