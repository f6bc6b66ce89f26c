"""Test helpers for the Rx layer: an observer that records what it is told."""

from __future__ import annotations

import asyncio
import threading
from typing import Generic, TypeVar

from reactivex import abc

T = TypeVar("T")


class Recorder(abc.ObserverBase[T], Generic[T]):
    """Records items, the error and completion; ``await rec.wait_done()`` for the end."""

    def __init__(self) -> None:
        self.items: list[T] = []
        self.error: Exception | None = None
        self.completed = False
        self.threads: set[int] = set()
        self._done = asyncio.Event()
        self._changed = asyncio.Event()

    def on_next(self, value: T) -> None:
        self.threads.add(threading.get_ident())
        self.items.append(value)
        self._changed.set()

    def on_error(self, error: Exception) -> None:
        self.error = error
        self._done.set()
        self._changed.set()

    def on_completed(self) -> None:
        self.completed = True
        self._done.set()
        self._changed.set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    async def wait_done(self, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            await self._done.wait()

    async def wait_items(self, n: int, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while len(self.items) < n:
                self._changed.clear()
                await self._changed.wait()


def publish_burst_while_blocked(url: str, subject: str, count: int) -> None:
    """Publish ``count`` messages from a plain blocking socket, holding the event loop.

    Called from a coroutine without awaiting, this keeps the loop (and so every rxnats
    reader on it) from running until the server has taken all the messages and had time
    to write them out: the subscriber then finds the whole burst in one read. Tests of
    overflow policies need that; publishing through the client itself leaves the split
    of the burst across reads to chance.
    """
    import socket
    import time
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 4222)) as s:
        s.settimeout(10)
        s.recv(4096)  # INFO
        frames = b"".join(
            b"PUB %s %d\r\n%s\r\n" % (subject.encode(), len(p), p)
            for p in (str(i).encode() for i in range(count))
        )
        s.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\n' + frames + b"PING\r\n")
        reply = b""
        while b"PONG\r\n" not in reply:
            chunk = s.recv(4096)
            if not chunk:
                raise ConnectionError("server closed the burst connection")
            reply += chunk
    time.sleep(0.1)  # let the server write the burst to the subscriber's socket
