"""A deliberately feature-less NATS requester and echo responder: the floor of any client.

:class:`RawClient` is one plain TCP connection on an ``asyncio.Protocol``. It splits the
byte stream into frames (several frames in one read, a frame split across reads), parses
each ``MSG`` line (split, ``int`` size, reply subject), answers ``PING`` with ``PONG`` and
ignores ``INFO``, ``+OK`` and ``-ERR``. Requests share one wildcard inbox subscription
(``SUB <inbox>.* 1``); each request makes a future kept in a dict under a hex counter
token, writes ``PUB <subject> <inbox>.<token> <size>`` and awaits the reply whose subject
ends in that token. :meth:`RawClient.serve_echo` answers every message on a subject with
its own payload. Writes are batched as a client does: everything sent in one loop turn
goes out in one ``transport.write`` (a flush scheduled with ``loop.call_soon``), and the
answers to one read in one write at its end.

It leaves out everything else a client does: no validation of subjects, sizes or input,
no limits, no headers, no statistics, no subscription objects or callbacks, no
no-responders status, no error handling beyond failing a pending ``PING`` when the
connection is lost, no reconnection, no buffering while disconnected, no TLS, WebSocket
or authentication. Its one feature is the timeout of each request (a ``loop.call_later``
timer per request; a request that times out or is cancelled drops its future). ``rxnats bench
request --compare --libs ...,raw`` runs it as the ``raw-client`` row: what parsing,
encoding and a future per round trip cost in Python on the same loop and server.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import deque
from typing import cast
from urllib.parse import urlsplit

__all__ = ["RawClient", "raw_client_factory"]

_CONNECT = b'CONNECT {"verbose":false,"pedantic":false}\r\n'
_INBOX_SID = b"1"


class RawClient(asyncio.Protocol):
    """One connection: a requester on a wildcard inbox and, once asked, an echo responder.

    Make it with :func:`raw_client_factory` (or ``loop.create_connection(RawClient, ...)``
    then :meth:`start`). Its only feature is each request's ``timeout``.
    """

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._buffer = b""  # the start of a frame the last read cut off
        self._out: list[bytes] = []  # written at the end of the read or of the loop turn
        self._reading = False
        self._pongs: deque[asyncio.Future[None]] = deque()
        self._closed: asyncio.Future[None] = self._loop.create_future()
        self._inbox = b"_INBOX." + secrets.token_hex(11).encode()
        self._waiting: dict[bytes, asyncio.Future[bytes]] = {}
        self._next = 0
        self._echo_sid = 1  # the next subscription's id - 1

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # No isinstance check: uvloop's transports are not asyncio.Transport subclasses.
        self._transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        while self._pongs:
            pong = self._pongs.popleft()
            if not pong.done():
                pong.set_exception(ConnectionError("the server closed the connection"))
        if not self._closed.done():
            self._closed.set_result(None)

    async def start(self) -> None:
        """Send CONNECT and the inbox subscription; return once the server has them."""
        self._send(_CONNECT + b"SUB %b.* %b\r\n" % (self._inbox, _INBOX_SID))
        await self.flush()

    async def flush(self) -> None:
        """Send PING and wait for its PONG: the server has everything sent before."""
        pong: asyncio.Future[None] = self._loop.create_future()
        self._pongs.append(pong)
        self._send(b"PING\r\n")
        await pong

    async def publish(self, subject: str, payload: bytes) -> None:
        """Send ``PUB subject``."""
        self._send(b"PUB %b %d\r\n%b\r\n" % (subject.encode(), len(payload), payload))

    async def request(self, subject: str, payload: bytes, *, timeout: float) -> bytes:
        """Publish with a reply subject in the inbox; return the reply's payload.

        Raises:
            TimeoutError: no reply within ``timeout`` seconds.
        """
        self._next += 1
        token = b"%x" % self._next
        future: asyncio.Future[bytes] = self._loop.create_future()
        self._waiting[token] = future
        self._send(
            b"PUB %b %b.%b %d\r\n%b\r\n"
            % (subject.encode(), self._inbox, token, len(payload), payload)
        )
        timer = self._loop.call_later(timeout, _expire, future)
        try:
            return await future
        except BaseException:
            self._waiting.pop(token, None)  # timed out or cancelled: no reply will be kept
            raise
        finally:
            timer.cancel()

    async def serve_echo(self, subject: str) -> None:
        """Answer every message on ``subject`` that has a reply subject with its payload."""
        self._echo_sid += 1
        self._send(b"SUB %b %d\r\n" % (subject.encode(), self._echo_sid))
        await self.flush()

    async def subscribe(self, subject: str, on_data: object) -> None:
        """Not offered: the raw client only requests and answers requests."""
        raise NotImplementedError("the raw client runs the request mode only")

    async def close(self) -> None:
        """Send what is left and close the connection."""
        if self._transport is not None:
            self._flush()
            self._transport.close()
            await self._closed

    def _send(self, data: bytes) -> None:
        out = self._out
        out.append(data)
        if len(out) == 1 and not self._reading:
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        if self._out and self._transport is not None:
            self._transport.write(b"".join(self._out))
            self._out.clear()

    def data_received(self, data: bytes) -> None:
        buf = self._buffer + data if self._buffer else data
        out = self._out
        pos = 0
        self._reading = True
        while (eol := buf.find(b"\r\n", pos)) >= 0:
            if buf.startswith(b"MSG ", pos):  # MSG <subject> <sid> [reply] <size>
                parts = buf[pos:eol].split(b" ")
                start = eol + 2
                end = start + int(parts[-1])
                if len(buf) < end + 2:
                    break  # the payload is still on its way
                if parts[2] == _INBOX_SID:
                    subject = parts[1]
                    future = self._waiting.pop(subject[subject.rfind(b".") + 1 :], None)
                    if future is not None and not future.done():
                        future.set_result(buf[start:end])
                elif len(parts) == 5:
                    out.append(b"PUB %b %d\r\n%b\r\n" % (parts[3], end - start, buf[start:end]))
                pos = end + 2
                continue
            if buf.startswith(b"PING", pos):
                out.append(b"PONG\r\n")
            elif buf.startswith(b"PONG", pos) and self._pongs:
                pong = self._pongs.popleft()
                if not pong.done():
                    pong.set_result(None)
            pos = eol + 2  # INFO, +OK, -ERR: nothing to do
        self._buffer = buf[pos:]
        self._reading = False
        if out:
            self._flush()


def _expire(future: asyncio.Future[bytes]) -> None:
    if not future.done():
        future.set_exception(TimeoutError("no reply in time"))


async def raw_client_factory(url: str) -> RawClient:
    """Connect a :class:`RawClient` to a plain TCP ``nats://host:port`` URL.

    Raises:
        ValueError: the URL asks for TLS, a WebSocket or credentials.
        OSError: the server cannot be reached.
        ConnectionError: the server closed the connection before answering.
    """
    parts = urlsplit(url if "://" in url else f"nats://{url}")
    if parts.scheme.lower() != "nats" or parts.username is not None or parts.password is not None:
        raise ValueError(
            f"the raw client speaks plain TCP only (nats://host:port, no credentials): {url}"
        )
    loop = asyncio.get_running_loop()
    _, client = await loop.create_connection(
        RawClient, parts.hostname or "127.0.0.1", parts.port or 4222
    )
    try:
        await client.start()
    except BaseException:
        await client.close()
        raise
    return client
