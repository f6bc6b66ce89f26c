"""Running ``python -m rxnats ...`` in tests, isolated from the user's own NATS set-up.

Every run gets an environment without the ``NATS_*`` variables of the machine and with
``XDG_CONFIG_HOME`` pointing at a directory of the test's choosing (an empty one by
default), so that a context selected on the developer's machine never leaks in.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

__all__ = ["WAIT", "Cli", "arun_cli", "cli", "cli_env", "one_line_error", "run_cli"]

WAIT = 30.0  # generous bound for a subprocess to start or finish on a busy machine
_EMPTY_CONFIG_HOME = tempfile.mkdtemp(prefix="rxnats-cli-test-config-")


def cli_env(
    url: str | None, *, config_home: Path | None = None, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment of a CLI run: ``NATS_URL=url`` (unless None), nothing else from NATS_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NATS_") or k == "NATS_SERVER_BIN"}
    if url is not None:
        env["NATS_URL"] = url
    env["PYTHONUNBUFFERED"] = "1"
    env["XDG_CONFIG_HOME"] = str(config_home) if config_home is not None else _EMPTY_CONFIG_HOME
    env.update(extra or {})
    return env


def run_cli(
    *args: str,
    url: str | None,
    stdin: bytes | None = None,
    timeout: float = WAIT,
    config_home: Path | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m rxnats ARGS`` to completion; stdout/stderr as text."""
    return subprocess.run(
        [sys.executable, "-m", "rxnats", *args],
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        env=cli_env(url, config_home=config_home, extra=env),
        timeout=timeout,
        check=False,
        cwd=cwd,
    )


async def arun_cli(
    *args: str, url: str | None, stdin: bytes | None = None, config_home: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """:func:`run_cli` without blocking the event loop."""
    return await asyncio.to_thread(run_cli, *args, url=url, stdin=stdin, config_home=config_home)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The single error line of a failed run (asserting it is one line, with a hint)."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert ": error: " in lines[0] and "; hint: " in lines[0], lines[0]
    return lines[0]


class Cli:
    """A running ``python -m rxnats`` process whose output is read asynchronously."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    async def stderr_line(self) -> str:
        assert self.proc.stderr is not None
        return (await asyncio.wait_for(self.proc.stderr.readline(), WAIT)).decode()

    async def stdout_line(self) -> str:
        assert self.proc.stdout is not None
        return (await asyncio.wait_for(self.proc.stdout.readline(), WAIT)).decode()

    async def finish(self) -> tuple[int, str, str]:
        out, err = await asyncio.wait_for(self.proc.communicate(), WAIT)
        assert self.proc.returncode is not None
        return self.proc.returncode, out.decode(), err.decode()


@asynccontextmanager
async def cli(
    *args: str, url: str | None, config_home: Path | None = None, env: Mapping[str, str] | None = None
) -> AsyncIterator[Cli]:
    """Start ``python -m rxnats ARGS``; kill it on the way out if it still runs."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rxnats", *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=cli_env(url, config_home=config_home, extra=env),
    )
    try:
        yield Cli(proc)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
