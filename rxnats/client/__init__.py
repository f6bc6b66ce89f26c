"""The client: :class:`NATS`, the facade, and :func:`connect`.

The package holds the parts the facade delegates to; ``from rxnats.client import NATS``
is the stable path (``rxnats.NATS`` is the same class).
"""

from __future__ import annotations

from rxnats.client.nats import NATS, Callback, ErrorCallback, Server, Statistics, connect

__all__ = ["NATS", "Callback", "ErrorCallback", "Server", "Statistics", "connect"]
