"""Connection and subscription metrics read when a metric reader collects, never per message.

Counters (``rxnats.client.*``) come from ``nc.stats``: at each collection the growth of
every tracked client's counters since the last one is added to a running total per
attribute set (the server it is connected to), so a client that closes and goes away
leaves its traffic counted (its last growth is folded in when its ``Closed`` event
arrives) and the totals never go down. Pending bytes and messages are read as they are.
Slow-consumer drops come from each tracked subscription's ``dropped`` counter the same
way; a subscription garbage-collected between two collections takes its last drops with
it.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Final

from opentelemetry.metrics import CallbackOptions, Meter, Observation

from rxnats.otel._attributes import Attributes, ClientInfo, SubscriptionInfo

if TYPE_CHECKING:
    from rxnats.client import NATS
    from rxnats.subscription import Subscription

__all__ = ["ConnectionMetrics"]

_Key = tuple[tuple[str, object], ...]

# (Statistics key, instrument name, unit, description)
_STATS: Final = (
    (
        "out_msgs",
        "rxnats.client.sent.messages",
        "{message}",
        "Messages written to the server (all of them: acks and API requests too).",
    ),
    ("out_bytes", "rxnats.client.sent.bytes", "By", "Payload bytes written to the server."),
    (
        "in_msgs",
        "rxnats.client.received.messages",
        "{message}",
        "Messages received from the server (dropped ones too).",
    ),
    ("in_bytes", "rxnats.client.received.bytes", "By", "Payload bytes received from the server."),
    ("reconnects", "rxnats.client.reconnects", "{reconnect}", "Successful reconnects."),
    ("errors_received", "rxnats.client.server.errors", "{error}", "-ERR lines the server sent."),
)


def _key(attrs: Attributes) -> _Key:
    return tuple(sorted(attrs.items()))


class ConnectionMetrics:
    """The observable instruments (see the module docstring)."""

    def __init__(
        self,
        meter: Meter,
        clients: weakref.WeakKeyDictionary[NATS, ClientInfo],
        subscriptions: weakref.WeakKeyDictionary[Subscription, SubscriptionInfo],
    ) -> None:
        self._clients = clients
        self._subscriptions = subscriptions
        self.active = True
        self._totals: dict[str, dict[_Key, int]] = {stat: {} for stat, *_ in _STATS}
        self._dropped: dict[_Key, int] = {}
        self._attrs: dict[_Key, Attributes] = {}
        for stat, name, unit, description in _STATS:
            meter.create_observable_counter(name, [self._stat_callback(stat)], unit, description)
        meter.create_observable_up_down_counter(
            "rxnats.client.pending.bytes",
            [self._observe_client_pending],
            "By",
            "Bytes published but not yet handed to the socket (nc.pending_data_size()).",
        )
        meter.create_observable_up_down_counter(
            "rxnats.subscription.pending.messages",
            [self._pending_callback(False)],
            "{message}",
            "Messages received and waiting for their callback, iterator or observer.",
        )
        meter.create_observable_up_down_counter(
            "rxnats.subscription.pending.bytes",
            [self._pending_callback(True)],
            "By",
            "Payload bytes of the messages waiting in subscriptions.",
        )
        meter.create_observable_counter(
            "rxnats.subscription.dropped.messages",
            [self._observe_dropped],
            "{message}",
            "Messages dropped because a subscription's pending limits were reached (slow consumer).",
        )

    def _remember(self, attrs: Attributes) -> _Key:
        key = _key(attrs)
        if key not in self._attrs:
            self._attrs[key] = dict(attrs)
        return key

    def fold(self, nc: NATS, info: ClientInfo) -> None:
        """Add the growth of ``nc``'s counters since they were last read to the totals."""
        stats = nc.stats
        key = self._remember(info.metric_attrs)
        seen = info.seen
        for stat, *_ in _STATS:
            value = stats[stat]
            grown = value - seen.get(stat, 0)
            if grown < 0:  # (counters never go down; count from zero if they did)
                grown = value
            seen[stat] = value
            totals = self._totals[stat]
            totals[key] = totals.get(key, 0) + grown

    def _stat_callback(self, stat: str) -> Callable[[CallbackOptions], Iterable[Observation]]:
        def observe(options: CallbackOptions) -> Iterable[Observation]:
            if not self.active:
                return []
            for nc, info in list(self._clients.items()):
                self.fold(nc, info)
            return [
                Observation(value, self._attrs[key]) for key, value in self._totals[stat].items()
            ]

        return observe

    def _observe_client_pending(self, options: CallbackOptions) -> Iterable[Observation]:
        if not self.active:
            return []
        sums: dict[_Key, int] = {}
        for nc, info in list(self._clients.items()):
            key = self._remember(info.metric_attrs)
            sums[key] = sums.get(key, 0) + nc.pending_data_size()
        return [Observation(value, self._attrs[key]) for key, value in sums.items()]

    def _subscription_key(self, info: SubscriptionInfo) -> _Key:
        return self._remember({**info.client.metric_attrs, **info.metric_attrs})

    def _pending_callback(
        self, in_bytes: bool
    ) -> Callable[[CallbackOptions], Iterable[Observation]]:
        def observe(options: CallbackOptions) -> Iterable[Observation]:
            if not self.active:
                return []
            sums: dict[_Key, int] = {}
            for sub, info in list(self._subscriptions.items()):
                key = self._subscription_key(info)
                value = sub.pending_bytes if in_bytes else sub.pending_msgs
                sums[key] = sums.get(key, 0) + value
            return [Observation(value, self._attrs[key]) for key, value in sums.items()]

        return observe

    def _observe_dropped(self, options: CallbackOptions) -> Iterable[Observation]:
        if not self.active:
            return []
        totals = self._dropped
        for sub, info in list(self._subscriptions.items()):
            dropped = sub.dropped
            grown = dropped - info.dropped_seen
            info.dropped_seen = dropped
            key = self._subscription_key(info)
            totals[key] = totals.get(key, 0) + max(grown, 0)
        return [Observation(value, self._attrs[key]) for key, value in totals.items()]
