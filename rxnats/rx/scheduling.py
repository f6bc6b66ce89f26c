"""The event-loop scheduler that every rxnats observable and operator uses by default.

Rx time-based operators run their timers on a scheduler; reactivex's default is a timer
*thread*. rxnats instead uses one :class:`~reactivex.scheduler.eventloop.AsyncIOScheduler`
per event loop, so every emission and every timer runs on the loop's thread.
"""

from __future__ import annotations

import asyncio
import weakref

from reactivex.scheduler.eventloop import AsyncIOScheduler

__all__ = ["loop_scheduler"]

_SCHEDULERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncIOScheduler] = (
    weakref.WeakKeyDictionary()
)


def loop_scheduler(loop: asyncio.AbstractEventLoop | None = None) -> AsyncIOScheduler:
    """The shared ``AsyncIOScheduler`` of ``loop`` (default: the running loop).

    Raises:
        RuntimeError: no loop is given and none is running.
    """
    if loop is None:
        loop = asyncio.get_running_loop()
    scheduler = _SCHEDULERS.get(loop)
    if scheduler is None:
        scheduler = _SCHEDULERS[loop] = AsyncIOScheduler(loop)
    return scheduler
