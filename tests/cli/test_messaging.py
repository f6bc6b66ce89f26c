"""``rxnats pub/sub/req/reply`` end to end: ``python -m rxnats ...`` against real servers."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import trustme
from cli_helpers import WAIT, Cli, arun_cli, cli, one_line_error, run_cli  # tests/ is on sys.path

import rxnats
from rxnats.server import free_port
from rxnats.testing.plugin import NatsServerFactory


# ---------------------------------------------------------------------- help and usage
def test_help_shows_commands_examples_environment_and_exit_codes() -> None:
    result = run_cli("--help", url=None)
    assert result.returncode == 0
    for word in ("pub", "sub", "req", "reply", "server", "context", "stream", "consumer", "kv",
                 "object", "events", "demo", "bench", "examples:", "exit codes", "NATS_CONTEXT"):
        assert word in result.stdout
    assert "130" in result.stdout and "connection failure" in result.stdout


def test_command_help_lists_the_connection_options_with_their_nats_names() -> None:
    result = run_cli("sub", "--help", url=None)
    assert result.returncode == 0
    for option in ("--server", "--creds", "--nkey", "--user", "--password", "--token", "--tlsca",
                   "--tls-ca", "--tlscert", "--tlskey", "--context", "--count", "--queue", "--raw",
                   "--headers-only", "$NATS_URL"):
        assert option in result.stdout, option


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "rxnats"
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=WAIT, check=False)
    assert result.returncode == 0
    assert result.stdout.strip() == f"rxnats {rxnats.__version__}"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("pub",), "required: subject"),
        (("pub", "x", "--header", "no-colon"), "not KEY:VALUE"),
        (("sub", "x", "--count", "0"), "not a positive integer"),
        (("pub", "x", "--tlskey", "key.pem"), "--tlskey needs --tlscert"),
        (("pub", "x", "--timeout", "2x"), "invalid duration '2x'"),
        (("pub", "x", "--sleep", "soon"), "invalid duration 'soon'"),
        (("pub", "x", "{{Nope}}"), "unknown template function 'Nope'"),
        (("pub", "x", "{{Random 3}}"), "Random takes two numbers"),
        (("pub", "x", "--serv", "nats://h"), "unrecognized arguments"),  # no abbreviations
        (("frobnicate",), "invalid choice"),
    ],
)
def test_usage_errors_exit_2_with_one_line_and_a_hint(args: tuple[str, ...], says: str) -> None:
    result = run_cli(*args, url="nats://127.0.0.1:1")
    assert result.returncode == 2, result.stderr
    line = one_line_error(result)
    assert says in line


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


async def test_pub_count_sleep_and_templates_number_each_message(nats_url: str) -> None:
    async with cli("sub", "cli.tpl.*", "--count", "3", "-r", url=nats_url) as sub:
        await sub.stderr_line()
        result = await arun_cli(
            "pub", "cli.tpl.{{Count}}", "n={{Count}} at {{TimeStamp}} unix {{Unix}} id {{ID}} r={{Random 4 4}}",
            "--count", "3", "--sleep", "10ms", url=nats_url,
        )
        assert result.returncode == 0, result.stderr
        code, out, _ = await sub.finish()
    assert code == 0
    lines = out.splitlines()
    assert [re.match(r"n=(\d) ", line).group(1) for line in lines] == ["1", "2", "3"]  # type: ignore[union-attr]  # asserted by the list
    for line in lines:
        assert re.fullmatch(
            r"n=\d at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d unix \d{10} id [0-9A-Za-z]{22} r=[0-9A-Za-z]{4}", line
        ), line


async def test_no_templates_sends_braces_as_they_are(nats_url: str) -> None:
    async with cli("sub", "cli.braces", "--count", "1", "-r", url=nats_url) as sub:
        await sub.stderr_line()
        result = await arun_cli("pub", "cli.braces", "{{Count}}", "--no-templates", url=nats_url)
        assert result.returncode == 0, result.stderr
        _, out, _ = await sub.finish()
    assert out == "{{Count}}\n"


async def test_sub_headers_only_and_several_subjects(nats_url: str) -> None:
    async with cli("sub", "cli.a", "cli.b", "--count", "2", "--headers-only", url=nats_url) as sub:
        assert "listening on 'cli.a', 'cli.b'" in await sub.stderr_line()
        for subject in ("cli.a", "cli.b"):
            result = await arun_cli("pub", subject, "secret-payload", "-H", "K:v", url=nats_url)
            assert result.returncode == 0, result.stderr
        code, out, _ = await sub.finish()
    assert code == 0
    assert 'Received on "cli.a"' in out and 'Received on "cli.b"' in out
    assert out.count("K: v") == 2
    assert "secret-payload" not in out


async def test_req_gets_the_answer_of_a_reply_process(nats_url: str) -> None:
    async with cli("reply", "cli.time", "it is noon", "--count", "1", url=nats_url) as reply:
        assert "answering requests on 'cli.time' in queue 'NATS-RPLY-22'" in await reply.stderr_line()
        result = await arun_cli("req", "cli.time", "what time?", "--raw", url=nats_url)
        assert result.returncode == 0, result.stderr
        assert result.stdout == "it is noon\n"
        code, out, _ = await reply.finish()
    assert code == 0
    assert "what time?" in out  # the replier shows the request it answered


async def test_reply_templates_see_the_request_and_the_count(nats_url: str) -> None:
    async with cli("reply", "cli.tplreply", "#{{Count}}: {{Request}}!", "--count", "2", url=nats_url) as reply:
        await reply.stderr_line()
        first = await arun_cli("req", "cli.tplreply", "ping", "-r", url=nats_url)
        second = await arun_cli("req", "cli.tplreply", "pong", "-r", url=nats_url)
        code, _, _ = await reply.finish()
    assert code == 0
    assert (first.stdout, second.stdout) == ("#1: ping!\n", "#2: pong!\n")


async def test_reply_echoes_data_and_headers(nats_url: str) -> None:
    async with cli("reply", "cli.echo", "--count", "1", url=nats_url) as reply:
        assert "echoing requests" in await reply.stderr_line()
        result = await arun_cli("req", "cli.echo", "ping", "-H", "K:v1", "-H", "K:v2", url=nats_url)
        code, _, _ = await reply.finish()
    assert result.returncode == 0 and code == 0
    assert "K: v1\nK: v2" in result.stdout
    assert result.stdout.rstrip().endswith("ping")


async def test_replies_share_the_default_queue_group_as_nats_reply_does(nats_url: str) -> None:
    # Two `reply` processes without --queue: like `nats reply`, they join NATS-RPLY-22, so
    # each request is answered once; with --queue '' both answer.
    async with cli("reply", "cli.q", "A", url=nats_url) as a, cli("reply", "cli.q", "B", url=nats_url) as b:
        for proc in (a, b):
            assert "in queue 'NATS-RPLY-22'" in await proc.stderr_line()
        grouped = await arun_cli("req", "cli.q", "x", "--replies", "0", "--timeout", "1s", "-r", url=nats_url)
    assert grouped.returncode == 0, grouped.stderr
    assert grouped.stdout.splitlines() in (["A"], ["B"])
    async with (
        cli("reply", "cli.all", "A", "--queue", "", url=nats_url) as a,
        cli("reply", "cli.all", "B", "--queue", "", url=nats_url) as b,
    ):
        for proc in (a, b):
            line = await proc.stderr_line()
            assert "answering requests on 'cli.all'" in line and "queue" not in line
        both = await arun_cli("req", "cli.all", "x", "--replies", "2", "-r", url=nats_url)
    assert both.returncode == 0, both.stderr
    assert sorted(both.stdout.splitlines()) == ["A", "B"]
    assert "2 replies on 'cli.all'" in both.stderr


async def test_req_replies_waits_for_several_answers_then_stops(nats_url: str) -> None:
    nc = await rxnats.connect(nats_url)
    try:
        for i in range(3):
            async def answer(msg: rxnats.Msg, i: int = i) -> None:
                await msg.respond(f"answer {i}".encode())

            await nc.subscribe("cli.multi", cb=answer)
        await nc.flush()
        two = await arun_cli("req", "cli.multi", "?", "--replies", "2", "-r", url=nats_url)
        every = await arun_cli("req", "cli.multi", "?", "--replies", "0", "--timeout", "1s", "-r", url=nats_url)
    finally:
        await nc.close()
    assert two.returncode == 0 and len(two.stdout.splitlines()) == 2, two.stderr
    assert every.returncode == 0 and sorted(every.stdout.splitlines()) == ["answer 0", "answer 1", "answer 2"]


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
    line = one_line_error(result)
    assert "no responders on 'cli.nobody'" in line and "rxnats reply" in line
    several = await arun_cli("req", "cli.nobody", "hi", "--replies", "3", url=nats_url)
    assert several.returncode == 3 and "no responders" in one_line_error(several)


async def test_req_timeout_accepts_go_durations_and_exits_3(nats_url: str) -> None:
    nc = await rxnats.connect(nats_url)
    try:
        await nc.subscribe("cli.silent")  # a subscriber that never answers
        await nc.flush()
        result = await arun_cli("req", "cli.silent", "--timeout", "300ms", url=nats_url)
    finally:
        await nc.close()
    assert result.returncode == 3
    line = one_line_error(result)
    assert "no reply on 'cli.silent' within 0.3 s" in line and "--timeout" in line


def test_bad_subject_exits_1_with_a_clear_message(nats_url: str) -> None:
    result = run_cli("pub", "bad subject", "x", url=nats_url)
    assert result.returncode == 1
    assert one_line_error(result).startswith("rxnats pub: error: invalid publish subject 'bad subject'")


def test_no_server_exits_4_with_a_hint() -> None:
    dead = f"nats://127.0.0.1:{free_port()}"
    result = run_cli("pub", "x", "y", url=dead)
    assert result.returncode == 4
    line = one_line_error(result)
    assert "could not connect" in line and dead in line and "rxnats server" in line


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
    assert "uthorization" in one_line_error(refused)


def test_token_and_a_user_without_password_as_token(nats_server_factory: NatsServerFactory) -> None:
    server = nats_server_factory(config='authorization { token: "t0ken" }')
    assert run_cli("pub", "x", "--token", "t0ken", url=server.url).returncode == 0
    assert run_cli("pub", "x", "--token", "nope", url=server.url).returncode == 4
    # nats sends --user without --password as a token; so does rxnats
    assert run_cli("pub", "x", "--user", "t0ken", url=server.url).returncode == 0


def test_unreadable_tls_ca_exits_1(nats_url: str, tmp_path: Path) -> None:
    result = run_cli("pub", "x", "--tls-ca", str(tmp_path / "missing.pem"), url=nats_url)
    assert result.returncode == 1
    assert "missing.pem" in one_line_error(result)


def test_mutual_tls_with_nats_and_rxnats_flag_names(
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
    for ca_flag, cert_flag, key_flag in (("--tls-ca", "--tls-cert", "--tls-key"), ("--tlsca", "--tlscert", "--tlskey")):
        tls = [ca_flag, str(tmp_path / "ca")]
        client = [cert_flag, str(tmp_path / "client.pem"), key_flag, str(tmp_path / "client.key")]
        ok = run_cli("pub", "x", "y", *tls, *client, url=url)
        assert ok.returncode == 0, ok.stderr
    without_cert = run_cli("pub", "x", "y", "--tlsca", str(tmp_path / "ca"), url=url)
    assert without_cert.returncode == 4, without_cert.stderr
    assert "Traceback" not in without_cert.stderr
    untrusted = run_cli("pub", "x", "y", "--tlscert", str(tmp_path / "client.pem"),
                        "--tlskey", str(tmp_path / "client.key"), url=url)  # the system CAs do not know ours
    assert untrusted.returncode == 4, untrusted.stderr
    # the same files from NATS_CA / NATS_CERT / NATS_KEY, as nats reads them
    from_env = run_cli("pub", "x", "y", url=url, env={
        "NATS_CA": str(tmp_path / "ca"), "NATS_CERT": str(tmp_path / "client.pem"), "NATS_KEY": str(tmp_path / "client.key"),
    })
    assert from_env.returncode == 0, from_env.stderr


# ---------------------------------------------------------------------- bench (delegated)
def test_bench_is_delegated_to_rxnats_bench(nats_url: str) -> None:
    shown = run_cli("bench", "--help", url=nats_url)
    assert shown.returncode == 0
    assert shown.stdout.startswith("usage: rxnats bench")
    result = run_cli("bench", "pub", "--count", "1000", "--json", "--no-progress", "-s", nats_url, url=nats_url)
    assert result.returncode == 0, result.stderr
    assert '"pub"' in result.stdout
    assert run_cli("bench", "--no-such-option", url=nats_url).returncode == 2
