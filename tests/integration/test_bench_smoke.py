"""The bench runs end to end against a real server (tiny counts; no timing asserted)."""

from __future__ import annotations

import json

import pytest

from rxnats.bench import main
from rxnats.bench.adapters import natspy_available
from rxnats.server import NatsServer


def _run_json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict[str, object]:
    assert main([*argv, "--json", "--no-progress"]) == 0
    out = capsys.readouterr().out
    data = json.loads(out)
    assert isinstance(data, dict)
    return data


def test_every_mode_reports_json(nats_server: NatsServer, capsys: pytest.CaptureFixture[str]) -> None:
    data = _run_json(
        capsys,
        ["pub,sub,pubsub,request", "--server", nats_server.url, "--count", "300", "--size", "16,1KiB"],
    )
    assert data["server"] == nats_server.url
    assert data["embedded_server"] is False
    results = data["results"]
    assert isinstance(results, list)
    assert [(r["mode"], r["size"]) for r in results] == [
        (mode, size) for mode in ("pub", "sub", "pubsub", "request") for size in (16, 1024)
    ]
    for r in results:
        assert r["library"] == "rxnats"
        assert r["msgs"] == 300
        assert r["elapsed_s"] > 0
        assert r["msgs_per_sec"] > 0
        assert r["bytes_per_sec"] == pytest.approx(r["msgs_per_sec"] * r["size"], rel=1e-3)


