"""The ``rxnats bench`` command: arguments, the server to use, progress and the report.

See :mod:`rxnats.bench` for the entry points. Output: a table (rich's when rich is
installed, plain text otherwise) or, with ``--json``, one JSON object on stdout. The
progress bar goes to stderr, only when stderr is a terminal and rich is installed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import socket
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from urllib.parse import urlsplit

from rxnats.bench.adapters import rxnats_factory
from rxnats.bench.compare import CompareRow, ratios, run_comparison
from rxnats.bench.jetstream import JS_MODES, ROUND_TRIP_MODES, run_js_comparison, run_js_mode
from rxnats.bench.runner import LATENCY_PERCENTILES, MODES, BenchConfig, BenchResult, run_mode

__all__ = ["add_bench_arguments", "main", "run_bench"]

DEFAULT_URL = "nats://127.0.0.1:4222"
_PROGRESS_MIN = 50_000  # runs shorter than this get no progress bar
_SIZE = re.compile(r"(?i)^\s*(\d+)\s*(b|k|kb|kib|m|mb|mib)?\s*$")
_UNITS = {None: 1, "b": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20}


def parse_size(text: str) -> int:
    """``"16"``, ``"1KiB"``, ``"64k"``, ``"1M"`` -> bytes (binary units).

    Raises:
        argparse.ArgumentTypeError: not a size.
    """
    m = _SIZE.match(text)
    if m is None:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (use e.g. 16, 1KiB, 64k)")
    unit = m.group(2).lower() if m.group(2) else None
    return int(m.group(1)) * _UNITS[unit]


def _csv(kind: Callable[[str], object]) -> Callable[[str], list[object]]:
    def parse(text: str) -> list[object]:
        return [kind(part) for part in text.split(",") if part.strip()]

    return parse


def _mode(text: str) -> str:
    if text not in MODES and text not in JS_MODES:
        raise argparse.ArgumentTypeError(
            f"unknown mode {text!r}; choose from {', '.join((*MODES, *JS_MODES))}"
        )
    return text


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``rxnats bench`` arguments to ``parser`` (for ``rxnats.cli``)."""
    parser.add_argument(
        "modes", nargs="?", type=_csv(_mode), default=["pub"],
        help=f"comma-separated modes: {', '.join((*MODES, *JS_MODES))} (default: pub)",
    )
    parser.add_argument(
        "--server", "-s", default=os.environ.get("NATS_URL", DEFAULT_URL),
        help="server URL (default: $NATS_URL or %(default)s): nats://, tls://, ws:// or "
        "wss://; an embedded nats-server is started when none answers at a nats:// or "
        "ws:// URL",
    )
    parser.add_argument("--size", type=_csv(parse_size), default=[16],
                        help="comma-separated payload sizes, e.g. 16,1KiB,64KiB (default: 16)")
    parser.add_argument("--count", "--msgs", "-n", type=int, default=100_000,
                        help="messages (round trips for request) per run (default: 100000)")
    parser.add_argument("--request-count", type=int, default=None,
                        help="round trips per request, js-pub, kv-put and kv-get run "
                        "(default: --count, at most 20000)")
    parser.add_argument("--clients", "-c", type=int, default=1,
                        help="publisher connections (pub), subscriber connections (pubsub) "
                        "or requester connections (request) (default: 1)")
    parser.add_argument("--concurrency", type=_csv(int), default=[1],
                        help="concurrent requests per requester connection; a comma-separated "
                        "list runs each (request mode), e.g. 1,10,100 (default: 1)")
    parser.add_argument("--subject", default="rxnats.bench", help="subject (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    parser.add_argument("--uvloop", action="store_true",
                        help="run on uvloop (pip install 'rxnats[uvloop]'); every library in "
                             "this process uses it, nats-core's own process does not")
    parser.add_argument("--compare", action="store_true",
                        help="run rxnats, nats-py, nats-core and raw references side by side")
    parser.add_argument("--rounds", type=int, default=3,
                        help="with --compare: runs per library, alternating (default: 3)")
    parser.add_argument("--libs", type=_csv(str),
                        default=["rxnats", "rxnats-async", "nats-py", "nats-core", "raw"],
                        help="with --compare: which of rxnats,rxnats-async,nats-py,nats-core,"
                             "raw to run (rxnats-async: async def callbacks, sub, pubsub and "
                             "request only; raw: pub, as a raw socket writing pre-encoded "
                             "frames, and request, as a feature-less client on plain TCP)")
    parser.add_argument("--natscore-python", default=os.environ.get("RXNATS_NATSCORE_PYTHON"),
                        help="with --compare: a Python >= 3.13 with nats-core installed "
                        "(default: $RXNATS_NATSCORE_PYTHON)")


