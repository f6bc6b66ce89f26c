"""PING/PONG bookkeeping without I/O: which PONG answers which PING, and when to give up.

The server answers every PING with one PONG, in order. The client sends PINGs for two
reasons: a flush waits for the PONG of its PING (its *waiter*, e.g. a future), and the
keepalive timer sends one every ``ping_interval`` that nobody waits for. :class:`Keepalive`
keeps one FIFO of both, so each PONG is matched to its PING, and counts the timer's PINGs
since the last PONG: one more than ``max_outstanding`` means the connection is stale.

After a reconnect the old server's answers will never come: :meth:`Keepalive.reconnected`
forgets the timer's PINGs and the waiters that stopped waiting, and says how many PINGs
the new connection must carry first (one per flush still waiting). The clock is not
here: the caller calls :meth:`Keepalive.tick` when the interval has passed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["Keepalive"]

W = TypeVar("W")


class Keepalive(Generic[W]):
    """The PINGs a connection has outstanding, in order (see the module docstring)."""

    __slots__ = ("_pings", "_unanswered", "max_outstanding")

    def __init__(self, max_outstanding: int) -> None:
        """Nothing outstanding; ``max_outstanding`` timer PINGs may go unanswered."""
        self.max_outstanding: int = max_outstanding
        # Each PING sent (or owed to the next connection), oldest first: its waiter, or
        # None for a PING of the timer.
        self._pings: deque[W | None] = deque()
        self._unanswered = 0

    @property
    def unanswered(self) -> int:
        """The timer's PINGs sent since the last PONG."""
        return self._unanswered

    def __len__(self) -> int:
        """The PINGs outstanding (the timer's and the flushes')."""
        return len(self._pings)

    def tick(self) -> bool:
        """The ping interval passed: True to send a PING (it is now outstanding).

        False when ``max_outstanding`` PINGs already went unanswered: the connection is
        stale and nothing was queued.
        """
        self._unanswered += 1
        if self._unanswered > self.max_outstanding:
            return False
        self._pings.append(None)
        return True

    def flush(self, waiter: W) -> None:
        """A flush sends a PING (or will, on the next connection): ``waiter`` waits for it."""
        self._pings.append(waiter)

    def pong(self) -> W | None:
        """A PONG came: the waiter of the PING it answers (None: the timer's, or none)."""
        self._unanswered = 0
        return self._pings.popleft() if self._pings else None

    def reconnected(self, waiting: Callable[[W], bool]) -> int:
        """A new connection is up: keep the waiters still ``waiting``, drop the rest.

        Returns how many PINGs the new connection must send first: one per waiter kept,
        in the same order, so that the new server's PONGs answer them.
        """
        kept = [w for w in self._pings if w is not None and waiting(w)]
        self._pings = deque(kept)
        self._unanswered = 0
        return len(kept)

    def reset(self) -> list[W]:
        """Forget everything outstanding; return the waiters (to fail them on close)."""
        waiters = [w for w in self._pings if w is not None]
        self._pings.clear()
        self._unanswered = 0
        return waiters
