"""How fast can *any* client do sequential request/reply on this machine?

    .venv/bin/python benchmarks/request_ceiling.py [--count 3000] [--rounds 3] [--uvloop]

Runs, against one embedded nats-server, five things that do the same round trip as
``rxnats bench request`` (a requester and an echo responder, two connections, one process):

- ``raw-blocking``: two blocking sockets, pre-encoded frames, no event loop at all;
- ``bare-asyncio``: two ``asyncio.Protocol`` connections answering inline, no parsing, no
  client: only what the event loop itself costs per round trip;
- ``python-minimal``: a deliberately feature-less NATS client written here, on two
  ``asyncio.Protocol`` connections: the requester's ``async def request()`` makes a future,
  keeps it in a dict under a hex token, writes ``PUB rq <inbox>.<token> 16`` and awaits; the
  echo responder answers each ``MSG`` inline with ``PUB <reply> 16``; the requester's
  wildcard inbox subscription resolves the future named by the subject's last token. Both
  split the byte stream into frames (several frames in one read, a frame split across reads)
  and parse each ``MSG`` line (split, ``int`` size, reply subject). It leaves out everything
  else a client does: no validation of subjects or sizes, no limits, no deadlines or timers,
  no cancellation, no headers, no statistics, no subscription objects or callbacks, no error
  handling, no reconnection and no buffering while disconnected. It is the floor of "parse
  + encode + a future per round trip" in Python;
- ``rxnats``: ``nc.request`` against a plain-function echo answering with
  ``msg.respond_nowait`` (inline on the reader, as ``rxnats bench request`` does);
- ``rxnats-async``: the same against an ``async`` echo awaiting ``msg.respond`` (as the
  bench's ``rxnats-async`` row, and nats-py code, do).

A client on the asyncio event loop cannot beat ``bare-asyncio``; the round trip there is
dominated by the loop's wake-ups (epoll) and the server's, not by Python code. The gap from
``bare-asyncio`` to ``python-minimal`` is what any Python client pays; the gap from
``python-minimal`` to ``rxnats`` is what rxnats' features cost.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import time
from collections.abc import Callable
from typing import cast

import rxnats
from rxnats.server import NatsServer

_PAYLOAD = b"x" * 16
_REQUEST = b"PUB rq inbox 16\r\n" + _PAYLOAD + b"\r\n"
_REPLY = b"PUB inbox 16\r\n" + _PAYLOAD + b"\r\n"
_CONNECT = b'CONNECT {"verbose":false,"pedantic":false}\r\n'


def _blocking_conn(port: int, subject: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.recv(65536)  # INFO
    sock.sendall(_CONNECT + b"SUB " + subject + b" 1\r\nPING\r\n")
    seen = b""
    while b"PONG" not in seen:
        seen += sock.recv(65536)
    return sock


def raw_blocking(port: int, count: int) -> float:
    requester, responder = _blocking_conn(port, b"inbox"), _blocking_conn(port, b"rq")
    try:
        start = time.perf_counter()
        for _ in range(count):
            requester.sendall(_REQUEST)
            responder.recv(65536)  # one small MSG per recv: the frames are tiny
            responder.sendall(_REPLY)
            requester.recv(65536)
        return count / (time.perf_counter() - start)
    finally:
        requester.close()
        responder.close()


class _Inline(asyncio.Protocol):
    def __init__(self, on_data: Callable[[asyncio.Transport, bytes], None]) -> None:
        self._on_data = on_data
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # No isinstance check: uvloop's transports are not asyncio.Transport subclasses.
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        assert self._transport is not None
        self._on_data(self._transport, data)


async def bare_asyncio(port: int, count: int) -> float:
    loop = asyncio.get_running_loop()
    waiting: list[asyncio.Future[None]] = []

    def on_responder(transport: asyncio.Transport, data: bytes) -> None:
        if b"MSG rq" in data:
            transport.write(_REPLY)

    def on_requester(transport: asyncio.Transport, data: bytes) -> None:
        if b"MSG inbox" in data and waiting and not waiting[-1].done():
            waiting[-1].set_result(None)

    req_t, _ = await loop.create_connection(lambda: _Inline(on_requester), "127.0.0.1", port)
    resp_t, _ = await loop.create_connection(lambda: _Inline(on_responder), "127.0.0.1", port)
    ready: asyncio.Future[None] = loop.create_future()
    waiting.append(ready)
    resp_t.write(_CONNECT + b"SUB rq 1\r\n")
    req_t.write(_CONNECT + b"SUB inbox 1\r\n")
    await asyncio.sleep(0.2)  # both SUBs reach the server
    while not ready.done():  # one untimed round trip proves the path works
        req_t.write(_REQUEST)
        await asyncio.wait([ready], timeout=0.5)
    try:
        start = time.perf_counter()
        for _ in range(count):
            fut = loop.create_future()
            waiting.append(fut)
            req_t.write(_REQUEST)
            await fut
            waiting.pop()
        return count / (time.perf_counter() - start)
    finally:
        req_t.close()
        resp_t.close()


class _MinimalConnection(asyncio.Protocol):
    """One NATS connection of the minimal client: splits the stream into frames."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._buffer = b""  # the start of a frame the last read cut off
        self._pong: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    async def start(self, subscribe: bytes) -> None:
        """Sends CONNECT and the subscription; returns once the server has them (PONG)."""
        assert self.transport is not None
        self.transport.write(_CONNECT + b"SUB " + subscribe + b" 1\r\nPING\r\n")
        await self._pong

    def data_received(self, data: bytes) -> None:
        buf = self._buffer + data if self._buffer else data
        pos = 0
        while (eol := buf.find(b"\r\n", pos)) >= 0:
            if buf.startswith(b"MSG ", pos):  # MSG <subject> <sid> [reply] <size>
                parts = buf[pos:eol].split(b" ")
                start = eol + 2
                end = start + int(parts[-1])
                if len(buf) < end + 2:
                    break  # the payload is still on its way
                self.on_msg(parts[1], parts[3] if len(parts) == 5 else b"", buf[start:end])
                pos = end + 2
                continue
            if buf.startswith(b"PING", pos):
                assert self.transport is not None
                self.transport.write(b"PONG\r\n")
            elif buf.startswith(b"PONG", pos) and not self._pong.done():
                self._pong.set_result(None)
            pos = eol + 2  # INFO, +OK, -ERR: nothing to do
        self._buffer = buf[pos:]

    def on_msg(self, subject: bytes, reply: bytes, payload: bytes) -> None:
        raise NotImplementedError


