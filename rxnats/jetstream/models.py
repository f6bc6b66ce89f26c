"""Typed models of the JetStream API's requests and responses.

Every model is a dataclass deriving from :class:`Base`, which converts to and from the
server's JSON: :meth:`Base.from_response` keeps the fields it knows (unknown ones are
ignored, so newer servers keep working), turns strings into enums and dicts into nested
models; :meth:`Base.as_request` drops ``None`` fields and turns enums back into strings.
Durations are seconds (``float``) in Python and nanoseconds on the wire, as in nats-py:
fields marked with :func:`_duration` are converted both ways.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Self

__all__ = [
    "AccountInfo",
    "AccountLimits",
    "AckPolicy",
    "Base",
    "ClusterInfo",
    "ConsumerConfig",
    "ConsumerInfo",
    "DeliverPolicy",
    "DiscardPolicy",
    "ExternalStream",
    "KeyValueConfig",
    "MsgMetadata",
    "Placement",
    "PubAck",
    "RawStreamMsg",
    "RePublish",
    "ReplayPolicy",
    "RetentionPolicy",
    "SequenceInfo",
    "SequencePair",
    "StorageType",
    "StoreCompression",
    "StreamConfig",
    "StreamInfo",
    "StreamSource",
    "StreamState",
]

NANOSECONDS = 1_000_000_000


def _duration(default: float | None = None) -> float | None:
    """A field holding seconds in Python and nanoseconds on the wire."""
    return field(default=default, metadata={"ns": True})


class RetentionPolicy(StrEnum):
    """When a stream may discard messages."""

    LIMITS = "limits"
    INTEREST = "interest"
    WORK_QUEUE = "workqueue"


class StorageType(StrEnum):
    """Where a stream keeps its messages."""

    FILE = "file"
    MEMORY = "memory"


class DiscardPolicy(StrEnum):
    """What a full stream does with a new message."""

    OLD = "old"
    NEW = "new"


class StoreCompression(StrEnum):
    """Compression of a file-backed stream."""

    NONE = "none"
    S2 = "s2"


class AckPolicy(StrEnum):
    """How a consumer expects acknowledgements."""

    NONE = "none"
    ALL = "all"
    EXPLICIT = "explicit"


class DeliverPolicy(StrEnum):
    """Where in the stream a consumer starts."""

    ALL = "all"
    LAST = "last"
    NEW = "new"
    BY_START_SEQUENCE = "by_start_sequence"
    BY_START_TIME = "by_start_time"
    LAST_PER_SUBJECT = "last_per_subject"


class ReplayPolicy(StrEnum):
    """How fast a consumer replays stored messages."""

    INSTANT = "instant"
    ORIGINAL = "original"


_HINTS: dict[type, dict[str, object]] = {}


def _hints(cls: type) -> dict[str, object]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return hints


def _strip_optional(tp: object) -> object:
    args = typing.get_args(tp)
    if (typing.get_origin(tp) in (typing.Union, types.UnionType)) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return tp


def _decode(tp: object, value: object, ns: bool) -> object:
    if value is None:
        return None
    tp = _strip_optional(tp)
    if ns:
        if isinstance(value, list):
            return [v / NANOSECONDS for v in value if isinstance(v, int | float)]
        if isinstance(value, int | float):
            return value / NANOSECONDS
    if isinstance(tp, type):
        if issubclass(tp, Enum):
            try:
                return tp(value)
            except ValueError:
                return value  # an enum value this client does not know yet
        if issubclass(tp, Base) and isinstance(value, Mapping):
            return tp.from_response(value)
    if typing.get_origin(tp) is list and isinstance(value, list):
        (item,) = typing.get_args(tp)
        if isinstance(item, type) and issubclass(item, Base):
            return [item.from_response(v) for v in value if isinstance(v, Mapping)]
    return value


def _encode(value: object, ns: bool) -> object:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Base):
        return value.as_request()
    if ns and isinstance(value, int | float) and not isinstance(value, bool):
        return int(value * NANOSECONDS)
    if isinstance(value, list):
        return [_encode(v, ns) for v in value]
    return value


@dataclass
class Base:
    """Conversion between a model and the server's JSON."""

    @classmethod
    def from_response(cls, resp: Mapping[str, object]) -> Self:
        """Build the model from a decoded JSON object; unknown keys are ignored."""
        hints = _hints(cls)
        kwargs: dict[str, object] = {}
        for f in dataclasses.fields(cls):
            if f.name in resp and f.init:
                kwargs[f.name] = _decode(hints[f.name], resp[f.name], bool(f.metadata.get("ns")))
        return cls(**kwargs)

    def as_request(self) -> dict[str, object]:
        """The model as a JSON-ready dict, ``None`` fields left out."""
        out: dict[str, object] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is not None:
                out[f.name] = _encode(value, bool(f.metadata.get("ns")))
        return out

    def evolve(self, **params: object) -> Self:
        """A copy with ``params`` replacing fields (nats-py's ``evolve``).

        Raises:
            TypeError: a parameter is not a field of the model.
        """
        return dataclasses.replace(self, **params)


