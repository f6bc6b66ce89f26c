"""The client's options: what ``connect()`` takes, checked once, frozen for its life.

:class:`ClientOptions` holds every parameter of :meth:`rxnats.NATS.connect` under the
same name and default, validates them when it is made (no event loop, no socket: a
unit test makes one), and derives what the client uses: the server URLs, the inbox
prefix as text, the credentials, the reconnect settings and what CONNECT says.
A client keeps the options of its current life; ``connect()`` after a close makes
new ones.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from rxnats._version import __version__
from rxnats.auth import (
    AuthSettings,
    CredentialCallback,
    Credentials,
    JWTCallback,
    SignatureCallback,
    TokenCallback,
    auth_fields,
)
from rxnats.errors import (
    BadSubjectError,
    BadTimeoutError,
    InvalidCallbackTypeError,
    InvalidInputError,
)
from rxnats.reporting import Callback, Callbacks, ErrorCallback
from rxnats.wire.aio.supervisor import SupervisorSettings, websocket_opener
from rxnats.wire.aio.transport import TLSSettings
from rxnats.wire.frames import ServerInfo
from rxnats.wire.handshake import ConnectSettings
from rxnats.wire.subjects import is_valid_publish_subject
from rxnats.wire.urls import ServerAddress

__all__ = ["DEFAULT_SERVER", "ClientOptions", "WebSocketHeaders"]

DEFAULT_SERVER = "nats://localhost:4222"

#: ``ws_connection_headers``: header name to one value or a list of values.
WebSocketHeaders = Mapping[str, str | Sequence[str]]

# Request headers the WebSocket upgrade sets itself.
_RESERVED_WS_HEADERS = frozenset(
    {
        "host",
        "upgrade",
        "connection",
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-extensions",
    }
)
_HEADER_NAME_FORBIDDEN = frozenset('()<>@,;:\\"/[]?={} \t\r\n')


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientOptions:
    """``connect()``'s parameters, validated (see :meth:`rxnats.NATS.connect`).

    Raises (when made):
        InvalidInputError: an option is invalid (negative ``pending_size``, ...).
        BadTimeoutError: a timeout is not a positive number of seconds.
        InvalidCallbackTypeError: a callback is not callable.
        BadSubjectError: ``inbox_prefix`` is not a valid subject.
        InvalidUserCredentialsError: credentials conflict.
    """

    servers: str | list[str] = field(default_factory=lambda: [DEFAULT_SERVER])
    error_cb: ErrorCallback | None = None
    disconnected_cb: Callback | None = None
    closed_cb: Callback | None = None
    discovered_server_cb: Callback | None = None
    reconnected_cb: Callback | None = None
    lame_duck_mode_cb: Callback | None = None
    name: str | None = None
    pedantic: bool = False
    verbose: bool = False
    allow_reconnect: bool = True
    connect_timeout: float = 2
    reconnect_time_wait: float = 2
    max_reconnect_attempts: int = 60
    reconnect_max_wait: float | None = None
    ping_interval: float = 120
    max_outstanding_pings: int = 2
    dont_randomize: bool = False
    flusher_queue_size: int = 1024
    no_echo: bool = False
    tls: ssl.SSLContext | None = None
    tls_hostname: str | None = None
    tls_handshake_first: bool = False
    user: str | CredentialCallback | None = None
    password: str | CredentialCallback | None = None
    token: str | TokenCallback | None = None
    drain_timeout: float = 30
    signature_cb: SignatureCallback | None = None
    user_jwt_cb: JWTCallback | None = None
    user_credentials: Credentials | None = None
    nkeys_seed: str | None = None
    nkeys_seed_str: str | None = None
    inbox_prefix: str | bytes = b"_INBOX"
    pending_size: int = 2 * 1024 * 1024
    flush_timeout: float | None = None
    ws_connection_headers: WebSocketHeaders | None = None
    ws_compression: bool = False

    #: The server URLs to try (``servers`` as a tuple; the default when empty).
    urls: tuple[str, ...] = field(init=False)
    #: ``inbox_prefix`` as text.
    inbox: str = field(init=False)
    #: The credentials (they go into every CONNECT).
    auth: AuthSettings = field(init=False)
    #: ``ws_connection_headers`` as (name, value) pairs, in order.
    ws_headers: tuple[tuple[str, str], ...] = field(init=False)

    def __post_init__(self) -> None:
        callbacks = {
            "error_cb": self.error_cb,
            "disconnected_cb": self.disconnected_cb,
            "closed_cb": self.closed_cb,
            "discovered_server_cb": self.discovered_server_cb,
            "reconnected_cb": self.reconnected_cb,
            "lame_duck_mode_cb": self.lame_duck_mode_cb,
            "signature_cb": self.signature_cb,
            "user_jwt_cb": self.user_jwt_cb,
        }
        for cb_name, cb in callbacks.items():
            if cb is not None and not callable(cb):
                raise InvalidCallbackTypeError(f"{cb_name} must be callable")
        for opt_name, value in (
            ("connect_timeout", self.connect_timeout),
            ("reconnect_time_wait", self.reconnect_time_wait),
            ("ping_interval", self.ping_interval),
            ("drain_timeout", self.drain_timeout),
        ):
            if (
                not isinstance(value, int | float)
                or value < 0
                or (value == 0 and opt_name != "reconnect_time_wait")
            ):
                raise BadTimeoutError(
                    f"{opt_name} must be a positive number of seconds, not {value!r}"
                )
        if self.reconnect_max_wait is not None and (
            not isinstance(self.reconnect_max_wait, int | float)
            or self.reconnect_max_wait < self.reconnect_time_wait
        ):
            raise BadTimeoutError(
                "reconnect_max_wait must be None or at least reconnect_time_wait, "
                f"not {self.reconnect_max_wait!r}"
            )
        if self.flush_timeout is not None and self.flush_timeout <= 0:
            raise BadTimeoutError(
                f"flush_timeout must be positive or None, not {self.flush_timeout!r}"
            )
        if self.max_outstanding_pings < 1:
            raise InvalidInputError("max_outstanding_pings must be at least 1")
        if self.pending_size < 0:
            raise InvalidInputError("pending_size must be >= 0")
        if self.tls is not None and not isinstance(self.tls, ssl.SSLContext):
            raise InvalidInputError("tls must be an ssl.SSLContext")
        prefix = (
            self.inbox_prefix.decode() if isinstance(self.inbox_prefix, bytes) else self.inbox_prefix
        )
        if not is_valid_publish_subject(prefix):
            raise BadSubjectError(f"invalid inbox_prefix {prefix!r}")
        urls = [self.servers] if isinstance(self.servers, str) else list(self.servers)
        auth = AuthSettings(
            user=self.user,
            password=self.password,
            token=self.token,
            user_credentials=self.user_credentials,
            nkeys_seed=self.nkeys_seed,
            nkeys_seed_str=self.nkeys_seed_str,
            user_jwt_cb=self.user_jwt_cb,
            signature_cb=self.signature_cb,
        )
        auth.validate()
        ws_headers = _ws_header_pairs(self.ws_connection_headers)
        if any(_is_websocket_url(u) for u in urls):
            websocket_opener()  # MissingDependencyError now rather than at each attempt
        object.__setattr__(self, "ws_headers", ws_headers)
        object.__setattr__(self, "urls", tuple(urls or [DEFAULT_SERVER]))
        object.__setattr__(self, "inbox", prefix)
        object.__setattr__(self, "auth", auth)

    @property
    def callbacks(self) -> Callbacks:
        """The lifecycle callbacks."""
        return Callbacks(
            error_cb=self.error_cb,
            disconnected_cb=self.disconnected_cb,
            closed_cb=self.closed_cb,
            reconnected_cb=self.reconnected_cb,
            discovered_server_cb=self.discovered_server_cb,
            lame_duck_mode_cb=self.lame_duck_mode_cb,
        )

    @property
    def tls_configured(self) -> bool:
        """TLS was configured: a context, or handshake-first."""
        return self.tls is not None or self.tls_handshake_first

    def connect_settings(self) -> ConnectSettings:
        """What CONNECT says (identity, options, the credentials for each server)."""
        auth = self.auth

        def credentials(info: ServerInfo, address: ServerAddress) -> Mapping[str, str]:
            return auth_fields(auth, info, address)

        return ConnectSettings(
            version=__version__,
            name=self.name,
            verbose=self.verbose,
            pedantic=self.pedantic,
            echo=not self.no_echo,
            tls_configured=self.tls_configured,
            auth=credentials,
        )

    def supervisor_settings(self) -> SupervisorSettings:
        """How the supervisor connects and reconnects."""
        return SupervisorSettings(
            urls=self.urls,
            randomize=not self.dont_randomize,
            connect_timeout=float(self.connect_timeout),
            reconnect_time_wait=float(self.reconnect_time_wait),
            max_reconnect_attempts=self.max_reconnect_attempts,
            reconnect_max_wait=(
                float(self.reconnect_max_wait) if self.reconnect_max_wait is not None else None
            ),
            tls=TLSSettings(
                context=self.tls, hostname=self.tls_hostname, handshake_first=self.tls_handshake_first
            ),
            ws_headers=self.ws_headers,
            ws_compression=self.ws_compression,
        )


def _is_websocket_url(url: object) -> bool:
    return isinstance(url, str) and url.strip().lower().startswith(("ws://", "wss://"))


def _ws_header_pairs(headers: WebSocketHeaders | None) -> tuple[tuple[str, str], ...]:
    """``ws_connection_headers`` checked and flattened into (name, value) pairs.

    Raises:
        InvalidInputError: not a mapping, a name that is not an HTTP token or that the
            upgrade sets itself, or a value that is not text or holds CR, LF or NUL.
    """
    if headers is None:
        return ()
    if not isinstance(headers, Mapping):
        raise InvalidInputError("ws_connection_headers must be a dict of name -> value(s)")
    pairs: list[tuple[str, str]] = []
    for name, values in headers.items():
        if (
            not isinstance(name, str)
            or not name
            or not name.isascii()
            or any(c in _HEADER_NAME_FORBIDDEN or not c.isprintable() for c in name)
        ):
            raise InvalidInputError(f"invalid WebSocket header name {name!r}")
        if name.lower() in _RESERVED_WS_HEADERS:
            raise InvalidInputError(
                f"ws_connection_headers may not set {name!r}: the WebSocket upgrade sets it"
            )
        if isinstance(values, str):
            values = [values]
        elif not isinstance(values, Sequence):
            raise InvalidInputError(
                f"WebSocket header {name!r}: give a string or a list of strings"
            )
        for value in values:
            if not isinstance(value, str) or any(c in value for c in "\r\n\0"):
                raise InvalidInputError(
                    f"invalid value for WebSocket header {name!r}: text without CR, LF or NUL"
                )
            pairs.append((name, value))
    return tuple(pairs)
