"""The documentation cannot rot: every code block of README.md and docs/ runs, and the site builds.

Each fenced ``python`` block is a complete program, and each ``bash`` block a complete
shell script (run with ``bash -euo pipefail``, the virtualenv's ``bin`` first on
``PATH`` so that ``rxnats`` is the one under test). Each runs in its own process, in an
empty directory, against a fresh JetStream-enabled ``nats-server`` (the one a reader
would have started with ``rxnats server``): the URLs ``nats://localhost:4222`` and
``nats://127.0.0.1:4222`` in it are replaced by that server's URL, ``NATS_URL`` is set
to it, and ``XDG_CONFIG_HOME`` points at an empty directory (so ``rxnats context``
examples write there). Whatever a shell block leaves running in the background is
stopped when it ends.

A block that needs what a test cannot provide (a TLS certificate authority, a
credentials file, remote hosts, minutes of benchmarking, installing packages) opts out
with an HTML comment on the line before its fence, which the rendered page does not
show, saying why and what checks it instead::

    <!-- no-test: needs a .creds file from an operator -->

A block that is a pytest test module says so the same way, and is run with pytest::

    <!-- run-with: pytest -->

Blocks of other languages (``text``, ``console``, ``diff``, ``json``) are output or
illustrations, not code to run.
"""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from rxnats.testing.plugin import NatsServerFactory

ROOT = Path(__file__).resolve().parent.parent
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
LOCAL_URLS = ("nats://localhost:4222", "nats://127.0.0.1:4222")
RUN_TIMEOUT = 60.0

_FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>python|bash)\b")
_FENCE_CLOSE = re.compile(r"^[ \t]*```\s*$")
_NO_TEST = re.compile(r"^\s*<!--\s*no-test:(?P<reason>.*?)-->\s*$")
_RUN_WITH_PYTEST = re.compile(r"^\s*<!--\s*run-with:\s*pytest\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced python block: where it is, its code, and why it is skipped (if it is)."""

    path: Path
    line: int
    code: str
    skip_reason: str | None
    with_pytest: bool = False
    lang: str = "python"

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def extract_blocks(path: Path) -> list[Block]:
    """The ```python blocks of a Markdown file, dedented, with their opt-out markers."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        opening = _FENCE_OPEN.match(lines[i])
        if opening is None:
            i += 1
            continue
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines) and not _FENCE_CLOSE.match(lines[i]):
            body.append(lines[i])
            i += 1
        before = next((lines[j] for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        marker = _NO_TEST.match(before)
        reason = marker.group("reason").strip() if marker else None
        code = textwrap.dedent("\n".join(body)) + "\n"
        blocks.append(
            Block(path, start + 1, code, reason, bool(_RUN_WITH_PYTEST.match(before)), opening.group("lang"))
        )
        i += 1
    return blocks


BLOCKS = [block for path in DOC_FILES for block in extract_blocks(path)]


def test_the_docs_have_code_to_check() -> None:
    assert len(BLOCKS) >= 10, [b.id for b in BLOCKS]
    assert {b.path.name for b in BLOCKS} >= {"README.md", "index.md", "examples.md", "cli.md", "jetstream.md"}
    assert any(b.lang == "bash" and b.skip_reason is None for b in BLOCKS)


def test_opt_outs_are_few_and_say_why() -> None:
    skipped = [b for b in BLOCKS if b.skip_reason is not None]
    assert all(b.skip_reason for b in skipped), "a no-test marker needs a reason"
    # Programs (the API examples) must run; shell blocks may install packages or run
    # benchmarks for minutes, which a test cannot do, but each page keeps one that runs.
    programs = [b for b in BLOCKS if b.lang == "python"]
    skipped_programs = [b for b in programs if b.skip_reason is not None]
    assert len(skipped_programs) <= len(programs) // 4, [b.id for b in skipped_programs]


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_code_block_runs(
    block: Block, nats_server_factory: NatsServerFactory, tmp_path: Path
) -> None:
    if block.skip_reason is not None:
        pytest.skip(f"no-test: {block.skip_reason}")
    server = nats_server_factory(jetstream=True)
    code = block.code
    for url in LOCAL_URLS:
        code = code.replace(url, server.url)
    work = tmp_path / "work"
    work.mkdir()
    env = dict(os.environ, NATS_URL=server.url, PYTHONDONTWRITEBYTECODE="1")
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    for name in [k for k in env if k.startswith("NATS_") and k not in ("NATS_URL", "NATS_SERVER_BIN")]:
        del env[name]
    if block.lang == "bash":
        script = tmp_path / f"{block.path.stem}_{block.line}.sh"
        script.write_text(code, encoding="utf-8")
        command = ["bash", "-euo", "pipefail", str(script)]
    else:
        prefix = "test_" if block.with_pytest else ""
        script = tmp_path / f"{prefix}{block.path.stem}_{block.line}.py"
        script.write_text(code, encoding="utf-8")
        runner = ["-m", "pytest", "-q", "-p", "no:cacheprovider"] if block.with_pytest else []
        command = [sys.executable, *runner, str(script)]
    # A session of its own: whatever the block leaves in the background is stopped with it.
    proc = subprocess.Popen(
        command, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=RUN_TIMEOUT)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
    assert proc.returncode == 0, (
        f"{block.id} failed (exit {proc.returncode})\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    )
    if block.with_pytest:  # every test of the module ran and passed; none was skipped
        assert " passed" in stdout and "skipped" not in stdout, stdout


def test_every_page_with_code_has_code_that_runs() -> None:
    pages_with_code = {b.path for b in BLOCKS}
    running = {b.path for b in BLOCKS if b.skip_reason is None}
    assert pages_with_code - running == set(), sorted(str(p) for p in pages_with_code - running)


def test_readme_test_command_is_the_one_ci_runs() -> None:
    command = (
        "python3 -m venv .venv && .venv/bin/pip install -q -e '.[dev]' && "
        ".venv/bin/python -m pytest -q"
    )
    assert command in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    ci = ROOT / ".ci" / "run"
    assert command in ci.read_text(encoding="utf-8").splitlines()


def test_readme_demo_command() -> None:
    command = (
        "python3 -m venv .venv && .venv/bin/pip install -e '.[server]' && .venv/bin/rxnats demo"
    )
    assert command in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()


def test_site_builds_strict(tmp_path: Path) -> None:
    if importlib.util.find_spec("mkdocs") is None:
        pytest.skip("mkdocs is not installed: pip install -e '.[docs]' (the dev extra has it)")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site" / "index.html").is_file()
    assert (tmp_path / "site" / "api" / "client" / "index.html").is_file()
