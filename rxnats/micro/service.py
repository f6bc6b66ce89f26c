"""A service: its identity, its endpoints and groups, and its discovery subscriptions.

Theory of operation. :func:`rxnats.micro.add_service` creates a :class:`Service` and
starts it: nine plain subscriptions answer ``$SRV.PING|INFO|STATS`` for all services,
for those of its name, and for its id (ADR-32), each from the reader as the request
arrives (plain-function callbacks, :meth:`rxnats.Msg.respond_nowait`). Endpoints are
added with :meth:`Service.add_endpoint` or through groups (:meth:`Service.add_group`);
see :mod:`rxnats.micro.endpoint` for where their requests go.

Queue groups resolve from the nearest setting: the endpoint's, then its group's (and
the groups above it), then the service's, else ``"q"``; ``queue_group_disabled`` at
any level makes the endpoints below it plain subscriptions unless a nearer level names
a queue group.

Stopping drains every endpoint (requests already received are still handled), then
the discovery subscriptions, and sets :attr:`Service.stopped`. A service stops by
itself when its client closes (``close()`` or the end of ``drain()``, which drains the
endpoints first). The service listens for that with ``NATS.add_event_listener``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from types import MappingProxyType, TracebackType
from typing import Protocol

from rxnats.client import NATS
from rxnats.errors import Error, InvalidInputError
from rxnats.events import Closed, ConnectionEvent
from rxnats.micro.config import (
    DEFAULT_PREFIX,
    DEFAULT_QUEUE_GROUP,
    NAME_REGEX,
    SEMVER_REGEX,
    SUBJECT_REGEX,
    EndpointConfig,
    GroupConfig,
    ServiceConfig,
    ServiceVerb,
    StatsHandler,
    check_subject,
    control_subject,
    pick,
    resolve_queue_group,
)
from rxnats.micro.endpoint import Endpoint
from rxnats.micro.models import (
    INFO_RESPONSE_TYPE,
    PING_RESPONSE_TYPE,
    STATS_RESPONSE_TYPE,
    EndpointInfo,
    EndpointStats,
    ServiceIdentity,
    ServiceInfo,
    ServicePing,
    ServiceStats,
)
from rxnats.micro.request import Handler, Request, ServiceError, exception_text
from rxnats.msg import Msg
from rxnats.nuid import TextNUID
from rxnats.subscription import Overflow, Subscription

__all__ = [
    "DEFAULT_PREFIX",
    "DEFAULT_QUEUE_GROUP",
    "INFO_RESPONSE_TYPE",
    "NAME_REGEX",
    "PING_RESPONSE_TYPE",
    "SEMVER_REGEX",
    "STATS_RESPONSE_TYPE",
    "SUBJECT_REGEX",
    "Endpoint",
    "EndpointConfig",
    "EndpointInfo",
    "EndpointManager",
    "EndpointStats",
    "Group",
    "GroupConfig",
    "GroupManager",
    "Handler",
    "Request",
    "Service",
    "ServiceConfig",
    "ServiceError",
    "ServiceIdentity",
    "ServiceInfo",
    "ServicePing",
    "ServiceStats",
    "ServiceVerb",
    "StatsHandler",
    "control_subject",
]

_ids = TextNUID()


class EndpointManager(Protocol):
    """What adds endpoints: a :class:`Service` or a :class:`Group`."""

    async def add_endpoint(
        self,
        config: EndpointConfig | None = None,
        *,
        name: str | None = None,
        handler: Handler | None = None,
        queue_group: str | None = None,
        subject: str | None = None,
        metadata: Mapping[str, str] | None = None,
        queue_group_disabled: bool | None = None,
        pending_msgs_limit: int | None = None,
        pending_bytes_limit: int | None = None,
        overflow: Overflow | None = None,
    ) -> Endpoint: ...


class GroupManager(Protocol):
    """What adds groups: a :class:`Service` or a :class:`Group`."""

    def add_group(
        self,
        config: GroupConfig | None = None,
        *,
        name: str | None = None,
        queue_group: str | None = None,
        queue_group_disabled: bool | None = None,
    ) -> Group: ...


def _endpoint_config(
    config: EndpointConfig | None,
    *,
    name: str | None,
    handler: Handler | None,
    queue_group: str | None,
    subject: str | None,
    metadata: Mapping[str, str] | None,
    queue_group_disabled: bool | None,
    pending_msgs_limit: int | None,
    pending_bytes_limit: int | None,
    overflow: Overflow | None,
) -> EndpointConfig:
    """``config`` with the given keywords replacing its fields (or a new one from them).

    Raises:
        InvalidInputError: no config and no name, or a field is invalid.
    """
    if config is None:
        if name is None:
            raise InvalidInputError("add_endpoint needs an EndpointConfig or name=")
        config = EndpointConfig(name=name)
    elif not isinstance(config, EndpointConfig):
        raise InvalidInputError(f"config must be an EndpointConfig, not {config!r}")
    return EndpointConfig(
        name=pick(name, config.name),
        handler=pick(handler, config.handler),
        queue_group=pick(queue_group, config.queue_group),
        subject=pick(subject, config.subject),
        metadata=config.metadata if metadata is None else dict(metadata),
        queue_group_disabled=pick(queue_group_disabled, config.queue_group_disabled),
        pending_msgs_limit=pick(pending_msgs_limit, config.pending_msgs_limit),
        pending_bytes_limit=pick(pending_bytes_limit, config.pending_bytes_limit),
        overflow=pick(overflow, config.overflow),
    )


def _group_config(
    config: GroupConfig | None,
    *,
    name: str | None,
    queue_group: str | None,
    queue_group_disabled: bool | None,
) -> GroupConfig:
    if config is None:
        if name is None:
            raise InvalidInputError("add_group needs a GroupConfig or name=")
        config = GroupConfig(name=name)
    elif not isinstance(config, GroupConfig):
        raise InvalidInputError(f"config must be a GroupConfig, not {config!r}")
    return GroupConfig(
        name=pick(name, config.name),
        queue_group=pick(queue_group, config.queue_group),
        queue_group_disabled=pick(queue_group_disabled, config.queue_group_disabled),
    )


class Group:
    """Endpoints under a common subject prefix, with their own default queue group."""

    def __init__(self, service: Service, prefix: str, queue_group: str | None) -> None:
        self._service = service
        self._prefix = prefix
        self._queue_group = queue_group  # resolved: None means plain subscriptions

    @property
    def prefix(self) -> str:
        """The subject prefix of the group's endpoints (``""``: none)."""
        return self._prefix

    @property
    def queue_group(self) -> str | None:
        """The queue group its endpoints use by default (``None``: none)."""
        return self._queue_group

    async def add_endpoint(
        self,
        config: EndpointConfig | None = None,
        *,
        name: str | None = None,
        handler: Handler | None = None,
        queue_group: str | None = None,
        subject: str | None = None,
        metadata: Mapping[str, str] | None = None,
        queue_group_disabled: bool | None = None,
        pending_msgs_limit: int | None = None,
        pending_bytes_limit: int | None = None,
        overflow: Overflow | None = None,
    ) -> Endpoint:
        """Add an endpoint on ``<prefix>.<subject or name>``; see :meth:`Service.add_endpoint`."""
        cfg = _endpoint_config(
            config,
            name=name,
            handler=handler,
            queue_group=queue_group,
            subject=subject,
            metadata=metadata,
            queue_group_disabled=queue_group_disabled,
            pending_msgs_limit=pending_msgs_limit,
            pending_bytes_limit=pending_bytes_limit,
            overflow=overflow,
        )
        return await self._service._add(cfg, self._prefix, self._queue_group)

    def add_group(
        self,
        config: GroupConfig | None = None,
        *,
        name: str | None = None,
        queue_group: str | None = None,
        queue_group_disabled: bool | None = None,
    ) -> Group:
        """A group nested in this one: its prefix is ``<this prefix>.<name>``.

        Raises:
            InvalidInputError: the name or queue group is invalid.
        """
        cfg = _group_config(
            config, name=name, queue_group=queue_group, queue_group_disabled=queue_group_disabled
        )
        prefix = ".".join(p for p in (self._prefix, cfg.name) if p)
        return Group(
            self._service,
            prefix,
            resolve_queue_group(
                cfg.queue_group,
                cfg.queue_group_disabled,
                self._queue_group,
                self._queue_group is None,
            ),
        )

    def __repr__(self) -> str:
        return f"<Group prefix={self._prefix!r} queue_group={self._queue_group!r}>"


