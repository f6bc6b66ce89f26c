"""The NATS handshake without I/O: from the server's INFO to the PONG that ends it.

Theory of operation (ADR-40). A transport opens a channel to the server (TCP, TLS
first, a WebSocket) and feeds each frame it reads to :meth:`Handshake.receive`, which
answers with what to do next, as a list of :data:`Step`: write bytes, answer a PING,
start TLS, or stop because the connection is up. The decisions live here, with no
socket, no ``ssl`` module and no clock, so each of them is unit-tested by feeding frames:

- the first frame must be INFO;
- TLS never silently degrades: a client that wants TLS (a ``tls://`` URL, a context,
  handshake-first) of a server that offers none gets :class:`SecureConnWantedError`; a
  server that requires TLS of a client with none configured gets
  :class:`SecureConnRequiredError`; otherwise a client that wants TLS starts it after
  INFO unless its channel is secure already;
- CONNECT carries the client's identity, its options and the authentication fields an
  :data:`AuthProvider` picks for this server (its nonce) and URL (its credentials);
- after CONNECT and PING, ``+OK`` and newer INFOs are taken in, a PING is answered, an
  ``-ERR`` is the server refusing (:func:`~rxnats.wire.policy.server_error_exception`),
  anything else is a protocol error; the PONG ends the handshake.

:func:`resume_commands` is what a client re-sends first on a new connection after a
reconnect, in this order: each live subscription (with what is left of its
auto-unsubscribe limit), then one PING per flush still waiting for its PONG. The
publishes buffered meanwhile come after these.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum

from rxnats.errors import ProtocolError, SecureConnRequiredError, SecureConnWantedError
from rxnats.wire.encoder import PING, encode_connect, encode_sub, encode_unsub
from rxnats.wire.frames import ErrFrame, Frame, InfoFrame, OkFrame, PingFrame, PongFrame, ServerInfo
from rxnats.wire.policy import server_error_exception
from rxnats.wire.urls import ServerAddress

__all__ = [
    "AnswerPing",
    "AuthProvider",
    "ConnectSettings",
    "Connected",
    "Handshake",
    "Replay",
    "Send",
    "StartTLS",
    "Step",
    "resume_commands",
]

#: The CONNECT fields that authenticate to a server, given its INFO and the URL used
#: (:func:`rxnats.auth.auth_fields` with the client's credentials).
AuthProvider = Callable[[ServerInfo, ServerAddress], Mapping[str, str]]


def _no_auth(info: ServerInfo, address: ServerAddress) -> Mapping[str, str]:
    return {}


@dataclass(frozen=True, slots=True)
class ConnectSettings:
    """What the client says about itself in CONNECT, and how it authenticates."""

    version: str
    name: str | None = None
    verbose: bool = False
    pedantic: bool = False
    echo: bool = True
    #: TLS was configured (a context or handshake-first): CONNECT says ``tls_required``.
    tls_configured: bool = False
    auth: AuthProvider = _no_auth
    lang: str = "python3"

    def connect_fields(
        self, info: ServerInfo, address: ServerAddress
    ) -> dict[str, str | int | bool]:
        """The CONNECT fields for the server that sent ``info``, reached at ``address``.

        Raises:
            InvalidUserCredentialsError: the credentials could not be read or used.
        """
        fields: dict[str, str | int | bool] = {
            "verbose": self.verbose,
            "pedantic": self.pedantic,
            "lang": self.lang,
            "version": self.version,
            "protocol": 1,
            "headers": True,
            "no_responders": True,
            "echo": self.echo,
            "tls_required": address.secure_scheme or self.tls_configured,
        }
        if self.name:
            fields["name"] = self.name
        fields.update(self.auth(info, address))
        return fields


@dataclass(frozen=True, slots=True)
class Send:
    """Write ``data`` to the server."""

    data: bytes


@dataclass(frozen=True, slots=True)
class AnswerPing:
    """The server sent a PING: answer it (the transport may owe the PONG while paused)."""


@dataclass(frozen=True, slots=True)
class StartTLS:
    """Start TLS on the channel now, then call :meth:`Handshake.tls_started`."""


@dataclass(frozen=True, slots=True)
class Connected:
    """The PONG came: the connection is up, with ``info`` the server's latest INFO."""

    info: ServerInfo


Step = Send | AnswerPing | StartTLS | Connected


class _Phase(Enum):
    INFO = "waiting for INFO"
    TLS = "starting TLS"
    PONG = "waiting for PONG"
    DONE = "connected"


