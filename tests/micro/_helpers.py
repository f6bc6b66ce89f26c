"""Helpers for the services tests: discovery requests answered by every instance."""

from __future__ import annotations

import asyncio
import json
from typing import Generic, TypeVar

from reactivex import abc

import rxnats
from rxnats.rx import to_async_iterator

T = TypeVar("T")


class Recorder(abc.ObserverBase[T], Generic[T]):
    """Records items, the error and the completion; ``await rec.wait_done()`` for the end."""

    def __init__(self) -> None:
        self.items: list[T] = []
        self.error: Exception | None = None
        self.completed = False
        self._done = asyncio.Event()

    def on_next(self, value: T) -> None:
        self.items.append(value)

    def on_error(self, error: Exception) -> None:
        self.error = error
        self._done.set()

    def on_completed(self) -> None:
        self.completed = True
        self._done.set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    async def wait_done(self, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            await self._done.wait()


async def request_json(nc: rxnats.NATS, subject: str, timeout: float = 5.0) -> object:
    """One request; its reply decoded from JSON."""
    msg = await nc.request(subject, b"", timeout=timeout)
    return json.loads(msg.data)


async def gather_json(nc: rxnats.NATS, subject: str, expected: int, timeout: float = 5.0) -> list[object]:
    """Send one request and collect ``expected`` JSON replies (all instances answer)."""
    replies = nc.observe_request_many(subject, b"", timeout=timeout, max_count=expected)
    docs: list[object] = []
    async for msg in to_async_iterator(replies, maxsize=100):
        docs.append(json.loads(msg.data))
    return docs
