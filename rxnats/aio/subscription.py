"""``nats.aio.subscription`` under rxnats.

The default pending limits are rxnats' own (those of the seed): 65,536 messages and
64 MiB per subscription, where nats-py has 524,288 and 128 MiB.
"""

from __future__ import annotations

from rxnats.msg import Msg
from rxnats.subscription import (
    DEFAULT_SUB_PENDING_BYTES_LIMIT,
    DEFAULT_SUB_PENDING_MSGS_LIMIT,
    Subscription,
)

__all__ = [
    "DEFAULT_SUB_PENDING_BYTES_LIMIT",
    "DEFAULT_SUB_PENDING_MSGS_LIMIT",
    "Msg",
    "Subscription",
]