class _MinimalResponder(_MinimalConnection):
    def on_msg(self, subject: bytes, reply: bytes, payload: bytes) -> None:
        assert self.transport is not None
        self.transport.write(b"PUB %b %d\r\n%b\r\n" % (reply, len(payload), payload))


class _MinimalRequester(_MinimalConnection):
    def __init__(self, inbox: bytes) -> None:
        super().__init__()
        self._inbox = inbox
        self._waiting: dict[bytes, asyncio.Future[bytes]] = {}
        self._next = 0

    async def request(self, subject: bytes, payload: bytes) -> bytes:
        assert self.transport is not None
        self._next += 1
        token = b"%x" % self._next
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._waiting[token] = future
        self.transport.write(
            b"PUB %b %b.%b %d\r\n%b\r\n" % (subject, self._inbox, token, len(payload), payload)
        )
        return await future

    def on_msg(self, subject: bytes, reply: bytes, payload: bytes) -> None:
        future = self._waiting.pop(subject[subject.rfind(b".") + 1 :], None)
        if future is not None:
            future.set_result(payload)


async def python_minimal(port: int, count: int) -> float:
    loop = asyncio.get_running_loop()
    _, responder = await loop.create_connection(_MinimalResponder, "127.0.0.1", port)
    _, requester = await loop.create_connection(
        lambda: _MinimalRequester(b"_INBOX.minimal"), "127.0.0.1", port
    )
    try:
        await responder.start(b"rq")
        await requester.start(b"_INBOX.minimal.*")
        assert await requester.request(b"rq", _PAYLOAD) == _PAYLOAD  # the path works
        start = time.perf_counter()
        for _ in range(count):
            await requester.request(b"rq", _PAYLOAD)
        return count / (time.perf_counter() - start)
    finally:
        for conn in (requester, responder):
            assert conn.transport is not None
            conn.transport.close()


async def rxnats_request(url: str, count: int, *, async_echo: bool = False) -> float:
    responder = await rxnats.connect(url, allow_reconnect=False)
    requester = await rxnats.connect(url, allow_reconnect=False)
    try:

        def echo(msg: rxnats.Msg) -> None:
            msg.respond_nowait(msg.data)

        async def awaited_echo(msg: rxnats.Msg) -> None:
            await msg.respond(msg.data)

        await responder.subscribe("rq", cb=awaited_echo if async_echo else echo)
        await responder.flush()
        await requester.request("rq", _PAYLOAD, timeout=5)
        start = time.perf_counter()
        for _ in range(count):
            await requester.request("rq", _PAYLOAD, timeout=5)
        return count / (time.perf_counter() - start)
    finally:
        await requester.close()
        await responder.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--uvloop", action="store_true", help="run the asyncio ones on uvloop")
    args = parser.parse_args()
    if args.uvloop:
        import uvloop  # an optional extra: pip install 'rxnats[uvloop]'

        uvloop.install()
    results: dict[str, list[float]] = {
        "raw-blocking": [], "bare-asyncio": [], "python-minimal": [], "rxnats": [],
        "rxnats-async": [],
    }
    with NatsServer() as server:
        for _ in range(args.rounds):  # alternating, as rxnats bench --compare does
            results["raw-blocking"].append(raw_blocking(server.port, args.count))
            results["bare-asyncio"].append(asyncio.run(bare_asyncio(server.port, args.count)))
            results["python-minimal"].append(
                asyncio.run(python_minimal(server.port, args.count))
            )
            results["rxnats"].append(asyncio.run(rxnats_request(server.url, args.count)))
            results["rxnats-async"].append(
                asyncio.run(rxnats_request(server.url, args.count, async_echo=True))
            )
    for name, rates in results.items():
        runs = " ".join(f"{r:,.0f}" for r in rates)
        print(f"{name:14s} median {statistics.median(rates):8,.0f} round trips/s   ({runs})")


if __name__ == "__main__":
    main()
