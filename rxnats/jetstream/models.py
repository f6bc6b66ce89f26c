"""Typed models of the JetStream API's requests and responses (nats-server 2.9 to 2.12+).

Every model is a dataclass deriving from :class:`~rxnats.jetstream.base.Base`: it decodes
the server's JSON with :meth:`~rxnats.jetstream.base.Base.from_response` and encodes it
back with :meth:`~rxnats.jetstream.base.Base.as_request`, losing nothing on the way (keys
this client does not model are kept in ``extra_fields``). Durations are seconds
(``float``), timestamps aware UTC ``datetime`` values, absent flags ``False``. Field names
are the server's JSON keys, as in nats-py's ``nats.js.api``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Self

from rxnats.jetstream.base import NANOSECONDS, Base, duration, wire_name
from rxnats.msg import MsgMetadata, SequencePair

__all__ = [
    "NANOSECONDS",
    "APIStats",
    "AccountInfo",
    "AccountLimits",
    "AckPolicy",
    "Base",
    "ClusterInfo",
    "ConsumerConfig",
    "ConsumerInfo",
    "ConsumerPause",
    "ConsumerReset",
    "DeliverPolicy",
    "DiscardPolicy",
    "ExternalStream",
    "KeyValueConfig",
    "LostStreamData",
    "MsgMetadata",
    "PeerInfo",
    "PersistMode",
    "Placement",
    "PriorityGroupState",
    "PriorityPolicy",
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
    "StreamConsumerLimits",
    "StreamConsumerSource",
    "StreamInfo",
    "StreamPurgeRequest",
    "StreamSource",
    "StreamSourceInfo",
    "StreamState",
    "StreamsListIterator",
    "SubjectTransform",
    "Tier",
]


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
    """Compression of a file-backed stream (server 2.10+)."""

    NONE = "none"
    S2 = "s2"


class PersistMode(StrEnum):
    """How a single-replica stream persists writes (ADR-56, server 2.12+).

    ``ASYNC`` acknowledges before the write reaches the disk: faster, and a crash may lose
    the last writes.
    """

    DEFAULT = "default"
    ASYNC = "async"


class AckPolicy(StrEnum):
    """How a consumer expects acknowledgements."""

    NONE = "none"
    ALL = "all"
    EXPLICIT = "explicit"
    FLOW_CONTROL = "flow_control"  # a sourcing stream's pre-created consumer (ADR-60)


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


class PriorityPolicy(StrEnum):
    """How a pull consumer's priority groups share its messages (ADR-42, server 2.11+).

    ``PINNED_CLIENT``: one client gets everything until it stops pulling for
    ``priority_timeout``; ``OVERFLOW``: a pull gets messages only while the consumer's
    backlog is above the pull's ``min_pending``/``min_ack_pending``; ``PRIORITIZED``
    (server 2.12+): pulls with a lower ``priority`` number are served first.
    """

    NONE = "none"
    PINNED_CLIENT = "pinned_client"
    OVERFLOW = "overflow"
    PRIORITIZED = "prioritized"


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
class SubjectTransform(Base):
    """Rewrites matching subjects: ``src`` (with wildcards) to ``dest`` (server 2.10+)."""

    src: str = ""
    dest: str = ""


@dataclass
class StreamConsumerSource(Base):
    """A pre-created push consumer a source or mirror reads through (ADR-60)."""

    name: str = ""
    deliver_subject: str = ""


@dataclass
class StreamSource(Base):
    """A mirror or source of a stream."""

    name: str = ""
    opt_start_seq: int | None = None
    opt_start_time: dt.datetime | None = None
    filter_subject: str | None = None
    subject_transforms: list[SubjectTransform] | None = None
    external: ExternalStream | None = None
    consumer: StreamConsumerSource | None = None


@dataclass
class StreamSourceInfo(Base):
    """How a mirror or source is doing: ``lag`` messages behind, ``active`` seconds ago."""

    name: str = ""
    lag: int | None = None
    active: float | None = duration()
    filter_subject: str | None = None
    subject_transforms: list[SubjectTransform] | None = None
    external: ExternalStream | None = None
    error: dict[str, object] | None = None


@dataclass
class RePublish(Base):
    """Republish stored messages to another subject."""

    src: str | None = None
    dest: str = ""
    headers_only: bool = False


@dataclass
class StreamConsumerLimits(Base):
    """Defaults and limits for a stream's new consumers (server 2.10+)."""

    inactive_threshold: float | None = duration()
    max_ack_pending: int | None = None


