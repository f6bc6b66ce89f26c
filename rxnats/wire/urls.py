"""Server URLs: parsing, defaults and redaction (sans-I/O).

Accepted forms: ``nats://host:port``, ``tls://host:port``, ``host:port``, ``host``
(port 4222), WebSocket URLs ``ws://host[:port][/path]`` and ``wss://...`` (port 80 and 443
by default, as for any WebSocket URL; the path, if any, is kept for the HTTP upgrade
request), IPv6 in brackets, and credentials in the userinfo part:
``nats://user:pass@host`` or ``nats://token@host``. Userinfo never appears in
:meth:`ServerAddress.display` or ``repr()``, nor in any :class:`InvalidURLError`: a
password with ``/``, ``#`` or ``?`` in it (not percent-encoded) makes the URL unparseable,
and the error shows everything up to the last ``@`` as ``***``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from rxnats.errors import InvalidURLError

__all__ = ["DEFAULT_PORT", "WEBSOCKET_SCHEMES", "ServerAddress", "parse_server_url"]

DEFAULT_PORT = 4222
#: The schemes of WebSocket URLs (the others are ``nats`` and ``tls``, over TCP).
WEBSOCKET_SCHEMES = frozenset({"ws", "wss"})
_DEFAULT_PORTS = {"nats": DEFAULT_PORT, "tls": DEFAULT_PORT, "ws": 80, "wss": 443}


@dataclass(frozen=True, slots=True)
class ServerAddress:
    """One server: scheme, host, port and optional credentials from the URL."""

    scheme: str
    host: str
    port: int
    user: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    #: The HTTP path of a WebSocket URL (``""`` for none; always ``""`` for TCP).
    path: str = ""

    @property
    def websocket(self) -> bool:
        """Whether the server is reached over a WebSocket (``ws://``, ``wss://``)."""
        return self.scheme in WEBSOCKET_SCHEMES

    @property
    def secure_scheme(self) -> bool:
        """Whether the URL itself asks for TLS (``tls://``, ``wss://``)."""
        return self.scheme in ("tls", "wss")

    @property
    def hostport(self) -> str:
        """``host:port`` with IPv6 hosts in brackets."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def display(self) -> str:
        """The URL without credentials, safe to log."""
        return f"{self.scheme}://{self.hostport}{self.path}"

    @property
    def has_credentials(self) -> bool:
        """Whether the URL carried a user, password or token."""
        return self.user is not None or self.token is not None

    def __str__(self) -> str:
        return self.display()


def parse_server_url(url: str, *, implicit: bool = False) -> ServerAddress:
    """Parse one server URL.

    ``implicit`` marks a URL discovered from INFO ``connect_urls`` (``host:port`` only).

    Raises:
        InvalidURLError: the scheme is not ``nats``/``tls``/``ws``/``wss``, the port is not
            a number in 1..65535, the host is empty, the text contains whitespace, or a
            ``nats``/``tls`` URL has a path or any URL a query or fragment.
    """
    if not isinstance(url, str) or not url.strip():
        raise InvalidURLError(f"empty server URL: {url!r}")
    text = url.strip()
    if any(c.isspace() for c in text):
        raise InvalidURLError("server URL contains whitespace")
    if "://" not in text:
        text = "nats://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        parts = None
    if parts is None:
        # urllib's message quotes the part it choked on, which may be a password: say
        # what is wrong in our own words, outside the except block so that nothing is
        # chained (not even as a suppressed __context__).
        raise InvalidURLError(
            f"invalid server URL {_redact(text)!r}: bad port or host "
            "(percent-encode '/', '#', '?' and '@' in a user name or password)"
        )
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise InvalidURLError(
            f"unsupported scheme {parts.scheme!r} in {_redact(text)!r}: "
            "use nats://, tls://, ws:// or wss://"
        )
    host = parts.hostname or ""
    if not host:
        raise InvalidURLError(f"no host in server URL {_redact(text)!r}")
    path = "" if parts.path in ("", "/") else parts.path
    if (path and scheme not in WEBSOCKET_SCHEMES) or parts.query or parts.fragment:
        raise InvalidURLError(f"unexpected path or query in server URL {_redact(text)!r}")
    user = password = token = None
    if parts.username is not None and not implicit:
        if parts.password is not None:
            user, password = unquote(parts.username), unquote(parts.password)
        else:
            token = unquote(parts.username)
    return ServerAddress(
        scheme=scheme,
        host=host,
        port=port if port is not None else _DEFAULT_PORTS[scheme],
        user=user,
        password=password,
        token=token,
        path=path,
    )


def _redact(text: str) -> str:
    """``text`` with everything between ``://`` and the last ``@`` replaced by ``***``.

    The last ``@``, not the first, and not only within the authority as parsed: a
    password may hold ``@``, ``/``, ``#`` or ``?`` when it was not percent-encoded, and
    then no parser finds where it ends. Over-redacting a host is harmless.
    """
    scheme, sep, rest = text.partition("://")
    if not sep:
        rest = text
    at = rest.rfind("@")
    if at < 0:
        return text
    return f"{scheme}://***@{rest[at + 1 :]}" if sep else f"***@{rest[at + 1 :]}"
