"""pytest fixtures that run real ``nats-server`` processes.

Loaded through the ``pytest11`` entry point ``rxnats``, or with
``pytest_plugins = ["rxnats.testing.plugin"]``. Importing this module is cheap:
:mod:`rxnats.server` is imported only when a fixture is used.

When no ``nats-server`` binary is found the fixtures *fail* with instructions; they skip
instead only if the environment sets ``RXNATS_SKIP_NO_SERVER=1``, so CI never skips
silently.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

import pytest

if TYPE_CHECKING:
    from typing import Unpack

    from rxnats.server import NatsCluster, NatsServer, NatsServerOptions

__all__ = [
    "NatsServerFactory",
    "nats_cluster",
    "nats_jetstream_server",
    "nats_server",
    "nats_server_factory",
    "nats_url",
]

SKIP_ENV = "RXNATS_SKIP_NO_SERVER"


class NatsServerFactory(Protocol):
    """The type of the ``nats_server_factory`` fixture."""

    def __call__(self, **options: Unpack[NatsServerOptions]) -> NatsServer:
        """Create and start a server with :class:`~rxnats.server.NatsServer` options.

        Returns:
            The started server; it is closed at the end of the test.

        Raises:
            rxnats.server.ServerStartError: the server did not start.
        """
        ...


def _require_binary() -> str:
    """Return the nats-server path, or skip/fail the test if there is none."""
    from rxnats.server import ServerNotFoundError, find_nats_server

    try:
        return find_nats_server()
    except ServerNotFoundError as exc:
        if os.environ.get(SKIP_ENV) == "1":
            pytest.skip(f"{exc} ({SKIP_ENV}=1)")
        pytest.fail(f"{exc} (or set {SKIP_ENV}=1 to skip these tests)", pytrace=False)


@pytest.fixture
def nats_server_factory() -> Iterator[NatsServerFactory]:
    """Yield a callable ``(**options) -> NatsServer`` that starts servers.

    Every server it made is stopped and its temporary files removed at teardown.
    """
    from rxnats.server import NatsServer

    binary = _require_binary()
    servers: list[NatsServer] = []

    def factory(**options: Unpack[NatsServerOptions]) -> NatsServer:
        options.setdefault("binary", binary)
        server = NatsServer(**options)
        servers.append(server)
        server.start()
        return server

    try:
        yield factory
    finally:
        for server in reversed(servers):
            server.close()


@pytest.fixture
def nats_server(nats_server_factory: NatsServerFactory) -> NatsServer:
    """Return a started plain ``nats-server`` on a free port, stopped after the test."""
    return nats_server_factory()


@pytest.fixture
def nats_url(nats_server: NatsServer) -> str:
    """Return the client URL (``nats://127.0.0.1:PORT``) of the ``nats_server`` fixture."""
    return nats_server.url


@pytest.fixture
def nats_jetstream_server(nats_server_factory: NatsServerFactory) -> NatsServer:
    """Return a started server with JetStream enabled, storing into its own temp dir."""
    return nats_server_factory(jetstream=True)


@pytest.fixture
def nats_cluster() -> Iterator[NatsCluster]:
    """Yield a started 3-node cluster whose route mesh is complete; closed afterwards."""
    from rxnats.server import NatsCluster

    cluster = NatsCluster(3, binary=_require_binary())
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.close()
