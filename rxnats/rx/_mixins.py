"""Rx methods mixed into :class:`rxnats.NATS` and :class:`rxnats.Subscription`.

Kept here so that the Rx layer is a thin adapter in its own package while users still
write ``nc.observe(...)`` and ``sub.observe()``.
"""

from __future__ import annotations


class RxClientMixin:
    """Observable views of a client (filled in by the Rx layer)."""

    __slots__ = ()


class RxSubscriptionMixin:
    """Observable view of a subscription (filled in by the Rx layer)."""

    __slots__ = ()
