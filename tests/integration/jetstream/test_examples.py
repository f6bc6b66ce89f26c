"""examples/jetstream/ runs with rxnats, and prints what the same program prints on nats-py.

Each example is a nats-py program whose import lines name ``rxnats``. It runs as written
against a fresh JetStream server; then, with ``rxnats`` turned back into ``nats`` in the
import lines (and nothing else changed), against nats-py 2.16 on another fresh server.
The two outputs must be equal line for line.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from example_programs import EXAMPLES, RXNATS_IMPORT, as_nats_py, run_program

from rxnats.testing.plugin import NatsServerFactory

PROGRAMS = sorted((EXAMPLES / "jetstream").glob("*.py"))


def test_there_are_examples_of_each_kind() -> None:
    assert {p.stem for p in PROGRAMS} >= {"pull_push", "kv", "object_store"}
    for program in PROGRAMS:
        source = program.read_text(encoding="utf-8")
        assert RXNATS_IMPORT.search(source), program.name
        assert "nats.js" not in as_nats_py(source).replace("from nats.js", ""), program.name


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_example_prints_what_nats_py_prints(
    program: Path, nats_server_factory: NatsServerFactory, tmp_path: Path
) -> None:
    ours = run_program(program, nats_server_factory(jetstream=True).url)
    assert ours.strip()
    pytest.importorskip("nats", reason="nats-py is not installed")
    peer = tmp_path / program.name
    peer.write_text(as_nats_py(program.read_text(encoding="utf-8")), encoding="utf-8")
    theirs = run_program(peer, nats_server_factory(jetstream=True).url)
    assert ours.splitlines() == theirs.splitlines()
