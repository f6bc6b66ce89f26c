"""The relay: a bounded hand-off from the socket reader to Rx observers.

The reader calls :meth:`Relay.push` synchronously for each message. While nothing is
waiting in the buffer and the relay has a single observer, ``push`` hands the item to
that observer at once, as a plain-function callback would be called: no queue, no
scheduled drain. Each loop turn may hand over that way at most as many items as the
buffer holds (``max_items``, i.e. the ``pending_msgs_limit``), so a burst beyond that
in one turn is what the buffer is for. Otherwise ``push`` offers the item to an
:class:`~rxnats.pending.OverflowBuffer` and, if no drain is pending, schedules one on
the scheduler (the client's ``AsyncIOScheduler``: ``loop.call_soon``). The drain then
emits up to ``batch`` items to every observer and reschedules itself if more are
waiting, so the reader gets the loop back between batches and a consumer that cannot
keep up fills the buffer (where the overflow policy applies) instead of the socket.
Items are emitted in the order they were pushed either way: nothing is handed over
directly while anything is buffered.

Each observer is called inside its own ``try``: an exception is passed to ``report``
and neither stops the drain nor reaches the other observers. The terminal notification
(``end``) is emitted after the items already buffered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from reactivex import abc

from rxnats.pending import Offer, OverflowBuffer

__all__ = ["Relay"]

T = TypeVar("T")
A = TypeVar("A")

DEFAULT_BATCH = 256
_ACCEPTED = Offer.ACCEPTED


class Relay(Generic[T]):
    """Buffers items pushed by a synchronous producer and emits them to observers.

    Drops are the buffer's to tell (its ``on_drop``, once per slow-consumer episode as
    :mod:`rxnats.pending` defines it). ``on_reject(dropped)`` is called when the
    ``ERROR`` policy rejects an item: the owner is expected to end the source, which
    in turn calls :meth:`end` with the error.
    """

    __slots__ = (
        "_batch",
        "_buffer",
        "_direct_left",
        "_emitting",
        "_ended",
        "_error",
        "_finished",
        "_observers",
        "_on_reject",
        "_only_next",
        "_report",
        "_scheduled",
        "_scheduler",
    )

    def __init__(
        self,
        scheduler: abc.SchedulerBase,
        buffer: OverflowBuffer[T],
        *,
        report: Callable[[Exception], None],
        on_reject: Callable[[int], None] | None = None,
        batch: int = DEFAULT_BATCH,
    ) -> None:
        self._scheduler = scheduler
        self._buffer = buffer
        self._report = report
        self._on_reject = on_reject
        self._batch = batch
        self._observers: list[abc.ObserverBase[T]] = []
        self._scheduled = False
        self._ended = False  # end() was called: no more pushes accepted
        self._finished = False  # the terminal notification went out (or was abandoned)
        self._error: Exception | None = None
        # The direct hand-over (see the module docstring): the single observer's on_next
        # (None while there are zero or several observers, or after the end), and how
        # many items this loop turn may still hand over that way.
        self._only_next: Callable[[T], None] | None = None
        self._direct_left = buffer.max_items
        self._emitting = False  # an emission is running: a nested push must queue

    @property
    def ended(self) -> bool:
        """Whether the source has ended (no more items will be accepted)."""
        return self._ended

    @property
    def dropped(self) -> int:
        """Items lost to the overflow policy so far."""
        return self._buffer.dropped

    @property
    def pending(self) -> int:
        """Items buffered and not yet emitted."""
        return len(self._buffer)

    def add(self, observer: abc.ObserverBase[T]) -> None:
        """Start emitting to ``observer`` (from the next buffered item on)."""
        self._observers.append(observer)
        self._choose_direct()
        if self._ended and not self._finished:
            self._schedule()

    def remove(self, observer: abc.ObserverBase[T]) -> int:
        """Stop emitting to ``observer``; return how many observers remain."""
        if observer in self._observers:
            self._observers.remove(observer)
            self._choose_direct()
        return len(self._observers)

    def _choose_direct(self) -> None:
        observers = self._observers
        ok = len(observers) == 1 and not self._ended
        self._only_next = observers[0].on_next if ok else None

    def push(self, item: T) -> None:
        """Offer ``item`` (called by the producer; never blocks, never raises)."""
        only_next = self._only_next
        if (
            only_next is not None
            and not self._scheduled  # nothing buffered (a buffered item has a drain due)
            and self._direct_left > 0
            and not self._emitting
        ):
            left = self._direct_left
            if left == self._buffer.max_items:
                # The first direct hand-over of this turn: the allowance comes back on
                # the next one. The buffer has room (it is empty), so a slow-consumer
                # episode is over, as an accepted offer would say.
                self._scheduler.schedule(self._new_turn)
                self._buffer.slow = False
            self._direct_left = left - 1
            self._emitting = True
            try:
                only_next(item)
            except Exception as exc:  # an observer must not hurt the producer
                self._report(exc)
            finally:
                self._emitting = False
            return
        if self._ended:
            return
        outcome = self._buffer.offer(item)
        if outcome is _ACCEPTED:
            if not self._scheduled and not self._finished:
                self._scheduled = True
                self._scheduler.schedule(self._drain)
            return
        if outcome is Offer.REJECTED:
            if self._on_reject is not None:
                self._guard(self._on_reject, self._buffer.dropped)
            return
        if outcome is not Offer.DROPPED_NEWEST:
            self._schedule()

    def end(self, error: Exception | None) -> None:
        """The source ended: emit what is buffered, then ``on_error``/``on_completed``."""
        if self._ended:
            return
        self._ended = True
        self._choose_direct()
        self._error = error
        self._schedule()

    def abandon(self) -> None:
        """End silently: drop what is buffered, emit nothing more (the owner let go)."""
        self._ended = True
        self._finished = True
        self._buffer.clear()
        self._observers.clear()
        self._choose_direct()

    # -- emission ------------------------------------------------------------------------
    def _new_turn(self, scheduler: abc.SchedulerBase, state: object = None) -> None:
        self._direct_left = self._buffer.max_items

    def _schedule(self) -> None:
        if not self._scheduled and not self._finished:
            self._scheduled = True
            self._scheduler.schedule(self._drain)

    def _drain(self, scheduler: abc.SchedulerBase, state: object = None) -> None:
        self._scheduled = False
        if self._finished:
            return
        buffer = self._buffer
        observers = self._observers
        batch = buffer.pop_batch(self._batch)
        self._emitting = True  # popped items are not in the buffer: nothing may overtake
        try:
            if len(observers) == 1:
                # The common case, without a snapshot per item: one observer, which may
                # still leave (or others join) while it handles an item.
                only = observers[0]
                on_next = only.on_next
                for i, item in enumerate(batch):
                    if len(observers) != 1 or observers[0] is not only:
                        self._emit_each(batch[i:])
                        break
                    try:
                        on_next(item)
                    except Exception as exc:  # one observer must not hurt the producer
                        self._report(exc)
            else:
                self._emit_each(batch)
        finally:
            self._emitting = False
        if buffer:
            self._schedule()
            return
        if self._ended:
            self._finished = True
            error = self._error
            for observer in tuple(observers):
                if error is None:
                    self._guard_call(observer.on_completed)
                else:
                    self._guard(observer.on_error, error)
            observers.clear()

    def _emit_each(self, items: list[T]) -> None:
        observers = self._observers
        for item in items:
            for observer in tuple(observers):
                if observer in observers:  # it may have left during this item
                    self._guard(observer.on_next, item)

    def _guard(self, fn: Callable[[A], None], arg: A) -> None:
        try:
            fn(arg)
        except Exception as exc:  # one observer must not hurt the producer or the others
            self._report(exc)

    def _guard_call(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception as exc:
            self._report(exc)
