"""NATS services (ADR-32): endpoints that answer requests, discoverable and measured.

The names and shapes are nats-py's ``nats.micro`` (``from rxnats import micro`` or
``import rxnats.micro``, where nats-py code says ``nats.micro``)::

    svc = await micro.add_service(nc, name="calc", version="1.0.0")
    await svc.add_endpoint(name="double", handler=double)   # a plain or async function
    group = svc.add_group(name="math")                       # subjects "math.<...>"
    await group.add_endpoint(name="sum", handler=add)
    ...
    await svc.stop()                                         # drains the endpoints

Every service answers ``$SRV.PING|INFO|STATS`` (for all services, for its name, and for
its id) with the JSON of :mod:`rxnats.micro.models`. What rxnats adds:

- an endpoint without a handler gives its requests as an ``Observable[Request]``
  (:meth:`Endpoint.observe`), with the pending limits and overflow policies of
  subscriptions, answered from a pipeline (:func:`reply_with`, :class:`Reply`);
- :class:`ServiceClient` discovers services, as observables that complete after a
  timeout or as awaited lists;
- typed, frozen records for the JSON, and validation that names the field at fault.

Module map: :mod:`~rxnats.micro.config` (configs, validation, subjects),
:mod:`~rxnats.micro.request` (requests, errors), :mod:`~rxnats.micro.models` (the JSON),
:mod:`~rxnats.micro.endpoint`, :mod:`~rxnats.micro.service`,
:mod:`~rxnats.micro.operators` (Rx answers), :mod:`~rxnats.micro.discovery`.
"""

from __future__ import annotations

from collections.abc import Mapping

from rxnats.client import NATS
from rxnats.errors import InvalidInputError
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
    control_subject,
    pick,
)
from rxnats.micro.discovery import ServiceClient
from rxnats.micro.endpoint import Endpoint
from rxnats.micro.models import (
    INFO_RESPONSE_TYPE,
    PING_RESPONSE_TYPE,
    STATS_RESPONSE_TYPE,
    EndpointInfo,
    EndpointInfoDict,
    EndpointStats,
    EndpointStatsDict,
    InfoResponseDict,
    PingResponseDict,
    ServiceIdentity,
    ServiceInfo,
    ServicePing,
    ServiceStats,
    StatsResponseDict,
)
from rxnats.micro.operators import ReplyFunction, reply_with
from rxnats.micro.request import (
    ERROR_CODE_HEADER,
    ERROR_HEADER,
    Handler,
    Reply,
    Request,
    ServiceError,
)
from rxnats.micro.service import EndpointManager, Group, GroupManager, Service

__all__ = [
    "DEFAULT_PREFIX",
    "DEFAULT_QUEUE_GROUP",
    "ERROR_CODE_HEADER",
    "ERROR_HEADER",
    "INFO_RESPONSE_TYPE",
    "NAME_REGEX",
    "PING_RESPONSE_TYPE",
    "SEMVER_REGEX",
    "STATS_RESPONSE_TYPE",
    "SUBJECT_REGEX",
    "Endpoint",
    "EndpointConfig",
    "EndpointInfo",
    "EndpointInfoDict",
    "EndpointManager",
    "EndpointStats",
    "EndpointStatsDict",
    "Group",
    "GroupConfig",
    "GroupManager",
    "Handler",
    "InfoResponseDict",
    "PingResponseDict",
    "Reply",
    "ReplyFunction",
    "Request",
    "Service",
    "ServiceClient",
    "ServiceConfig",
    "ServiceError",
    "ServiceIdentity",
    "ServiceInfo",
    "ServicePing",
    "ServiceStats",
    "ServiceVerb",
    "StatsHandler",
    "StatsResponseDict",
    "add_service",
    "control_subject",
    "reply_with",
]


async def add_service(
    nc: NATS,
    config: ServiceConfig | None = None,
    *,
    name: str | None = None,
    version: str | None = None,
    description: str | None = None,
    metadata: Mapping[str, str] | None = None,
    queue_group: str | None = None,
    queue_group_disabled: bool | None = None,
    stats_handler: StatsHandler | None = None,
    prefix: str | None = None,
) -> Service:
    """Create a service on ``nc`` and start it (its discovery subscriptions are flushed).

    Give a :class:`ServiceConfig`, keywords, or both (keywords replace the config's
    fields). ``name`` (``A-Z a-z 0-9 - _``) and ``version`` (semver) are required.

    Raises:
        InvalidInputError: a field breaks ADR-32's rules (the message names it).
        plus what :meth:`rxnats.NATS.subscribe` and ``flush`` raise.

    Cancelling it while it flushes leaves the service started; stop it yourself.
    """
    if config is None:
        if name is None or version is None:
            raise InvalidInputError("add_service needs a ServiceConfig, or name= and version=")
        config = ServiceConfig(name=name, version=version)
    elif not isinstance(config, ServiceConfig):
        raise InvalidInputError(f"config must be a ServiceConfig, not {config!r}")
    config = ServiceConfig(
        name=pick(name, config.name),
        version=pick(version, config.version),
        description=pick(description, config.description),
        metadata=config.metadata if metadata is None else dict(metadata),
        queue_group=pick(queue_group, config.queue_group),
        stats_handler=pick(stats_handler, config.stats_handler),
        queue_group_disabled=pick(queue_group_disabled, config.queue_group_disabled),
        prefix=pick(prefix, config.prefix),
    )
    service = Service(nc, config)
    await service.start()
    return service
