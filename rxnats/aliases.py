"""The type aliases of the core API's specification, importable from ``rxnats``.

They name what rxnats accepts: ``ErrorCallback`` and the other callbacks may be plain
or ``async`` functions; ``Headers`` is rxnats' read-only header mapping (a
``Mapping[str, str]``, so code typed for ``Dict[str, str]`` headers reads it unchanged);
``UserJWTCallback`` returns the JWT (``str``, ``bytes`` or ``bytearray``), as the
``user_jwt_cb`` option takes it.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable

from rxnats.auth import JWTCallback, SignatureCallback
from rxnats.state import Callback, ErrorCallback
from rxnats.subscription import MessageCallback
from rxnats.wire.headers import Headers

__all__ = [
    "ClosedCallback",
    "ConnectOptions",
    "DisconnectedCallback",
    "ErrorCallback",
    "Headers",
    "MessageCallback",
    "Payload",
    "ReconnectedCallback",
    "SSLContext",
    "Servers",
    "SignatureCallback",
    "Subject",
    "UserJWTCallback",
]

#: ``connect(servers=...)``: one URL or a list of them.
Servers = str | list[str]
#: ``connect()``'s keyword options as a dict (``await nats.connect(**options)``).
ConnectOptions = dict[str, str | int | float | bool | Callable[..., object] | None]
SSLContext = ssl.SSLContext
ClosedCallback = Callback
DisconnectedCallback = Callback
ReconnectedCallback = Callback
UserJWTCallback = JWTCallback
Payload = bytes
Subject = str
