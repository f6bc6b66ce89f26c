"""The ``rxnats`` command line, shaped after the official ``nats`` CLI.

One module per command group: :mod:`~rxnats.cli.messaging` (``pub``, ``sub``, ``req``,
``reply``), :mod:`~rxnats.cli.server` (``server``, ``server info``, ``server ping``),
:mod:`~rxnats.cli.context`, :mod:`~rxnats.cli.stream`, :mod:`~rxnats.cli.consumer`,
:mod:`~rxnats.cli.kv`, :mod:`~rxnats.cli.obj` (``object``), :mod:`~rxnats.cli.events`,
plus ``demo`` and ``bench``. The connection options are global and read like ``nats``
reads them (:mod:`~rxnats.cli.settings`: flags, ``NATS_*`` variables, contexts).

Every command is a function taking the parsed arguments and returning an exit code;
:func:`main` turns the failures a script should expect into one line on stderr with a
hint (:mod:`~rxnats.cli.errors`) and the exit codes below, never a traceback.

Exit codes: 0 ok, 1 error, 2 usage, 3 timeout or no responders, 4 connection failure,
130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
from collections.abc import Callable, Sequence
from types import ModuleType

from rxnats import __version__
from rxnats.cli import consumer, context, events, kv, messaging, obj, server, stream
from rxnats.cli.connection import open_connection, settings_of
from rxnats.cli.errors import (
    EXIT_CONNECTION,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TIMEOUT,
    EXIT_USAGE,
    CommandFailed,
    UsageError,
    describe,
)
from rxnats.cli.output import format_msg, info
from rxnats.cli.parsing import Handler, Parser, add_command, add_global_options
from rxnats.errors import Error

__all__ = [
    "EXIT_CONNECTION",
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_TIMEOUT",
    "EXIT_USAGE",
    "CommandFailed",
    "build_parser",
    "format_msg",
    "main",
    "open_connection",
]

EPILOG = """\
examples:
  rxnats server                               a nats-server with JetStream on port 4222 (Ctrl-C stops it)
  rxnats sub 'orders.>' --count 10            print the next 10 messages under orders.
  rxnats pub orders.new '{"id": {{Count}}}' --count 5 --sleep 100ms -H Trace-Id:abc
  echo hello | rxnats pub greet -             publish what stdin holds
  rxnats reply time.now "{{TimeStamp}}"       answer every request on time.now
  rxnats req time.now --timeout 2s            ask once and print the answer
  rxnats stream add ORDERS --subjects 'orders.>'
  rxnats kv put config color blue             (after: rxnats kv add config)
  rxnats context add local --server nats://127.0.0.1:4222 --select
  rxnats events                               watch the connection's status and events

connection options (every command but server and bench; before or after the command):
  -s/--server URL[,URL]  --user --password --token --creds FILE --nkey FILE --jwt --seed
  --tlsca --tlscert --tlskey --tlsfirst (also --tls-ca --tls-cert --tls-key)  --timeout 5s
  --connection-name --inbox-prefix --js-domain --js-api-prefix --context NAME --no-context
They default to NATS_URL, NATS_USER, NATS_PASSWORD, NATS_TOKEN, NATS_CREDS, NATS_NKEY,
NATS_JWT, NATS_SEED, NATS_CA, NATS_CERT, NATS_KEY, NATS_TIMEOUT and NATS_CONTEXT, then to
the selected nats context (~/.config/nats, shared with the nats CLI).

exit codes (for scripts):
  0    success
  1    error (invalid subject or header, server -ERR, JetStream refused, unreadable file, ...)
  2    usage error (bad arguments)
  3    timeout, or no responders for a request
  4    connection failure (no server answered, credentials or TLS refused, connection lost)
  130  interrupted (Ctrl-C)
"""


def build_parser() -> Parser:
    """The ``rxnats`` argument parser, with one sub-command (or group) per action."""
    parser = Parser(
        prog="rxnats",
        description="NATS from the shell: messaging, JetStream, key-value, objects, a local server.",
        epilog=EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"rxnats {__version__}")
    add_global_options(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    messaging.add_commands(commands)
    server.add_commands(commands)
    context.add_commands(commands)
    stream.add_commands(commands)
    consumer.add_commands(commands)
    kv.add_commands(commands)
    obj.add_commands(commands)
    events.add_commands(commands)
    add_command(commands, "demo", cmd_demo, "a guided tour of pub/sub, queue groups, request/reply, drain")
    # Its options (--server included) belong to rxnats.bench, loaded only when it runs.
    bench = commands.add_parser(
        "bench", add_help=False, help="measure throughput and latency (see rxnats bench --help)"
    )
    bench.set_defaults(handler=cmd_bench, command_prog=bench.prog)
    return parser


def _bench_module() -> ModuleType | None:
    """``rxnats.bench`` if this build has it (it is optional; the CLI works without it)."""
    try:
        return importlib.import_module("rxnats.bench")
    except ModuleNotFoundError as exc:
        if exc.name != "rxnats.bench":
            raise
        return None


def cmd_demo(args: argparse.Namespace) -> int:
    """``rxnats demo``: see :mod:`rxnats.demo`."""
    from rxnats.demo import run_demo

    urls = list(settings_of(args).servers)
    return asyncio.run(
        run_demo(
            ",".join(urls),
            connect=lambda url: open_connection(args, url.split(","), connect_timeout=1.0),
        )
    )


def cmd_bench(args: argparse.Namespace) -> int:
    """``rxnats bench``: delegated to :mod:`rxnats.bench`, which adds its own options."""
    module = _bench_module()
    if module is None or not hasattr(module, "add_bench_arguments"):
        raise CommandFailed("benchmarks are not available in this build (no rxnats.bench)",
                            hint="install rxnats from a full checkout")
    parser = Parser(prog="rxnats bench", description="Measure throughput and latency.")
    add_arguments: Callable[[argparse.ArgumentParser], None] = module.add_bench_arguments
    add_arguments(parser)
    bench_argv: list[str] = args.bench_argv
    server_url: str | None = getattr(args, "server", None)
    if server_url and not any(a in ("-s", "--server") or a.startswith("--server=") for a in bench_argv):
        bench_argv = ["--server", server_url, *bench_argv]
    bench_args = parser.parse_args(bench_argv)
    run_bench: Callable[[argparse.Namespace], int] = module.run_bench
    return run_bench(bench_args)


def _report(where: str, exc: BaseException) -> int:
    code, message, hint = describe(exc)
    if isinstance(exc, UsageError):
        where = exc.prog
    hint = hint or f"see '{where} --help'"
    print(f"{where}: error: {message}" + (f"; hint: {hint}" if hint else ""), file=sys.stderr, flush=True)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``) and return the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args, unknown = parser.parse_known_args(argv)
        if args.command == "bench":
            args.bench_argv = argv[argv.index("bench") + 1 :]
        elif unknown:
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    except UsageError as exc:
        return _report("rxnats", exc)
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    handler: Handler = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        info("interrupted")
        return EXIT_INTERRUPTED
    except SystemExit as exc:  # a command's own parser printed --help (bench)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    except (CommandFailed, Error, OSError) as exc:
        return _report(getattr(args, "command_prog", "rxnats"), exc)