# ------------------------------------------------------------------ streams
@dataclass
class Placement(Base):
    """Where a stream's replicas are placed."""

    cluster: str | None = None
    tags: list[str] | None = None


@dataclass
class ExternalStream(Base):
    """The API prefix of a stream in another account or domain."""

    api: str = ""
    deliver: str | None = None


@dataclass
class StreamSource(Base):
    """A mirror or source of a stream."""

    name: str = ""
    opt_start_seq: int | None = None
    opt_start_time: str | None = None
    filter_subject: str | None = None
    external: ExternalStream | None = None


@dataclass
class RePublish(Base):
    """Republish stored messages to another subject."""

    src: str | None = None
    dest: str = ""
    headers_only: bool | None = None


@dataclass
class StreamConfig(Base):
    """A stream's configuration (``max_age`` and ``duplicate_window`` in seconds)."""

    name: str | None = None
    description: str | None = None
    subjects: list[str] = field(default_factory=list)
    retention: RetentionPolicy | None = None
    max_consumers: int | None = None
    max_msgs: int | None = None
    max_bytes: int | None = None
    discard: DiscardPolicy | None = DiscardPolicy.OLD
    discard_new_per_subject: bool | None = None
    max_age: float | None = _duration()
    max_msgs_per_subject: int = -1
    max_msg_size: int | None = -1
    storage: StorageType | None = None
    num_replicas: int | None = None
    no_ack: bool = False
    duplicate_window: float | None = _duration(0)
    placement: Placement | None = None
    mirror: StreamSource | None = None
    sources: list[StreamSource] | None = None
    sealed: bool = False
    deny_delete: bool = False
    deny_purge: bool = False
    allow_rollup_hdrs: bool = False
    republish: RePublish | None = None
    allow_direct: bool | None = None
    mirror_direct: bool | None = None
    compression: StoreCompression | None = None
    first_seq: int | None = None
    allow_msg_ttl: bool | None = None
    metadata: dict[str, str] | None = None


@dataclass
class StreamState(Base):
    """How many messages a stream holds, and its sequence range."""

    messages: int = 0
    bytes: int = 0
    first_seq: int = 0
    last_seq: int = 0
    consumer_count: int = 0
    deleted: list[int] | None = None
    num_deleted: int | None = None
    num_subjects: int | None = None
    subjects: dict[str, int] | None = None
    first_ts: str | None = None
    last_ts: str | None = None


@dataclass
class ClusterInfo(Base):
    """The cluster hosting a stream or consumer, and its leader."""

    name: str | None = None
    leader: str | None = None


@dataclass
class StreamInfo(Base):
    """A stream's configuration and state."""

    config: StreamConfig = field(default_factory=StreamConfig)
    state: StreamState = field(default_factory=StreamState)
    created: str | None = None
    ts: str | None = None
    mirror: StreamSource | None = None
    sources: list[StreamSource] | None = None
    cluster: ClusterInfo | None = None


