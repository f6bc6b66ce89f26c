"""``nats.aio.client`` under rxnats: ``Client`` is :class:`rxnats.NATS`.

Besides the client, nats-py keeps its option types, defaults and a few protocol
constants here; they are given with rxnats' values (the defaults ``connect()`` uses, the
limits the parser applies).
"""

from __future__ import annotations

from rxnats.aio.errors import ErrInvalidUserCredentials, ErrStaleConnection
from rxnats.auth import (
    CredentialCallback,
    Credentials,
    JWTCallback,
    RawCredentials,
    SignatureCallback,
    TokenCallback,
)
from rxnats.client import NATS, Server
from rxnats.msg import Msg
from rxnats.nuid import NUID
from rxnats.state import Callback, ErrorCallback
from rxnats.subscription import (
    DEFAULT_SUB_PENDING_BYTES_LIMIT,
    DEFAULT_SUB_PENDING_MSGS_LIMIT,
    Subscription,
)
from rxnats.wire.encoder import PING, PONG
from rxnats.wire.headers import HEADER_LINE
from rxnats.wire.parser import DEFAULT_MAX_CONTROL_LINE

__all__ = [
    "AUTHORIZATION_VIOLATION",
    "CONNECT_OP",
    "CTRL_STATUS",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_DRAIN_TIMEOUT",
    "DEFAULT_FLUSH_TIMEOUT",
    "DEFAULT_INBOX_PREFIX",
    "DEFAULT_MAX_FLUSHER_QUEUE_SIZE",
    "DEFAULT_MAX_OUTSTANDING_PINGS",
    "DEFAULT_MAX_PAYLOAD_SIZE",
    "DEFAULT_MAX_RECONNECT_ATTEMPTS",
    "DEFAULT_PENDING_SIZE",
    "DEFAULT_PING_INTERVAL",
    "DEFAULT_RECONNECT_TIME_WAIT",
    "DEFAULT_SUB_PENDING_BYTES_LIMIT",
    "DEFAULT_SUB_PENDING_MSGS_LIMIT",
    "EMPTY",
    "ERR_OP",
    "INFO_OP",
    "MAX_CONTROL_LINE_SIZE",
    "NATS_HDR_LINE",
    "NATS_HDR_LINE_SIZE",
    "NO_RESPONDERS_STATUS",
    "NUID",
    "OK_OP",
    "PERMISSIONS_ERR",
    "PING_OP",
    "PING_PROTO",
    "PONG",
    "PONG_OP",
    "PONG_PROTO",
    "PROTOCOL",
    "STALE_CONNECTION",
    "STATUS_MSG_LEN",
    "Callback",
    "Client",
    "CredentialCallback",
    "Credentials",
    "ErrInvalidUserCredentials",
    "ErrStaleConnection",
    "ErrorCallback",
    "JWTCallback",
    "Msg",
    "RawCredentials",
    "Server",
    "SignatureCallback",
    "Subscription",
    "TokenCallback",
]

Client = NATS

# Protocol words, as nats-py names them.
PROTOCOL = 1
INFO_OP = b"INFO"
CONNECT_OP = b"CONNECT"
PING_OP = b"PING"
PONG_OP = b"PONG"
OK_OP = b"+OK"
ERR_OP = b"-ERR"
EMPTY = ""
PING_PROTO = PING
PONG_PROTO = PONG
NATS_HDR_LINE = HEADER_LINE
NATS_HDR_LINE_SIZE = len(HEADER_LINE)
NO_RESPONDERS_STATUS = "503"
CTRL_STATUS = "100"
STATUS_MSG_LEN = 3
# The -ERR texts nats-py matches on (lower case; rxnats classifies them the same way).
AUTHORIZATION_VIOLATION = "authorization violation"
PERMISSIONS_ERR = "permissions violation"
STALE_CONNECTION = "stale connection"

# connect()'s defaults.
DEFAULT_INBOX_PREFIX = b"_INBOX"
DEFAULT_PENDING_SIZE = 2 * 1024 * 1024
DEFAULT_RECONNECT_TIME_WAIT = 2
DEFAULT_MAX_RECONNECT_ATTEMPTS = 60
DEFAULT_PING_INTERVAL = 120
DEFAULT_MAX_OUTSTANDING_PINGS = 2
DEFAULT_MAX_PAYLOAD_SIZE = 1024 * 1024  # until the server's INFO says otherwise
DEFAULT_MAX_FLUSHER_QUEUE_SIZE = 1024
DEFAULT_FLUSH_TIMEOUT = 10
DEFAULT_CONNECT_TIMEOUT = 2
DEFAULT_DRAIN_TIMEOUT = 30
MAX_CONTROL_LINE_SIZE = DEFAULT_MAX_CONTROL_LINE
