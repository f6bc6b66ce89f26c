"""The ``rxnats`` command line: publish, subscribe, request, reply, run a server, demo, bench.

Every command is a small function taking the parsed arguments and returning an exit code;
:func:`main` maps the errors a script should expect (bad subject, no server, timeout, no
responders, refused credentials, Ctrl-C) to readable one-line messages and to the exit
codes below, so no traceback is shown for them.

Exit codes: 0 ok, 1 error, 2 usage, 3 timeout or no responders, 4 connection failure,
130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import signal
import ssl
import sys
import time
from collections.abc import Callable, Sequence
from types import FrameType, ModuleType

from rxnats import __version__
from rxnats.client import NATS, connect
from rxnats.errors import (
    AuthorizationError,
    Error,
    MaxConnectionsExceededError,
    NoRespondersError,
    NoServersError,
    SecureConnFailedError,
    SecureConnRequiredError,
    SecureConnWantedError,
    TimeoutError,
)
from rxnats.msg import Msg

__all__ = [
    "EXIT_CONNECTION",
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_TIMEOUT",
    "EXIT_USAGE",
    "build_parser",
    "main",
]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_TIMEOUT = 3
EXIT_CONNECTION = 4
EXIT_INTERRUPTED = 130

DEFAULT_URL = "nats://127.0.0.1:4222"

_CONNECTION_ERRORS = (
    NoServersError,
    AuthorizationError,
    MaxConnectionsExceededError,
    SecureConnRequiredError,
    SecureConnWantedError,
    SecureConnFailedError,
)

EPILOG = """\
examples:
  rxnats server --jetstream                   run a nats-server on port 4222 (Ctrl-C stops it)
  rxnats sub 'orders.>' --count 10            print the next 10 messages under orders.
  rxnats pub orders.new '{"id": 1}' -H Trace-Id:abc
  echo hello | rxnats pub greet -             publish what stdin holds
  rxnats reply time.now "$(date)"             answer every request on time.now
  rxnats req time.now --timeout 2             ask once and print the answer
  rxnats demo                                 a guided tour (starts a server if none runs)
  rxnats bench pub,request --count 100000     throughput and latency (see rxnats bench -h)

every command takes --server/-s URL (default: $NATS_URL or nats://127.0.0.1:4222;
several URLs separated by commas), --creds FILE, --user/--password, --token,
--tls-ca FILE and --tls-cert/--tls-key FILE; bench takes --server only.

exit codes (for scripts):
  0    success
  1    error (invalid subject or header, server -ERR, unreadable file, ...)
  2    usage error (bad arguments)
  3    timeout, or no responders for a request
  4    connection failure (no server answered, credentials or TLS refused, connection lost)
  130  interrupted (Ctrl-C)
