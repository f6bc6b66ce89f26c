"""rxnats: a strictly typed asyncio NATS client with ReactiveX observables.

``import rxnats as nats`` and use it as you would nats-py::

    nc = await nats.connect("nats://localhost:4222")
    await nc.publish("greet", b"hello")
    await nc.close()
"""

from __future__ import annotations

__version__ = "0.1.0"

from rxnats import errors
from rxnats.client import NATS, Callback, ErrorCallback, Statistics, connect
from rxnats.errors import NoRespondersError, TimeoutError
from rxnats.msg import Msg
from rxnats.state import ConnectionStatus
from rxnats.subscription import Overflow, Subscription
from rxnats.wire.headers import Headers

__all__ = [
    "NATS",
    "Callback",
    "ConnectionStatus",
    "ErrorCallback",
    "Headers",
    "Msg",
    "NoRespondersError",
    "Overflow",
    "Statistics",
    "Subscription",
    "TimeoutError",
    "__version__",
    "connect",
    "errors",
]
