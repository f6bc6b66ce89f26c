"""Bounded pending queues: the limits, the overflow policy and the slow-consumer episode.

Every queue between the socket reader and a consumer is an :class:`OverflowBuffer`: a
subscription's pending messages (``subscribe()``), the buffer in front of Rx observers
(``nc.observe()``, ``sub.observe()``) and the one behind ``to_async_iterator``. This
module is the one place that says what their limits mean and what happens when they
are reached; it has no I/O, no clock and no asyncio, so it is unit-tested by offering
items.

Limits. A queue is full when it holds ``max_items`` items, or when the next item would
take the sizes held past ``max_bytes``. A limit of 0 or less means no limit (as in
nats-py's ``subscribe()``), for the message count and the byte count alike.

Overflow (:class:`Overflow`), when an item does not fit:

- ``DROP_NEWEST`` (the default): the new item is dropped.
- ``DROP_OLDEST``: the oldest items are dropped, as many as it takes for the new one to
  fit, so the queue never holds more than its limits. An item that could never fit (one
  larger than ``max_bytes`` by itself) is dropped instead, and the queue is left as it
  was.
- ``ERROR``: nothing is kept (:attr:`Offer.REJECTED`); the owner ends the consumer with
  :class:`~rxnats.errors.SlowConsumerError`.

A slow-consumer episode begins with the first item dropped after the queue last had
room, and ends with the next item it accepts. ``on_drop(count, new_episode)`` hears of
every drop, so the owner reports one slow consumer per episode, not one per message.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Generic, TypeVar

__all__ = [
    "DEFAULT_PENDING_BYTES_LIMIT",
    "DEFAULT_PENDING_MSGS_LIMIT",
    "NO_LIMIT",
    "Offer",
    "Overflow",
    "OverflowBuffer",
    "PendingLimits",
    "effective_limit",
]

T = TypeVar("T")

#: A subscription's default message limit: 65536, as the seed specifies (512 KiB / 8).
DEFAULT_PENDING_MSGS_LIMIT = 512 * 1024 // 8
#: A subscription's default byte limit (payload bytes held).
DEFAULT_PENDING_BYTES_LIMIT = 64 * 1024 * 1024
#: What a limit of 0 or less becomes: larger than any queue can hold.
NO_LIMIT = 1 << 62


def effective_limit(limit: int) -> int:
    """``limit`` as a queue applies it: 0 or less means no limit (:data:`NO_LIMIT`)."""
    return limit if limit > 0 else NO_LIMIT


class Overflow(Enum):
    """What a subscription (or an Rx buffer) does when its pending limits are reached."""

    DROP_NEWEST = "drop_newest"
    DROP_OLDEST = "drop_oldest"
    ERROR = "error"


class Offer(Enum):
    """The outcome of :meth:`OverflowBuffer.offer`."""

    ACCEPTED = "accepted"
    DROPPED_NEWEST = "dropped_newest"  # the offered item was not kept
    DROPPED_OLDEST = "dropped_oldest"  # the item was kept; older ones were dropped
    REJECTED = "rejected"  # Overflow.ERROR: nothing kept, the consumer must end


@dataclass(frozen=True, slots=True)
class PendingLimits:
    """A queue's limits as given (0 or less: no limit) and its overflow policy."""

    msgs: int = DEFAULT_PENDING_MSGS_LIMIT
    bytes: int = DEFAULT_PENDING_BYTES_LIMIT
    overflow: Overflow = Overflow.DROP_NEWEST


#: Looked up once: attribute access on an Enum class costs about 100 ns on CPython 3.11, and
#: offer() returns this once per message.
_ACCEPTED = Offer.ACCEPTED


def _no_size(item: object) -> int:
    return 0


