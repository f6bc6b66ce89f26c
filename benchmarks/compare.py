"""Run the standard side-by-side comparison (the table in docs/performance.md).

    .venv/bin/python benchmarks/compare.py [extra rxnats-bench arguments]

rxnats and nats-py run in this interpreter; nats-core runs in the Python 3.13 venv named
by $RXNATS_NATSCORE_PYTHON, else /tmp/venv313/bin/python when it exists (make it with
``python3.13 -m venv /tmp/venv313 && /tmp/venv313/bin/pip install 'nats-core[nkeys]'``).
Options given here are appended to the defaults below, so they override them; a first
argument that is not an option replaces the modes (e.g. ``benchmarks/compare.py pub``).
"""

from __future__ import annotations

import os
import sys

from rxnats.bench import main

MODES = "pub,pubsub,sub,request"
DEFAULTS = ["--compare", "--size", "16", "--count", "300000",
            "--request-count", "3000", "--rounds", "3"]


def natscore_python() -> list[str]:
    """The --natscore-python argument, when a 3.13 venv with nats-core is known."""
    path = os.environ.get("RXNATS_NATSCORE_PYTHON") or "/tmp/venv313/bin/python"
    return ["--natscore-python", path] if os.path.exists(path) else []


if __name__ == "__main__":
    extra = sys.argv[1:]
    modes = [extra.pop(0)] if extra and not extra[0].startswith("-") else [MODES]
    sys.exit(main([*modes, *DEFAULTS, *natscore_python(), *extra]))
