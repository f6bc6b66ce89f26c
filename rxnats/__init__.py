"""rxnats: a strictly typed asyncio NATS client with ReactiveX observables.

``import rxnats as nats`` and use it as you would nats-py::

    nc = await nats.connect("nats://localhost:4222")
    await nc.publish("greet", b"hello")
    await nc.close()

nats-py's module paths work too: ``from rxnats.aio.client import Client``.
"""

from __future__ import annotations

__version__ = "0.1.0"

from rxnats import aio, errors, nuid
from rxnats.aliases import (
    ClosedCallback,
    ConnectOptions,
    DisconnectedCallback,
    Payload,
    ReconnectedCallback,
    Servers,
    SSLContext,
    Subject,
    UserJWTCallback,
)
from rxnats.auth import RawCredentials, SignatureCallback
from rxnats.client import NATS, Callback, ErrorCallback, Server, Statistics, connect
from rxnats.errors import NoRespondersError, TimeoutError
from rxnats.msg import Msg
from rxnats.state import ConnectionStatus
from rxnats.subscription import MessageCallback, Overflow, Subscription
from rxnats.wire.headers import Headers

__all__ = [
    "NATS",
    "Callback",
    "ClosedCallback",
    "ConnectOptions",
    "ConnectionStatus",
    "DisconnectedCallback",
    "ErrorCallback",
    "Headers",
    "MessageCallback",
    "Msg",
    "NoRespondersError",
    "Overflow",
    "Payload",
    "RawCredentials",
    "ReconnectedCallback",
    "SSLContext",
    "Server",
    "Servers",
    "SignatureCallback",
    "Statistics",
    "Subject",
    "Subscription",
    "TimeoutError",
    "UserJWTCallback",
    "__version__",
    "aio",
    "connect",
    "errors",
    "nuid",
]
