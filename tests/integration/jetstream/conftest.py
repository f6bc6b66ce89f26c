"""Fixtures shared by the JetStream tests: a client of a JetStream-enabled server and its context."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

import rxnats
from rxnats.jetstream import JetStreamContext
from rxnats.server import NatsServer


@pytest.fixture
async def nc(nats_jetstream_server: NatsServer) -> AsyncIterator[rxnats.NATS]:
    """A client connected to ``nats_jetstream_server``, closed after the test."""
    client = await rxnats.connect(nats_jetstream_server.url)
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
def js(nc: rxnats.NATS) -> JetStreamContext:
    """The JetStream context of ``nc``."""
    return nc.jetstream()
