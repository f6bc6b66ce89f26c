"""Typed frames the server sends, as produced by :class:`rxnats.wire.parser.Parser`.

The frames form a closed union, :data:`Frame`, meant to be dispatched with ``match``
(``case (subject, sid, reply, payload, headers):`` for a message) or, on a hot path, with
``type(frame) is tuple``.

:data:`MsgFrame` is a plain 5-tuple ``(subject, sid, reply, payload, headers)`` rather
than a dataclass or a ``NamedTuple`` because one is built per delivered message: CPython
builds a plain tuple several times faster than an instance of any subclass, ``NamedTuple``
included (measured: ~70 ns against ~320 ns on the project's CI machine; ``receive`` in
``benchmarks/instructions.py`` went from 12.2k to 9.8k instructions per message). Build
one by name with :func:`msg_frame`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TypeAlias, TypeGuard

from rxnats.errors import ProtocolError

__all__ = [
    "ErrFrame",
    "Frame",
    "InfoFrame",
    "MsgFrame",
    "OkFrame",
    "PingFrame",
    "PongFrame",
    "ServerInfo",
    "is_msg_frame",
    "msg_frame",
]

JsonValue = str | int | float | bool | None | list["JsonValue"] | dict[str, "JsonValue"]


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """The fields of an ``INFO`` a client uses, parsed leniently; ``raw`` holds them all."""

    server_id: str = ""
    server_name: str = ""
    version: str = ""
    proto: int = 0
    host: str = ""
    port: int = 0
    headers: bool = False
    max_payload: int = 1024 * 1024
    auth_required: bool = False
    tls_required: bool = False
    tls_available: bool = False
    tls_verify: bool = False
    nonce: str = ""
    client_id: int = 0
    client_ip: str = ""
    cluster: str = ""
    connect_urls: tuple[str, ...] = ()
    ldm: bool = False
    jetstream: bool = False
    domain: str = ""
    raw: dict[str, JsonValue] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, text: bytes | str) -> ServerInfo:
        """Parse the JSON body of an ``INFO`` line.

        Raises:
            ProtocolError: the body is not a JSON object.
        """
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:  # deep nesting raises RecursionError
            raise ProtocolError(f"INFO is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise ProtocolError("INFO is not a JSON object")

        def s(key: str) -> str:
            v = data.get(key)
            return v if isinstance(v, str) else ""

        def i(key: str, default: int = 0) -> int:
            v = data.get(key)
            return v if isinstance(v, int) and not isinstance(v, bool) else default

        def b(key: str) -> bool:
            return data.get(key) is True

        urls = data.get("connect_urls")
        connect_urls = tuple(u for u in urls if isinstance(u, str)) if isinstance(urls, list) else ()
        return cls(
            server_id=s("server_id"),
            server_name=s("server_name"),
            version=s("version"),
            proto=i("proto"),
            host=s("host"),
            port=i("port"),
            headers=b("headers"),
            max_payload=i("max_payload", 1024 * 1024),
            auth_required=b("auth_required"),
            tls_required=b("tls_required"),
            tls_available=b("tls_available"),
            tls_verify=b("tls_verify"),
            nonce=s("nonce"),
            client_id=i("client_id"),
            client_ip=s("client_ip"),
            cluster=s("cluster"),
            connect_urls=connect_urls,
            ldm=b("ldm"),
            jetstream=b("jetstream"),
            domain=s("domain"),
            raw=data,
        )


@dataclass(frozen=True, slots=True)
class InfoFrame:
    """``INFO {json}``: server information, first on every connection and at any time."""

    info: ServerInfo


#: ``MSG`` or ``HMSG``, a delivered message: ``(subject, sid, reply, payload, headers)``,
#: where ``reply`` is ``""`` when there is none and ``headers`` is the raw header block
#: (``None`` for ``MSG``).
MsgFrame: TypeAlias = tuple[str, int, str, bytes, bytes | None]


def msg_frame(
    subject: str, sid: int, reply: str, payload: bytes, headers: bytes | None = None
) -> MsgFrame:
    """A :data:`MsgFrame` built by field name."""
    return (subject, sid, reply, payload, headers)


@dataclass(frozen=True, slots=True)
class PingFrame:
    """``PING``: the server checks we are alive; answer with PONG at once."""


@dataclass(frozen=True, slots=True)
class PongFrame:
    """``PONG``: the answer to one of our PINGs, in order."""


@dataclass(frozen=True, slots=True)
class OkFrame:
    """``+OK``: sent only in verbose mode."""


@dataclass(frozen=True, slots=True)
class ErrFrame:
    """``-ERR '<message>'``: the server's error text without the quotes."""

    message: str


Frame = InfoFrame | MsgFrame | PingFrame | PongFrame | OkFrame | ErrFrame


def is_msg_frame(frame: Frame) -> TypeGuard[MsgFrame]:
    """Whether ``frame`` is a message (the only frame that is a tuple)."""
    return type(frame) is tuple


#: Shared instances: these frames carry no data.
PING = PingFrame()
PONG = PongFrame()
OK = OkFrame()
