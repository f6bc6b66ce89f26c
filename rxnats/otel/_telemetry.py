"""What ``instrument()`` sets up: the tracer, the instruments, and what it knows of clients.

Theory of operation. The wrappers (``_patches``) call :meth:`Telemetry.send`,
:meth:`Telemetry.process`, :meth:`Telemetry.receive` and :meth:`Telemetry.settle`; each
returns an :class:`Operation` that owns one span and ends it, recording the metric that
goes with it, exactly once. Connection-wide counters (bytes, reconnects, pending bytes,
slow-consumer drops) are not recorded per message: observable instruments read
``nc.stats``, ``nc.pending_data_size()`` and each subscription's counters when a metric
reader collects (see ``_metrics``), so they cost the publish and dispatch paths nothing.

What the telemetry knows of a client (its server's address and port, the id the server
gave it, its inbox prefix) comes from the client's public accessors and is kept up to
date by an event listener (``Connected``/``Reconnected``), so a span start reads a dict
rather than asking the client.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Awaitable
from contextvars import Token
from typing import TYPE_CHECKING

from opentelemetry import context as otel_context
from opentelemetry import metrics, trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.utils import is_instrumentation_enabled
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from rxnats import __version__
from rxnats import events as ev
from rxnats.otel import _propagation as propagation
from rxnats.otel._attributes import (
    BODY_SIZE,
    DESTINATION_NAME,
    DESTINATION_TEMPORARY,
    DURATION_BUCKETS,
    ERROR_TYPE,
    MESSAGE_ID,
    OPERATION_NAME,
    OPERATION_TYPE,
    SCHEMA_URL,
    Attributes,
    ClientInfo,
    SubscriptionInfo,
    error_type,
    is_status_only,
    payload_size,
)
from rxnats.otel._metrics import ConnectionMetrics
from rxnats.wire.headers import HeadersInput

if TYPE_CHECKING:
    from rxnats.client import NATS
    from rxnats.msg import Msg
    from rxnats.subscription import Subscription

__all__ = ["Operation", "Telemetry"]

# The ClientInfo of the client that delivered the message being processed (a callback's
# reply then knows its server without asking the message for its client).
_DELIVERING = otel_context.create_key("rxnats-otel-client")
# Set while an rxnats operation calls another one (a JetStream publish is a request, an
# ack is a publish): the inner one makes no span of its own.
_NESTED = otel_context.create_key("rxnats-otel-nested")

_UNKNOWN_CLIENT = ClientInfo()


class Operation:
    """One traced operation: its span, the context it runs in, and the metric to record."""

    __slots__ = ("_counter", "_histogram", "_metric_attrs", "_t0", "_token", "context", "span")

    def __init__(
        self,
        span: trace.Span,
        context: Context,
        metric_attrs: Attributes,
        histogram: metrics.Histogram,
        counter: metrics.Counter | None,
        *,
        started: float | None = None,
    ) -> None:
        self.span = span
        self.context = context
        self._metric_attrs = metric_attrs
        self._histogram = histogram
        self._counter = counter
        self._token: Token[Context] | None = None
        self._t0 = time.perf_counter() if started is None else started

    def enter(self) -> None:
        """Make the span (and the nested marker) current until :meth:`leave`."""
        self._token = otel_context.attach(self.context)

    def leave(self) -> None:
        """Restore the context that was current before :meth:`enter`."""
        if self._token is not None:
            otel_context.detach(self._token)
            self._token = None

    def end(self, exc: BaseException | None) -> None:
        """Record the duration and count, mark a failure, and end the span."""
        self.leave()
        duration = time.perf_counter() - self._t0
        attrs = self._metric_attrs
        if exc is not None:
            kind = error_type(exc)
            attrs = {**attrs, ERROR_TYPE: kind}
            span = self.span
            if span.is_recording():
                span.set_attribute(ERROR_TYPE, kind)
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, str(exc) or kind))
        self._histogram.record(duration, attrs)
        if self._counter is not None:
            self._counter.add(1, attrs)
        self.span.end()

    def end_after(self, awaitable: Awaitable[object]) -> Awaitable[None]:
        """End once ``awaitable`` is done, with the span current while it runs."""

        async def finish() -> None:
            self.enter()
            try:
                await awaitable
            except BaseException as exc:
                self.end(exc)
                raise
            self.end(None)

        return finish()


class Telemetry:
    """The tracer, the instruments and the client registry of one ``instrument()`` call."""

    def __init__(
        self,
        tracer_provider: trace.TracerProvider | None,
        meter_provider: metrics.MeterProvider | None,
        *,
        creation_context_as_parent: bool,
    ) -> None:
        self.tracer = trace.get_tracer(
            "rxnats.otel", __version__, tracer_provider, schema_url=SCHEMA_URL
        )
        meter = metrics.get_meter("rxnats.otel", __version__, meter_provider, schema_url=SCHEMA_URL)
        self.meter = meter
        self.parent_from_message = creation_context_as_parent
        self.active = True  # until uninstrument()
        self.clients: weakref.WeakKeyDictionary[NATS, ClientInfo] = weakref.WeakKeyDictionary()
        self.subscriptions: weakref.WeakKeyDictionary[Subscription, SubscriptionInfo] = (
            weakref.WeakKeyDictionary()
        )
        self.sent = meter.create_counter(
            "messaging.client.sent.messages",
            "{message}",
            "Messages the application sent (publish, request, respond, JetStream publish).",
        )
        self.consumed = meter.create_counter(
            "messaging.client.consumed.messages",
            "{message}",
            "Messages delivered to the application (callbacks, observers, next_msg, iterators).",
        )
        self.operation_duration = meter.create_histogram(
            "messaging.client.operation.duration",
            "s",
            "Duration of a send, request, receive or settle operation.",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self.process_duration = meter.create_histogram(
            "messaging.process.duration",
            "s",
            "Duration of a callback or observer handling one message.",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self.acks = meter.create_counter(
            "rxnats.jetstream.acks",
            "{ack}",
            "JetStream acknowledgements sent (ack, nak, term, in_progress).",
        )
        self.connection_metrics = ConnectionMetrics(meter, self.clients, self.subscriptions)

    # ------------------------------------------------------------------ clients
    def client(self, nc: NATS) -> ClientInfo:
        """The client's info, registering it (and its event listener) on first sight."""
        info = self.clients.get(nc)
        if info is None:
            info = self.register(nc)
        return info

    def register(self, nc: NATS) -> ClientInfo:
        """Track ``nc``: its server, its stats from now on, its events."""
        info = ClientInfo()
        info.update(nc)
        info.seen = nc.stats.as_dict()
        ref = weakref.ref(nc)
        fold = self.connection_metrics.fold

        def on_event(event: ev.ConnectionEvent) -> None:
            client = ref()
            if client is None:
                return
            if isinstance(event, ev.Connected | ev.Reconnected):
                info.update(client)
            elif isinstance(event, ev.Closed):
                fold(client, info)

        info.remove_listener = nc.add_event_listener(on_event)
        self.clients[nc] = info
        return info

    def forget_all(self) -> None:
        """Stop: no more spans or metrics, and remove every event listener it added."""
        self.active = False
        self.connection_metrics.active = False
        for info in list(self.clients.values()):
            if info.remove_listener is not None:
                info.remove_listener()
                info.remove_listener = None
        self.clients.clear()
        self.subscriptions.clear()

    def track_subscription(self, sub: Subscription, nc: NATS) -> None:
        """Remember ``sub`` (for its span attributes and the drop and pending metrics)."""
        self.subscriptions[sub] = SubscriptionInfo(self.client(nc), sub.subject, sub.queue)

    def subscription(self, sub: Subscription) -> SubscriptionInfo:
        """The info of ``sub``; one made before ``instrument()`` gets it without a client."""
        info = self.subscriptions.get(sub)
        if info is None:
            info = self.subscriptions[sub] = SubscriptionInfo(None, sub.subject, sub.queue)
        return info

    # ------------------------------------------------------------------ operations
    def enabled(self) -> bool:
        """False after ``uninstrument()``, inside another rxnats operation, or under
        ``suppress_instrumentation()``."""
        return self.active and not otel_context.get_value(_NESTED) and is_instrumentation_enabled()

    def enabled_for_delivery(self) -> bool:
        """False after ``uninstrument()`` or under ``suppress_instrumentation()``.

        (Callbacks wrapped while instrumented stay wrapped: this makes them plain again.)
        """
        return self.active and is_instrumentation_enabled()

    @staticmethod
    def delivering_client() -> ClientInfo:
        """The client of the message being processed here, or one that knows nothing."""
        info = otel_context.get_value(_DELIVERING)
        return info if isinstance(info, ClientInfo) else _UNKNOWN_CLIENT

    def send(
        self,
        client: ClientInfo,
        operation: str,
        subject: str,
        payload: object,
        headers: HeadersInput | None,
        *,
        kind: SpanKind = SpanKind.PRODUCER,
        temporary: bool | None = None,
        message_id: str | None = None,
    ) -> tuple[Operation, HeadersInput]:
        """Start a send: its span, and the headers to send (the user's plus the context).

        The operation is entered (current) on return.
        """
        if temporary is None:
            temporary = client.is_temporary(subject)
        attrs: Attributes = {
            **client.span_attrs,
            OPERATION_NAME: operation,
            OPERATION_TYPE: "send",
            DESTINATION_NAME: subject,
            BODY_SIZE: payload_size(payload),
        }
        if temporary:
            attrs[DESTINATION_TEMPORARY] = True
        if message_id:
            attrs[MESSAGE_ID] = message_id
        name = operation if temporary else f"{operation} {subject}"
        span = self.tracer.start_span(
            name, kind=kind, attributes=attrs, links=propagation.creation_link(headers)
        )
        context = trace.set_span_in_context(span)
        out = propagation.inject(headers, context)
        metric_attrs: Attributes = {
            **client.metric_attrs,
            OPERATION_NAME: operation,
            OPERATION_TYPE: "send",
        }
        op = Operation(
            span,
            otel_context.set_value(_NESTED, True, context),
            metric_attrs,
            self.operation_duration,
            self.sent,
        )
        op.enter()
        return op, out

    def _consumer_span(
        self,
        sub: SubscriptionInfo,
        msg: Msg,
        operation: str,
        *,
        kind: SpanKind,
        start_time: int | None,
    ) -> tuple[trace.Span, Context, Attributes]:
        client = sub.client
        creation = propagation.extract(msg.headers)
        links = [Link(trace.get_current_span(creation).get_span_context())] if creation else []
        attrs: Attributes = {
            **client.span_attrs,
            **sub.span_attrs,
            OPERATION_NAME: operation,
            OPERATION_TYPE: operation,
            DESTINATION_NAME: msg.subject,
            BODY_SIZE: len(msg.data),
        }
        temporary = client.is_temporary(msg.subject)
        if temporary:
            attrs[DESTINATION_TEMPORARY] = True
        destination = sub.span_name or (None if temporary else msg.subject)
        name = f"{operation} {destination}" if destination else operation
        if kind is SpanKind.CONSUMER:
            # Push delivery: the ambient context where the reader or the subscription's
            # task runs is the connect()'s or subscribe()'s, not the message's. The
            # message's creation context is the parent (with a link to it too), unless
            # configured otherwise; a message without one starts a new trace.
            if creation is not None and self.parent_from_message:
                parent = creation
            elif self.parent_from_message:
                parent = Context()
            else:
                parent = otel_context.get_current()
        else:
            parent = otel_context.get_current()  # receive: the application asked for it
        span = self.tracer.start_span(
            name, context=parent, kind=kind, attributes=attrs, links=links, start_time=start_time
        )
        metric_attrs: Attributes = {
            **client.metric_attrs,
            **sub.metric_attrs,
            OPERATION_NAME: operation,
            OPERATION_TYPE: operation,
        }
        context = otel_context.set_value(
            _DELIVERING, client, trace.set_span_in_context(span, parent)
        )
        return span, context, metric_attrs

    def process(self, sub: SubscriptionInfo, msg: Msg) -> Operation | None:
        """Start the process span of a pushed message (``None`` for a control message).

        The operation is entered (current) on return.
        """
        if is_status_only(msg):
            return None
        span, context, metric_attrs = self._consumer_span(
            sub, msg, "process", kind=SpanKind.CONSUMER, start_time=None
        )
        self.consumed.add(1, metric_attrs)
        op = Operation(span, context, metric_attrs, self.process_duration, None)
        op.enter()
        return op

    def receive(
        self,
        sub: SubscriptionInfo,
        msg: Msg | None,
        exc: BaseException | None,
        start_time: int,
        t0: float,
    ) -> None:
        """Record a finished ``next_msg()`` or iterator step that began at ``start_time``."""
        if msg is not None and is_status_only(msg):
            return
        if msg is None:
            client = sub.client
            attrs: Attributes = {
                **client.span_attrs,
                **sub.span_attrs,
                OPERATION_NAME: "receive",
                OPERATION_TYPE: "receive",
            }
            destination = sub.span_name or (
                None if client.is_temporary(sub.subject) else sub.subject
            )
            name = f"receive {destination}" if destination else "receive"
            span = self.tracer.start_span(
                name, kind=SpanKind.CLIENT, attributes=attrs, start_time=start_time
            )
            metric_attrs: Attributes = {
                **client.metric_attrs,
                **sub.metric_attrs,
                OPERATION_NAME: "receive",
                OPERATION_TYPE: "receive",
            }
            context = trace.set_span_in_context(span)
            counter = None
        else:
            span, context, metric_attrs = self._consumer_span(
                sub, msg, "receive", kind=SpanKind.CLIENT, start_time=start_time
            )
            counter = self.consumed
        Operation(span, context, metric_attrs, self.operation_duration, counter, started=t0).end(
            exc
        )

    def settle(self, msg: Msg, operation: str) -> Operation:
        """Start the settle span of a JetStream acknowledgement; entered on return."""
        creation = propagation.extract(msg.headers)
        links = [Link(trace.get_current_span(creation).get_span_context())] if creation else []
        client = self.delivering_client()  # known when acked from its callback
        attrs: Attributes = {
            **client.span_attrs,
            OPERATION_NAME: operation,
            OPERATION_TYPE: "settle",
            DESTINATION_NAME: msg.subject,
        }
        span = self.tracer.start_span(
            f"{operation} {msg.subject}", kind=SpanKind.CLIENT, attributes=attrs, links=links
        )
        context = otel_context.set_value(_NESTED, True, trace.set_span_in_context(span))
        metric_attrs: Attributes = {
            **client.metric_attrs,
            OPERATION_NAME: operation,
            OPERATION_TYPE: "settle",
        }
        op = Operation(span, context, metric_attrs, self.operation_duration, self.acks)
        op.enter()
        return op
