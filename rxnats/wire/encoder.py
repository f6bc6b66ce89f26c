"""Encoders for what a client sends: CONNECT, PUB, HPUB, SUB, UNSUB, PING, PONG.

Every subject, reply, queue and header is validated before it is written into a control
line (see :mod:`rxnats.wire.subjects` and :mod:`rxnats.wire.headers`), so no caller string
can inject a protocol frame. Functions return ``bytes`` ready for the socket.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from rxnats.errors import BadSubjectError, InvalidInputError
from rxnats.wire.headers import HeadersInput, encode_headers
from rxnats.wire.subjects import (
    check_publish_subject,
    check_queue,
    check_reply,
    check_subscribe_subject,
)

__all__ = [
    "PING",
    "PONG",
    "encode_connect",
    "encode_hpub",
    "encode_pub",
    "encode_pub_once",
    "encode_publish",
    "encode_sub",
    "encode_unsub",
    "pub_head",
]

PING = b"PING\r\n"
PONG = b"PONG\r\n"

ConnectValue = str | int | bool


def encode_connect(options: Mapping[str, ConnectValue]) -> bytes:
    """Encode ``CONNECT {json}``; ``None`` values must be left out by the caller."""
    return b"CONNECT " + json.dumps(dict(options), separators=(",", ":")).encode() + b"\r\n"


def encode_pub(subject: str, payload: bytes, reply: str = "") -> bytes:
    """Encode ``PUB subject [reply] size`` and its payload.

    Raises:
        BadSubjectError: ``subject`` or ``reply`` is not a valid literal subject.
    """
    return b"%b%d\r\n%b\r\n" % (pub_head(subject, reply), len(payload), payload)


def encode_pub_once(subject: str, payload: bytes) -> bytes:
    """Encode ``PUB subject size`` and its payload for a subject used once.

    A JetStream ack goes to the message's own reply subject, a new one each time: it is
    checked as :func:`encode_pub` checks a subject, but not remembered among the known
    subjects (where it would only push out the ones that repeat).

    Raises:
        BadSubjectError: ``subject`` is not a valid literal subject.
    """
    if not subject:
        raise BadSubjectError("invalid publish subject ''")
    check_reply(subject)  # the literal-subject check, without the cache
    return b"PUB %b %d\r\n%b\r\n" % (subject.encode(), len(payload), payload)


def pub_head(subject: str, reply: str = "") -> bytes:
    """Encode the start of a ``PUB`` line, ``PUB subject [reply] ``: size, CRLF and payload follow.

    A publisher sends to the same few subjects over and over: callers cache this per
    subject, so a publish costs one dict lookup and one ``%`` format.

    Raises:
        BadSubjectError: ``subject`` or ``reply`` is not a valid literal subject.
    """
    check_publish_subject(subject)
    if reply:
        check_reply(reply)
        return f"PUB {subject} {reply} ".encode()
    return f"PUB {subject} ".encode()


def encode_hpub(subject: str, payload: bytes, header_block: bytes, reply: str = "") -> bytes:
    """Encode ``HPUB`` from an already encoded header block (see ``encode_headers``).

    Raises:
        BadSubjectError: ``subject`` or ``reply`` is not a valid literal subject.
    """
    check_publish_subject(subject)
    hlen = len(header_block)
    total = hlen + len(payload)
    if reply:
        check_reply(reply)
        line = f"HPUB {subject} {reply} {hlen} {total}\r\n"
    else:
        line = f"HPUB {subject} {hlen} {total}\r\n"
    return b"".join((line.encode(), header_block, payload, b"\r\n"))


def encode_publish(
    subject: str,
    payload: bytes,
    reply: str = "",
    headers: HeadersInput | None = None,
) -> bytes:
    """Encode a publish as ``PUB`` or, when ``headers`` is given, ``HPUB``.

    Raises:
        BadSubjectError: invalid subject or reply.
        BadHeaderError: invalid header key or value.
    """
    if headers is None:
        return encode_pub(subject, payload, reply)
    return encode_hpub(subject, payload, encode_headers(headers), reply)


def encode_sub(subject: str, sid: int, queue: str = "") -> bytes:
    """Encode ``SUB subject [queue] sid``.

    Raises:
        BadSubjectError: invalid subject or queue name.
    """
    check_subscribe_subject(subject)
    if queue:
        check_queue(queue)
        return f"SUB {subject} {queue} {sid}\r\n".encode()
    return f"SUB {subject} {sid}\r\n".encode()


def encode_unsub(sid: int, max_msgs: int = 0) -> bytes:
    """Encode ``UNSUB sid [max_msgs]``; ``max_msgs`` 0 means at once.

    Raises:
        InvalidInputError: ``max_msgs`` is negative.
    """
    if max_msgs < 0:
        raise InvalidInputError(f"max_msgs must be >= 0, not {max_msgs}")
    if max_msgs:
        return f"UNSUB {sid} {max_msgs}\r\n".encode()
    return f"UNSUB {sid}\r\n".encode()
