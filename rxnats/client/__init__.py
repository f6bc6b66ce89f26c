"""The client: :class:`NATS`, the facade, and :func:`connect`.

:mod:`~rxnats.client.nats` is the facade; it delegates to :mod:`~rxnats.client.options`
(the validated options), :mod:`~rxnats.client.requests` (the request multiplexer) and
:mod:`~rxnats.client.port` (what subscriptions, messages and the Rx layer may ask of the
client). ``from rxnats.client import NATS`` is the stable path (``rxnats.NATS`` is the
same class).
"""

from __future__ import annotations

from rxnats.client.nats import NATS, Callback, ErrorCallback, Server, Statistics, connect

__all__ = ["NATS", "Callback", "ErrorCallback", "Server", "Statistics", "connect"]
