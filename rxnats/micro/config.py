"""What a service, a group and an endpoint are configured with, and how that is checked.

ADR-32's rules: a service ``name`` (and an endpoint ``name``) is ``A-Z a-z 0-9 - _``; a
``version`` is a semantic version (the official semver.org expression); an endpoint
subject is a subscription subject (``*`` tokens and a final ``>`` allowed); a group
name is a subject prefix (or empty) without ``>``; metadata maps strings to strings
and cannot change once set. Each config validates itself when created, so a bad one
never reaches the server; every failure is an
:class:`~rxnats.errors.InvalidInputError` (also a ``ValueError``, which nats-py
raises) naming the field.

The discovery subjects are ``$SRV.<VERB>``, ``$SRV.<VERB>.<name>`` and
``$SRV.<VERB>.<name>.<id>`` (:func:`control_subject`); the ``$SRV`` prefix can be
changed per service (ADR-32 asks for that, for tools that work across accounts).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeAlias, TypeVar

from rxnats.errors import InvalidInputError
from rxnats.micro.models import EndpointStats
from rxnats.micro.request import Handler
from rxnats.pending import DEFAULT_PENDING_BYTES_LIMIT, DEFAULT_PENDING_MSGS_LIMIT, Overflow
from rxnats.rx.operators import JSONValue
from rxnats.wire.subjects import is_valid_publish_subject, is_valid_subscribe_subject

__all__ = [
    "DEFAULT_PENDING_BYTES_LIMIT",
    "DEFAULT_PENDING_MSGS_LIMIT",
    "DEFAULT_PREFIX",
    "DEFAULT_QUEUE_GROUP",
    "NAME_REGEX",
    "SEMVER_REGEX",
    "SUBJECT_REGEX",
    "EndpointConfig",
    "GroupConfig",
    "ServiceConfig",
    "ServiceVerb",
    "StatsHandler",
    "control_subject",
]

DEFAULT_QUEUE_GROUP = "q"
"""The queue group of every endpoint unless a service, group or endpoint says otherwise."""

DEFAULT_PREFIX = "$SRV"
"""The first token of the discovery subjects."""


SEMVER_REGEX = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
"""The semantic version expression suggested by semver.org, which ADR-32 requires."""

NAME_REGEX = re.compile(r"^[A-Za-z0-9\-_]+$")
"""What a service or endpoint name may contain."""

_QUEUE_NAME = re.compile(r"[^\s\x00]+")

SUBJECT_REGEX = re.compile(r"^[^ >]*[>]?$")
"""The coarse subject shape other clients check (no space, ``>`` only at the end).

rxnats checks subjects token by token as well (no empty token, no whitespace).
"""

T = TypeVar("T")

StatsHandler: TypeAlias = Callable[[EndpointStats], JSONValue]
"""Returns the JSON ``data`` reported in an endpoint's statistics."""


class ServiceVerb(StrEnum):
    """The discovery requests every service answers."""

    PING = "PING"
    STATS = "STATS"
    INFO = "INFO"


def control_subject(
    verb: ServiceVerb,
    name: str | None = None,
    id: str | None = None,
    prefix: str = DEFAULT_PREFIX,
) -> str:
    """The discovery subject for ``verb``: all services, those named ``name``, or one instance.

    Raises:
        InvalidInputError: ``id`` without ``name``, or a token that is not a subject token.
    """
    verb = ServiceVerb(verb)
    if id and not name:
        raise InvalidInputError("a service id needs its service name")
    tokens = [prefix, verb.value]
    if name:
        tokens.append(name)
        if id:
            tokens.append(id)
    subject = ".".join(tokens)
    if not is_valid_publish_subject(subject):
        raise InvalidInputError(f"not a valid discovery subject: {subject!r}")
    return subject


# -- checks shared by the configs ---------------------------------------------------------
def check_name(what: str, name: object) -> str:
    if not isinstance(name, str) or not name:
        raise InvalidInputError(f"{what} name must be a non-empty str, not {name!r}")
    if NAME_REGEX.fullmatch(name) is None:
        raise InvalidInputError(
            f"invalid {what} name {name!r}: only A-Z, a-z, 0-9, '-' and '_' are allowed"
        )
    return name


def check_version(version: object) -> str:
    if not isinstance(version, str) or not version:
        raise InvalidInputError(f"service version must be a non-empty str, not {version!r}")
    if SEMVER_REGEX.fullmatch(version) is None:
        raise InvalidInputError(
            f"invalid service version {version!r}: it must be a semantic version such as 1.0.0"
        )
    return version


def check_subject(what: str, subject: object) -> str:
    if (
        not isinstance(subject, str)
        or SUBJECT_REGEX.fullmatch(subject) is None
        or not is_valid_subscribe_subject(subject)
    ):
        raise InvalidInputError(f"invalid {what} subject {subject!r}")
    return subject


def check_group_name(name: object) -> str:
    if not isinstance(name, str):
        raise InvalidInputError(f"group name must be a str, not {name!r}")
    if name and (not is_valid_subscribe_subject(name) or ">" in name.split(".")):
        raise InvalidInputError(
            f"invalid group name {name!r}: it must be a subject prefix without '>' (or empty)"
        )
    return name


def check_queue_group(queue_group: object) -> str | None:
    if queue_group is None:
        return None
    if (
        not isinstance(queue_group, str)
        or not queue_group
        or _QUEUE_NAME.fullmatch(queue_group) is None
    ):
        raise InvalidInputError(
            f"invalid queue group {queue_group!r}: a non-empty name without whitespace"
            " (use queue_group_disabled=True for no queue group)"
        )
    return queue_group