@dataclass
class StreamConfig(Base):
    """A stream's configuration (durations in seconds).

    Server 2.11+: ``allow_msg_ttl`` (per-message ``Nats-TTL``, ADR-43) and
    ``subject_delete_marker_ttl`` (markers when age limits empty a subject). Server
    2.12+: ``allow_msg_schedules``, ``allow_atomic``, ``allow_batched``,
    ``allow_msg_counter`` (ADR-49) and ``persist_mode``.
    """

    name: str | None = None
    description: str | None = None
    subjects: list[str] = field(default_factory=list)
    retention: RetentionPolicy | None = None
    max_consumers: int | None = None
    max_msgs: int | None = None
    max_bytes: int | None = None
    discard: DiscardPolicy | None = DiscardPolicy.OLD
    discard_new_per_subject: bool = False
    max_age: float | None = duration()
    max_msgs_per_subject: int = -1
    max_msg_size: int | None = -1
    storage: StorageType | None = None
    num_replicas: int | None = None
    no_ack: bool = False
    template_owner: str | None = None
    duplicate_window: float | None = duration(0)
    placement: Placement | None = None
    mirror: StreamSource | None = None
    sources: list[StreamSource] | None = None
    sealed: bool = False
    deny_delete: bool = False
    deny_purge: bool = False
    allow_rollup_hdrs: bool = False
    compression: StoreCompression | None = None
    first_seq: int | None = None
    subject_transform: SubjectTransform | None = None
    republish: RePublish | None = None
    allow_direct: bool = False
    mirror_direct: bool = False
    consumer_limits: StreamConsumerLimits | None = None
    metadata: dict[str, str] | None = None
    allow_msg_ttl: bool = False
    subject_delete_marker_ttl: float | None = duration()
    allow_msg_counter: bool = False
    allow_atomic: bool = False
    allow_msg_schedules: bool = False
    allow_batched: bool = False
    persist_mode: PersistMode | None = None


@dataclass
class LostStreamData(Base):
    """Messages a stream lost (e.g. a damaged file)."""

    msgs: list[int] | None = None
    bytes: int | None = None


@dataclass
class StreamState(Base):
    """How many messages a stream holds, and its sequence and time range."""

    messages: int = 0
    bytes: int = 0
    first_seq: int = 0
    first_ts: dt.datetime | None = None
    last_seq: int = 0
    last_ts: dt.datetime | None = None
    consumer_count: int = 0
    deleted: list[int] | None = None
    num_deleted: int | None = None
    num_subjects: int | None = None
    subjects: dict[str, int] | None = None
    lost: LostStreamData | None = None


@dataclass
class PeerInfo(Base):
    """One replica of a clustered stream or consumer."""

    name: str | None = None
    current: bool = False
    offline: bool = False
    observer: bool = False
    active: float | None = duration()
    lag: int | None = None


@dataclass
class ClusterInfo(Base):
    """The cluster hosting a stream or consumer, its leader and replicas."""

    name: str | None = None
    raft_group: str | None = None
    leader: str | None = None
    leader_since: dt.datetime | None = None
    system_account: bool = False
    traffic_account: str | None = None
    replicas: list[PeerInfo] | None = None

    @property
    def traffic_acc(self) -> str | None:
        """nats-py's name for :attr:`traffic_account`."""
        return self.traffic_account


@dataclass
class StreamInfo(Base):
    """A stream's configuration and state."""

    config: StreamConfig = field(default_factory=StreamConfig)
    created: dt.datetime | None = None
    state: StreamState = field(default_factory=StreamState)
    cluster: ClusterInfo | None = None
    mirror: StreamSourceInfo | None = None
    sources: list[StreamSourceInfo] | None = None
    ts: dt.datetime | None = None
    did_create: bool = False


