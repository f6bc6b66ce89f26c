"""JetStream: streams, consumers, key-value and object store."""

from __future__ import annotations