def check_metadata(what: str, metadata: object) -> dict[str, str] | None:
    if metadata is None:
        return None
    if not isinstance(metadata, Mapping):
        raise InvalidInputError(f"{what} metadata must be a mapping of str to str, not {metadata!r}")
    copy: dict[str, str] = {}
    for key, value in metadata.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise InvalidInputError(
                f"{what} metadata must map str to str; {key!r}: {value!r} does not"
            )
        copy[key] = value
    return copy


def check_limits(pending_msgs_limit: object, pending_bytes_limit: object) -> None:
    for label, value in (
        ("pending_msgs_limit", pending_msgs_limit),
        ("pending_bytes_limit", pending_bytes_limit),
    ):
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise InvalidInputError(f"{label} must be a positive int, not {value!r}")


# -- the configs ----------------------------------------------------------------------------
@dataclass(frozen=True)
class ServiceConfig:
    """How a service is set up; checked when created.

    Raises:
        InvalidInputError: a field breaks ADR-32's rules (the message names it).
    """

    name: str
    """The kind of service, shared by its instances: ``A-Z a-z 0-9 - _`` only."""

    version: str
    """A semantic version (``1.0.0``, ``2.1.3-alpha.1``)."""

    description: str | None = None
    """A human-readable description."""

    metadata: dict[str, str] | None = None
    """Free-form metadata of the instance (copied: later changes to the dict are ignored)."""

    queue_group: str | None = None
    """The queue group of the service's endpoints (default ``"q"``)."""

    stats_handler: StatsHandler | None = None
    """Returns each endpoint's extra statistics (the ``data`` field of STATS)."""

    queue_group_disabled: bool = False
    """Endpoints use plain subscriptions (every instance gets every request) unless a
    group or endpoint sets a queue group."""

    prefix: str = DEFAULT_PREFIX
    """The first token of the discovery subjects."""

    def __post_init__(self) -> None:
        check_name("service", self.name)
        check_version(self.version)
        if self.description is not None and not isinstance(self.description, str):
            raise InvalidInputError(f"service description must be a str, not {self.description!r}")
        object.__setattr__(self, "metadata", check_metadata("service", self.metadata))
        check_queue_group(self.queue_group)
        if self.stats_handler is not None and not callable(self.stats_handler):
            raise InvalidInputError("stats_handler must be callable")
        if not isinstance(self.prefix, str) or not is_valid_publish_subject(self.prefix):
            raise InvalidInputError(f"invalid discovery prefix {self.prefix!r}")


@dataclass(frozen=True)
class EndpointConfig:
    """How an endpoint is set up; checked when created.

    Without a ``handler`` the endpoint's requests are consumed as an observable
    (:meth:`~rxnats.micro.Endpoint.observe`).

    Raises:
        InvalidInputError: a field breaks ADR-32's rules (the message names it).
    """

    name: str
    """The endpoint's name: ``A-Z a-z 0-9 - _`` only; several endpoints may share one."""

    handler: Handler | None = None
    """Called with each :class:`~rxnats.micro.Request` (plain or ``async``)."""

    queue_group: str | None = None
    """Overrides the group's or service's queue group."""

    subject: str | None = None
    """The subject to listen on (after the group prefix); default: the name."""

    metadata: dict[str, str] | None = None
    """Free-form metadata of the endpoint (copied)."""

    queue_group_disabled: bool = False
    """Listen with a plain subscription: every instance gets every request."""

    pending_msgs_limit: int = DEFAULT_PENDING_MSGS_LIMIT
    """Requests that may wait for the handler or observers (see ``NATS.subscribe``)."""

    pending_bytes_limit: int = DEFAULT_PENDING_BYTES_LIMIT
    """Payload bytes that may wait for the handler or observers."""

    overflow: Overflow = field(default=Overflow.DROP_NEWEST)
    """What happens to requests beyond the pending limits."""

    def __post_init__(self) -> None:
        check_name("endpoint", self.name)
        if self.handler is not None and not callable(self.handler):
            raise InvalidInputError("endpoint handler must be callable")
        check_queue_group(self.queue_group)
        if self.subject is not None:
            check_subject("endpoint", self.subject)
        object.__setattr__(self, "metadata", check_metadata("endpoint", self.metadata))
        check_limits(self.pending_msgs_limit, self.pending_bytes_limit)
        if not isinstance(self.overflow, Overflow):
            raise InvalidInputError(f"overflow must be an Overflow, not {self.overflow!r}")


@dataclass(frozen=True)
class GroupConfig:
    """A group of endpoints under a common subject prefix; checked when created.

    Raises:
        InvalidInputError: the name is not a subject prefix, or the queue group is invalid.
    """

    name: str
    """The subject prefix (may have several tokens, no ``>``; empty: no prefix)."""

    queue_group: str | None = None
    """The queue group of the group's endpoints (default: the parent's)."""

    queue_group_disabled: bool = False
    """The group's endpoints use plain subscriptions unless they set a queue group."""

    def __post_init__(self) -> None:
        check_group_name(self.name)
        check_queue_group(self.queue_group)


def pick(value: T | None, default: T) -> T:
    """``value`` unless it is ``None`` (a keyword the caller did not give)."""
    return default if value is None else value


def resolve_queue_group(
    own: str | None, own_disabled: bool, parent: str | None, parent_disabled: bool
) -> str | None:
    """The queue group to use (``None``: a plain subscription), nearest setting first."""
    if own_disabled:
        return None
    if own:
        return own
    if parent_disabled:
        return None
    return parent or DEFAULT_QUEUE_GROUP
