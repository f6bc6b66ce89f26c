"""nats-py's JetStream module paths: ``from rxnats.js import api`` ports ``from nats.js import api``.

The modules of this package (:mod:`rxnats.js.api`, :mod:`rxnats.js.errors`,
:mod:`rxnats.js.client`, :mod:`rxnats.js.kv`, :mod:`rxnats.js.object_store`,
:mod:`rxnats.js.manager`) re-export, under nats-py 2.16's names, what
:mod:`rxnats.jetstream` implements, so renaming ``nats`` to ``rxnats`` in import lines is
all a port needs. New code may import from :mod:`rxnats.jetstream` directly.
"""

from __future__ import annotations

from rxnats.jetstream.context import JetStreamContext
from rxnats.jetstream.manager import JetStreamManager
from rxnats.js import api, client, errors, kv, manager, object_store

__all__ = [
    "JetStreamContext",
    "JetStreamManager",
    "api",
    "client",
    "errors",
    "kv",
    "manager",
    "object_store",
]
