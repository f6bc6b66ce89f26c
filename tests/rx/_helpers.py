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