_DEFAULT_PORTS = {"ws": 80, "wss": 443}


def _reachable(url: str) -> bool:
    parts = urlsplit(url if "://" in url else f"nats://{url}")
    port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower(), 4222)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", port), 1.0):
            return True
    except OSError:
        return False


@contextmanager
def _server(url: str, quiet: bool) -> Iterator[tuple[str, bool]]:
    """Yield (url, embedded): ``url`` when it answers, else an embedded server's URL.

    For a ``ws://`` URL the embedded server listens for WebSocket clients too, and its
    WebSocket URL is the one yielded.
    """
    if _reachable(url):
        yield url, False
        return
    from rxnats.server import NatsServer

    websocket = url.lower().startswith("ws://")
    if not quiet:
        kind = "nats-server with a websocket listener" if websocket else "nats-server"
        print(f"rxnats bench: nothing answers at {url}; starting an embedded {kind}",
              file=sys.stderr)
    # JetStream on: the js-* and kv-* modes need it.
    with NatsServer(websocket=websocket, jetstream=True) as server:
        yield (server.ws_url if websocket else server.url), True


class _Progress:
    """A rich progress bar on stderr, or nothing when rich is missing or not on a tty."""

    def __init__(self, enabled: bool) -> None:
        self._bar: object = None
        if not enabled or not sys.stderr.isatty():
            return
        try:
            from rich.console import Console
            from rich.progress import Progress
        except ImportError:
            return
        self._bar = Progress(console=Console(stderr=True), transient=True)

    @contextmanager
    def task(self, label: str, total: int) -> Iterator[Callable[[int], None]]:
        from_rich = self._bar
        if from_rich is None or total < _PROGRESS_MIN:
            yield lambda n: None
            return
        from rich.progress import Progress

        assert isinstance(from_rich, Progress)
        with from_rich:
            task_id = from_rich.add_task(label, total=total)
            yield lambda n: from_rich.advance(task_id, n)


def _configs(args: argparse.Namespace) -> list[BenchConfig]:
    return [
        BenchConfig(
            mode=str(mode), size=int(str(size)),
            count=_request_count(args) if mode in ("request", *ROUND_TRIP_MODES) else args.count, clients=args.clients,
            concurrency=int(str(concurrency)), subject=args.subject,
        )
        for mode in args.modes
        for size in args.size
        # Each concurrency is a run of its own where it means something (requests).
        for concurrency in (args.concurrency if mode == "request" else args.concurrency[:1])
    ]


def _latency_cells(latency: dict[str, float], show: bool) -> list[str]:
    """The latency columns of a row (microseconds; blank where the mode has none)."""
    if not show:
        return []
    return [_micros(latency[name]) if name in latency else "" for name, _ in LATENCY_PERCENTILES]


def _micros(us: float) -> str:
    return f"{us / 1000:,.2f}ms" if us >= 1000 else f"{us:,.0f}µs"


def _request_count(args: argparse.Namespace) -> int:
    if args.request_count is not None:
        return int(args.request_count)
    return min(int(args.count), 20_000)


def _rate(n: float) -> str:
    for unit, div in (("M", 1e6), ("k", 1e3)):
        if n >= div:
            return f"{n / div:,.2f}{unit}"
    return f"{n:,.0f}"


def _bytes_rate(n: float) -> str:
    return f"{n / (1 << 20):,.1f} MiB/s"


def _print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
        print(title)
        print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
        for row in rows:
            print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
        return
    table = Table(title=title)
    for h in header:
        table.add_column(h, justify="right" if h not in ("library", "mode") else "left")
    for row in rows:
        table.add_row(*row)
    Console(width=None if sys.stdout.isatty() else 132).print(table)


def _environment(url: str, embedded: bool) -> dict[str, object]:
    return {
        "server": url,
        "embedded_server": embedded,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "cpus": os.cpu_count() or 0,
    }


async def _single(args: argparse.Namespace, url: str, embedded: bool) -> int:
    progress = _Progress(not args.no_progress and not args.json)
    results: list[BenchResult] = []
    for config in _configs(args):
        total = config.count
        with progress.task(f"{config.mode} {config.size} B", total) as tick:
            if config.mode in JS_MODES:
                results.append(await run_js_mode("rxnats", url, config, tick))
            else:
                results.append(await run_mode("rxnats", rxnats_factory, url, config, tick))
    if args.json:
        print(json.dumps({**_environment(url, embedded), "results": [r.as_dict() for r in results]}))
        return 0
    timed = any(r.latency_us for r in results)
    _print_table(
        f"rxnats bench ({url})",
        ["mode", "size", "count", "clients", "msgs/s", "payload", "elapsed", "RSS delta",
         *(name for name, _ in LATENCY_PERCENTILES if timed)],
        [
            [r.mode, str(r.size), str(r.msgs), f"{r.clients}x{r.concurrency}" if r.mode == "request" else str(r.clients),
             _rate(r.msgs_per_sec), _bytes_rate(r.bytes_per_sec), f"{r.elapsed_s:.2f}s",
             f"{(r.rss_end_kib - r.rss_start_kib) / 1024:+.1f} MiB", *_latency_cells(r.latency_us, timed)]
            for r in results
        ],
    )
    return 0