# ------------------------------------------------------------------ consumers
@dataclass
class ConsumerConfig(Base):
    """A consumer's configuration (``ack_wait``, ``idle_heartbeat`` ... in seconds)."""

    name: str | None = None
    durable_name: str | None = None
    description: str | None = None
    deliver_policy: DeliverPolicy | None = DeliverPolicy.ALL
    opt_start_seq: int | None = None
    opt_start_time: str | None = None
    ack_policy: AckPolicy | None = AckPolicy.EXPLICIT
    ack_wait: float | None = _duration()
    max_deliver: int | None = None
    backoff: list[float] | None = field(default=None, metadata={"ns": True})
    filter_subject: str | None = None
    filter_subjects: list[str] | None = None
    replay_policy: ReplayPolicy | None = ReplayPolicy.INSTANT
    rate_limit_bps: int | None = None
    sample_freq: str | None = None
    max_waiting: int | None = None
    max_ack_pending: int | None = None
    flow_control: bool | None = None
    idle_heartbeat: float | None = _duration()
    headers_only: bool | None = None
    deliver_subject: str | None = None
    deliver_group: str | None = None
    inactive_threshold: float | None = _duration()
    num_replicas: int | None = None
    mem_storage: bool | None = None
    max_batch: int | None = None
    max_expires: float | None = _duration()
    max_bytes: int | None = None
    metadata: dict[str, str] | None = None


@dataclass
class SequenceInfo(Base):
    """A consumer's position: consumer and stream sequence, last activity."""

    consumer_seq: int = 0
    stream_seq: int = 0
    last_active: str | None = None


@dataclass
class ConsumerInfo(Base):
    """A consumer's configuration and progress."""

    name: str = ""
    stream_name: str = ""
    config: ConsumerConfig = field(default_factory=ConsumerConfig)
    created: str | None = None
    delivered: SequenceInfo | None = None
    ack_floor: SequenceInfo | None = None
    num_ack_pending: int | None = None
    num_redelivered: int | None = None
    num_waiting: int | None = None
    num_pending: int | None = None
    cluster: ClusterInfo | None = None
    push_bound: bool | None = None


# ------------------------------------------------------------------ messages and account
@dataclass
class PubAck(Base):
    """The stream's acknowledgement of a publish."""

    stream: str = ""
    seq: int = 0
    domain: str | None = None
    duplicate: bool | None = None


@dataclass
class AccountLimits(Base):
    """The account's JetStream limits (-1: unlimited)."""

    max_memory: int = 0
    max_storage: int = 0
    max_streams: int = 0
    max_consumers: int = 0
    max_ack_pending: int | None = None
    memory_max_stream_bytes: int | None = None
    storage_max_stream_bytes: int | None = None
    max_bytes_required: bool | None = None


@dataclass
class APIStats(Base):
    """How many JetStream API requests the account made, and how many failed."""

    total: int = 0
    errors: int = 0


@dataclass
class AccountInfo(Base):
    """The account's JetStream usage and limits."""

    memory: int = 0
    storage: int = 0
    streams: int = 0
    consumers: int = 0
    limits: AccountLimits = field(default_factory=AccountLimits)
    api: APIStats = field(default_factory=APIStats)
    domain: str | None = None


@dataclass
class RawStreamMsg(Base):
    """A message read straight from a stream (``get_msg``).

    ``data`` is the payload and ``headers`` the decoded headers (or ``None``).
    """

    subject: str | None = None
    seq: int | None = None
    data: bytes | None = None
    hdrs: bytes | None = None
    headers: dict[str, str] | None = None
    time: str | None = None
    stream: str | None = None

    @property
    def sequence(self) -> int | None:
        """The message's stream sequence (alias of ``seq``)."""
        return self.seq


@dataclass
class SequencePair(Base):
    """A delivered message's consumer and stream sequence."""

    consumer: int = 0
    stream: int = 0


@dataclass
class MsgMetadata:
    """What the ack subject of a JetStream message tells (``msg.metadata``)."""

    sequence: SequencePair
    num_pending: int
    num_delivered: int
    timestamp: dt.datetime
    stream: str
    consumer: str
    domain: str = ""


# ------------------------------------------------------------------ key-value
@dataclass
class KeyValueConfig(Base):
    """A key-value bucket's configuration (``ttl`` in seconds)."""

    bucket: str = ""
    description: str | None = None
    max_value_size: int | None = None
    history: int = 1
    ttl: float | None = None
    max_bytes: int | None = None
    storage: StorageType | None = None
    replicas: int = 1
    placement: Placement | None = None
    republish: RePublish | None = None
    direct: bool | None = None
    compression: bool = False
    metadata: dict[str, str] | None = None
