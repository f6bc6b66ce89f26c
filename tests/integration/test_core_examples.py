"""examples/core/ runs with rxnats, and prints what the same program prints on nats-py.

Each example is a nats-py program whose import lines name ``rxnats``: publish/subscribe,
queue groups, request/reply, drain and headers. It runs as written against a fresh
server; then, with ``rxnats`` turned back into ``nats`` in the import lines (and nothing
else changed), against nats-py 2.16 on another fresh server. The programs assert what
they expect, and the two outputs must be equal line for line.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from example_programs import EXAMPLES, RXNATS_IMPORT, as_nats_py, run_program

from rxnats.testing.plugin import NatsServerFactory

PROGRAMS = sorted((EXAMPLES / "core").glob("*.py"))


def test_there_are_programs_for_each_core_topic() -> None:
    assert {p.stem for p in PROGRAMS} >= {"pubsub", "queue_groups", "request_reply", "drain", "headers"}


def test_only_the_import_lines_differ_from_the_natspy_program() -> None:
    for program in PROGRAMS:
        ours = program.read_text(encoding="utf-8").splitlines()
        theirs = as_nats_py(program.read_text(encoding="utf-8")).splitlines()
        changed = [(a, b) for a, b in zip(ours, theirs, strict=True) if a != b]
        assert changed, program.name  # every program imports rxnats
        for mine, natspy in changed:
            assert RXNATS_IMPORT.match(mine), mine
            assert natspy.startswith(("import nats", "from nats")), natspy
        assert "rxnats" not in as_nats_py(program.read_text(encoding="utf-8")).replace(
            "(see README.md)", ""
        ).split('"""', 2)[-1], program.name


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_example_prints_what_nats_py_prints(
    program: Path, nats_server_factory: NatsServerFactory, tmp_path: Path
) -> None:
    ours = run_program(program, nats_server_factory().url)
    assert ours.strip()
    pytest.importorskip("nats", reason="nats-py is not installed")
    peer = tmp_path / program.name
    peer.write_text(as_nats_py(program.read_text(encoding="utf-8")), encoding="utf-8")
    theirs = run_program(peer, nats_server_factory().url)
    assert ours.splitlines() == theirs.splitlines()
