"""Test helpers for code using rxnats: real ``nats-server`` processes and pytest fixtures.

The pytest fixtures live in :mod:`rxnats.testing.plugin` (auto-loaded through the
``pytest11`` entry point); the server handles of :mod:`rxnats.server` are re-exported
here. For unit tests without a server: :mod:`rxnats.testing.fakeserver`, a scripted
server that speaks bytes on a socket, and :mod:`rxnats.testing.transport`, an in-memory
transport. The re-exports are resolved lazily so that pytest loading the plugin (which
imports this package first) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rxnats.server import (
        NatsCluster,
        NatsServer,
        NatsServerOptions,
        ServerNotFoundError,
        ServerStartError,
        find_nats_server,
        free_port,
    )
    from rxnats.testing.plugin import NatsServerFactory

__all__ = [
    "NatsCluster",
    "NatsServer",
    "NatsServerFactory",
    "NatsServerOptions",
    "ServerNotFoundError",
    "ServerStartError",
    "find_nats_server",
    "free_port",
]


def __getattr__(name: str) -> object:
    """Import a re-exported name on first access.

    Raises:
        AttributeError: ``name`` is not exported by this package.
    """
    if name == "NatsServerFactory":
        return importlib.import_module("rxnats.testing.plugin").NatsServerFactory
    if name in __all__:
        return getattr(importlib.import_module("rxnats.server"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
