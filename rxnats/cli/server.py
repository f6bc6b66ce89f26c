"""``rxnats server``: run a local ``nats-server``; ``server info`` and ``server ping`` ask one.

``rxnats server`` runs the embedded server in the foreground with JetStream on (its store
is a temporary directory unless ``--store-dir`` names one that outlives the process).
Every authentication flag it takes is honoured through a generated configuration:
``--user``/``--password``, ``--token``, and ``--nkey`` (a user's public key, or a seed file
whose public key is used; repeatable). ``--config FILE`` runs the server with that file
instead, so it cannot be combined with the authentication flags; ``--port``, ``--host``,
``--store-dir`` and ``--monitor-port`` still apply on top of it, as nats-server's own
flags would.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import json
import re
import signal
import socket
import time
from pathlib import Path
from types import FrameType

import nkeys

from rxnats.cli.connection import open_connection, settings_of
from rxnats.cli.errors import EXIT_OK, EXIT_USAGE, CommandFailed, one_line
from rxnats.cli.output import info, print_json, print_table
from rxnats.cli.parsing import Commands, add_global_options, positive_int
from rxnats.errors import NoRespondersError
from rxnats.server import NatsServer, ServerNotFoundError, ServerStartError

__all__ = ["add_commands", "auth_config"]

_PUBLIC_USER_KEY = re.compile(r"^U[A-Z2-7]{55}$")
_USER_SEED = re.compile(r"SU[A-Z2-7]{56}")
_LOG_PREFIX = re.compile(r"^\[\d+\]\s+\S+\s+\S+\s+\[(?:FTL|ERR|WRN|INF)\]\s*")


def add_commands(commands: Commands) -> None:
    """Add ``server`` (run), ``server info`` and ``server ping``."""
    server = commands.add_parser(
        "server",
        help="run a nats-server here (JetStream on); 'server info|ping' ask a running one",
        description=(
            "Run nats-server in the foreground until Ctrl-C, with JetStream on.\n"
            "'rxnats server info' and 'rxnats server ping' ask a running server instead."
        ),
    )
    server.set_defaults(handler=cmd_run, command_prog=server.prog)
    run = server.add_argument_group("running a server")
    run.add_argument("-p", "--port", type=int, default=4222, help="client port (default 4222)")
    run.add_argument("-a", "--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    run.add_argument("--jetstream", action=argparse.BooleanOptionalAction, default=True,
                     help="JetStream (default: on)")
    run.add_argument("--store-dir", metavar="DIR",
                     help="JetStream store kept across restarts (default: a temporary one)")
    run.add_argument("-c", "--config", metavar="FILE", help="a nats-server configuration file")
    run.add_argument("-m", "--monitor-port", "--http-port", type=int, metavar="PORT",
                     help="HTTP monitoring port (off by default)")
    run.add_argument("-n", "--name", metavar="NAME", help="server name")
    auth = server.add_argument_group("authentication required from clients")
    # SUPPRESS: `rxnats --user U server` (a global option before the command) must survive.
    auth.add_argument("--user", default=argparse.SUPPRESS, help="user name (with --password)")
    auth.add_argument("--password", "--pass", default=argparse.SUPPRESS, help="password (with --user)")
    auth.add_argument("--token", "--auth", default=argparse.SUPPRESS, help="authentication token")
    auth.add_argument("--nkey", action="append", metavar="KEY|FILE", default=argparse.SUPPRESS,
                      help="an nkey user: a public key (U...) or a seed file (repeatable)")

    actions = server.add_subparsers(dest="server_command", metavar="[info|ping]")
    server_info = actions.add_parser("info", help="show what the connected server says about itself",
                                     description="Show the INFO of the server the connection reaches.")
    add_global_options(server_info)
    server_info.add_argument("-j", "--json", action="store_true", help="the INFO as JSON")
    server_info.set_defaults(handler=cmd_info, command_prog=server_info.prog)
    ping = actions.add_parser(
        "ping", help="ping every server of the cluster (needs a system account user)",
        description="Ping every server through $SYS.REQ.SERVER.PING (needs a system account user).",
    )
    add_global_options(ping)
    ping.add_argument("--expect", type=positive_int, metavar="N", help="stop after N servers answered")
    ping.add_argument("-j", "--json", action="store_true", help="the answers as JSON")
    ping.set_defaults(handler=cmd_ping, command_prog=ping.prog)


# ---------------------------------------------------------------------- run
def _user_public_key(value: str) -> str:
    """The public key of an ``--nkey`` value: a public key, or a seed file's."""
    if _PUBLIC_USER_KEY.match(value):
        return value
    path = Path(value).expanduser()
    if not path.is_file():
        raise CommandFailed(
            f"--nkey {value!r} is neither a user public key (U...) nor a seed file",
            EXIT_USAGE,
            hint="give the user's public key, or a file holding its seed (SU...)",
        )
    found = _USER_SEED.search(path.read_text(encoding="utf-8", errors="replace"))
    if found is None:
        raise CommandFailed(f"--nkey {value}: no user seed (SU...) in the file", EXIT_USAGE,
                            hint="give the user's public key instead")
    kp = nkeys.from_seed(bytearray(found.group().encode()))
    try:
        return bytes(kp.public_key).decode()
    finally:
        kp.wipe()


