"""Adapters that let :mod:`rxnats.bench.runner` drive rxnats and nats-py.

Each adapter hands the loops the library's own bound ``publish`` method, so publishing
costs exactly what the library costs. Subscriptions use each library's fastest
callback form: rxnats takes a plain function (its echo responder answers with
``Msg.respond_nowait()``), nats-py insists on a coroutine function. ``rxnats-async``
(:func:`rxnats_async_factory`) is rxnats with ``async def`` callbacks and an awaited
``Msg.respond()``, the form code moved from nats-py keeps: the like-for-like row.
Pending limits are raised so that neither library drops messages during a run.

nats-py is imported only when asked for (:func:`natspy_factory`); it is not a dependency.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable

import rxnats
from rxnats.bench.runner import BenchClient, ClientFactory, OnData, Publish, Request

__all__ = ["natspy_available", "natspy_factory", "rxnats_async_factory", "rxnats_factory"]

_BIG = 1 << 30  # pending limits large enough never to drop in a benchmark


class _RxnatsClient:
    """A :class:`BenchClient` over one :class:`rxnats.NATS` connection."""

    def __init__(self, nc: rxnats.NATS, *, async_callbacks: bool = False) -> None:
        self._nc = nc
        self._async_callbacks = async_callbacks
        self.publish: Publish = nc.publish

    @property
    def request(self) -> Request:
        nc_request = self._nc.request

        async def request(subject: str, payload: bytes, *, timeout: float) -> bytes:
            return (await nc_request(subject, payload, timeout=timeout)).data

        return request

    async def subscribe(self, subject: str, on_data: OnData) -> None:
        def cb(msg: rxnats.Msg) -> None:
            on_data(msg.data)

        async def async_cb(msg: rxnats.Msg) -> None:
            on_data(msg.data)

        await self._nc.subscribe(
            subject,
            cb=async_cb if self._async_callbacks else cb,
            pending_msgs_limit=_BIG,
            pending_bytes_limit=_BIG,
        )

    async def serve_echo(self, subject: str) -> None:
        # The fastest form answers from a plain function, inline on the reader; the
        # rxnats-async variant answers as nats-py code does, awaiting Msg.respond().
        def echo(msg: rxnats.Msg) -> None:
            msg.respond_nowait(msg.data)

        async def async_echo(msg: rxnats.Msg) -> None:
            await msg.respond(msg.data)

        await self._nc.subscribe(subject, cb=async_echo if self._async_callbacks else echo)

    async def flush(self) -> None:
        await self._nc.flush(timeout=60)

    async def close(self) -> None:
        await self._nc.close()


async def rxnats_factory(url: str) -> BenchClient:
    """Connect an rxnats client for the benchmark loops."""
    nc = await rxnats.connect(url, allow_reconnect=False, name="rxnats-bench")
    return _RxnatsClient(nc)


async def rxnats_async_factory(url: str) -> BenchClient:
    """Connect an rxnats client whose subscriptions use ``async def`` callbacks."""
    nc = await rxnats.connect(url, allow_reconnect=False, name="rxnats-bench")
    return _RxnatsClient(nc, async_callbacks=True)


def natspy_available() -> str | None:
    """nats-py's version when it is importable, else ``None``."""
    try:
        module = importlib.import_module("nats")
    except ImportError:
        return None
    if not hasattr(module, "connect"):
        return None  # some other 'nats' package (nats-core installs 'nats.client' only)
    version = importlib.import_module("nats.aio.client").__dict__.get("__version__")
    return str(version) if version is not None else "unknown"


class _NatsPyClient:
    """A :class:`BenchClient` over one nats-py connection (an untyped object)."""

    def __init__(self, nc: object) -> None:
        self._nc = nc
        self.publish: Publish = getattr(nc, "publish")  # noqa: B009 - nats-py is untyped

    @property
    def request(self) -> Request:
        nc_request: Callable[..., Awaitable[object]] = getattr(self._nc, "request")  # noqa: B009

        async def request(subject: str, payload: bytes, *, timeout: float) -> bytes:
            msg = await nc_request(subject, payload, timeout=timeout)
            data: bytes = getattr(msg, "data")  # noqa: B009
            return data

        return request

    async def subscribe(self, subject: str, on_data: OnData) -> None:
        async def cb(msg: object) -> None:
            on_data(getattr(msg, "data"))  # noqa: B009

        subscribe: Callable[..., Awaitable[object]] = getattr(self._nc, "subscribe")  # noqa: B009
        await subscribe(subject, cb=cb, pending_msgs_limit=_BIG, pending_bytes_limit=_BIG)

    async def serve_echo(self, subject: str) -> None:
        async def echo(msg: object) -> None:
            respond: Callable[[bytes], Awaitable[None]] = getattr(msg, "respond")  # noqa: B009
            await respond(getattr(msg, "data"))  # noqa: B009

        subscribe: Callable[..., Awaitable[object]] = getattr(self._nc, "subscribe")  # noqa: B009
        await subscribe(subject, cb=echo)

    async def flush(self) -> None:
        flush: Callable[..., Awaitable[None]] = getattr(self._nc, "flush")  # noqa: B009
        await flush(timeout=60)

    async def close(self) -> None:
        close: Callable[[], Awaitable[None]] = getattr(self._nc, "close")  # noqa: B009
        await close()


def natspy_factory() -> ClientFactory:
    """A factory of nats-py clients.

    Raises:
        ImportError: nats-py is not installed.
    """
    nats = importlib.import_module("nats")
    connect: Callable[..., Awaitable[object]] = nats.connect

    async def factory(url: str) -> BenchClient:
        nc = await connect(url, allow_reconnect=False, name="natspy-bench")
        return _NatsPyClient(nc)

    return factory
