"""How fast can *any* client do sequential request/reply on this machine?

    .venv/bin/python benchmarks/request_ceiling.py [--count 3000] [--rounds 3] [--uvloop]

Runs, against one embedded nats-server, five things that do the same round trip as
``rxnats bench request`` (a requester and an echo responder, two connections, one process):

- ``raw-blocking``: two blocking sockets, pre-encoded frames, no event loop at all;
- ``bare-asyncio``: two ``asyncio.Protocol`` connections answering inline, no parsing, no
  client: only what the event loop itself costs per round trip;
- ``python-minimal``: the deliberately feature-less NATS client of
  :mod:`rxnats.bench.rawclient` (the ``raw-client`` row of ``rxnats bench request
  --compare``), on two ``asyncio.Protocol`` connections: the requester's ``request()``
  makes a future, keeps it in a dict under a hex token, writes ``PUB rq <inbox>.<token>
  16`` and awaits it under its timeout; the echo responder answers the ``MSG``s of each
  read with ``PUB <reply> 16`` in one write; the requester's wildcard inbox subscription
  resolves the future named by the subject's last token. Both split the byte stream into
  frames and parse each ``MSG`` line; the timeout is their only feature (see that module
  for all they leave out). It is the floor of "parse + encode + a future per round trip"
  in Python;
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
from collections.abc import Awaitable, Callable
from typing import cast

import rxnats
from rxnats.bench.rawclient import raw_client_factory
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


async def _timed(request: Callable[..., Awaitable[object]], count: int) -> float:
    """Round trips a second over ``count`` sequential requests on ``rq``."""
    start = time.perf_counter()
    for _ in range(count):
        await request("rq", _PAYLOAD, timeout=5)
    return count / (time.perf_counter() - start)


async def python_minimal(port: int, count: int) -> float:
    url = f"nats://127.0.0.1:{port}"
    responder = await raw_client_factory(url)
    requester = await raw_client_factory(url)
    try:
        await responder.serve_echo("rq")
        assert await requester.request("rq", _PAYLOAD, timeout=5) == _PAYLOAD  # the path works
        return await _timed(requester.request, count)
    finally:
        await requester.close()
        await responder.close()


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
        return await _timed(requester.request, count)
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