class OverflowBuffer(Generic[T]):
    """A FIFO bounded by ``max_items`` items and ``max_bytes`` of ``size(item)``.

    ``offer`` never blocks and never raises; it reports what it did. ``dropped`` counts
    every item lost to the policy, the one rejected under ``ERROR`` included;
    ``on_drop(count, new_episode)`` is told of each drop under the ``DROP_*`` policies.

    The fields are public for the hot paths of a subscription, which append and pop
    inline while :meth:`fits` would say yes (nothing else: a full queue goes through
    :meth:`offer`): ``items`` holds the items, ``nbytes`` their sizes added up, ``slow``
    whether a slow-consumer episode is under way.
    """

    __slots__ = (
        "_on_drop",
        "_size",
        "dropped",
        "items",
        "max_bytes",
        "max_items",
        "nbytes",
        "overflow",
        "slow",
    )

    def __init__(
        self,
        *,
        max_items: int,
        max_bytes: int = 0,
        overflow: Overflow = Overflow.DROP_NEWEST,
        size: Callable[[T], int] | None = None,
        on_drop: Callable[[int, bool], None] | None = None,
    ) -> None:
        """Create an empty buffer; a limit of 0 or less means no limit.

        Without ``size`` items weigh nothing: only ``max_items`` applies.
        """
        self.max_items: int = effective_limit(max_items)
        self.max_bytes: int = effective_limit(max_bytes)
        self.overflow: Overflow = overflow
        self.dropped: int = 0
        self.slow: bool = False
        self.items: deque[T] = deque()
        self.nbytes: int = 0
        self._size: Callable[[T], int] = size or _no_size
        self._on_drop = on_drop

    @classmethod
    def of(
        cls,
        limits: PendingLimits,
        *,
        size: Callable[[T], int] | None = None,
        on_drop: Callable[[int, bool], None] | None = None,
    ) -> OverflowBuffer[T]:
        """A buffer with ``limits``."""
        return cls(
            max_items=limits.msgs,
            max_bytes=limits.bytes,
            overflow=limits.overflow,
            size=size,
            on_drop=on_drop,
        )

    def __len__(self) -> int:
        return len(self.items)

    @property
    def pending_bytes(self) -> int:
        """The sizes of the held items, added up (0 without a ``size`` function)."""
        return self.nbytes

    def fits(self, size: int) -> bool:
        """Whether an item of ``size`` can be appended without dropping anything."""
        return len(self.items) < self.max_items and self.nbytes + size <= self.max_bytes

    def offer(self, item: T) -> Offer:
        """Append ``item`` if there is room, else apply the overflow policy."""
        size = self._size(item)
        items = self.items
        # fits() inlined: this runs once per message.
        if len(items) < self.max_items and self.nbytes + size <= self.max_bytes:
            items.append(item)
            self.nbytes += size
            self.slow = False  # it had room: an episode is over
            return _ACCEPTED
        return self._offer_full(item, size)

    def _offer_full(self, item: T, size: int) -> Offer:
        if self.overflow is Overflow.ERROR:
            self.dropped += 1
            return Offer.REJECTED
        if self.overflow is Overflow.DROP_OLDEST and size <= self.max_bytes:
            dropped = 0
            while self.items and not self.fits(size):
                self._pop()
                dropped += 1
            self.items.append(item)
            self.nbytes += size
            self._dropped(dropped)
            return Offer.DROPPED_OLDEST
        # DROP_NEWEST, or an item larger than the whole byte budget.
        self._dropped(1)
        return Offer.DROPPED_NEWEST

    def _dropped(self, count: int) -> None:
        self.dropped += count
        new_episode = not self.slow
        self.slow = True
        if self._on_drop is not None:
            self._on_drop(count, new_episode)

    def _pop(self) -> T:
        item = self.items.popleft()
        self.nbytes -= self._size(item)
        return item

    def popleft(self) -> T:
        """Remove and return the oldest item.

        Raises:
            IndexError: the buffer is empty.
        """
        return self._pop()

    def pop_batch(self, n: int) -> list[T]:
        """Remove and return up to ``n`` of the oldest items, oldest first."""
        items = self.items
        n = min(n, len(items))
        popleft = items.popleft
        batch = [popleft() for _ in range(n)]
        if batch and self._size is not _no_size:
            self.nbytes -= sum(map(self._size, batch))
        return batch

    def clear(self) -> None:
        """Forget every held item (not counted as dropped)."""
        self.items.clear()
        self.nbytes = 0