async def _compare(args: argparse.Namespace, url: str, embedded: bool) -> int:
    configs = _configs(args)
    libs = [str(lib) for lib in args.libs]
    progress = _Progress(not args.no_progress and not args.json)
    total = len(configs) * args.rounds * len(libs)
    with progress.task("comparison runs", total if total * args.count >= _PROGRESS_MIN else 0) as tick:
        rows = await run_comparison(
            url, [c for c in configs if c.mode not in JS_MODES], rounds=args.rounds,
            libraries=libs, natscore_python=args.natscore_python, on_run=lambda lib, cfg: tick(1),
        )
        rows += await run_js_comparison(
            url, [c for c in configs if c.mode in JS_MODES], rounds=args.rounds, libraries=libs,
            on_run=lambda lib, cfg: tick(1),
        )
    ratio = ratios(rows)
    if args.json:
        print(json.dumps({
            **_environment(url, embedded),
            "rounds": args.rounds,
            "count": args.count,
            "rows": [row.as_dict() for row in rows],
            "ratios": [
                {"mode": m, "size": s, "concurrency": c, "peer": p, "rxnats_over_peer": round(v, 3)}
                for (m, s, c, p), v in ratio.items()
            ],
        }))
        return 0
    timed = any(row.median_latency_us for row in rows)
    _print_table(
        f"rxnats bench --compare ({url}, {args.rounds} alternating rounds, medians)",
        ["mode", "size", "library", "msgs/s", "payload", "rxnats/this", "runs",
         *(name for name, _ in LATENCY_PERCENTILES if timed)],
        [_compare_cells(row, ratio, timed) for row in rows],
    )
    return 0


def _compare_cells(
    row: CompareRow, ratio: dict[tuple[str, int, int, str], float], timed: bool = False
) -> list[str]:
    mode = f"{row.mode} x{row.concurrency}" if row.concurrency > 1 else row.mode
    if not row.runs:
        return [mode, str(row.size), row.library, "-", "-", "-", row.error or "no runs",
                *_latency_cells({}, timed)]
    r = ratio.get((row.mode, row.size, row.concurrency, row.library))
    return [
        mode, str(row.size), row.library, _rate(row.median_msgs_per_sec),
        _bytes_rate(row.median_bytes_per_sec), f"{r:.2f}x" if r is not None else "",
        " ".join(_rate(x.msgs_per_sec) for x in row.runs),
        *_latency_cells(row.median_latency_us, timed),
    ]


def run_bench(args: argparse.Namespace) -> int:
    """Run ``rxnats bench`` with arguments parsed by :func:`add_bench_arguments`.

    Returns the exit status (0 on success, 2 on bad arguments, 1 when a run failed).
    """
    counts = (args.count, args.clients, *args.concurrency, args.rounds, args.request_count or 1)
    if not args.concurrency or min(counts) <= 0:
        print("rxnats bench: --count, --request-count, --clients, --concurrency and --rounds "
              "must be positive", file=sys.stderr)
        return 2
    if args.server.lower().startswith("wss://") and not _reachable(args.server):
        print(f"rxnats bench: nothing answers at {args.server} (an embedded server is "
              "started for nats:// and ws:// URLs only)", file=sys.stderr)
        return 1
    with _server(args.server, quiet=args.json) as (url, embedded):
        try:
            work = (_compare if args.compare else _single)(args, url, embedded)
            if args.uvloop:
                import uvloop  # optional: the 'uvloop' extra

                return uvloop.run(work)
            return asyncio.run(work)
        except (OSError, TimeoutError, RuntimeError) as exc:
            print(f"rxnats bench: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1


def main(argv: list[str] | None = None) -> int:
    """``rxnats bench`` as a program: parse ``argv`` (default ``sys.argv[1:]``) and run."""
    parser = argparse.ArgumentParser(prog="rxnats bench", description="Benchmark rxnats against a NATS server.")
    add_bench_arguments(parser)
    return run_bench(parser.parse_args(sys.argv[1:] if argv is None else argv))
