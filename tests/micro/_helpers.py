"""Helpers for the services tests: discovery requests answered by every instance."""

from __future__ import annotations

import json

import rxnats
from rxnats.rx import to_async_iterator


async def request_json(nc: rxnats.NATS, subject: str, timeout: float = 5.0) -> object:
    """One request; its reply decoded from JSON."""
    msg = await nc.request(subject, b"", timeout=timeout)
    return json.loads(msg.data)


async def gather_json(nc: rxnats.NATS, subject: str, expected: int, timeout: float = 5.0) -> list[object]:
    """Send one request and collect ``expected`` JSON replies (all instances answer)."""
    replies = nc.observe_request_many(subject, b"", timeout=timeout, max_count=expected)
    docs: list[object] = []
    async for msg in to_async_iterator(replies, maxsize=100):
        docs.append(json.loads(msg.data))
    return docs
