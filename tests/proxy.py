"""An asyncio TCP proxy for tests: pass traffic, freeze it, or cut it.

Put it between a client and a real ``nats-server`` to make the network misbehave:

* **pass** (the default): bytes flow both ways.
* **freeze**: nothing is forwarded in either direction, but every socket stays open, as
  on a half-dead network path. New connections are accepted and frozen too. Bytes read
  before the freeze are held (at most one read per direction) and forwarded on
  :meth:`Proxy.restore`.
* **cut**: every current connection is closed on both sides at once; the proxy keeps
  accepting new ones.

Each accepted connection gets two pump tasks owned by the proxy; :meth:`Proxy.close`
cancels and awaits them all.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

__all__ = ["Proxy"]

_READ_LIMIT = 64 * 1024  # bytes per read: the most a frozen pump holds back


@dataclass(eq=False)
class _Pair:
    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter
    pumps: list[asyncio.Task[None]] = field(default_factory=list)

    def abort(self) -> None:
        for writer in (self.client, self.upstream):
            transport = writer.transport
            if not transport.is_closing():
                transport.abort()


class Proxy:
    """A TCP proxy from ``127.0.0.1:<port>`` to ``upstream_host:upstream_port``."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream_host = upstream_host
        self.upstream_port = upstream_port
        self._server: asyncio.Server | None = None
        self._pairs: set[_Pair] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._handlers: set[asyncio.Task[None]] = set()
        self.accepted = 0  # connections accepted so far

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1.

        Raises:
            OSError: no port could be bound.
        """
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)

    @property
    def port(self) -> int:
        """The port the proxy listens on."""
        assert self._server is not None, "start() the proxy first"
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        """``nats://127.0.0.1:<port>`` of the proxy."""
        return f"nats://127.0.0.1:{self.port}"

    @property
    def frozen(self) -> bool:
        """Whether traffic is frozen."""
        return not self._flowing.is_set()

    @property
    def connections(self) -> int:
        """How many proxied connections are open."""
        return len(self._pairs)

    def freeze(self) -> None:
        """Stop forwarding in both directions; keep every socket open."""
        self._flowing.clear()

    def restore(self) -> None:
        """Forward traffic again (what was held during the freeze goes first)."""
        self._flowing.set()

    def cut(self) -> None:
        """Close every current connection on both sides at once (new ones are accepted)."""
        for pair in list(self._pairs):
            pair.abort()

    async def close(self) -> None:
        """Stop listening, close every connection and wait for every task to end."""
        if self._server is not None:
            self._server.close()
        self.cut()
        tasks = [*self._handlers, *(t for p in self._pairs for t in p.pumps)]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> Proxy:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- per connection -------------------------------------------------------------
    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self.accepted += 1
        try:
            try:
                up_reader, up_writer = await asyncio.open_connection(
                    self.upstream_host, self.upstream_port
                )
            except OSError:
                writer.transport.abort()
                return
            pair = _Pair(writer, up_writer)
            self._pairs.add(pair)
            loop = asyncio.get_running_loop()
            pair.pumps = [
                loop.create_task(self._pump(reader, up_writer, pair)),
                loop.create_task(self._pump(up_reader, writer, pair)),
            ]
            try:
                await asyncio.wait(pair.pumps, return_when=asyncio.FIRST_COMPLETED)
            finally:
                pair.abort()
                for pump in pair.pumps:
                    pump.cancel()
                await asyncio.wait(pair.pumps)
                self._pairs.discard(pair)
        finally:
            self._handlers.discard(task)

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, pair: _Pair
    ) -> None:
        with contextlib.suppress(OSError):
            while True:
                await self._flowing.wait()  # frozen: stop reading, hold nothing more
                data = await reader.read(_READ_LIMIT)
                if not data:
                    return
                await self._flowing.wait()  # frozen meanwhile: hold this chunk
                writer.write(data)
                await writer.drain()