class StreamsListIterator(Iterator[StreamInfo]):
    """One page of ``STREAM.LIST`` as an iterator of :class:`StreamInfo` (nats-py's)."""

    def __init__(self, offset: int, total: int, streams: list[Mapping[str, object]]) -> None:
        self.offset = offset
        self.total = total
        self.streams = streams
        self._index = 0

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> StreamInfo:
        if self._index >= len(self.streams):
            raise StopIteration
        info = StreamInfo.from_response(self.streams[self._index])
        self._index += 1
        return info


@dataclass
class StreamPurgeRequest(Base):
    """What to purge: below ``seq``, on subject ``filter``, all but ``keep`` newest."""

    seq: int | None = None
    filter: str | None = None
    keep: int | None = None


# ------------------------------------------------------------------ consumers
@dataclass
class ConsumerConfig(Base):
    """A consumer's configuration (durations in seconds).

    Server 2.11+: ``pause_until`` (no delivery until then) and the ADR-42 priority
    groups: ``priority_groups`` (one group name), ``priority_policy`` and
    ``priority_timeout`` (how long a pinned client may stay silent).
    """

    name: str | None = None
    durable_name: str | None = None
    description: str | None = None
    deliver_policy: DeliverPolicy | None = DeliverPolicy.ALL
    opt_start_seq: int | None = None
    opt_start_time: dt.datetime | None = None
    ack_policy: AckPolicy | None = AckPolicy.EXPLICIT
    ack_wait: float | None = duration()
    max_deliver: int | None = None
    backoff: list[float] | None = field(default=None, metadata={"ns": True})
    filter_subject: str | None = None
    filter_subjects: list[str] | None = None
    replay_policy: ReplayPolicy | None = ReplayPolicy.INSTANT
    rate_limit_bps: int | None = None
    sample_freq: str | None = None
    max_waiting: int | None = None
    max_ack_pending: int | None = None
    flow_control: bool = False
    idle_heartbeat: float | None = duration()
    headers_only: bool = False
    max_batch: int | None = None
    max_expires: float | None = duration()
    max_bytes: int | None = None
    deliver_subject: str | None = None
    deliver_group: str | None = None
    inactive_threshold: float | None = duration()
    num_replicas: int | None = None
    mem_storage: bool = False
    metadata: dict[str, str] | None = None
    pause_until: dt.datetime | None = None
    priority_policy: PriorityPolicy | None = None
    priority_timeout: float | None = duration()
    priority_groups: list[str] | None = None


@dataclass
class SequenceInfo(Base):
    """A consumer's position: consumer and stream sequence, last activity."""

    consumer_seq: int = 0
    stream_seq: int = 0
    last_active: dt.datetime | None = None


@dataclass
class PriorityGroupState(Base):
    """A priority group's state: the pinned client's id and since when (ADR-42)."""

    group: str = ""
    pinned_client_id: str | None = None
    pinned_ts: dt.datetime | None = None


@dataclass
class ConsumerInfo(Base):
    """A consumer's configuration and progress.

    ``paused`` and ``pause_remaining`` (seconds) report a pause (server 2.11+);
    ``priority_groups`` the ADR-42 groups' pinned clients.
    """

    name: str = ""
    stream_name: str = ""
    config: ConsumerConfig = field(default_factory=ConsumerConfig)
    created: dt.datetime | None = None
    delivered: SequenceInfo | None = None
    ack_floor: SequenceInfo | None = None
    num_ack_pending: int | None = None
    num_redelivered: int | None = None
    num_waiting: int | None = None
    num_pending: int | None = None
    cluster: ClusterInfo | None = None
    push_bound: bool = False
    paused: bool = False
    pause_remaining: float | None = duration()
    ts: dt.datetime | None = None
    priority_groups: list[PriorityGroupState] | None = None


@dataclass
class ConsumerPause(Base):
    """The answer to a pause or resume: whether paused, until when, for how long still."""

    paused: bool = False
    pause_until: dt.datetime | None = None
    pause_remaining: float | None = duration()


