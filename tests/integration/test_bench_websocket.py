"""``rxnats bench`` over a WebSocket (tiny counts; no timing asserted)."""

from __future__ import annotations

import json

import pytest

from rxnats.bench import main
from rxnats.server import NatsServer, free_port
from rxnats.testing.plugin import NatsServerFactory


def test_bench_runs_over_a_websocket_url(
    nats_server_factory: NatsServerFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    server: NatsServer = nats_server_factory(websocket=True)
    argv = ["pub,sub,pubsub,request,raw-pub", "--server", server.ws_url, "--count", "300"]
    assert main([*argv, "--json", "--no-progress"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["server"] == server.ws_url and data["embedded_server"] is False
    assert [(r["mode"], r["msgs"]) for r in data["results"]] == [
        ("pub", 300), ("sub", 300), ("pubsub", 300), ("request", 300), ("raw-pub", 300),
    ]


def test_bench_starts_an_embedded_websocket_server_when_none_answers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"ws://127.0.0.1:{free_port()}"
    assert main(["pubsub", "--server", url, "--count", "200", "--json", "--no-progress"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["embedded_server"] is True
    assert str(data["server"]).startswith("ws://127.0.0.1:") and data["server"] != url