def test_concurrent_requesters_and_several_clients(
    nats_server: NatsServer, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _run_json(
        capsys,
        ["request,pubsub", "--server", nats_server.url, "--count", "200", "--clients", "2",
         "--concurrency", "4"],
    )
    results = data["results"]
    assert isinstance(results, list)
    request, pubsub = results
    assert (request["mode"], request["clients"], request["concurrency"], request["msgs"]) == (
        "request", 2, 4, 200,
    )
    assert (pubsub["mode"], pubsub["msgs"]) == ("pubsub", 400)  # two subscribers
    assert pubsub["latency_us"] == {}


def test_request_latency_percentiles_for_each_concurrency(
    nats_server: NatsServer, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _run_json(
        capsys,
        ["request", "--server", nats_server.url, "--request-count", "200", "--concurrency", "1,10"],
    )
    results = data["results"]
    assert isinstance(results, list)
    assert [(r["concurrency"], r["msgs"]) for r in results] == [(1, 200), (10, 200)]
    for r in results:
        latency = r["latency_us"]
        assert list(latency) == ["p50", "p90", "p99", "p99.9", "max"]
        values = list(latency.values())
        assert 0 < values[0] and values == sorted(values)  # percentiles never decrease
    assert main(["request", "--server", nats_server.url, "--request-count", "100",
                 "--concurrency", "1,10", "--no-progress"]) == 0
    table = capsys.readouterr().out
    assert "p99.9" in table and "1x10" in table


def test_table_output(nats_server: NatsServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pub", "--server", nats_server.url, "--count", "100", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "msgs/s" in out and "pub" in out


def test_starts_an_embedded_server_when_none_answers(capsys: pytest.CaptureFixture[str]) -> None:
    from rxnats.server import free_port

    url = f"nats://127.0.0.1:{free_port()}"
    data = _run_json(capsys, ["pub", "--server", url, "--count", "100"])
    assert data["embedded_server"] is True
    assert data["server"] != url


def test_compare_json_shape(nats_server: NatsServer, capsys: pytest.CaptureFixture[str]) -> None:
    libs = "rxnats,nats-py,raw" if natspy_available() else "rxnats,raw"
    data = _run_json(
        capsys,
        ["pub", "--compare", "--rounds", "2", "--libs", libs, "--server", nats_server.url,
         "--count", "200"],
    )
    rows = data["rows"]
    assert isinstance(rows, list)
    assert {r["library"] for r in rows} == {lib.replace("raw", "raw-socket") for lib in libs.split(",")}
    for row in rows:
        assert len(row["runs_msgs_per_sec"]) == 2, row
        assert row["median_msgs_per_sec"] > 0
    ratios = data["ratios"]
    assert isinstance(ratios, list)
    peers = {r["peer"] for r in ratios}
    assert peers == {r["library"] for r in rows} - {"rxnats"}


def test_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pub", "--count", "0"]) == 2
    assert main(["request", "--concurrency", "10,0"]) == 2
    assert main(["request", "--concurrency", ","]) == 2
    with pytest.raises(SystemExit):
        main(["nonsense-mode"])


def test_compare_runs_rxnats_async_in_callback_modes_only(
    nats_server: NatsServer, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _run_json(
        capsys,
        ["pub,pubsub,request", "--compare", "--rounds", "1", "--libs", "rxnats,rxnats-async",
         "--server", nats_server.url, "--count", "300", "--request-count", "50",
         "--concurrency", "1,5"],
    )
    rows = data["rows"]
    assert isinstance(rows, list)
    seen = {(r["mode"], r["concurrency"], r["library"]) for r in rows}
    assert seen == {
        ("pub", 1, "rxnats"),
        ("pubsub", 1, "rxnats"),
        ("pubsub", 1, "rxnats-async"),
        ("request", 1, "rxnats"),
        ("request", 1, "rxnats-async"),
        ("request", 5, "rxnats"),
        ("request", 5, "rxnats-async"),
    }
    for row in rows:
        assert row["error"] == "" and row["median_msgs_per_sec"] > 0, row
        assert bool(row["latency_us"]) == (row["mode"] == "request"), row
    ratios = data["ratios"]
    assert isinstance(ratios, list)
    assert {(r["mode"], r["concurrency"]) for r in ratios} == {
        ("pubsub", 1), ("request", 1), ("request", 5),
    }


def test_the_memory_benchmark_runs(nats_server: NatsServer, capsys: pytest.CaptureFixture[str]) -> None:
    import runpy
    from pathlib import Path

    script = Path(__file__).parents[2] / "benchmarks" / "memory.py"
    memory = runpy.run_path(str(script), run_name="memory_benchmark")
    argv = ["--messages", "2000", "--requests", "300", "--concurrency", "10",
            "--server", nats_server.url, "--json"]
    assert memory["main"](argv) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert [(r["mode"], r["count"], r["concurrency"]) for r in rows] == [
        ("sub", 2000, 1), ("request", 300, 10),
    ]
    for r in rows:
        assert r["rss_start_mib"] > 0 and r["rss_peak_mib"] >= r["rss_start_mib"]
        assert r["growth_mib"] == pytest.approx(r["rss_end_mib"] - r["rss_start_mib"], abs=0.11)


def test_compare_runs_raw_as_raw_socket_in_pub_and_raw_client_in_request(
    nats_server: NatsServer, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _run_json(
        capsys,
        ["pub,pubsub,request", "--compare", "--rounds", "1", "--libs", "rxnats,raw",
         "--server", nats_server.url, "--count", "300", "--request-count", "60",
         "--concurrency", "1,10"],
    )
    rows = data["rows"]
    assert isinstance(rows, list)
    assert {(r["mode"], r["concurrency"], r["library"]) for r in rows} == {
        ("pub", 1, "rxnats"),
        ("pub", 1, "raw-socket"),
        ("pubsub", 1, "rxnats"),
        ("request", 1, "rxnats"),
        ("request", 1, "raw-client"),
        ("request", 10, "rxnats"),
        ("request", 10, "raw-client"),
    }
    for row in rows:
        assert row["error"] == "" and row["median_msgs_per_sec"] > 0, row
        if row["mode"] == "request":
            latency = row["latency_us"]
            assert list(latency) == ["p50", "p90", "p99", "p99.9", "max"], row
            assert 0 < latency["p50"] <= latency["max"], row
    ratios = data["ratios"]
    assert isinstance(ratios, list)
    assert {(r["mode"], r["concurrency"], r["peer"]) for r in ratios} == {
        ("pub", 1, "raw-socket"), ("request", 1, "raw-client"), ("request", 10, "raw-client"),
    }
    assert main(["request", "--compare", "--rounds", "1", "--libs", "rxnats,raw", "--server",
                 nats_server.url, "--request-count", "50", "--no-progress"]) == 0
    table = capsys.readouterr().out
    assert "raw-client" in table and "raw-socket" not in table
