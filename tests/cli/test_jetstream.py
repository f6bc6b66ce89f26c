"""``rxnats stream|consumer|kv|object ...`` against a real JetStream server.

Each command's effect is checked through the library (or the other way round: state
made with the library is read with the command), so a command that only prints
plausible text cannot pass.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from cli_helpers import arun_cli, cli, one_line_error, run_cli  # tests/ is on sys.path

import rxnats
from rxnats.jetstream import StreamNotFoundError
from rxnats.jetstream.models import RetentionPolicy, StorageType
from rxnats.server import NatsServer


@pytest.fixture
def url(nats_jetstream_server: NatsServer) -> str:
    return nats_jetstream_server.url


def ok(*args: str, url: str, stdin: bytes | None = None, cwd: Path | None = None) -> str:
    result = run_cli(*args, url=url, stdin=stdin, cwd=cwd)
    assert result.returncode == 0, f"{args}: {result.stderr}"
    return result.stdout


# ---------------------------------------------------------------------- streams
async def test_stream_add_info_ls_and_view(url: str) -> None:
    ok("stream", "add", "ORDERS", "--subjects", "orders.new,orders.paid", "--storage", "memory",
       "--retention", "limits", "--max-msgs", "100", "--max-age", "1h", "--max-bytes", "1MiB", url=url)
    async with await rxnats.connect(url) as nc:
        js = nc.jetstream()
        si = await js.stream_info("ORDERS")
        assert si.config.subjects == ["orders.new", "orders.paid"]
        assert si.config.storage is StorageType.MEMORY and si.config.retention is RetentionPolicy.LIMITS
        assert (si.config.max_msgs, si.config.max_age, si.config.max_bytes) == (100, 3600.0, 1 << 20)
        for i in range(3):
            await js.publish("orders.new", f"order {i}".encode(), headers={"N": str(i)})
        await js.publish("orders.paid", b"paid 1")
    info = json.loads(ok("stream", "info", "ORDERS", "--json", url=url))
    assert info["state"]["messages"] == 4 and info["config"]["max_age"] == 3600 * 10**9
    assert "Messages" in ok("stream", "info", "ORDERS", url=url)
    listed = ok("stream", "ls", url=url)
    assert "ORDERS" in listed and "orders.new, orders.paid" in listed
    assert json.loads(ok("stream", "ls", "-j", url=url))[0]["config"]["name"] == "ORDERS"
    assert ok("stream", "ls", "--names", url=url) == "ORDERS\n"
    assert ok("stream", "view", "ORDERS", "--raw", url=url).splitlines() == ["order 0", "order 1", "order 2", "paid 1"]
    assert ok("stream", "view", "ORDERS", "--raw", "--subject", "orders.paid", url=url) == "paid 1\n"
    viewed = ok("stream", "view", "ORDERS", "--id", "2", "--count", "1", url=url)
    assert '[#2] "orders.new"' in viewed and "N: 1" in viewed and "order 1" in viewed and "order 2" not in viewed


async def test_stream_subjects_default_to_its_name_and_config_files_are_read(url: str, tmp_path: Path) -> None:
    ok("stream", "add", "plain", url=url)
    config = tmp_path / "stream.json"
    config.write_text(json.dumps({"subjects": ["cfg.>"], "max_msgs_per_subject": 3}), encoding="utf-8")
    ok("stream", "add", "FROMFILE", "--config", str(config), "--description", "flag wins", url=url)
    async with await rxnats.connect(url) as nc:
        js = nc.jetstream()
        assert (await js.stream_info("plain")).config.subjects == ["plain"]
        cfg = (await js.stream_info("FROMFILE")).config
    assert cfg.subjects == ["cfg.>"] and cfg.max_msgs_per_subject == 3 and cfg.description == "flag wins"


async def test_stream_purge_and_rm_need_confirmation_in_scripts(url: str) -> None:
    ok("stream", "add", "P", "--subjects", "p.*", url=url)
    async with await rxnats.connect(url) as nc:
        js = nc.jetstream()
        for subject in ("p.a", "p.a", "p.b"):
            await js.publish(subject, b"x")
    refused = run_cli("stream", "purge", "P", url=url)
    assert refused.returncode == 1 and "--force" in one_line_error(refused)
    purged = run_cli("stream", "purge", "P", "--subject", "p.a", "-f", url=url)
    assert purged.returncode == 0 and "purged 2 messages" in purged.stderr and "(1 left)" in purged.stderr
    assert run_cli("stream", "rm", "P", url=url).returncode == 1
    ok("stream", "rm", "P", "--force", url=url)
    async with await rxnats.connect(url) as nc:
        with pytest.raises(StreamNotFoundError):
            await nc.jetstream().stream_info("P")


def test_stream_errors_are_one_line_with_a_hint(url: str) -> None:
    missing = run_cli("stream", "info", "NOPE", url=url)
    assert missing.returncode == 1 and "rxnats stream ls" in one_line_error(missing)
    ok("stream", "add", "TAKEN", "--subjects", "taken", url=url)
    clash = run_cli("stream", "add", "TAKEN", "--subjects", "other", url=url)
    assert clash.returncode == 1 and "stream info" in one_line_error(clash)


def test_publish_to_jetstream_reports_the_stored_sequence(url: str) -> None:
    ok("stream", "add", "J", "--subjects", "j.>", url=url)
    result = run_cli("pub", "j.x", "m{{Count}}", "--count", "2", "-J", url=url)
    assert result.returncode == 0, result.stderr
    assert "in stream J as message 1" in result.stderr and "as message 2" in result.stderr
    nobody = run_cli("pub", "nostream.x", "m", "-J", url=url)
    assert nobody.returncode in (1, 3) and "Traceback" not in nobody.stderr


# ---------------------------------------------------------------------- consumers
async def test_consumer_add_info_ls_next_rm(url: str) -> None:
    ok("stream", "add", "WORK", "--subjects", "work.>", url=url)
    ok("consumer", "add", "WORK", "worker", "--filter", "work.todo", "--ack", "explicit", "--wait", "30s",
       "--max-deliver", "5", url=url)
    async with await rxnats.connect(url) as nc:
        js = nc.jetstream()
        ci = await js.consumer_info("WORK", "worker")
        assert ci.config.filter_subject == "work.todo" and ci.config.ack_wait == 30.0 and ci.config.max_deliver == 5
        for i in range(3):
            await js.publish("work.todo", f"job {i}".encode())
        await js.publish("work.other", b"not for this consumer")
    got = run_cli("consumer", "next", "WORK", "worker", "--count", "2", "-r", url=url)
    assert got.returncode == 0, got.stderr
    assert got.stdout.splitlines() == ["job 0", "job 1"] and "acknowledged" in got.stderr
    info = json.loads(ok("consumer", "info", "WORK", "worker", "--json", url=url))
    assert info["num_pending"] == 1 and info["ack_floor"]["stream_seq"] == 2
    peek = ok("consumer", "next", "WORK", "worker", "--no-ack", "-r", url=url)
    assert peek == "job 2\n"
    assert "worker" in ok("consumer", "ls", "WORK", url=url)
    assert [c["name"] for c in json.loads(ok("consumer", "ls", "WORK", "-j", url=url))] == ["worker"]
    assert "Ack policy" in ok("consumer", "info", "WORK", "worker", url=url)
    ok("consumer", "rm", "WORK", "worker", "-f", url=url)
    assert ok("consumer", "ls", "WORK", "--names", url=url) == ""


def test_consumer_next_on_an_empty_consumer_times_out_in_one_line(url: str) -> None:
    ok("stream", "add", "EMPTY", url=url)
    ok("consumer", "add", "EMPTY", "c", "--deliver", "new", url=url)
    result = run_cli("consumer", "next", "EMPTY", "c", "--wait", "300ms", url=url)
    assert result.returncode == 3
    assert "consumer info EMPTY c" in one_line_error(result)
    missing = run_cli("consumer", "info", "EMPTY", "nope", url=url)
    assert missing.returncode == 1 and "rxnats consumer ls" in one_line_error(missing)


async def test_push_consumer_with_a_target(url: str) -> None:
    ok("stream", "add", "PUSH", "--subjects", "push.>", url=url)
    ok("consumer", "add", "PUSH", "pusher", "--target", "deliver.here", "--ack", "none", url=url)
    async with await rxnats.connect(url) as nc:
        ci = await nc.jetstream().consumer_info("PUSH", "pusher")
    assert ci.config.deliver_subject == "deliver.here"
    both = run_cli("consumer", "add", "PUSH", "x", "--pull", "--target", "t", url=url)
    assert both.returncode == 2 and "exclude each other" in one_line_error(both)


# ---------------------------------------------------------------------- key-value
async def test_kv_add_put_get_history_ls_del_rm(url: str) -> None:
    ok("kv", "add", "config", "--history", "5", url=url)
    ok("kv", "put", "config", "color", "blue", url=url)
    ok("kv", "put", "config", "color", url=url, stdin=b"red")  # no value: stdin, as in nats
    async with await rxnats.connect(url) as nc:
        kv = await nc.jetstream().key_value("config")
        assert (await kv.get("color")).value == b"red"
        await kv.put("size", b"xl")
    assert ok("kv", "get", "config", "color", "--raw", url=url) == "red\n"
    assert ok("kv", "get", "config", "color", "--revision", "1", "--raw", url=url) == "blue\n"
    assert "config > color revision 2" in ok("kv", "get", "config", "color", url=url)
    history = ok("kv", "history", "config", "color", url=url)
    assert "blue" in history and "red" in history
    assert [e["value"] for e in json.loads(ok("kv", "history", "config", "color", "-j", url=url))] == ["blue", "red"]
    assert ok("kv", "ls", "config", url=url).splitlines() == ["color", "size"]
    assert "config" in ok("kv", "ls", url=url)
    assert ok("kv", "ls", "--names", url=url) == "config\n"
    ok("kv", "del", "config", "color", "-f", url=url)
    gone = run_cli("kv", "get", "config", "color", url=url)
    assert gone.returncode == 1 and "was deleted" in one_line_error(gone)
    refused = run_cli("kv", "rm", "config", url=url)
    assert refused.returncode == 1 and "--force" in one_line_error(refused)
    ok("kv", "rm", "config", "-f", url=url)
    missing = run_cli("kv", "get", "config", "size", url=url)
    assert missing.returncode == 1 and "kv ls" in one_line_error(missing)


async def test_kv_watch_prints_current_values_then_changes(url: str) -> None:
    ok("kv", "add", "live", url=url)
    ok("kv", "put", "live", "a", "1", url=url)
    async with cli("kv", "watch", "live", "--count", "3", url=url) as watch:
        assert "watching '>' in bucket 'live'" in await watch.stderr_line()
        first = await watch.stdout_line()
        assert "PUT live > a: 1" in first
        await arun_cli("kv", "put", "live", "b", "2", url=url)
        await arun_cli("kv", "del", "live", "a", "-f", url=url)
        code, out, err = await asyncio.wait_for(watch.finish(), 30)
    assert code == 0, err
    assert "PUT live > b: 2" in out and "DEL live > a" in out


# ---------------------------------------------------------------------- object stores
async def test_object_add_put_get_info_ls_rm(url: str, tmp_path: Path) -> None:
    ok("object", "add", "files", "--description", "test files", url=url)
    source = tmp_path / "data.bin"
    payload = bytes(range(256)) * 2000  # 512 000 bytes: several chunks
    source.write_bytes(payload)
    stored = run_cli("object", "put", "files", str(source), url=url)
    assert stored.returncode == 0 and "512000 bytes" in stored.stderr, stored.stderr
    async with await rxnats.connect(url) as nc:
        store = await nc.jetstream().object_store("files")
        assert (await store.get("data.bin")).data == payload
        await store.put("note.txt", b"written by the library")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    ok("object", "get", "files", "data.bin", url=url, cwd=out_dir)
    assert (out_dir / "data.bin").read_bytes() == payload
    again = run_cli("object", "get", "files", "data.bin", url=url, cwd=out_dir)
    assert again.returncode == 1 and "--force" in one_line_error(again)
    assert ok("object", "get", "files", "note.txt", "-O", "-", url=url) == "written by the library"
    ok("object", "put", "files", "-", "--name", "piped", url=url, stdin=b"from stdin")
    replace = run_cli("object", "put", "files", "-", "--name", "piped", url=url, stdin=b"again")
    assert replace.returncode == 1 and "replace object 'piped'" in one_line_error(replace)
    listed = ok("object", "ls", "files", url=url)
    assert "data.bin" in listed and "note.txt" in listed and "piped" in listed
    assert ok("object", "ls", "--names", url=url) == "files\n"
    assert "test files" in ok("object", "ls", url=url)
    info = json.loads(ok("object", "info", "files", "data.bin", "--json", url=url))
    assert info["size"] == len(payload) and info["digest"].startswith("SHA-256=")
    assert "Sealed" in ok("object", "info", "files", url=url)
    ok("object", "rm", "files", "note.txt", "-f", url=url)
    missing = run_cli("object", "get", "files", "note.txt", "-O", str(tmp_path / "n"), url=url)
    assert missing.returncode == 1 and not (tmp_path / "n").exists()
    ok("object", "rm", "files", "-f", url=url)
    assert ok("object", "ls", "--names", url=url) == ""


def test_object_put_errors(url: str, tmp_path: Path) -> None:
    ok("object", "add", "b", url=url)
    nameless = run_cli("object", "put", "b", "-", url=url, stdin=b"x")
    assert nameless.returncode == 2 and "--name" in one_line_error(nameless)
    missing = run_cli("object", "put", "b", str(tmp_path / "absent"), url=url)
    assert missing.returncode == 1 and "no such file" in one_line_error(missing)
    nobucket = run_cli("object", "ls", "nobucket", url=url)
    assert nobucket.returncode == 1 and "object ls" in one_line_error(nobucket)
