"""What key-value and object-store watchers share: an ordered push consumer read as items.

A watcher reads through an
:class:`~rxnats.jetstream.ordered_push.OrderedPushSubscription`, so it survives the loss
of its server-side consumer (deleted, or forgotten by a restarted server): a new consumer
resumes after the last revision delivered, with no gap and no duplicate. Each message
becomes an item with :meth:`Watcher._convert`.

``None`` is produced once, after the items that existed when the watch started (when a
delivery reports no more pending, or a (re)created consumer has nothing pending), except
for an ``updates_only`` watch, which has no initial items and no marker (as in nats.go).
``stop()`` (or leaving ``async with``) ends the watch and deletes the consumer.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from types import TracebackType
from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar

from rxnats.errors import Error
from rxnats.errors import TimeoutError as NatsTimeoutError
from rxnats.jetstream.models import ConsumerInfo
from rxnats.msg import Msg

if TYPE_CHECKING:
    from rxnats.jetstream.ordered_push import OrderedPushSubscription

__all__ = ["StopIterSentinel", "Watcher"]

T = TypeVar("T")


class StopIterSentinel:
    """Marks the end of a watch (nats-py's ``KeyWatcher.STOP_ITER``)."""


class Watcher(AsyncIterator["T | None"], Generic[T]):
    """Items of a watch as they change (``async for item in watcher``).

    ``None`` is produced once, after the items that existed when the watch started.
    Subclasses say how a message becomes an item (:meth:`_convert`).
    """

    STOP_ITER: ClassVar[StopIterSentinel] = StopIterSentinel()

    def __init__(self, *, initial_timeout: float, updates_only: bool = False) -> None:
        self._psub: OrderedPushSubscription | None = None
        self._initial_timeout = initial_timeout
        self._init_done = updates_only
        self._ready: deque[T | None] = deque()
        self._stopped = False

    def _attach(self, psub: OrderedPushSubscription) -> None:
        self._psub = psub

    def _on_reset(self, info: ConsumerInfo) -> None:
        """A consumer was (re)created: nothing pending means the initial items are done."""
        if not self._init_done and not info.num_pending:
            self._init_done = True
            self._ready.append(None)

    @property
    def last_revision(self) -> int:
        """The stream sequence of the last message delivered (0: none yet)."""
        return self._psub.tracker.stream_seq if self._psub is not None else 0

    @property
    def resets(self) -> int:
        """How many times the watch recreated its consumer."""
        return self._psub.resets if self._psub is not None else 0

    @property
    def consumer(self) -> str:
        """The name of the current server-side consumer."""
        return self._psub.consumer if self._psub is not None else ""

    def _convert(self, msg: Msg) -> T | None:
        """The item for ``msg``, or ``None`` to skip it."""
        raise NotImplementedError

    async def updates(self, timeout: float | None = 5.0) -> T | None:
        """The next item, or ``None`` once when the initial items are all delivered.

        Raises:
            TimeoutError: nothing changed within ``timeout`` (``None``: wait forever).
            BadSubscriptionError: the watcher was stopped.
            StreamNotFoundError: the bucket was deleted.

        Cancelling it loses nothing.
        """
        assert self._psub is not None  # attached right after construction
        while not self._ready:
            msg = await self._psub.next_msg(timeout=timeout)
            item = self._convert(msg)
            if item is not None:
                self._ready.append(item)
            if not self._init_done and msg.metadata.num_pending == 0:
                self._init_done = True
                self._ready.append(None)
        return self._ready.popleft()

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
        if self._psub is not None:
            try:
                await self._psub.unsubscribe()
            except Error:
                pass  # already gone with the connection or the bucket

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