"""

Handler = Callable[[argparse.Namespace], int]


class CommandFailed(Exception):
    """An expected failure of a command: ``message`` is shown, ``code`` is the exit code."""

    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.code = code


# ---------------------------------------------------------------------- argument parsing
def _header(text: str) -> tuple[str, str]:
    key, sep, value = text.partition(":")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"header {text!r} is not KEY:VALUE")
    return key.strip(), value.strip()


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive integer")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


def _connection_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("connection options")
    group.add_argument(
        "-s",
        "--server",
        default=os.environ.get("NATS_URL", DEFAULT_URL),
        metavar="URL",
        help="server URL(s), comma separated (default: $NATS_URL or %(default)s)",
    )
    group.add_argument("--creds", metavar="FILE", help="a .creds file (JWT + nkey seed)")
    group.add_argument("--user", help="user name")
    group.add_argument("--password", help="password (with --user)")
    group.add_argument("--token", help="authentication token")
    group.add_argument("--tls-ca", metavar="FILE", help="CA certificates to verify the server")
    group.add_argument("--tls-cert", metavar="FILE", help="client certificate (PEM)")
    group.add_argument("--tls-key", metavar="FILE", help="client certificate's private key")
    return common


def build_parser() -> argparse.ArgumentParser:
    """The ``rxnats`` argument parser, with one sub-command per action."""
    parser = argparse.ArgumentParser(
        prog="rxnats",
        description="Talk to NATS from the shell: publish, subscribe, request, reply.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"rxnats {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    common = [_connection_options()]

    def command(
        name: str, handler: Handler, help_: str, *, own_options: bool = False
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name,
            parents=[] if own_options else common,
            add_help=not own_options,
            help=help_,
            description=help_,
            epilog=EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.set_defaults(handler=handler)
        return sub

    pub = command("pub", cmd_pub, "publish a message")
    pub.add_argument("subject")
    pub.add_argument("data", nargs="?", help="the payload; '-' reads stdin (default: empty)")
    pub.add_argument("--count", type=_positive_int, default=1, help="publish it N times")
    pub.add_argument("--reply", default="", help="reply subject")
    pub.add_argument(
        "-H", "--header", type=_header, action="append", default=[], metavar="KEY:VALUE",
        help="add a header (repeatable; a repeated key gets several values)",
    )

    sub = command("sub", cmd_sub, "print the messages published on a subject")
    sub.add_argument("subject", help="subject, wildcards allowed ('*', '>')")
    sub.add_argument("--count", type=_positive_int, help="exit after N messages")
    sub.add_argument("--queue", default="", help="join this queue group")
    sub.add_argument("--raw", action="store_true", help="print only the payloads")

    req = command("req", cmd_req, "send a request and print the reply")
    req.add_argument("subject")
    req.add_argument("data", nargs="?", help="the payload; '-' reads stdin (default: empty)")
    req.add_argument("--timeout", type=_positive_float, default=2.0, help="seconds (default 2)")
    req.add_argument(
        "-H", "--header", type=_header, action="append", default=[], metavar="KEY:VALUE",
        help="add a header (repeatable)",
    )
    req.add_argument("--raw", action="store_true", help="print only the reply's payload")

    reply = command("reply", cmd_reply, "answer requests (echo, or a fixed answer)")
    reply.add_argument("subject")
    reply.add_argument("data", nargs="?", help="the answer; omitted: echo each request back")
    reply.add_argument("--count", type=_positive_int, help="exit after N requests")
    reply.add_argument("--queue", default="", help="join this queue group")

    server = command("server", cmd_server, "run nats-server in the foreground")
    server.add_argument("--port", type=int, default=4222, help="client port (default 4222)")
    server.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    server.add_argument("--jetstream", action="store_true", help="enable JetStream")

    command("demo", cmd_demo, "a guided tour of pub/sub, queue groups, request/reply, drain")

    # Its options (--server included) belong to rxnats.bench, loaded only when it runs.
    command("bench", cmd_bench, "measure throughput and latency (see rxnats bench --help)", own_options=True)
    return parser


def _bench_module() -> ModuleType | None:
    """``rxnats.bench`` if this build has it (it is optional; the CLI works without it)."""
    try:
        return importlib.import_module("rxnats.bench")
    except ModuleNotFoundError as exc:
        if exc.name != "rxnats.bench":
            raise
        return None


# ---------------------------------------------------------------------- connecting
def _tls_context(args: argparse.Namespace) -> ssl.SSLContext | None:
    ca: str | None = args.tls_ca
    cert: str | None = args.tls_cert
    key: str | None = args.tls_key
    if key and not cert:
        raise CommandFailed("--tls-key needs --tls-cert", EXIT_USAGE)
    if not (ca or cert):
        return None
    try:
        context = ssl.create_default_context(cafile=ca)
    except OSError as exc:  # ssl.SSLError is an OSError too
        raise CommandFailed(f"cannot use --tls-ca {ca}: {exc.strerror or exc}") from None
    if cert:
        try:
            context.load_cert_chain(cert, key)
        except OSError as exc:
            raise CommandFailed(
                f"cannot use --tls-cert {cert}" + (f" / --tls-key {key}" if key else "")
                + f": {exc.strerror or exc}"
            ) from None
    return context


def server_urls(args: argparse.Namespace) -> list[str]:
    """The ``--server`` option as a list of URLs."""
    text: str = args.server
    return [url.strip() for url in text.split(",") if url.strip()]


async def open_connection(
    args: argparse.Namespace, servers: list[str] | None = None, *, connect_timeout: float = 2.0
) -> NATS:
    """Connect with the shared options of ``args`` (to ``servers`` when given).

    Raises:
        NoServersError, AuthorizationError, ...: what :func:`rxnats.connect` raises.
        CommandFailed: the TLS options are inconsistent.
        OSError: a TLS file cannot be read.
    """
    return await connect(
        servers if servers is not None else server_urls(args),
        name="rxnats-cli",
        connect_timeout=connect_timeout,
        user_credentials=args.creds,
        user=args.user,
        password=args.password,
        token=args.token,
        tls=_tls_context(args),
    )


def _read_data(data: str | None) -> bytes:
    if data is None:
        return b""
    if data == "-":
        return sys.stdin.buffer.read()
    return data.encode()


def _headers(pairs: list[tuple[str, str]]) -> dict[str, list[str]] | None:
    if not pairs:
        return None
    headers: dict[str, list[str]] = {}
    for key, value in pairs:
        headers.setdefault(key, []).append(value)
    return headers


def _info(text: str) -> None:
    """Status lines go to stderr so that stdout carries only messages."""
    print(text, file=sys.stderr, flush=True)


def format_msg(msg: Msg, number: int | None = None) -> str:
    """A message as the ``sub``/``req``/``reply`` commands print it: header line, headers, data."""
    tag = f"[#{number}] " if number is not None else ""
    reply = f' (reply "{msg.reply}")' if msg.reply else ""
    lines = [f'{tag}Received on "{msg.subject}"{reply}']
    headers = msg.headers
    if headers is not None:
        if headers.status is not None:
            lines.append(f"NATS/1.0 {headers.status} {headers.description}".rstrip())
        lines.extend(f"{key}: {value}" for key, value in headers.multi_items())
        lines.append("")
    lines.append(msg.data.decode("utf-8", errors="replace"))
    return "\n".join(lines) + "\n"


def _print_msg(msg: Msg, number: int | None, raw: bool) -> None:
    if raw:
        sys.stdout.buffer.write(msg.data + b"\n")
        sys.stdout.buffer.flush()
    else:
        print(format_msg(msg, number), flush=True)


# ---------------------------------------------------------------------- commands
def cmd_pub(args: argparse.Namespace) -> int:
    """``rxnats pub SUBJECT [DATA]``."""
    payload = _read_data(args.data)
    headers = _headers(args.header)
    count: int = args.count

    async def run() -> int:
        async with await open_connection(args) as nc:
            for _ in range(count):
                await nc.publish(args.subject, payload, reply=args.reply, headers=headers)
            await nc.flush()
        plural = "" if count == 1 else "s"
        _info(f"published {count} message{plural} ({len(payload)} bytes each) to {args.subject!r}")
        return EXIT_OK

    return asyncio.run(run())


def cmd_sub(args: argparse.Namespace) -> int:
    """``rxnats sub SUBJECT``: print messages until ``--count`` or Ctrl-C."""
    count: int | None = args.count

    async def run() -> int:
        async with await open_connection(args) as nc:
            sub = await nc.subscribe(args.subject, queue=args.queue, max_msgs=count or 0)
            await nc.flush()
            _info(f"listening on {args.subject!r}" + (f" in queue {args.queue!r}" if args.queue else ""))
            received = 0
            async for msg in sub.messages:
                received += 1
                _print_msg(msg, received, args.raw)
            if count is not None and received >= count:
                return EXIT_OK
            raise CommandFailed(f"connection lost: {nc.last_error() or 'closed'}", EXIT_CONNECTION)

    return asyncio.run(run())


def cmd_req(args: argparse.Namespace) -> int:
    """``rxnats req SUBJECT [DATA]``: print the first reply."""
    payload = _read_data(args.data)

    async def run() -> int:
        async with await open_connection(args) as nc:
            msg = await nc.request(
                args.subject, payload, timeout=args.timeout, headers=_headers(args.header)
            )
            _print_msg(msg, None, args.raw)
        return EXIT_OK

    return asyncio.run(run())


def cmd_reply(args: argparse.Namespace) -> int:
    """``rxnats reply SUBJECT [DATA]``: answer requests until ``--count`` or Ctrl-C."""
    answer = None if args.data is None else _read_data(args.data)
    count: int | None = args.count

    async def run() -> int:
        async with await open_connection(args) as nc:
            sub = await nc.subscribe(args.subject, queue=args.queue, max_msgs=count or 0)
            await nc.flush()
            mode = "echoing requests" if answer is None else "answering requests"
            _info(f"{mode} on {args.subject!r}")
            handled = 0
            async for msg in sub.messages:
                handled += 1
                _print_msg(msg, handled, raw=False)
                if not msg.reply:
                    _info(f"[#{handled}] no reply subject: nothing to answer")
                elif answer is None:
                    headers = msg.headers
                    copied = None if headers is None else {k: headers.get_all(k) for k in headers}
                    await msg.respond(msg.data, headers=copied)
                else:
                    await msg.respond(answer)
            await nc.flush()
            if count is not None and handled >= count:
                return EXIT_OK
            raise CommandFailed(f"connection lost: {nc.last_error() or 'closed'}", EXIT_CONNECTION)

    return asyncio.run(run())


class _Terminated(Exception):
    """SIGTERM arrived: stop the server cleanly."""


def cmd_server(args: argparse.Namespace) -> int:
    """``rxnats server``: run nats-server until Ctrl-C (130), SIGTERM (0) or it exits (1)."""
    from rxnats.server import NatsServer, ServerNotFoundError, ServerStartError

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        raise _Terminated()

    try:
        server = NatsServer(port=args.port, host=args.host, jetstream=args.jetstream)
    except ServerNotFoundError as exc:
        raise CommandFailed(str(exc)) from None
    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        try:
            server.start()
        except ServerStartError as exc:
            raise CommandFailed(str(exc)) from None
        extra = f", JetStream store {server.store_dir}" if args.jetstream else ""
        _info(f"nats-server {server.url} running (pid {server.pid}{extra}); Ctrl-C stops it")
        while server.is_running():
            time.sleep(0.5)
        raise CommandFailed(f"nats-server exited:\n{server.log_text()[-2000:]}")
    except _Terminated:
        _info("stopping nats-server")
        return EXIT_OK
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.close()


def cmd_demo(args: argparse.Namespace) -> int:
    """``rxnats demo``: see :mod:`rxnats.demo`."""
    from rxnats.demo import run_demo

    urls = server_urls(args)
    return asyncio.run(
        run_demo(
            urls[0] if len(urls) == 1 else ",".join(urls),
            connect=lambda url: open_connection(args, url.split(","), connect_timeout=1.0),
        )
    )


def cmd_bench(args: argparse.Namespace) -> int:
    """``rxnats bench``: delegated to :mod:`rxnats.bench`, which adds its own options."""
    module = _bench_module()
    if module is None or not hasattr(module, "add_bench_arguments"):
        raise CommandFailed("benchmarks are not available in this build (no rxnats.bench)")
    parser = argparse.ArgumentParser(
        prog="rxnats bench",
        description="Measure throughput and latency.",
    )
    add_arguments: Callable[[argparse.ArgumentParser], None] = module.add_bench_arguments
    add_arguments(parser)
    bench_args = parser.parse_args(args.bench_argv)
    run_bench: Callable[[argparse.Namespace], int] = module.run_bench
    return run_bench(bench_args)


# ---------------------------------------------------------------------- entry point
def _exit_code(exc: BaseException) -> int:
    if isinstance(exc, CommandFailed):
        return exc.code
    if isinstance(exc, TimeoutError | NoRespondersError):
        return EXIT_TIMEOUT
    if isinstance(exc, _CONNECTION_ERRORS):
        return EXIT_CONNECTION
    return EXIT_ERROR


def _system_exit_code(exc: SystemExit) -> int:
    return exc.code if isinstance(exc.code, int) else EXIT_USAGE


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
    except SystemExit as exc:  # --help, --version, usage errors
        return _system_exit_code(exc)
    handler: Handler = args.handler
    try:
        return handler(args)
    except SystemExit as exc:  # a usage error found by a command's own parser (bench)
        return _system_exit_code(exc)
    except KeyboardInterrupt:
        _info("interrupted")
        return EXIT_INTERRUPTED
    except (CommandFailed, Error, OSError) as exc:
        code = _exit_code(exc)
        if code == EXIT_USAGE:
            parser.print_usage(sys.stderr)
        name = "" if isinstance(exc, CommandFailed | Error) else f"{type(exc).__name__}: "
        print(f"rxnats {args.command}: error: {name}{exc}", file=sys.stderr)
        return code
