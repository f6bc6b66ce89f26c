"""A scripted NATS server that speaks bytes on a real socket: for unit tests of a client.

Integration tests run real ``nats-server`` processes. This is for the other cases: to
assert the exact bytes a client sends (a publish, what a reconnect re-sends and in
which order), and to play a server that misbehaves in ways a real one never does
(garbage after valid frames, a flood of PINGs it never reads the answers to, an INFO
listing 30,000 URLs, a handshake accepted and the client dropped at once). No
``nats-server`` is needed. Each accepted connection runs one *script*::

    async def script(peer: FakePeer) -> None:
        await peer.handshake()                   # INFO, then CONNECT and PING -> PONG
        await peer.expect(b"SUB")                # read until the client subscribes
        peer.send(b"MSG a 1 2\\r\\nhi\\r\\n")
        await peer.serve()                       # answer PINGs until the client leaves

    async with FakeServer(script) as server:
        nc = await rxnats.connect(server.url)

When the script returns, the server closes that connection. The client's traffic is
read command by command (a ``PUB``/``HPUB`` payload with its command), so a script
never sees a payload as a line; each :class:`Command` keeps its exact bytes
(:attr:`Command.raw`), and :attr:`FakePeer.received` every command read so far. What a
script raises is kept in ``FakeServer.errors`` (a test asserts it is empty) except the
client going away, which ends the script.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

__all__ = ["Command", "FakePeer", "FakeServer", "Script", "sid_of"]

_CRLF = b"\r\n"


def sid_of(line: bytes) -> int:
    """The sid of a ``SUB subject [queue] sid`` line."""
    return int(line.split()[-1])


@dataclass(frozen=True, slots=True)
class Command:
    """One command from the client: its control line (no CRLF) and a PUB/HPUB payload."""

    line: bytes
    payload: bytes = b""
    #: The exact bytes the client sent for it (line, CRLF, payload and CRLF).
    raw: bytes = b""

    @property
    def op(self) -> bytes:
        """The operation, upper-cased: ``CONNECT``, ``PING``, ``SUB``, ``PUB``, ..."""
        return self.line.split(b" ", 1)[0].upper()


@dataclass(eq=False)
class FakePeer:
    """One client connection as the script sees it."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    number: int  # 1 for the first connection the server accepted, 2 for the next, ...
    info: dict[str, object]
    connect: dict[str, object] = field(default_factory=dict)  # CONNECT, after handshake()
    #: Every command read from the client so far, in order (the handshake's included).
    received: list[Command] = field(default_factory=list)

    def send(self, data: bytes) -> None:
        """Queue ``data`` for the client (see :meth:`drain`)."""
        self.writer.write(data)

    async def drain(self) -> None:
        """Wait until the socket took what was sent (or its buffer is below its limit)."""
        await self.writer.drain()

    async def read(self) -> Command:
        """The client's next command.

        Raises:
            asyncio.IncompleteReadError: the client closed the connection.
        """
        raw = await self.reader.readuntil(_CRLF)
        line = raw[:-2]
        command = Command(line, raw=raw)
        if command.op in (b"PUB", b"HPUB"):
            size = int(line.split()[-1])
            body = await self.reader.readexactly(size + 2)
            command = Command(line, body[:-2], raw + body)
        self.received.append(command)
        return command

    async def expect(self, op: bytes) -> Command:
        """Read commands until one is ``op``; answer PINGs on the way."""
        while True:
            command = await self.read()
            if command.op == op.upper():
                return command
            if command.op == b"PING":
                self.send(b"PONG\r\n")

    async def handshake(self, **info: object) -> dict[str, object]:
        """Send INFO (``info`` overrides fields), read CONNECT and PING, answer PONG.

        Returns the CONNECT fields (also kept in :attr:`connect`).
        """
        self.send(b"INFO " + json.dumps({**self.info, **info}).encode() + _CRLF)
        connect = await self.expect(b"CONNECT")
        self.connect = json.loads(connect.line[len(b"CONNECT ") :])
        await self.expect(b"PING")
        self.send(b"PONG\r\n")
        await self.drain()
        return self.connect

    async def serve(self) -> None:
        """Answer every PING with PONG and ignore the rest, until the client leaves."""
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                command = await self.read()
                if command.op == b"PING":
                    self.send(b"PONG\r\n")

    def abort(self) -> None:
        """Drop the connection at once (no FIN handshake, nothing more is sent)."""
        self.writer.transport.abort()


Script = Callable[[FakePeer], Awaitable[None]]


class FakeServer:
    """A listening socket on ``127.0.0.1`` (free port) that runs ``script`` per connection."""

    def __init__(
        self,
        script: Script,
        *,
        info: dict[str, object] | None = None,
        receive_buffer: int | None = None,
    ) -> None:
        """``info`` overrides INFO fields; ``receive_buffer`` sets each connection's
        SO_RCVBUF (small: a server that reads slowly fills the client's socket fast)."""
        self.script = script
        self.receive_buffer = receive_buffer
        self.info: dict[str, object] = {
            "server_id": "FAKE",
            "server_name": "fake",
            "version": "2.10.0",
            "proto": 1,
            "headers": True,
            "max_payload": 1024 * 1024,
            **(info or {}),
        }
        self.peers: list[FakePeer] = []
        #: Event-loop time of each accepted connection, in order.
        self.accepted_at: list[float] = []
        #: What scripts raised, other than the client going away.
        self.errors: list[BaseException] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port: int = 0

    @property
    def url(self) -> str:
        """``nats://127.0.0.1:<port>``."""
        return f"nats://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Start listening."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if self.receive_buffer is not None:
            # Set on the listening socket so that accepted ones start with it (the TCP
            # window is agreed at the handshake).
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.receive_buffer)
        sock.bind(("127.0.0.1", 0))
        self._server = await asyncio.start_server(self._accepted, sock=sock)
        self.port = sock.getsockname()[1]

    async def stop(self) -> None:
        """Stop listening, drop every connection and wait for the scripts to end."""
        if self._server is not None:
            self._server.close()
        for peer in self.peers:
            peer.abort()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks)
        if self._server is not None:
            await self._server.wait_closed()

    async def __aenter__(self) -> FakeServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # A plain callback that starts a task of our own: the server owns (and may cancel)
        # every script, which asyncio's own task for a coroutine callback would not allow
        # without an "Exception in callback" at cancellation.
        loop = asyncio.get_running_loop()
        self.accepted_at.append(loop.time())
        task = loop.create_task(self._run(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        info = {**self.info, "port": self.port, "host": "127.0.0.1"}
        peer = FakePeer(reader, writer, number=len(self.peers) + 1, info=info)
        self.peers.append(peer)
        try:
            await self.script(peer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client went away: the script is over
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self.errors.append(exc)
        finally:
            if writer.transport.is_closing():
                peer.abort()
            else:
                writer.close()
