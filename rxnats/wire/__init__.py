"""The wire layer.

Sans-I/O core (no asyncio, sockets or clocks): :mod:`~rxnats.wire.frames`,
:mod:`~rxnats.wire.parser`, :mod:`~rxnats.wire.encoder`, :mod:`~rxnats.wire.headers`,
:mod:`~rxnats.wire.subjects`. The asyncio edge is the :mod:`rxnats.wire.aio` package, the
only part that touches sockets: :mod:`~rxnats.wire.aio.transport` (TCP/TLS protocol),
:mod:`~rxnats.wire.aio.writer` (the coalescing writer) and
:mod:`~rxnats.wire.aio.supervisor` (connect and reconnect). This package's ``__init__``
imports only the sans-I/O modules.
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
