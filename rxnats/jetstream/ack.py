"""Acknowledgement bodies and the metadata encoded in a JetStream message's reply subject.

A message delivered by a JetStream consumer has a reply subject of the form

- v1: ``$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<ts>.<pending>``
  (9 tokens), or
- v2: ``$JS.ACK.<domain>.<account hash>.<stream>.<consumer>.<delivered>.<stream seq>.
  <consumer seq>.<ts>.<pending>[.<random>...]`` (11 or more tokens; domain ``_`` = none).

Publishing one of the bodies below to it acknowledges the message.
"""

from __future__ import annotations

import datetime as dt
import json

from rxnats.jetstream.errors import NotJSMessageError
from rxnats.jetstream.models import NANOSECONDS, MsgMetadata, SequencePair

__all__ = ["ACK", "IN_PROGRESS", "NAK", "TERM", "is_js_ack_subject", "nak_body", "parse_metadata"]

ACK = b"+ACK"
NAK = b"-NAK"
IN_PROGRESS = b"+WPI"
TERM = b"+TERM"

_V1_TOKENS = 9
_V2_MIN_TOKENS = 11


def is_js_ack_subject(reply: str) -> bool:
    """Whether ``reply`` is a JetStream ack subject."""
    return reply.startswith("$JS.ACK.")


def nak_body(delay: float | None) -> bytes:
    """The body of a NAK, asking for redelivery after ``delay`` seconds when given."""
    if delay is None:
        return NAK
    return NAK + b" " + json.dumps({"delay": int(delay * NANOSECONDS)}).encode()


def parse_metadata(reply: str) -> MsgMetadata:
    """Parse the metadata out of a JetStream ack subject.

    Raises:
        NotJSMessageError: ``reply`` is not a (well-formed) JetStream ack subject.
    """
    tokens = reply.split(".")
    if len(tokens) < _V1_TOKENS or tokens[0] != "$JS" or tokens[1] != "ACK":
        raise NotJSMessageError(f"not a JetStream ack subject: {reply!r}")
    if len(tokens) == _V1_TOKENS:
        domain = ""
        rest = tokens[2:]
    elif len(tokens) >= _V2_MIN_TOKENS:
        domain = "" if tokens[2] == "_" else tokens[2]
        rest = tokens[4:11]
    else:
        raise NotJSMessageError(f"malformed JetStream ack subject: {reply!r}")
    stream, consumer, delivered, sseq, cseq, ts, pending = rest
    try:
        nanos = int(ts)
        return MsgMetadata(
            sequence=SequencePair(consumer=int(cseq), stream=int(sseq)),
            num_pending=int(pending),
            num_delivered=int(delivered),
            timestamp=dt.datetime.fromtimestamp(nanos / NANOSECONDS, tz=dt.UTC),
            stream=stream,
            consumer=consumer,
            domain=domain,
        )
    except ValueError as exc:
        raise NotJSMessageError(f"malformed JetStream ack subject: {reply!r}") from exc