class Service:
    """A running service (ADR-32); create it with :func:`rxnats.micro.add_service`.

    Use it as an async context manager to stop it at the end of the block.
    """

    def __init__(self, client: NATS, config: ServiceConfig) -> None:
        """Prepare a service on ``client``; :meth:`start` subscribes.

        Raises:
            InvalidInputError: ``config`` is not a :class:`ServiceConfig`.
        """
        if not isinstance(config, ServiceConfig):
            raise InvalidInputError(f"config must be a ServiceConfig, not {config!r}")
        self._client = client
        self._config = config
        self._id = _ids.next()
        self._metadata: Mapping[str, str] = MappingProxyType(dict(config.metadata or {}))
        self._queue_group = resolve_queue_group(
            config.queue_group, config.queue_group_disabled, None, False
        )
        self._endpoints: list[Endpoint] = []
        self._verb_subs: list[Subscription] = []
        self._started = datetime.now(UTC)
        self._stopped = asyncio.Event()
        self._stopping: asyncio.Future[None] | None = None
        self._remove_listener: Callable[[], None] | None = None
        self._ping = json.dumps(self.ping().to_dict(), separators=(",", ":")).encode()

    # -- identity ----------------------------------------------------------------------
    @property
    def id(self) -> str:
        """This instance's unique id (a NUID)."""
        return self._id

    @property
    def name(self) -> str:
        """The service's name (its kind)."""
        return self._config.name

    @property
    def version(self) -> str:
        """The service's semantic version."""
        return self._config.version

    @property
    def description(self) -> str | None:
        """The service's description."""
        return self._config.description

    @property
    def metadata(self) -> Mapping[str, str]:
        """The service's metadata (read-only)."""
        return self._metadata

    @property
    def queue_group(self) -> str | None:
        """The default queue group of its endpoints (``None``: plain subscriptions)."""
        return self._queue_group

    @property
    def config(self) -> ServiceConfig:
        """The configuration it was created with."""
        return self._config

    @property
    def client(self) -> NATS:
        """The client it runs on."""
        return self._client

    @property
    def started(self) -> datetime:
        """When it started (or its statistics were last reset), in UTC."""
        return self._started

    @property
    def endpoints(self) -> tuple[Endpoint, ...]:
        """Its endpoints, in the order they were added."""
        return tuple(self._endpoints)

    @property
    def stopped(self) -> asyncio.Event:
        """Set once the service has stopped (``await svc.stopped.wait()``)."""
        return self._stopped

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Subscribe to the discovery subjects and flush; does nothing if started.

        Raises:
            InvalidInputError: the service was stopped (make a new one).
            plus what :meth:`rxnats.NATS.subscribe` and ``flush`` raise.

        Cancelling it while it flushes leaves the service started.
        """
        if self._stopped.is_set() or self._stopping is not None:
            raise InvalidInputError(f"service {self.name!r} was stopped; add a new one")
        if self._verb_subs:
            return
        nc = self._client
        prefix = self._config.prefix
        handlers = {
            ServiceVerb.PING: self._on_ping,
            ServiceVerb.INFO: self._on_info,
            ServiceVerb.STATS: self._on_stats,
        }
        try:
            for verb, handler in handlers.items():
                for name, id_ in ((None, None), (self.name, None), (self.name, self._id)):
                    subject = control_subject(verb, name, id_, prefix=prefix)
                    self._verb_subs.append(await nc.subscribe(subject, cb=handler))
        except BaseException:
            for sub in self._verb_subs:
                if not sub.is_closed and not nc.is_closed():
                    await sub.unsubscribe()
            self._verb_subs.clear()
            raise
        self._remove_listener = nc.add_event_listener(self._on_event)
        self._started = datetime.now(UTC)
        await nc.flush()

    async def stop(self) -> None:
        """Drain the endpoints, then the discovery subscriptions; set :attr:`stopped`.

        Requests already received are still handled; new ones are not taken. Calling
        it again (or concurrently) waits for the first call. It never raises because
        the client closed meanwhile.

        Cancelling it stops waiting; the stop goes on.
        """
        if self._stopping is None:
            self._stopping = asyncio.ensure_future(self._stop())
        await asyncio.shield(self._stopping)

    async def _stop(self) -> None:
        try:
            await asyncio.gather(*(e._stop() for e in self._endpoints))
            nc = self._client
            for sub in self._verb_subs:
                if sub.is_closed or nc.is_closed():
                    continue
                try:
                    await sub.drain()
                except Error:  # the client closed meanwhile: the subscription ended anyway
                    pass
        finally:
            self._verb_subs.clear()
            self._stopped_now()

    def _stopped_now(self) -> None:
        remove = self._remove_listener
        self._remove_listener = None
        if remove is not None:
            remove()
        self._stopped.set()

    def _on_event(self, event: ConnectionEvent) -> None:
        if isinstance(event, Closed) and self._stopping is None:
            # The client closed: every subscription has ended with it (an observed
            # endpoint's observers complete on their own), so the service has stopped.
            done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            done.set_result(None)
            self._stopping = done
            self._verb_subs.clear()
            self._stopped_now()

    async def __aenter__(self) -> Service:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- endpoints and groups -----------------------------------------------------------------
    async def add_endpoint(
        self,
        config: EndpointConfig | None = None,
        *,
        name: str | None = None,
        handler: Handler | None = None,
        queue_group: str | None = None,
        subject: str | None = None,
        metadata: Mapping[str, str] | None = None,
        queue_group_disabled: bool | None = None,
        pending_msgs_limit: int | None = None,
        pending_bytes_limit: int | None = None,
        overflow: Overflow | None = None,
    ) -> Endpoint:
        """Add an endpoint listening on ``subject`` (default: its ``name``).

        Give an :class:`EndpointConfig`, keywords, or both (keywords replace the
        config's fields). Requests go to ``handler`` (a plain or ``async`` function of
        a :class:`~rxnats.micro.Request`); without one, to the observers of
        :meth:`Endpoint.observe`. The SUB is sent with the next write: ``await
        nc.flush()`` to know the server has it.

        Raises:
            InvalidInputError: a field is invalid, or the service was stopped.
            plus what :meth:`rxnats.NATS.subscribe` raises.
        """
        cfg = _endpoint_config(
            config,
            name=name,
            handler=handler,
            queue_group=queue_group,
            subject=subject,
            metadata=metadata,
            queue_group_disabled=queue_group_disabled,
            pending_msgs_limit=pending_msgs_limit,
            pending_bytes_limit=pending_bytes_limit,
            overflow=overflow,
        )
        return await self._add(cfg, "", self._queue_group)

    def add_group(
        self,
        config: GroupConfig | None = None,
        *,
        name: str | None = None,
        queue_group: str | None = None,
        queue_group_disabled: bool | None = None,
    ) -> Group:
        """A group of endpoints whose subjects start with ``name``.

        Raises:
            InvalidInputError: the name is not a subject prefix (or contains ``>``), or
                the queue group is invalid.
        """
        cfg = _group_config(
            config, name=name, queue_group=queue_group, queue_group_disabled=queue_group_disabled
        )
        return Group(
            self,
            cfg.name,
            resolve_queue_group(
                cfg.queue_group,
                cfg.queue_group_disabled,
                self._queue_group,
                self._queue_group is None,
            ),
        )

    async def _add(self, cfg: EndpointConfig, prefix: str, parent_queue: str | None) -> Endpoint:
        if self._stopped.is_set() or self._stopping is not None:
            raise InvalidInputError(f"service {self.name!r} was stopped: no endpoint can be added")
        subject = ".".join(p for p in (prefix, cfg.subject or cfg.name) if p)
        check_subject("endpoint", subject)
        endpoint = Endpoint(
            name=cfg.name,
            subject=subject,
            queue_group=resolve_queue_group(
                cfg.queue_group, cfg.queue_group_disabled, parent_queue, parent_queue is None
            ),
            handler=cfg.handler,
            metadata=cfg.metadata,
        )
        await endpoint._start(
            self._client,
            pending_msgs_limit=cfg.pending_msgs_limit,
            pending_bytes_limit=cfg.pending_bytes_limit,
            overflow=cfg.overflow,
        )
        self._endpoints.append(endpoint)
        return endpoint

    # -- what discovery answers ------------------------------------------------------------
    def ping(self) -> ServicePing:
        """The service's answer to ``$SRV.PING``."""
        return ServicePing(
            id=self._id, name=self.name, version=self.version, metadata=dict(self._metadata)
        )

    def info(self) -> ServiceInfo:
        """The service's answer to ``$SRV.INFO``."""
        return ServiceInfo(
            name=self.name,
            id=self._id,
            version=self.version,
            description=self.description or "",
            endpoints=[e.info() for e in self._endpoints],
            metadata=dict(self._metadata),
        )

    def stats(self) -> ServiceStats:
        """The service's answer to ``$SRV.STATS``.

        Raises:
            Exception: what the ``stats_handler`` raises.
        """
        stats_handler = self._config.stats_handler
        endpoints: list[EndpointStats] = []
        for endpoint in self._endpoints:
            stats = endpoint.stats()
            if stats_handler is not None:
                stats = replace(stats, data=stats_handler(stats))
            endpoints.append(stats)
        return ServiceStats(
            id=self._id,
            name=self.name,
            version=self.version,
            started=self._started,
            endpoints=endpoints,
            metadata=dict(self._metadata),
        )

    async def reset(self) -> None:
        """Set every endpoint's statistics back to zero and ``started`` to now."""
        for endpoint in self._endpoints:
            endpoint.reset()
        self._started = datetime.now(UTC)

    def _on_ping(self, msg: Msg) -> None:
        if msg.reply:
            msg.respond_nowait(self._ping)

    def _on_info(self, msg: Msg) -> None:
        if msg.reply:
            msg.respond_nowait(_dumps(self.info().to_dict()))

    def _on_stats(self, msg: Msg) -> None:
        if not msg.reply:
            return
        try:
            body = _dumps(self.stats().to_dict())
        except Exception as exc:  # the stats handler failed, or its data is not JSON
            Request(msg).respond_error_nowait(500, f"STATS failed: {exception_text(exc)}")
            return
        msg.respond_nowait(body)

    def __repr__(self) -> str:
        state = " stopped" if self._stopped.is_set() else ""
        return f"<Service name={self.name!r} id={self._id!r} version={self.version!r}{state}>"


def _dumps(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()
