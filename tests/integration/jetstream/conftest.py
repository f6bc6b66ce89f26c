"""Fixtures shared by the JetStream tests: a client of a JetStream-enabled server and its context."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pytest

import rxnats
from rxnats.jetstream import JetStreamContext
from rxnats.server import NatsServer

if TYPE_CHECKING:
    from nats.aio.client import Client as NatsPyClient


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


@dataclass
class Restartable:
    """A client that reconnects quickly, and an event set on each reconnect."""

    nc: rxnats.NATS
    reconnected: asyncio.Event = field(default_factory=asyncio.Event)


@pytest.fixture
async def restartable(nats_jetstream_server: NatsServer) -> AsyncIterator[Restartable]:
    """A client of ``nats_jetstream_server`` for tests that restart the server."""
    events = asyncio.Event()

    async def on_reconnect() -> None:
        events.set()

    client = await rxnats.connect(
        nats_jetstream_server.url, reconnect_time_wait=0.1, reconnected_cb=on_reconnect
    )
    try:
        yield Restartable(client, events)
    finally:
        await client.close()


@pytest.fixture
async def peer(nats_jetstream_server: NatsServer) -> AsyncIterator[NatsPyClient]:
    """A connected nats-py 2.16 client of the same server, for comparisons (skips without it)."""
    nats = pytest.importorskip("nats", reason="nats-py is not installed")
    client = await nats.connect(nats_jetstream_server.url)
    try:
        yield client
    finally:
        await client.close()
