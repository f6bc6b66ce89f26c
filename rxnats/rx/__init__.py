"""ReactiveX views of the client: connection status, events and subscriptions as observables.

The methods live on the client and subscriptions (``nc.observe(...)``,
``nc.observe_status()``, ``nc.publisher()``, ``sub.observe()``, ...); this package holds
what they are built from and the helpers users import directly:

- :func:`to_async_iterator`: consume any observable with ``async for``, bounded.
- :class:`OutMsg` and :class:`PublishSink`: what ``nc.publisher()`` takes and returns.
- :mod:`rxnats.rx.operators`: typed operators (subject filter, JSON, batches, sampling).
- :func:`loop_scheduler`: the event loop's shared ``AsyncIOScheduler``.

Everything here emits on the event loop's thread.
"""

from __future__ import annotations

from rxnats.pending import Overflow
from rxnats.rx import operators
from rxnats.rx.bridge import ObservableIterator, to_async_iterator
from rxnats.rx.publish import OutMsg, PublishSink
from rxnats.rx.scheduling import loop_scheduler

__all__ = [
    "ObservableIterator",
    "OutMsg",
    "Overflow",
    "PublishSink",
    "loop_scheduler",
    "operators",
    "to_async_iterator",
]
