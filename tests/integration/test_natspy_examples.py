"""nats-py programs run on rxnats with only their imports renamed, and print the same.

The programs in ``examples/natspy/`` are written for nats-py (``import nats``): basic
publish/subscribe, queue groups, request/reply, drain and headers. Each runs in its own
process against a fresh server, first as written with nats-py (when it is installed),
then with :func:`rename_imports` applied and rxnats installed; both must succeed (the
programs assert what they expect) and print the same lines.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from rxnats.testing.plugin import NatsServerFactory

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "natspy"
PROGRAMS = sorted(EXAMPLES.glob("*.py"))
TIMEOUT = 60.0

_IMPORT_NATS = re.compile(r"^import nats$", re.MULTILINE)
_FROM_NATS = re.compile(r"^from nats(?=[. ])", re.MULTILINE)


def rename_imports(source: str) -> str:
    """The one edit a port needs: ``import nats`` and ``from nats...`` lines name rxnats."""
    source = _IMPORT_NATS.sub("import rxnats as nats", source)
    return _FROM_NATS.sub("from rxnats", source)


def run(source: str, url: str, tmp_path: Path, name: str) -> str:
    """Run ``source`` as a program against ``url``; return what it printed."""
    path = tmp_path / name
    path.write_text(source, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(path)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env={**os.environ, "NATS_URL": url},
        check=False,
    )
    assert done.returncode == 0, f"{name} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_there_are_programs_for_each_core_topic() -> None:
    names = {p.stem for p in PROGRAMS}
    assert {"pubsub", "queue_groups", "request_reply", "drain", "headers"} <= names


def test_the_rename_touches_import_lines_only() -> None:
    for program in PROGRAMS:
        before = program.read_text(encoding="utf-8").splitlines()
        after = rename_imports(program.read_text(encoding="utf-8")).splitlines()
        assert len(before) == len(after)
        changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
        assert changed, program.name  # every program imports nats
        for old, new in changed:
            assert old.startswith(("import nats", "from nats")), old
            assert new.startswith(("import rxnats as nats", "from rxnats")), new


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.stem)
def test_a_natspy_program_runs_on_rxnats_after_the_rename(
    program: Path, nats_server_factory: NatsServerFactory, tmp_path: Path
) -> None:
    source = program.read_text(encoding="utf-8")
    ours = run(rename_imports(source), nats_server_factory().url, tmp_path, f"rx_{program.name}")
    assert ours.strip(), "the program printed nothing"
    try:
        import nats  # noqa: F401 - only to know whether nats-py is installed
    except ImportError:
        pytest.skip("nats-py is not installed: the output is not compared")
    theirs = run(source, nats_server_factory().url, tmp_path, f"py_{program.name}")
    assert ours == theirs
