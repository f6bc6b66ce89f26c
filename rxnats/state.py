"""Connection status: one enum and the transitions it allows.

Theory of operation. A client starts ``DISCONNECTED`` and goes to ``CONNECTING`` for the
first connect. From ``CONNECTED`` a lost socket leads to ``RECONNECTING`` (when
reconnecting is allowed) and back to ``CONNECTED``, or to ``DISCONNECTED`` and on to
``CLOSED``. ``drain()`` walks ``CONNECTED -> DRAINING_SUBS -> DRAINING_PUBS -> CLOSED``.
``CLOSED`` is final. :class:`StatusCell` is the single place that holds the current
value; every change goes through :meth:`StatusCell.set`, which rejects a transition the
table does not allow and tells the listeners (the Rx layer subscribes here).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum

__all__ = ["ConnectionStatus", "StatusCell"]


class ConnectionStatus(IntEnum):
    """The client's connection status; values equal ``NATS.DISCONNECTED`` ... ``DRAINING_PUBS``."""

    DISCONNECTED = 0
    CONNECTED = 1
    CLOSED = 2
    RECONNECTING = 3
    CONNECTING = 4
    DRAINING_SUBS = 5
    DRAINING_PUBS = 6


_S = ConnectionStatus
_ALLOWED: dict[ConnectionStatus, frozenset[ConnectionStatus]] = {
    _S.DISCONNECTED: frozenset({_S.CONNECTING, _S.CLOSED}),
    _S.CONNECTING: frozenset({_S.CONNECTED, _S.DISCONNECTED, _S.CLOSED}),
    _S.CONNECTED: frozenset(
        {_S.RECONNECTING, _S.DISCONNECTED, _S.DRAINING_SUBS, _S.DRAINING_PUBS, _S.CLOSED}
    ),
    _S.RECONNECTING: frozenset({_S.CONNECTED, _S.DISCONNECTED, _S.CLOSED}),
    _S.DRAINING_SUBS: frozenset({_S.DRAINING_PUBS, _S.RECONNECTING, _S.DISCONNECTED, _S.CLOSED}),
    _S.DRAINING_PUBS: frozenset({_S.RECONNECTING, _S.DISCONNECTED, _S.CLOSED}),
    _S.CLOSED: frozenset(),
}

Listener = Callable[[ConnectionStatus], None]


class StatusCell:
    """Holds the current :class:`ConnectionStatus` and tells listeners of each change."""

    __slots__ = ("_listeners", "value")

    def __init__(self) -> None:
        self.value = ConnectionStatus.DISCONNECTED
        self._listeners: list[Listener] = []

    def set(self, new: ConnectionStatus) -> bool:
        """Move to ``new``; return False (and change nothing) when already there.

        Raises:
            RuntimeError: the transition is not allowed (a bug in rxnats, not user error).
        """
        old = self.value
        if new == old:
            return False
        if new not in _ALLOWED[old]:
            raise RuntimeError(f"illegal connection status change {old.name} -> {new.name}")
        self.value = new
        for listener in tuple(self._listeners):
            listener(new)
        return True

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` on every change; return a function that removes it."""
        self._listeners.append(listener)

        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove
