"""Fixtures for the services tests: two clients of one real server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

import rxnats
from rxnats.server import NatsServer


@pytest.fixture
async def nc(nats_server: NatsServer) -> AsyncIterator[rxnats.NATS]:
    """The client the services run on, closed after the test."""
    client = await rxnats.connect(nats_server.url)
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def caller(nats_server: NatsServer) -> AsyncIterator[rxnats.NATS]:
    """Another client, making the requests, closed after the test."""
    client = await rxnats.connect(nats_server.url)
    try:
        yield client
    finally:
        await client.close()