class Handshake:
    """One handshake with the server at ``address`` (see the module docstring).

    ``tls_wanted``: the client asked for TLS (a ``tls://`` URL or a TLS context).
    ``secure``: the channel is encrypted already (TLS handshake-first, ``wss://``), so
    no upgrade is asked for and none is checked.
    """

    __slots__ = ("_phase", "address", "info", "secure", "settings", "tls_wanted")

    def __init__(
        self,
        address: ServerAddress,
        settings: ConnectSettings,
        *,
        tls_wanted: bool = False,
        secure: bool = False,
    ) -> None:
        self.address: ServerAddress = address
        self.settings: ConnectSettings = settings
        self.tls_wanted: bool = tls_wanted
        self.secure: bool = secure
        #: The server's latest INFO (an empty one until the first arrives).
        self.info: ServerInfo = ServerInfo()
        self._phase = _Phase.INFO

    @property
    def awaiting_info(self) -> bool:
        """No INFO has come yet (a silent server may want a TLS handshake first)."""
        return self._phase is _Phase.INFO

    @property
    def done(self) -> bool:
        """The PONG came."""
        return self._phase is _Phase.DONE

    def receive(self, frame: Frame) -> list[Step]:
        """What to do about ``frame``.

        Raises:
            ProtocolError: the server sent something out of place.
            SecureConnWantedError: TLS is wanted and the server offers none.
            SecureConnRequiredError: the server requires TLS and none is configured.
            AuthorizationError, ServerError: the server answered CONNECT with ``-ERR``.
            InvalidUserCredentialsError: the credentials could not be read or used.
        """
        phase = self._phase
        if phase is _Phase.INFO:
            if not isinstance(frame, InfoFrame):
                raise ProtocolError(f"expected INFO from {self.address}, got {type(frame).__name__}")
            self.info = frame.info
            if self._needs_tls(frame.info):
                self._phase = _Phase.TLS
                return [StartTLS()]
            return self._send_connect()
        if phase is _Phase.PONG:
            match frame:
                case PongFrame():
                    self._phase = _Phase.DONE
                    return [Connected(self.info)]
                case OkFrame():
                    return []
                case PingFrame():
                    return [AnswerPing()]
                case InfoFrame(info=newer):
                    self.info = newer
                    return []
                case ErrFrame(message=message):
                    raise server_error_exception(message)
                case _:
                    raise ProtocolError(f"unexpected {type(frame).__name__} before PONG")
        raise ProtocolError(f"unexpected {type(frame).__name__} while {phase.value}")

    def tls_started(self) -> list[Step]:
        """TLS is up (after :class:`StartTLS`): what to send now."""
        if self._phase is not _Phase.TLS:
            raise RuntimeError(f"tls_started() while {self._phase.value}")  # an rxnats bug
        self.secure = True
        return self._send_connect()

    def _needs_tls(self, info: ServerInfo) -> bool:
        if self.secure:
            return False
        # Never fall back to plaintext: asked-for TLS the server lacks is an error.
        if self.tls_wanted and not (info.tls_required or info.tls_available):
            raise SecureConnWantedError(
                f"TLS was requested for {self.address} but the server does not offer it"
            )
        if not self.tls_wanted and info.tls_required:
            raise SecureConnRequiredError(
                f"{self.address} requires TLS: use a tls:// URL or pass tls=ssl_context"
            )
        return self.tls_wanted

    def _send_connect(self) -> list[Step]:
        self._phase = _Phase.PONG
        fields = self.settings.connect_fields(self.info, self.address)
        return [Send(encode_connect(fields) + PING)]


@dataclass(frozen=True, slots=True)
class Replay:
    """A live subscription as a reconnect re-sends it."""

    subject: str
    sid: int
    queue: str = ""
    #: Its auto-unsubscribe limit (0: none) and the messages it received so far.
    max_msgs: int = 0
    received: int = 0


def resume_commands(subscriptions: Iterable[Replay], flushes: int) -> bytes:
    """What a new connection gets first after a reconnect (see the module docstring).

    A subscription with an auto-unsubscribe limit gets ``UNSUB sid n`` right after its
    ``SUB``, ``n`` being what is left of the limit, at least 1 (the new server counts from
    the new SUB). Then one PING per flush still waiting, so each gets its PONG from the
    new server.
    """
    out = bytearray()
    for sub in subscriptions:
        out += encode_sub(sub.subject, sub.sid, sub.queue)
        if sub.max_msgs:
            out += encode_unsub(sub.sid, max(sub.max_msgs - sub.received, 1))
    out += PING * flushes
    return bytes(out)
