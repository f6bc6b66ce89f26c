"""``to_async_iterator``: consume any observable with ``async for``, through a bounded buffer.

The observable pushes; the ``async for`` loop pulls. Between them sits an
:class:`~rxnats.pending.OverflowBuffer` of ``maxsize`` items with an
:class:`~rxnats.pending.Overflow` policy, so a fast source never grows memory
without bound and never waits for the loop body. Leaving an ``async with`` block (or
``contextlib.aclosing``), ``break`` included, disposes the upstream subscription; for
``nc.observe(...)`` that sends UNSUB when it was the last observer. A plain ``async for``
left by ``break`` or ``return`` disposes it too, when the dropped iterator is collected
(at once in CPython: the upstream holds the iterator only weakly).

The iterator subscribes on ``async with`` entry or on the first ``__anext__``
(``aclosing`` does not enter it): what the source emits before then is not seen.

Items pushed from another thread are handed to the iterator's loop with
``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Generic, TypeVar

from reactivex import Observable, abc

from rxnats.errors import SlowConsumerError
from rxnats.pending import Offer, Overflow, OverflowBuffer

__all__ = ["ObservableIterator", "to_async_iterator"]

T = TypeVar("T")

DEFAULT_MAXSIZE = 1024


class ObservableIterator(AsyncIterator[T], Generic[T]):
    """An async iterator over an observable's items (see :func:`to_async_iterator`).

    It subscribes on the first ``__anext__`` (or on ``__aenter__``) and disposes the
    subscription on :meth:`aclose`, on ``__aexit__``, when the source ends, or when the
    ``ERROR`` overflow policy stops it.
    """

    def __init__(self, source: Observable[T], *, maxsize: int, overflow: Overflow) -> None:
        """Wrap ``source`` (nothing is subscribed yet); ``maxsize`` of 0 or less: no limit."""
        self._source = source
        self._buffer: OverflowBuffer[T] = OverflowBuffer(max_items=maxsize, overflow=overflow)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = 0
        self._waiter: asyncio.Future[None] | None = None
        self._subscription: abc.DisposableBase | None = None
        self._started = False
        self._ended = False  # the source finished (or we stopped it): no more items
        self._error: Exception | None = None

    @property
    def dropped(self) -> int:
        """Items lost to the overflow policy so far."""
        return self._buffer.dropped

    @property
    def pending(self) -> int:
        """Items buffered and not yet taken by the loop."""
        return len(self._buffer)

    def __aiter__(self) -> ObservableIterator[T]:
        return self

    async def __anext__(self) -> T:
        """The next item.

        Raises:
            StopAsyncIteration: the source completed (after every buffered item).
            Exception: the error the source ended with, or ``SlowConsumerError`` under
                ``Overflow.ERROR`` (after every buffered item).

        Cancelling it loses no item.
        """
        self._start()
        buffer = self._buffer
        while not buffer:
            if self._ended:
                if self._error is not None:
                    error, self._error = self._error, None
                    raise error
                raise StopAsyncIteration
            assert self._loop is not None
            waiter = self._waiter = self._loop.create_future()
            try:
                await waiter
            finally:
                self._waiter = None
        return buffer.popleft()

    async def aclose(self) -> None:
        """Dispose the upstream subscription and end the iteration (idempotent)."""
        self._stop()
        self._buffer.clear()

    async def __aenter__(self) -> ObservableIterator[T]:
        self._start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __del__(self) -> None:
        # A plain ``async for ... break`` never calls aclose(); in CPython the iterator is
        # collected right after the loop, so dispose upstream here as a fallback.
        subscription = getattr(self, "_subscription", None)
        loop = getattr(self, "_loop", None)
        if subscription is None or loop is None or loop.is_closed():
            return
        if threading.get_ident() == self._thread:
            try:
                subscription.dispose()
            except Exception:  # nothing useful can be done about it during collection
                pass
        else:
            loop.call_soon_threadsafe(subscription.dispose)

    # -- the observer side ---------------------------------------------------------------
    def _start(self) -> None:
        if self._started:
            return
        self._started = True
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        # The observer holds the iterator weakly, so that an iterator the program dropped
        # (a plain ``async for`` left by break/return) is collected and __del__ disposes.
        ref = weakref.ref(self)

        def on_next(item: T) -> None:
            it = ref()
            if it is not None:
                it._on_next(item)

        def on_error(error: Exception) -> None:
            it = ref()
            if it is not None:
                it._on_error(error)

        def on_completed() -> None:
            it = ref()
            if it is not None:
                it._on_completed()

        subscription = self._source.subscribe(
            on_next=on_next, on_error=on_error, on_completed=on_completed
        )
        if self._ended:  # the source finished while subscribing
            subscription.dispose()
        else:
            self._subscription = subscription

    def _stop(self) -> None:
        self._ended = True
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            subscription.dispose()
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _on_thread(self) -> bool:
        return threading.get_ident() == self._thread

    def _on_next(self, item: T) -> None:
        if not self._on_thread():
            assert self._loop is not None
            self._loop.call_soon_threadsafe(self._on_next, item)
            return
        if self._ended:
            return
        outcome = self._buffer.offer(item)
        if outcome is Offer.REJECTED:
            self._error = SlowConsumerError(
                f"async iterator buffer full ({self._buffer.max_items} items); "
                f"{self._buffer.dropped} dropped",
                dropped=self._buffer.dropped,
            )
            self._stop()
            return
        self._wake()

    def _on_error(self, error: Exception) -> None:
        if not self._on_thread():
            assert self._loop is not None
            self._loop.call_soon_threadsafe(self._on_error, error)
            return
        if not self._ended:
            self._error = error
            self._stop()

    def _on_completed(self) -> None:
        if not self._on_thread():
            assert self._loop is not None
            self._loop.call_soon_threadsafe(self._on_completed)
            return
        self._stop()


def to_async_iterator(
    source: Observable[T],
    *,
    maxsize: int = DEFAULT_MAXSIZE,
    overflow: Overflow = Overflow.DROP_NEWEST,
) -> ObservableIterator[T]:
    """Consume ``source`` with ``async for`` through a buffer of at most ``maxsize`` items.

    Use it as ``async with to_async_iterator(obs) as items: async for x in items: ...``
    (or with ``contextlib.aclosing``) so that leaving the loop disposes the source.
    A ``maxsize`` of 0 or less means no limit, as for every rxnats queue (and
    ``asyncio.Queue``).
    """
    return ObservableIterator(source, maxsize=maxsize, overflow=overflow)
