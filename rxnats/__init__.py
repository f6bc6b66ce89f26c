"""rxnats: a strictly typed asyncio NATS client with ReactiveX observables.

``import rxnats as nats`` and use it as you would nats-py::

    nc = await nats.connect("nats://localhost:4222")
    await nc.publish("greet", b"hello")
    await nc.close()

nats-py's module paths work too: ``from rxnats.aio.client import Client``, and
``rxnats.js.api`` for JetStream (``rxnats.js`` loads on first use, as JetStream is big).
"""

from __future__ import annotations

import importlib
from types import ModuleType

from rxnats import aio, errors, nuid
from rxnats._version import __version__
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
    "js",
    "nuid",
]


def __getattr__(name: str) -> ModuleType:
    # ``nats.js`` is there after ``import nats``: so is ``rxnats.js``, loaded on first use.
    if name == "js":
        return importlib.import_module("rxnats.js")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
