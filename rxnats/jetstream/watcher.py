"""What key-value and object-store watchers share: a push consumer read as an async iterator.

A watcher turns each message of its (ordered, ack-less) push consumer into an item with
:meth:`Watcher._convert`, answers flow-control requests and stalled heartbeats, and
produces ``None`` once, after the items that existed when the watch started (when the
consumer reports no more pending). ``stop()`` (or leaving ``async with``) ends the watch.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Generic, TypeVar

from rxnats.errors import Error
from rxnats.errors import TimeoutError as NatsTimeoutError
from rxnats.jetstream.object_io import answer_control
from rxnats.msg import Msg

if TYPE_CHECKING:
    from rxnats.client import NATS
    from rxnats.subscription import Subscription

__all__ = ["Watcher"]

T = TypeVar("T")


class Watcher(AsyncIterator["T | None"], Generic[T]):
    """Items of a watch as they change (``async for item in watcher``).

    ``None`` is produced once, after the items that existed when the watch started.
    Subclasses say how a message becomes an item (:meth:`_convert`).
    """

    def __init__(
        self,
        nc: NATS,
        sub: Subscription,
        initial_pending: int,
        *,
        initial_timeout: float,
        close: Callable[[], Awaitable[None]],
    ) -> None:
        self._nc = nc
        self._sub = sub
        self._initial_timeout = initial_timeout
        self._close = close
        self._init_done = initial_pending == 0
        self._ready: deque[T | None] = deque([None] if self._init_done else [])
        self._stopped = False

    def _convert(self, msg: Msg) -> T | None:
        """The item for ``msg``, or ``None`` to skip it."""
        raise NotImplementedError

    async def updates(self, timeout: float | None = 5.0) -> T | None:
        """The next item, or ``None`` once when the initial items are all delivered.

        Raises:
            TimeoutError: nothing changed within ``timeout`` (``None``: wait forever).
            BadSubscriptionError: the watcher was stopped.

        Cancelling it loses nothing.
        """
        while not self._ready:
            msg = await self._sub.next_msg(timeout=timeout)
            await self._handle(msg)
        return self._ready.popleft()

    async def _handle(self, msg: Msg) -> None:
        if msg.status is not None:
            await answer_control(self._nc, msg)
            return
        item = self._convert(msg)
        if item is not None:
            self._ready.append(item)
        if not self._init_done and msg.metadata.num_pending == 0:
            self._init_done = True
            self._ready.append(None)

    async def _initial(self) -> list[T]:
        items: list[T] = []
        while (item := await self.updates(timeout=self._initial_timeout)) is not None:
            items.append(item)
        return items

    async def stop(self) -> None:
        """Stop watching and delete the consumer; calling it again does nothing."""
        if self._stopped:
            return
        self._stopped = True
        await self._close()

    async def __aenter__(self) -> Watcher[T]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def __aiter__(self) -> Watcher[T]:
        return self

    async def __anext__(self) -> T | None:
        try:
            return await self.updates(timeout=None)
        except Error as exc:
            if self._stopped and not isinstance(exc, NatsTimeoutError):
                raise StopAsyncIteration from None
            raise
