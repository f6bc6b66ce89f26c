"""Shared pytest configuration: loads the rxnats fixtures (nats_server, nats_cluster, ...).

Once rxnats is installed, its ``pytest11`` entry point ``rxnats`` loads the plugin, and
naming it again here would make pluggy fail with "Plugin already registered under a
different name"; so it is listed only when the entry point is absent.
"""

from __future__ import annotations

from importlib.metadata import entry_points

pytest_plugins = (
    []
    if any(ep.value == "rxnats.testing.plugin" for ep in entry_points(group="pytest11"))
    else ["rxnats.testing.plugin"]
)
