"""The documentation cannot rot: every ```python block of README.md and docs/ runs, and the site builds.

Each fenced ``python`` block is a complete program. It runs in its own process against a
fresh JetStream-enabled ``nats-server``; the URLs ``nats://localhost:4222`` and
``nats://127.0.0.1:4222`` in it are replaced by that server's URL, and ``NATS_URL`` is set
to it. A block that needs infrastructure a test cannot provide (a TLS certificate
authority, a credentials file, remote hosts) opts out with an HTML comment on the line
before its fence, which the rendered page does not show::

    <!-- no-test: needs a .creds file from an operator -->

A block that is a pytest test module says so the same way, and is run with pytest::

    <!-- run-with: pytest -->
"""

from __future__ import annotations

import importlib.util
import os
import re
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

_FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)```python\b")
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
        blocks.append(Block(path, start + 1, code, reason, bool(_RUN_WITH_PYTEST.match(before))))
        i += 1
    return blocks


BLOCKS = [block for path in DOC_FILES for block in extract_blocks(path)]


def test_the_docs_have_code_to_check() -> None:
    assert len(BLOCKS) >= 10, [b.id for b in BLOCKS]
    assert {b.path.name for b in BLOCKS} >= {"README.md", "index.md", "examples.md"}


def test_opt_outs_are_few_and_say_why() -> None:
    skipped = [b for b in BLOCKS if b.skip_reason is not None]
    assert all(b.skip_reason for b in skipped), "a no-test marker needs a reason"
    assert len(skipped) <= len(BLOCKS) // 4, [b.id for b in skipped]


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
    prefix = "test_" if block.with_pytest else ""
    script = tmp_path / f"{prefix}{block.path.stem}_{block.line}.py"
    script.write_text(code, encoding="utf-8")
    env = dict(os.environ, NATS_URL=server.url, PYTHONDONTWRITEBYTECODE="1")
    runner = ["-m", "pytest", "-q", "-p", "no:cacheprovider"] if block.with_pytest else []
    result = subprocess.run(
        [sys.executable, *runner, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, (
        f"{block.id} failed (exit {result.returncode})\n--- stdout\n{result.stdout}"
        f"\n--- stderr\n{result.stderr}"
    )
    if block.with_pytest:  # every test of the module ran and passed; none was skipped
        assert " passed" in result.stdout and "skipped" not in result.stdout, result.stdout


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
