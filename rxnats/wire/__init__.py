"""The wire layer.

Sans-I/O core (no asyncio, sockets or clocks): :mod:`~rxnats.wire.frames`,
:mod:`~rxnats.wire.parser`, :mod:`~rxnats.wire.encoder`, :mod:`~rxnats.wire.headers`,
:mod:`~rxnats.wire.subjects`. The asyncio edge sits beside it and is the only part that
touches sockets: :mod:`~rxnats.wire.transport` (TCP/TLS protocol), :mod:`~rxnats.wire.writer`
(the coalescing writer) and :mod:`~rxnats.wire.supervisor` (connect and reconnect policy).
This package's ``__init__`` imports only the sans-I/O modules.
"""

from __future__ import annotations

from rxnats.wire.encoder import (
    encode_connect,
    encode_hpub,
    encode_pub,
    encode_publish,
    encode_sub,
    encode_unsub,
)
from rxnats.wire.frames import (
    ErrFrame,
    Frame,
    InfoFrame,
    MsgFrame,
    OkFrame,
    PingFrame,
    PongFrame,
    ServerInfo,
    is_msg_frame,
    msg_frame,
)
from rxnats.wire.headers import Headers, HeadersInput, decode_headers, encode_headers
from rxnats.wire.parser import Parser

__all__ = [
    "ErrFrame",
    "Frame",
    "Headers",
    "HeadersInput",
    "InfoFrame",
    "MsgFrame",
    "OkFrame",
    "Parser",
    "PingFrame",
    "PongFrame",
    "ServerInfo",
    "decode_headers",
    "encode_connect",
    "encode_headers",
    "encode_hpub",
    "encode_pub",
    "encode_publish",
    "encode_sub",
    "encode_unsub",
    "is_msg_frame",
    "msg_frame",
]
