"""examples/jetstream/ runs with rxnats, and prints what the same program prints on nats-py.

Each example is a nats-py program whose import lines name ``rxnats``. It runs as written
against a fresh JetStream server; then, with ``rxnats`` turned back into ``nats`` in the
import lines (and nothing else changed), against nats-py 2.16 on another fresh server.
The two outputs must be equal line for line.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from rxnats.testing.plugin import NatsServerFactory

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "jetstream"
PROGRAMS = sorted(EXAMPLES.glob("*.py"))
_RXNATS_IMPORT = re.compile(r"^(import rxnats as nats|from rxnats\.)", re.MULTILINE)


def _run(script: Path, url: str) -> str:
    env = dict(os.environ, NATS_URL=url, PYTHONDONTWRITEBYTECODE="1")
    result = subprocess.run(
        [sys.executable, str(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"{script.name}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def as_nats_py(source: str) -> str:
    """The program with its import lines renamed back to nats-py's."""
    return source.replace("import rxnats as nats", "import nats").replace(
        "from rxnats.", "from nats."
    )


def test_there_are_examples_of_each_kind() -> None:
    assert {p.stem for p in PROGRAMS} >= {"pull_push", "kv", "object_store"}
    for program in PROGRAMS:
        source = program.read_text(encoding="utf-8")
        assert _RXNATS_IMPORT.search(source), program.name
        assert "nats.js" not in as_nats_py(source).replace("from nats.js", ""), program.name


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_example_prints_what_nats_py_prints(
    program: Path, nats_server_factory: NatsServerFactory, tmp_path: Path
) -> None:
    ours = _run(program, nats_server_factory(jetstream=True).url)
    assert ours.strip()
    pytest.importorskip("nats", reason="nats-py is not installed")
    peer = tmp_path / program.name
    peer.write_text(as_nats_py(program.read_text(encoding="utf-8")), encoding="utf-8")
    theirs = _run(peer, nats_server_factory(jetstream=True).url)
    assert ours.splitlines() == theirs.splitlines()
