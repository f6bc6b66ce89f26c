"""Attributes the spans and metrics share, and what is known of clients and subscriptions.

Keys follow the OpenTelemetry semantic conventions for messaging (and ``server.*``);
NATS-specific ones live under ``messaging.nats``, as the conventions ask.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from opentelemetry.util.types import AttributeValue

from rxnats.wire.headers import HeadersInput

if TYPE_CHECKING:
    from rxnats.client import NATS
    from rxnats.msg import Msg

SCHEMA_URL: Final = "https://opentelemetry.io/schemas/1.37.0"
SYSTEM: Final = "nats"
DEFAULT_PORT: Final = 4222

# Keys (OpenTelemetry semantic conventions, messaging and server).
MESSAGING_SYSTEM: Final = "messaging.system"
OPERATION_NAME: Final = "messaging.operation.name"
OPERATION_TYPE: Final = "messaging.operation.type"
DESTINATION_NAME: Final = "messaging.destination.name"
DESTINATION_TEMPLATE: Final = "messaging.destination.template"
DESTINATION_TEMPORARY: Final = "messaging.destination.temporary"
SUBSCRIPTION_NAME: Final = "messaging.destination.subscription.name"
CONSUMER_GROUP: Final = "messaging.consumer.group.name"
BODY_SIZE: Final = "messaging.message.body.size"
MESSAGE_ID: Final = "messaging.message.id"
CLIENT_ID: Final = "messaging.client.id"
SERVER_ADDRESS: Final = "server.address"
SERVER_PORT: Final = "server.port"
ERROR_TYPE: Final = "error.type"
# NATS-specific attributes live under messaging.nats, as the conventions ask.
JS_STREAM: Final = "messaging.nats.jetstream.stream"
JS_SEQUENCE: Final = "messaging.nats.jetstream.sequence"

DURATION_BUCKETS: Final = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.25,
    0.5,
    0.75,
    1,
    2.5,
    5,
    7.5,
    10,
)
INBOX_PREFIX: Final = "INBOX_PREFIX."

Attributes = dict[str, AttributeValue]


def error_type(exc: BaseException) -> str:
    """``error.type`` for ``exc``: its class name, module-qualified outside builtins."""
    cls = type(exc)
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def payload_size(payload: object) -> int:
    """The size in bytes of a payload rxnats accepts (0 for anything else: it will raise)."""
    if isinstance(payload, bytes | bytearray):
        return len(payload)
    if isinstance(payload, memoryview):
        return payload.nbytes
    return 0


def has_wildcard(subject: str) -> bool:
    """Whether a subscription subject has a ``*`` or ``>`` token."""
    return any(token in ("*", ">") for token in subject.split("."))


def is_status_only(msg: Msg) -> bool:
    """A server control message (heartbeat, flow control, "no messages"): not the app's."""
    return not msg.data and msg.status is not None


class ClientInfo:
    """What the telemetry knows of one client (see the module docstring)."""

    __slots__ = ("inbox_prefix", "metric_attrs", "remove_listener", "seen", "span_attrs")

    def __init__(self) -> None:
        self.span_attrs: Attributes = {MESSAGING_SYSTEM: SYSTEM}
        self.metric_attrs: Attributes = {MESSAGING_SYSTEM: SYSTEM}
        self.inbox_prefix = INBOX_PREFIX
        self.remove_listener: Callable[[], None] | None = None
        self.seen: dict[str, int] = {}  # the stats already counted (see _metrics)

    def update(self, nc: NATS) -> None:
        """Read the connected server and the client's id and inbox prefix from ``nc``."""
        url = nc.connected_url()
        if not url:
            return
        parts = urlsplit(url)
        server: Attributes = {MESSAGING_SYSTEM: SYSTEM}
        if parts.hostname:
            server[SERVER_ADDRESS] = parts.hostname
            server[SERVER_PORT] = parts.port or DEFAULT_PORT
        self.metric_attrs = server
        self.span_attrs = {**server, CLIENT_ID: str(nc.client_id())}
        self.inbox_prefix = nc.new_inbox().rpartition(".")[0] + "."

    def is_temporary(self, subject: str) -> bool:
        """Whether ``subject`` is an inbox (this client's prefix, or the default one)."""
        return subject.startswith(INBOX_PREFIX) or subject.startswith(self.inbox_prefix)


class SubscriptionInfo:
    """A subscription's client and the attributes its messages' spans and metrics share."""

    __slots__ = (
        "client",
        "dropped_seen",
        "metric_attrs",
        "span_attrs",
        "span_name",
        "subject",
        "template",
    )

    def __init__(self, client: ClientInfo | None, subject: str, queue: str) -> None:
        # (None: a subscription made before instrument(), whose client is not known.)
        self.client = client if client is not None else ClientInfo()
        self.subject = subject
        self.dropped_seen = 0
        temporary = self.client.is_temporary(subject)
        attrs: Attributes = {}
        if not temporary:
            attrs[SUBSCRIPTION_NAME] = subject
        if queue:
            attrs[CONSUMER_GROUP] = queue
        self.metric_attrs = attrs
        self.template = subject if not temporary and has_wildcard(subject) else None
        self.span_attrs: Attributes = dict(attrs)
        if self.template is not None:
            self.span_attrs[DESTINATION_TEMPLATE] = self.template
        self.span_name = self.template


def is_async_callable(cb: object) -> bool:
    """Whether calling ``cb`` makes a coroutine, as rxnats decides how to run a callback."""
    return inspect.iscoroutinefunction(cb) or inspect.iscoroutinefunction(
        getattr(cb, "__call__", None)  # noqa: B004 - the method itself is inspected
    )


def known_headers(headers: object) -> HeadersInput | None:
    """``headers`` when it is a mapping rxnats may accept, else ``None`` (it will raise)."""
    return headers if isinstance(headers, Mapping) else None
