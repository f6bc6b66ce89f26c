"""Run the standard side-by-side comparison (the table in docs/performance.md).

    .venv/bin/python benchmarks/compare.py [modes] [extra rxnats-bench arguments]

Three runs of ``rxnats bench --compare``: the message modes (``pub,pubsub,sub``) with every
library, ``request`` at concurrency 1, 10 and 100 with rxnats, rxnats-async and
nats-py (nats-core's request, some 200 round trips a second, would take most of the
time), and the JetStream and key-value modes with rxnats and nats-py. rxnats and nats-py run in this interpreter; nats-core runs in the Python 3.13 venv
named by $RXNATS_NATSCORE_PYTHON, else /tmp/venv313/bin/python when it exists (make it
with ``python3.13 -m venv /tmp/venv313 && /tmp/venv313/bin/pip install 'nats-core[nkeys]'``).
Options given here are appended to the defaults below, so they override them; a first
argument that is not an option replaces the modes (e.g. ``benchmarks/compare.py pub``).
"""

from __future__ import annotations

import os
import sys

from rxnats.bench import main
from rxnats.bench.jetstream import JS_MODES

MESSAGE_MODES = "pub,pubsub,sub"
MESSAGE_DEFAULTS = ["--compare", "--size", "16", "--count", "300000", "--rounds", "5"]
REQUEST_DEFAULTS = ["--compare", "--size", "16", "--request-count", "20000", "--rounds", "5",
                    "--concurrency", "1,10,100", "--libs", "rxnats,rxnats-async,nats-py,raw"]
JS_DEFAULTS = ["--compare", "--size", "16", "--count", "30000", "--request-count", "5000",
               "--rounds", "5", "--libs", "rxnats,nats-py"]


def natscore_python() -> list[str]:
    """The --natscore-python argument, when a 3.13 venv with nats-core is known."""
    path = os.environ.get("RXNATS_NATSCORE_PYTHON") or "/tmp/venv313/bin/python"
    return ["--natscore-python", path] if os.path.exists(path) else []


if __name__ == "__main__":
    extra = sys.argv[1:]
    default_modes = f"{MESSAGE_MODES},request,{','.join(JS_MODES)}"
    modes = (extra.pop(0) if extra and not extra[0].startswith("-") else default_modes).split(",")
    status = 0
    message_modes = [m for m in modes if m != "request" and m not in JS_MODES]
    js_modes = [m for m in modes if m in JS_MODES]
    if message_modes:
        status |= main([",".join(message_modes), *MESSAGE_DEFAULTS, *natscore_python(), *extra])
    if "request" in modes:
        status |= main(["request", *REQUEST_DEFAULTS, *extra])
    if js_modes:
        status |= main([",".join(js_modes), *JS_DEFAULTS, *extra])
    sys.exit(status)