@dataclass
class ConsumerReset(Base):
    """The answer to a consumer reset (ADR-60, server 2.14+): new info and start sequence."""

    info: ConsumerInfo = field(default_factory=ConsumerInfo)
    reset_seq: int = 0

    @classmethod
    def from_response(cls, resp: Mapping[str, object]) -> Self:
        """Split the reply into the consumer's info and ``reset_seq``."""
        rest = {k: v for k, v in resp.items() if k != "reset_seq"}
        seq = resp.get("reset_seq")
        return cls(
            info=ConsumerInfo.from_response(rest),
            reset_seq=seq if isinstance(seq, int) else 0,
        )

    def as_request(self) -> dict[str, object]:
        """The reply's flat JSON shape: the consumer's info plus ``reset_seq``."""
        return {**self.info.as_request(), "reset_seq": self.reset_seq}


# ------------------------------------------------------------------ messages and account
@dataclass
class PubAck(Base):
    """The stream's acknowledgement of a publish.

    ``val`` is a counter stream's new total (ADR-49); ``batch_id``/``batch_size`` an
    atomic batch's id and size (ADR-50).
    """

    stream: str = ""
    seq: int = 0
    domain: str | None = None
    duplicate: bool = False
    batch_id: str | None = wire_name("batch")
    batch_size: int | None = wire_name("count")
    val: str | None = None


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
    max_bytes_required: bool = False


@dataclass
class Tier(Base):
    """Usage and limits of one account tier (e.g. ``R1``, ``R3``)."""

    memory: int = 0
    storage: int = 0
    reserved_memory: int | None = None
    reserved_storage: int | None = None
    streams: int = 0
    consumers: int = 0
    limits: AccountLimits = field(default_factory=AccountLimits)


@dataclass
class APIStats(Base):
    """The account's JetStream API use, and the server's API ``level`` (2.11+: 1 and up)."""

    level: int | None = None
    total: int = 0
    errors: int = 0
    inflight: int | None = None


@dataclass
class AccountInfo(Base):
    """The account's JetStream usage and limits, per tier when the account has tiers."""

    memory: int = 0
    storage: int = 0
    reserved_memory: int | None = None
    reserved_storage: int | None = None
    streams: int = 0
    consumers: int = 0
    limits: AccountLimits = field(default_factory=AccountLimits)
    domain: str | None = None
    api: APIStats = field(default_factory=APIStats)
    tiers: dict[str, Tier] | None = None


@dataclass
class RawStreamMsg(Base):
    """A message read straight from a stream (``get_msg``).

    ``data`` is the payload and ``headers`` the decoded headers (or ``None``); ``time``
    is when the stream stored it.
    """

    subject: str | None = None
    seq: int | None = None
    data: bytes | None = None
    hdrs: bytes | None = None
    headers: dict[str, str] | None = None
    stream: str | None = None
    time: dt.datetime | None = None

    @property
    def sequence(self) -> int | None:
        """The message's stream sequence (alias of ``seq``)."""
        return self.seq

    @property
    def header(self) -> dict[str, str] | None:
        """nats-py's name for :attr:`headers`."""
        return self.headers


# ------------------------------------------------------------------ key-value
@dataclass
class KeyValueConfig(Base):
    """A key-value bucket's configuration (``ttl`` and ``limit_marker_ttl`` in seconds).

    ``limit_marker_ttl`` (server 2.11+, ADR-48) makes the server leave a marker, kept
    that long, when a key's value expires or is removed by a limit, so watchers see it;
    it also enables per-key TTLs (``kv.create(key, value, msg_ttl=...)``).
    """

    bucket: str = ""
    description: str | None = None
    max_value_size: int | None = None
    history: int = 1
    ttl: float | None = duration()
    max_bytes: int | None = None
    storage: StorageType | None = None
    replicas: int = 1
    placement: Placement | None = None
    republish: RePublish | None = None
    direct: bool | None = None
    compression: bool = False
    metadata: dict[str, str] | None = None
    limit_marker_ttl: float | None = duration()
