"""``rxnats demo`` / ``python -m rxnats demo``, run as a user would."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys

from rxnats.server import free_port

WAIT = 60.0
STEPS = (
    "== 1. Publish / subscribe",
    "== 2. A queue group shares the work",
    "== 3. Request / reply",
    "== 4. Headers",
    "== 5. Drain",
)


def run_demo(url: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, NATS_URL=url)
    return subprocess.run(
        [sys.executable, "-m", "rxnats", "demo"],
        capture_output=True,
        text=True,
        env=env,
        timeout=WAIT,
        check=False,
    )


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_demo_against_a_running_server(nats_url: str) -> None:
    result = run_demo(nats_url)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"Connected to {nats_url} (nats-server 2." in out
    assert "embedded" not in out
    for step in STEPS:
        assert step in out
    assert "reply b'MAKE ME LOUD'" in out
    assert "NoRespondersError" in out
    assert "get_all('Tag') = ['new', 'priority']" in out
    assert "processed 5 of 5" in out
    assert "each job went to exactly one member of the group" in out
    shares = re.search(r"worker-a (\d+), worker-b (\d+)|worker-(?:a|b) (\d+)$", out, re.MULTILINE)
    assert shares is not None
    assert sum(int(n) for n in shares.groups() if n is not None) == 6


def test_demo_starts_and_stops_an_embedded_server_when_nothing_answers() -> None:
    dead = f"nats://127.0.0.1:{free_port()}"
    result = run_demo(dead)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"Nothing answered at {dead}: starting an embedded nats-server." in out
    match = re.search(r"Embedded nats-server nats://127\.0\.0\.1:(\d+) is running", out)
    assert match is not None, out
    port = int(match.group(1))
    assert f"Connected to nats://127.0.0.1:{port} " in out
    for step in STEPS:
        assert step in out
    assert out.rstrip().endswith("Embedded nats-server stopped.")
    assert not _port_open(port)
