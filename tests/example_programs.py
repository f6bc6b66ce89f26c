"""Running the programs of examples/ as rxnats and as nats-py programs.

The examples are nats-py programs whose import lines name ``rxnats``. :func:`as_nats_py`
turns those lines back (and changes nothing else); :func:`run_program` runs a program in
its own process against a server and returns what it printed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

__all__ = ["EXAMPLES", "RXNATS_IMPORT", "as_nats_py", "run_program"]

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
#: An import line that names rxnats the way a renamed nats-py program does.
RXNATS_IMPORT = re.compile(r"^(import rxnats as nats|from rxnats[. ])", re.MULTILINE)


def as_nats_py(source: str) -> str:
    """The program with its import lines renamed back to nats-py's."""
    source = re.sub(r"^import rxnats as nats$", "import nats", source, flags=re.MULTILINE)
    return re.sub(r"^from rxnats(?=[. ])", "from nats", source, flags=re.MULTILINE)


def run_program(script: Path, url: str, timeout: float = 120.0) -> str:
    """Run ``script`` with ``NATS_URL=url``; return its output (it must exit with 0)."""
    env = dict(os.environ, NATS_URL=url, PYTHONDONTWRITEBYTECODE="1")
    result = subprocess.run(
        [sys.executable, str(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, f"{script.name}:\n{result.stdout}\n{result.stderr}"
    return result.stdout
