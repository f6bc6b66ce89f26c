"""The JetStream bench modes run end to end against a real server (tiny counts; no timing)."""

from __future__ import annotations

import asyncio
import json

import pytest

import rxnats
from rxnats.bench import main
from rxnats.bench.adapters import natspy_available
from rxnats.bench.jetstream import JS_MODES, finish_scene, prepare_scene
from rxnats.bench.runner import BenchConfig
from rxnats.server import NatsServer


def _run_json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict[str, object]:
    assert main([*argv, "--json", "--no-progress"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert isinstance(data, dict)
    return data


async def _stream_names(url: str) -> list[str | None]:
    nc = await rxnats.connect(url)
    try:
        return [info.config.name for info in await nc.jetstream().streams_info()]
    finally:
        await nc.close()


@pytest.mark.parametrize("mode", JS_MODES)
def test_each_jetstream_mode_reports_json_and_cleans_up(
    mode: str, nats_jetstream_server: NatsServer, capsys: pytest.CaptureFixture[str]
) -> None:
    url = nats_jetstream_server.url
    data = _run_json(capsys, [mode, "--server", url, "--count", "300", "--size", "16,1KiB"])
    results = data["results"]
    assert isinstance(results, list)
    assert [(r["mode"], r["size"]) for r in results] == [(mode, 16), (mode, 1024)]
    for r in results:
        assert r["library"] == "rxnats"
        assert r["msgs"] == 300
        assert r["msgs_per_sec"] > 0
    assert asyncio.run(_stream_names(url)) == []  # every run deleted its stream or bucket


@pytest.mark.skipif(natspy_available() is None, reason="nats-py is not installed")
@pytest.mark.parametrize("mode", JS_MODES)
def test_each_jetstream_mode_compares_with_nats_py(
    mode: str, nats_jetstream_server: NatsServer, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _run_json(
        capsys,
        [mode, "--compare", "--rounds", "1", "--libs", "rxnats,nats-py,raw,nats-core",
         "--server", nats_jetstream_server.url, "--count", "200"],
    )
    rows = data["rows"]
    assert isinstance(rows, list)
    # raw and nats-core have no JetStream loops: only the two libraries that do run.
    assert [(r["mode"], r["library"]) for r in rows] == [(mode, "rxnats"), (mode, "nats-py")]
    for row in rows:
        assert row["error"] == "" and row["median_msgs_per_sec"] > 0, row
    ratios = data["ratios"]
    assert isinstance(ratios, list)
    assert [r["peer"] for r in ratios] == ["nats-py"]


def test_round_trip_modes_take_the_request_count(
    nats_jetstream_server: NatsServer, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _run_json(
        capsys,
        ["js-pub,js-pub-async", "--server", nats_jetstream_server.url, "--count", "400",
         "--request-count", "50"],
    )
    results = data["results"]
    assert isinstance(results, list)
    assert [(r["mode"], r["msgs"]) for r in results] == [("js-pub", 50), ("js-pub-async", 400)]


def test_a_run_that_lost_messages_fails_and_still_deletes_its_stream(
    nats_jetstream_server: NatsServer,
) -> None:
    url = nats_jetstream_server.url
    config = BenchConfig(mode="js-pub", count=10)
    token = asyncio.run(prepare_scene(url, config))
    # Nothing was published: the check finds 0 of 10 messages stored.
    with pytest.raises(RuntimeError, match="holds 0 of 10"):
        asyncio.run(finish_scene(url, config, token))
    assert asyncio.run(_stream_names(url)) == []


def test_a_server_without_jetstream_is_a_clear_error(
    nats_server: NatsServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["kv-put", "--server", nats_server.url, "--count", "10", "--no-progress"]) == 1
    assert "JetStream is not enabled" in capsys.readouterr().err
