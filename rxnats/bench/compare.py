"""The side-by-side comparison: rxnats, nats-py and nats-core against one server.

For every (mode, size) asked for, each library runs ``rounds`` times, the libraries
taking turns (the order rotates each round, so none always runs first on a warm or
cold machine). rxnats and nats-py run in this interpreter; nats-core runs in a Python
3.13 interpreter given by ``--natscore-python`` (or ``RXNATS_NATSCORE_PYTHON``) through
:mod:`rxnats.bench.natscore_driver`, which uses the very same loops. ``raw`` is the
reference: in ``pub`` modes a raw socket writing pre-encoded frames (the ``raw-socket``
row, the ceiling); in ``request`` mode the feature-less client of
:mod:`rxnats.bench.rawclient` (the ``raw-client`` row, the floor of any Python client).
The report holds the median of each library's runs and the ratio rxnats/peer.
"""

from __future__ import annotations

import asyncio
import gc
import json
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from rxnats.bench.adapters import (
    natspy_available,
    natspy_factory,
    rxnats_async_factory,
    rxnats_factory,
)
from rxnats.bench.rawclient import raw_client_factory
from rxnats.bench.runner import BenchConfig, BenchResult, ClientFactory, run_mode

__all__ = ["CompareRow", "ratios", "run_comparison"]

_DRIVER = Path(__file__).with_name("natscore_driver.py")
_SUBPROCESS_TIMEOUT = 600.0
_CALLBACK_MODES = ("sub", "pubsub", "request")  # where a subscription callback runs
_RAW_ROWS = {"pub": "raw-socket", "request": "raw-client"}  # the modes raw runs in


@dataclass(slots=True)
class CompareRow:
    """One library's runs of one (mode, size)."""

    library: str
    mode: str
    size: int
    runs: list[BenchResult] = field(default_factory=list)
    error: str = ""
    concurrency: int = 1

    @property
    def median_latency_us(self) -> dict[str, float]:
        """Each latency percentile's median over the runs (``request`` only, else empty)."""
        names = [name for name in self.runs[0].latency_us] if self.runs else []
        return {
            name: statistics.median(r.latency_us[name] for r in self.runs if name in r.latency_us)
            for name in names
        }

    @property
    def median_msgs_per_sec(self) -> float:
        """The median rate of the runs (0 when none succeeded)."""
        return statistics.median(r.msgs_per_sec for r in self.runs) if self.runs else 0.0

    @property
    def median_bytes_per_sec(self) -> float:
        """The median payload byte rate of the runs."""
        return self.median_msgs_per_sec * self.size

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {
            "library": self.library,
            "mode": self.mode,
            "size": self.size,
            "median_msgs_per_sec": round(self.median_msgs_per_sec, 1),
            "median_bytes_per_sec": round(self.median_bytes_per_sec, 1),
            "runs_msgs_per_sec": [round(r.msgs_per_sec, 1) for r in self.runs],
            "error": self.error,
            "concurrency": self.concurrency,
            "latency_us": self.median_latency_us,
        }


async def _natscore_run(python: str, url: str, config: BenchConfig) -> BenchResult:
    spec = {"url": url, **{k: getattr(config, k) for k in BenchConfig.__dataclass_fields__}}
    proc = await asyncio.create_subprocess_exec(
        python, str(_DRIVER), json.dumps(spec),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), _SUBPROCESS_TIMEOUT)
    except BaseException:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        raise
    if proc.returncode != 0:
        raise RuntimeError(err.decode(errors="replace").strip() or f"exit {proc.returncode}")
    data = json.loads(out)
    fields = BenchResult.__dataclass_fields__
    return BenchResult(**{k: v for k, v in data.items() if k in fields})


async def run_comparison(
    url: str,
    configs: Sequence[BenchConfig],
    *,
    rounds: int,
    libraries: Sequence[str],
    natscore_python: str | None,
    on_run: Callable[[str, BenchConfig], None] | None = None,
) -> list[CompareRow]:
    """Run every config for every available library, ``rounds`` times, alternating.

    ``libraries`` may name ``rxnats``, ``rxnats-async``, ``nats-py``, ``nats-core`` and
    ``raw``; those that are not installed get a row with ``error`` set instead of figures.
    ``raw`` runs in ``pub`` mode as a raw socket writing pre-encoded frames (the
    ``raw-socket`` row) and in ``request`` mode as the feature-less client of
    :mod:`rxnats.bench.rawclient` (the ``raw-client`` row); ``rxnats-async`` (rxnats with
    ``async def`` callbacks) runs in ``sub``, ``pubsub`` and ``request`` only: elsewhere
    they would measure nothing new.

    Cancelling it stops after closing the current run's connections.
    """
    factories: dict[str, ClientFactory] = {}
    missing: dict[str, str] = {}
    for lib in libraries:
        if lib == "rxnats":
            factories[lib] = rxnats_factory
        elif lib == "rxnats-async":
            factories[lib] = rxnats_async_factory
        elif lib == "nats-py":
            if natspy_available() is None:
                missing[lib] = "nats-py is not installed in this interpreter"
            else:
                factories[lib] = natspy_factory()
        elif lib == "nats-core":
            if not natscore_python:
                missing[lib] = "no Python 3.13 with nats-core given (--natscore-python)"
        elif lib != "raw":
            raise ValueError(f"unknown library {lib!r}")

    rows: list[CompareRow] = []
    for config in configs:
        libs = [
            lib
            for lib in libraries
            if (lib != "raw" or config.mode in _RAW_ROWS)
            and (lib != "rxnats-async" or config.mode in _CALLBACK_MODES)
        ]
        table = {
            lib: CompareRow(
                lib if lib != "raw" else _RAW_ROWS[config.mode], config.mode, config.size,
                concurrency=config.concurrency,
            )
            for lib in libs
        }
        for lib, why in missing.items():
            if lib in table:
                table[lib].error = why
        for r in range(rounds):
            order = libs[r % len(libs) :] + libs[: r % len(libs)]
            for lib in order:
                row = table[lib]
                if row.error and not row.runs and lib in missing:
                    continue
                if on_run is not None:
                    on_run(lib, config)
                gc.collect()
                try:
                    if lib == "raw" and config.mode == "request":
                        result = await run_mode("raw-client", raw_client_factory, url, config)
                    elif lib == "raw":
                        result = await run_mode("raw", rxnats_factory, url, replace(config, mode="raw-pub"))
                        result.mode = config.mode
                    elif lib == "nats-core":
                        assert natscore_python is not None
                        result = await _natscore_run(natscore_python, url, config)
                    else:
                        result = await run_mode(lib, factories[lib], url, config)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    row.error = f"{type(exc).__name__}: {exc}"
                    print(f"rxnats bench: {lib} {config.mode} failed: {row.error}", file=sys.stderr)
                    continue
                row.runs.append(result)
        rows.extend(table.values())
    return rows


def ratios(rows: Sequence[CompareRow]) -> dict[tuple[str, int, int, str], float]:
    """rxnats's median divided by each peer's, keyed by (mode, size, concurrency, peer)."""
    out: dict[tuple[str, int, int, str], float] = {}
    base = {(r.mode, r.size, r.concurrency): r for r in rows if r.library == "rxnats"}
    for row in rows:
        ours = base.get((row.mode, row.size, row.concurrency))
        if row.library == "rxnats" or ours is None or not row.runs or not ours.runs:
            continue
        out[(row.mode, row.size, row.concurrency, row.library)] = (
            ours.median_msgs_per_sec / row.median_msgs_per_sec
        )
    return out
