"""nats-py's module paths, so that ``from nats.aio.client import Client`` becomes
``from rxnats.aio.client import Client`` and nothing else changes.

Thin, typed re-exports of rxnats' own classes: :mod:`rxnats.aio.client`,
:mod:`rxnats.aio.msg`, :mod:`rxnats.aio.subscription` and :mod:`rxnats.aio.errors`.
As in nats-py, ``nats.aio.msg.Msg`` is reachable after a plain ``import rxnats as nats``
(the submodules load on first use). Names nats-py has there that rxnats deliberately
lacks (its pluggable transports, its protocol parser, ``Srv``, ``ServerVersion``) are
listed in docs/migrating.md.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["client", "errors", "msg", "subscription"]

_SUBMODULES = frozenset(__all__)


def __getattr__(name: str) -> ModuleType:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
