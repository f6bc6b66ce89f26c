"""Shared pieces of the fuzzing harness: valid server streams, mutations, and run length.

A *stream* is what a server sends a client after the handshake: ``MSG``/``HMSG`` for
one subscription, ``PING``, ``PONG``, ``+OK``, ``-ERR``, ``INFO``. The strategies build
streams of well-framed messages (some with a header block that is not: an odd status,
stray bytes), then mutate them the way a broken or hostile peer would: flipped and
inserted bytes, lost and repeated runs, numbers replaced by odd ones (``²``, ``+5``,
thousands of digits), cut-offs.

The number of examples is small by default so that CI stays fast. For a long run set
``RXNATS_FUZZ_EXAMPLES``, e.g.::

    RXNATS_FUZZ_EXAMPLES=20000 .venv/bin/python -m pytest -q -p no:randomly \\
        tests/unit/test_fuzz_wire.py tests/hostile/test_fuzz_client.py
"""

from __future__ import annotations

import itertools
import json
import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

__all__ = ["fuzz_settings", "mutated_streams", "split_points", "valid_streams"]

_LONG_RUN = int(os.environ.get("RXNATS_FUZZ_EXAMPLES", "0") or 0)


def fuzz_settings(ci_examples: int) -> settings:
    """Hypothesis settings: ``ci_examples`` examples, or ``$RXNATS_FUZZ_EXAMPLES`` if set."""
    return settings(
        max_examples=_LONG_RUN or ci_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


_HEADER_BLOCKS = [
    b"NATS/1.0\r\n\r\n",
    b"NATS/1.0 503\r\n\r\n",
    b"NATS/1.0 100 Idle Heartbeat\r\nNats-Last-Consumer: 12\r\n\r\n",
    b"NATS/1.0 408 Request Timeout\r\nNats-Pending-Messages: 1\r\n\r\n",
    b"NATS/1.0\r\nKey: value\r\nKey: other\r\nEmpty:\r\n\r\n",
    "NATS/1.0\r\nUnicode: é€\r\n\r\n".encode(),
]
_PAYLOADS = [b"", b"x", b"hello", b"\r\n", b"MSG s 1 3\r\nabc\r\n", b"PING\r\n", b"\x00\xff" * 8]
_ODD_NUMBERS = [
    b"0",
    b"-1",
    b"+5",
    b"1_0",
    b" 7",
    b"99999999999999999999",
    b"9" * 5000,
    "²".encode(),
    "٣٠٣".encode(),
]
_FRAGMENTS = [
    b"\r\n",
    b"\r",
    b"\n",
    b" ",
    b"\t",
    b"MSG ",
    b"HMSG ",
    b"PING\r\n",
    b"INFO {",
    b"-ERR '",
    b"NATS/1.0",
    b"\x00",
    b"\xff",
    "²".encode(),
]


@st.composite
def _odd_block(draw: st.DrawFn) -> bytes:
    """A header block with a mutation inside it (the HMSG around it stays well framed)."""
    block = bytearray(draw(st.sampled_from(_HEADER_BLOCKS)))
    pos = draw(st.integers(min_value=0, max_value=len(block)))
    kind = draw(st.sampled_from(["status", "insert", "flip"]))
    if kind == "status":
        block[8:8] = b" " + draw(st.sampled_from(_ODD_NUMBERS))
    elif kind == "insert":
        block[pos:pos] = draw(st.sampled_from(_FRAGMENTS))
    elif pos < len(block):
        block[pos] = draw(st.integers(min_value=0, max_value=255))
    return bytes(block)


@st.composite
def _item(draw: st.DrawFn, sid: int, subject: str) -> bytes:
    kind = draw(
        st.sampled_from(["MSG", "MSG", "MSG", "HMSG", "HMSG", "ODD", "PING", "CTRL", "INFO"])
    )
    reply = draw(st.sampled_from(["", "_INBOX.r"]))
    head = f"{subject} {sid} {reply} " if reply else f"{subject} {sid} "
    payload = draw(st.sampled_from(_PAYLOADS))
    if kind == "MSG":
        return f"MSG {head}{len(payload)}\r\n".encode() + payload + b"\r\n"
    if kind in ("HMSG", "ODD"):
        block = draw(st.sampled_from(_HEADER_BLOCKS) if kind == "HMSG" else _odd_block())
        sizes = f"{len(block)} {len(block) + len(payload)}"
        return f"HMSG {head}{sizes}\r\n".encode() + block + payload + b"\r\n"
    if kind == "PING":
        return b"PING\r\n"
    if kind == "CTRL":
        return draw(
            st.sampled_from([b"PONG\r\n", b"+OK\r\n", b"-ERR 'Unknown Protocol Operation'\r\n"])
        )
    info = {"server_id": "FUZZ", "version": "2.10.0", "proto": 1, "headers": True,
            "max_payload": 1048576}
    return b"INFO " + json.dumps(info).encode() + b"\r\n"


def valid_streams(sid: int = 1, subject: str = "s") -> st.SearchStrategy[bytes]:
    """Well-framed server streams of 1 to 12 frames for subscription ``sid`` on ``subject``
    (a header block may still be malformed inside its frame)."""
    return st.lists(_item(sid, subject), min_size=1, max_size=12).map(b"".join)


@st.composite
def mutated_streams(draw: st.DrawFn, sid: int = 1, subject: str = "s") -> bytes:
    """A valid stream with 0 to 5 mutations."""
    data = bytearray(draw(valid_streams(sid, subject)))
    for _ in range(draw(st.integers(min_value=0, max_value=5))):
        if not data:
            break
        pos = draw(st.integers(min_value=0, max_value=len(data) - 1))
        kind = draw(st.sampled_from(["flip", "insert", "delete", "repeat", "number", "cut"]))
        if kind == "flip":
            data[pos] = draw(st.integers(min_value=0, max_value=255))
        elif kind == "insert":
            data[pos:pos] = draw(st.one_of(st.sampled_from(_FRAGMENTS), st.binary(max_size=8)))
        elif kind == "delete":
            del data[pos : pos + draw(st.integers(min_value=1, max_value=16))]
        elif kind == "repeat":
            data[pos:pos] = data[pos : pos + draw(st.integers(min_value=1, max_value=64))]
        elif kind == "number":
            # Replace the next run of ASCII digits (a sid, a size, a status) with an odd one.
            start = next((i for i in range(pos, len(data)) if 0x30 <= data[i] <= 0x39), -1)
            if start >= 0:
                end = start
                while end < len(data) and 0x30 <= data[end] <= 0x39:
                    end += 1
                data[start:end] = draw(st.sampled_from(_ODD_NUMBERS))
        else:
            del data[pos:]
    return bytes(data)


def split_points(data: bytes) -> st.SearchStrategy[list[int]]:
    """Offsets to split ``data`` at (sorted, possibly repeated, possibly none)."""
    return st.lists(st.integers(min_value=0, max_value=len(data)), max_size=20).map(sorted)


def split(data: bytes, points: list[int]) -> list[bytes]:
    """``data`` cut at ``points``."""
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]