def _listify(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


def auth_config(
    user: str | None, password: str | None, token: str | None, nkeys_: list[str]
) -> str | None:
    """The ``authorization`` block for the authentication flags, or None when none is given.

    Raises:
        CommandFailed: an incomplete or contradictory combination.
    """
    if password is not None and not user:
        raise CommandFailed("--password needs --user", EXIT_USAGE, hint="rxnats server --user NAME --password SECRET")
    if user and password is None:
        raise CommandFailed("--user needs --password", EXIT_USAGE, hint="rxnats server --user NAME --password SECRET")
    if token is not None and (user or nkeys_):
        raise CommandFailed(
            "--token cannot be combined with --user or --nkey (nats-server allows one or the other)",
            EXIT_USAGE, hint="give a token alone, or users alone",
        )
    if token is not None:
        return f"authorization {{\n  token: {json.dumps(token)}\n}}\n"
    users = [f"    {{user: {json.dumps(user)}, password: {json.dumps(password)}}}"] if user else []
    users += [f"    {{nkey: {json.dumps(_user_public_key(k))}}}" for k in nkeys_]
    if not users:
        return None
    return "authorization {\n  users: [\n" + "\n".join(users) + "\n  ]\n}\n"


def _check_port_free(host: str, port: int, what: str, flag: str) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as nats-server binds
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise CommandFailed(
                    f"{what} port {port} on {host} is already in use",
                    hint=f"is another nats-server running? stop it, or pick another port with {flag}",
                ) from None
            raise CommandFailed(f"cannot listen on {host}:{port}: {exc.strerror}", hint="check --host") from None


def _startup_failure(log: str) -> str:
    """The line of a nats-server log that says why it did not start."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    for line in reversed(lines):
        if "[FTL]" in line or "[ERR]" in line or line.startswith("nats-server:"):
            return _LOG_PREFIX.sub("", line)
    return lines[-1] if lines else "(no log)"


class _Terminated(Exception):
    """SIGTERM arrived: stop the server cleanly."""


def cmd_run(args: argparse.Namespace) -> int:
    """``rxnats server``: run nats-server until Ctrl-C (130), SIGTERM (0) or it exits (1)."""
    config_file: str | None = args.config
    nkey_values = _listify(getattr(args, "nkey", None))
    authorization = auth_config(
        getattr(args, "user", None), getattr(args, "password", None), getattr(args, "token", None), nkey_values
    )
    if config_file is not None:
        if authorization is not None:
            raise CommandFailed(
                "--config cannot be combined with --user, --password, --token or --nkey",
                EXIT_USAGE, hint=f"put the users into {config_file} (an authorization block)",
            )
        if not Path(config_file).is_file():
            raise CommandFailed(f"--config {config_file}: no such file", hint="check the path")
    store_dir: str | None = args.store_dir
    if store_dir is not None and not args.jetstream:
        raise CommandFailed("--store-dir needs JetStream", EXIT_USAGE, hint="drop --no-jetstream")
    _check_port_free(args.host, args.port, "client", "--port")
    if args.monitor_port is not None:
        _check_port_free(args.host, args.monitor_port, "monitoring", "--monitor-port")
    try:
        server = NatsServer(
            port=args.port,
            host=args.host,
            config=authorization,
            jetstream=args.jetstream,
            store_dir=Path(store_dir).expanduser().resolve() if store_dir else None,
            monitor_port=args.monitor_port,
            server_name=args.name,
            extra_args=["-c", str(Path(config_file).resolve())] if config_file else (),
        )
    except ServerNotFoundError as exc:
        # "what went wrong: what to do" or "what went wrong; what to do"
        message, _, hint = str(exc).replace("; ", ": ", 1).partition(": ")
        raise CommandFailed(message, hint=hint or None) from None

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        raise _Terminated()

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        try:
            server.start()
        except ServerStartError:
            raise CommandFailed(
                f"nats-server did not start: {_startup_failure(server.log_text())}",
                hint="check the options (and the --config file); nats-server -h lists its own",
            ) from None
        _announce(server, args, authorization is not None)
        while server.is_running():
            time.sleep(0.5)
        raise CommandFailed(
            f"nats-server exited: {_startup_failure(server.log_text())}",
            hint="run it again; its log above says why it stopped",
        )
    except _Terminated:
        info("stopping nats-server")
        return EXIT_OK
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.close()


def _announce(server: NatsServer, args: argparse.Namespace, with_auth: bool) -> None:
    details = [f"pid {server.pid}"]
    if args.jetstream:
        kept = "kept" if args.store_dir else "temporary: --store-dir DIR keeps it"
        details.append(f"JetStream store {server.store_dir} ({kept})")
    else:
        details.append("JetStream off")
    if with_auth:
        details.append("authentication required")
    if args.config:
        details.append(f"config {args.config}")
    if args.monitor_port is not None:
        details.append(f"monitoring {server.monitor_url}")
    info(f"nats-server {server.url} running ({', '.join(details)}); Ctrl-C stops it")


# ---------------------------------------------------------------------- info, ping
_INFO_FIELDS = (
    ("server_name", "Name"), ("server_id", "ID"), ("version", "Version"), ("go", "Go"),
    ("host", "Host"), ("port", "Port"), ("proto", "Protocol"), ("headers", "Headers"),
    ("max_payload", "Max payload"), ("jetstream", "JetStream"), ("domain", "JetStream domain"),
    ("auth_required", "Auth required"), ("tls_required", "TLS required"), ("cluster", "Cluster"),
    ("connect_urls", "Cluster URLs"), ("client_id", "Client ID"), ("client_ip", "Client IP"),
)


def cmd_info(args: argparse.Namespace) -> int:
    """``rxnats server info``: the INFO of the server the connection reaches."""

    async def run() -> int:
        async with await open_connection(args) as nc:
            started = time.perf_counter()
            await nc.flush()
            rtt = time.perf_counter() - started
            server = nc.connected_server_info()
            raw: dict[str, object] = dict(server.raw) if server is not None else {}
            if args.json:
                print_json({**raw, "rtt_ms": round(rtt * 1000, 3), "url": nc.connected_url()})
                return EXIT_OK
            print(f"Connected to {nc.connected_url()} (round trip {rtt * 1000:.2f} ms)\n")
            rows = [(label, _show(raw[key])) for key, label in _INFO_FIELDS if key in raw and raw[key] not in ("", None, [])]
            print_table(("Field", "Value"), rows)
        return EXIT_OK

    return asyncio.run(run())


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def cmd_ping(args: argparse.Namespace) -> int:
    """``rxnats server ping``: every server's answer to ``$SYS.REQ.SERVER.PING``."""
    timeout = settings_of(args).timeout
    expect: int | None = args.expect

    async def run() -> int:
        async with await open_connection(args) as nc:
            inbox = nc.new_inbox()
            sub = await nc.subscribe(inbox, max_msgs=expect or 0)
            started = time.perf_counter()
            await nc.publish("$SYS.REQ.SERVER.PING", b"", reply=inbox)
            answers: list[dict[str, object]] = []
            deadline = time.monotonic() + timeout
            while expect is None or len(answers) < expect:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    msg = await sub.next_msg(timeout=left)
                except TimeoutError:
                    break
                if msg.headers is not None and msg.headers.status == 503:
                    break
                rtt = time.perf_counter() - started
                with contextlib.suppress(ValueError):
                    body = json.loads(msg.data)
                    server = body.get("server", {}) if isinstance(body, dict) else {}
                    if isinstance(server, dict):
                        answers.append({**server, "rtt_ms": round(rtt * 1000, 3)})
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        if not answers:
            raise CommandFailed(
                one_line(str(NoRespondersError("no server answered $SYS.REQ.SERVER.PING"))),
                hint="server ping needs a user of the system account (--creds/--user of $SYS)",
            )
        if args.json:
            print_json(answers)
        else:
            rows = [(a.get("name"), a.get("id"), a.get("ver"), f"{a['rtt_ms']:.2f} ms") for a in answers]
            print_table(("Server", "ID", "Version", "RTT"), rows)
            info(f"{len(answers)} server(s) answered")
        return EXIT_OK

    return asyncio.run(run())
