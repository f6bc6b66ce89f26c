"""The JSON of the discovery responses (ADR-32), as typed records.

Each response is a frozen dataclass with ``to_dict()`` (the exact JSON object, typed as
a ``TypedDict``) and ``from_dict()`` (which checks every field it reads and says which
one is wrong). The three responses share the identity fields ``type``, ``name``, ``id``,
``version`` and ``metadata``:

| verb | ``type`` | adds |
| --- | --- | --- |
| ``PING`` | ``io.nats.micro.v1.ping_response`` | nothing |
| ``INFO`` | ``io.nats.micro.v1.info_response`` | ``description``, ``endpoints`` |
| ``STATS`` | ``io.nats.micro.v1.stats_response`` | ``started``, ``endpoints`` |

What rxnats writes, where ADR-32 and the JSON schemas leave room: ``description`` is a
string (``""`` when unset; the schema requires a string); ``metadata`` is always an
object (``{}`` when unset); ``last_error`` is ``""`` when there was none; ``data`` is
``null`` unless a stats handler is set; ``started`` is RFC 3339 in UTC with
microseconds (``2024-05-01T12:00:00.123456Z``): any RFC 3339 parser reads it, and so
does nats-py's fixed format.
Reading is lenient where peers differ: ``null`` metadata, a missing ``data``, any
number of fractional digits and any UTC offset in ``started``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol, TypedDict

from rxnats.errors import InvalidInputError
from rxnats.rx.operators import JSONValue

__all__ = [
    "INFO_RESPONSE_TYPE",
    "PING_RESPONSE_TYPE",
    "STATS_RESPONSE_TYPE",
    "EndpointInfo",
    "EndpointInfoDict",
    "EndpointStats",
    "EndpointStatsDict",
    "InfoResponseDict",
    "PingResponseDict",
    "ServiceIdentity",
    "ServiceInfo",
    "ServicePing",
    "ServiceStats",
    "StatsResponseDict",
    "format_started",
    "parse_started",
]

INFO_RESPONSE_TYPE = "io.nats.micro.v1.info_response"
PING_RESPONSE_TYPE = "io.nats.micro.v1.ping_response"
STATS_RESPONSE_TYPE = "io.nats.micro.v1.stats_response"


# -- the JSON objects ----------------------------------------------------------------------
class PingResponseDict(TypedDict):
    """The JSON answer to ``$SRV.PING``."""

    type: str
    name: str
    id: str
    version: str
    metadata: dict[str, str]


class EndpointInfoDict(TypedDict):
    """One endpoint in the answer to ``$SRV.INFO``."""

    name: str
    subject: str
    queue_group: str
    metadata: dict[str, str]


class InfoResponseDict(TypedDict):
    """The JSON answer to ``$SRV.INFO``."""

    type: str
    name: str
    id: str
    version: str
    metadata: dict[str, str]
    description: str
    endpoints: list[EndpointInfoDict]


class EndpointStatsDict(TypedDict):
    """One endpoint in the answer to ``$SRV.STATS``; times are nanoseconds."""

    name: str
    subject: str
    queue_group: str
    num_requests: int
    num_errors: int
    last_error: str
    processing_time: int
    average_processing_time: int
    data: JSONValue


class StatsResponseDict(TypedDict):
    """The JSON answer to ``$SRV.STATS``."""

    type: str
    name: str
    id: str
    version: str
    metadata: dict[str, str]
    started: str
    endpoints: list[EndpointStatsDict]


# -- time --------------------------------------------------------------------------------------
def format_started(when: datetime) -> str:
    """``when`` as ADR-32's ``started``: RFC 3339 in UTC, microseconds, ``Z`` (naive means UTC)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_started(text: str) -> datetime:
    """Parse an RFC 3339 time (any fraction, ``Z`` or an offset) into an aware UTC datetime.

    Raises:
        InvalidInputError: it is not an RFC 3339 date and time.
    """
    if not isinstance(text, str) or "T" not in text.upper():
        raise InvalidInputError(f"'started' is not an RFC 3339 time: {text!r}")
    date, _, rest = text.upper().partition("T")
    zone = ""
    if rest.endswith("Z"):
        rest, zone = rest[:-1], "+00:00"
    else:
        for sign in "+-":
            if sign in rest:
                rest, tail = rest.rsplit(sign, 1)
                zone = sign + tail
                break
    if "." in rest:  # fromisoformat on 3.11 takes at most 6 fractional digits
        whole, fraction = rest.split(".", 1)
        rest = f"{whole}.{fraction[:6].ljust(6, '0')}"
    try:
        when = datetime.fromisoformat(f"{date}T{rest}{zone}")
    except ValueError:
        raise InvalidInputError(f"'started' is not an RFC 3339 time: {text!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


# -- reading JSON objects with errors that name the field ---------------------------------------
class _Fields:
    __slots__ = ("_data", "_what")

    def __init__(self, data: object, what: str) -> None:
        if not isinstance(data, Mapping):
            raise InvalidInputError(f"{what} must be a JSON object, not {type(data).__name__}")
        self._data: Mapping[str, object] = data
        self._what = what

    def _fail(self, key: str, expected: str) -> InvalidInputError:
        value = self._data.get(key)
        return InvalidInputError(f"{self._what}: {key!r} must be {expected}, not {value!r}")

    def text(self, key: str) -> str:
        value = self._data.get(key)
        if not isinstance(value, str):
            raise self._fail(key, "a string")
        return value

    def opt_text(self, key: str) -> str | None:
        value = self._data.get(key)
        if value is not None and not isinstance(value, str):
            raise self._fail(key, "a string or null")
        return value

    def integer(self, key: str) -> int:
        value = self._data.get(key)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._fail(key, "an integer")
        return value

    def strings(self, key: str) -> dict[str, str]:
        value = self._data.get(key)
        if value is None:
            return {}
        if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise self._fail(key, "an object of strings")
        return dict(value)

    def objects(self, key: str) -> list[object]:
        value = self._data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self._fail(key, "an array")
        return list(value)

    def json(self, key: str) -> JSONValue:
        value = self._data.get(key)
        return _json_value(value, f"{self._what}: {key!r}")

    def check_type(self, expected: str) -> str:
        value = self._data.get("type", expected)
        if value != expected:
            raise InvalidInputError(f"{self._what}: 'type' must be {expected!r}, not {value!r}")
        return expected


def _json_value(value: object, where: str) -> JSONValue:
    """``value`` if it is what ``json.loads`` makes (checked all the way down)."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, list):
        return [_json_value(item, where) for item in value]
    if isinstance(value, Mapping):
        out: dict[str, JSONValue] = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise InvalidInputError(f"{where} has a non-string key {k!r}")
            out[k] = _json_value(v, where)
        return out
    raise InvalidInputError(f"{where} is not JSON data: {value!r}")


# -- the records ------------------------------------------------------------------------------
class ServiceIdentity(Protocol):
    """What identifies a service instance in every discovery response."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str: ...

    @property
    def metadata(self) -> dict[str, str]: ...


@dataclass(frozen=True, slots=True)
class ServicePing:
    """The answer to ``$SRV.PING``."""

    id: str
    name: str
    version: str
    metadata: dict[str, str] = field(default_factory=dict)
    type: str = PING_RESPONSE_TYPE

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> ServicePing:
        """Read a decoded PING response.

        Raises:
            InvalidInputError: a field is missing or of the wrong type (the message names it).
        """
        f = _Fields(data, "ping response")
        return cls(
            id=f.text("id"),
            name=f.text("name"),
            version=f.text("version"),
            metadata=f.strings("metadata"),
            type=f.check_type(PING_RESPONSE_TYPE),
        )

    def to_dict(self) -> PingResponseDict:
        """The JSON object of this response."""
        return {
            "type": self.type,
            "name": self.name,
            "id": self.id,
            "version": self.version,
            "metadata": dict(self.metadata),
        }


@dataclass(frozen=True, slots=True)
class EndpointInfo:
    """One endpoint in :class:`ServiceInfo`."""

    name: str
    subject: str
    queue_group: str
    """The queue group, ``""`` when the endpoint listens without one."""
    metadata: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> EndpointInfo:
        """Read one endpoint of a decoded INFO response.

        Raises:
            InvalidInputError: a field is missing or of the wrong type.
        """
        f = _Fields(data, "endpoint info")
        return cls(
            name=f.text("name"),
            subject=f.text("subject"),
            queue_group=f.opt_text("queue_group") or "",
            metadata=f.strings("metadata"),
        )

    def to_dict(self) -> EndpointInfoDict:
        """The JSON object of this endpoint."""
        return {
            "name": self.name,
            "subject": self.subject,
            "queue_group": self.queue_group,
            "metadata": dict(self.metadata),
        }


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    """The answer to ``$SRV.INFO``."""

    name: str
    id: str
    version: str
    description: str | None = None
    endpoints: Sequence[EndpointInfo] = ()
    metadata: dict[str, str] = field(default_factory=dict)
    type: str = INFO_RESPONSE_TYPE

    def __post_init__(self) -> None:
        object.__setattr__(self, "endpoints", tuple(self.endpoints))

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> ServiceInfo:
        """Read a decoded INFO response.

        Raises:
            InvalidInputError: a field is missing or of the wrong type.
        """
        f = _Fields(data, "info response")
        return cls(
            name=f.text("name"),
            id=f.text("id"),
            version=f.text("version"),
            description=f.opt_text("description"),
            endpoints=[EndpointInfo.from_dict(_mapping(e)) for e in f.objects("endpoints")],
            metadata=f.strings("metadata"),
            type=f.check_type(INFO_RESPONSE_TYPE),
        )

    def to_dict(self) -> InfoResponseDict:
        """The JSON object of this response."""
        return {
            "type": self.type,
            "name": self.name,
            "id": self.id,
            "version": self.version,
            "metadata": dict(self.metadata),
            "description": self.description or "",
            "endpoints": [e.to_dict() for e in self.endpoints],
        }


@dataclass(frozen=True, slots=True)
class EndpointStats:
    """One endpoint in :class:`ServiceStats`; times are nanoseconds."""

    name: str
    subject: str
    queue_group: str
    num_requests: int
    num_errors: int
    processing_time: int
    average_processing_time: int
    last_error: str | None = None
    data: JSONValue = None

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> EndpointStats:
        """Read one endpoint of a decoded STATS response (``last_error`` ``""`` is ``None``).

        Raises:
            InvalidInputError: a field is missing or of the wrong type.
        """
        f = _Fields(data, "endpoint stats")
        return cls(
            name=f.text("name"),
            subject=f.text("subject"),
            queue_group=f.opt_text("queue_group") or "",
            num_requests=f.integer("num_requests"),
            num_errors=f.integer("num_errors"),
            processing_time=f.integer("processing_time"),
            average_processing_time=f.integer("average_processing_time"),
            last_error=f.opt_text("last_error") or None,
            data=f.json("data"),
        )

    def to_dict(self) -> EndpointStatsDict:
        """The JSON object of this endpoint."""
        return {
            "name": self.name,
            "subject": self.subject,
            "queue_group": self.queue_group,
            "num_requests": self.num_requests,
            "num_errors": self.num_errors,
            "last_error": self.last_error or "",
            "processing_time": self.processing_time,
            "average_processing_time": self.average_processing_time,
            "data": self.data,
        }


@dataclass(frozen=True, slots=True)
class ServiceStats:
    """The answer to ``$SRV.STATS``."""

    id: str
    name: str
    version: str
    started: datetime
    """When the service started (or was last reset), in UTC."""
    endpoints: Sequence[EndpointStats] = ()
    metadata: dict[str, str] = field(default_factory=dict)
    type: str = STATS_RESPONSE_TYPE

    def __post_init__(self) -> None:
        object.__setattr__(self, "endpoints", tuple(self.endpoints))

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> ServiceStats:
        """Read a decoded STATS response.

        Raises:
            InvalidInputError: a field is missing or of the wrong type, or ``started``
                is not an RFC 3339 time.
        """
        f = _Fields(data, "stats response")
        return cls(
            id=f.text("id"),
            name=f.text("name"),
            version=f.text("version"),
            started=parse_started(f.text("started")),
            endpoints=[EndpointStats.from_dict(_mapping(e)) for e in f.objects("endpoints")],
            metadata=f.strings("metadata"),
            type=f.check_type(STATS_RESPONSE_TYPE),
        )

    def to_dict(self) -> StatsResponseDict:
        """The JSON object of this response."""
        return {
            "type": self.type,
            "name": self.name,
            "id": self.id,
            "version": self.version,
            "metadata": dict(self.metadata),
            "started": format_started(self.started),
            "endpoints": [e.to_dict() for e in self.endpoints],
        }


def _mapping(value: object) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise InvalidInputError(f"an endpoint must be a JSON object, not {value!r}")
    return value
