"""The NATS client facade: connection lifecycle, publish, subscribe, request, drain and close.

Theory of operation. :class:`NATS` owns one :class:`~rxnats.wire.aio.writer.Writer` for its
whole life and at most one live :class:`~rxnats.wire.aio.transport.Transport` at a time.
Frames from the connection arrive in :meth:`NATS._on_frames` on the event loop and are
dispatched with ``match``; messages go to their :class:`Subscription` without creating
tasks or futures. When the connection is lost the
:class:`~rxnats.wire.aio.supervisor.Supervisor` finds the next server of the pool and hands
back a fresh connection; the client then re-sends every live subscription, any flush
PINGs still waiting, and the publishes buffered meanwhile, in that order
(:func:`~rxnats.wire.handshake.resume_commands`).

The facade delegates: :class:`~rxnats.client.options.ClientOptions` validates and holds
the options; :class:`~rxnats.client.requests.RequestMux` the new-style requests;
:class:`~rxnats.reporting.Reporter` what users hear (callbacks, events, errors) and the
tasks their code runs in; :class:`~rxnats.state.Lifecycle` the status and closing, which
the client tells what happened; :class:`~rxnats.wire.keepalive.Keepalive` which PONG
answers which PING; and :class:`~rxnats.client.port.ClientPort` is the client as its
subscriptions, messages and the Rx layer see it (:mod:`rxnats.contract`).
"""

from __future__ import annotations

import asyncio
import builtins
import inspect
import logging
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields
from types import TracebackType
from typing import TYPE_CHECKING, Concatenate, Final, ParamSpec
from urllib.parse import ParseResult, urlparse

from rxnats import events as ev
from rxnats._callable_bool import CallableBool, callable_bool
from rxnats.auth import (
    CredentialCallback,
    Credentials,
    JWTCallback,
    SignatureCallback,
    TokenCallback,
)
from rxnats.client.options import DEFAULT_SERVER, ClientOptions, WebSocketHeaders
from rxnats.client.port import ClientPort
from rxnats.client.requests import RequestMux
from rxnats.errors import (
    BadSubjectError,
    BadSubscriptionError,
    BadTimeoutError,
    ConnectionClosedError,
    ConnectionDrainingError,
    ConnectionReconnectingError,
    DrainTimeoutError,
    Error,
    FlushTimeoutError,
    InvalidCallbackTypeError,
    InvalidInputError,
    MaxPayloadError,
    NoEchoNotSupportedError,
    NoRespondersError,
    StaleConnectionError,
    TimeoutError,
    UnexpectedEOF,
)
from rxnats.msg import Msg, received_msg
from rxnats.nuid import TextNUID
from rxnats.pending import (
    DEFAULT_PENDING_BYTES_LIMIT,
    DEFAULT_PENDING_MSGS_LIMIT,
    Overflow,
)
from rxnats.reporting import Reporter
from rxnats.rx._mixins import RxClientMixin
from rxnats.state import (
    Callback,
    CloseReason,
    ConnectionStatus,
    ErrorCallback,
    Lifecycle,
)
from rxnats.subscription import MessageCallback, Subscription
from rxnats.wire.aio.supervisor import Supervisor
from rxnats.wire.aio.transport import Transport
from rxnats.wire.aio.writer import Writer
from rxnats.wire.encoder import (
    PING,
    encode_hpub,
    encode_pub,
    encode_sub,
    encode_unsub,
    pub_head,
)
from rxnats.wire.frames import (
    ErrFrame,
    Frame,
    InfoFrame,
    OkFrame,
    PingFrame,
    PongFrame,
    ServerInfo,
)
from rxnats.wire.handshake import Replay, resume_commands
from rxnats.wire.headers import HeadersInput, encode_headers
from rxnats.wire.keepalive import Keepalive
from rxnats.wire.policy import ErrAction, PoolEntry, classify_server_error, server_error_exception
from rxnats.wire.subjects import check_reply, match_plain_reply

__all__ = ["NATS", "Callback", "ErrorCallback", "Server", "Statistics", "connect"]

if TYPE_CHECKING:
    from rxnats.jetstream import JetStreamContext, JetStreamManager

log: logging.Logger = logging.getLogger("rxnats")

_PUB_LINES_LIMIT = 1024  # cached PUB lines per client (see publish)
_DRAINING = frozenset((ConnectionStatus.DRAINING_SUBS, ConnectionStatus.DRAINING_PUBS))


def _nbytes(payload: bytes | bytearray | memoryview) -> int:
    """Payload size in bytes (a memoryview's len() counts items, which may be wider)."""
    return payload.nbytes if isinstance(payload, memoryview) else len(payload)
_CLOSE_WAIT = 5.0  # how long close() waits for the socket to take what is buffered


@dataclass(slots=True)
class Statistics:
    """Counters of a client's traffic; ``stats["in_msgs"]`` works as in nats-py."""

    in_msgs: int = 0
    out_msgs: int = 0
    in_bytes: int = 0
    out_bytes: int = 0
    reconnects: int = 0
    errors_received: int = 0

    def __getitem__(self, key: str) -> int:
        if key not in self.keys():
            raise KeyError(key)
        value: int = getattr(self, key)
        return value

    @staticmethod
    def keys() -> list[str]:
        """The counter names."""
        return [f.name for f in fields(Statistics)]

    def as_dict(self) -> dict[str, int]:
        """The counters as a plain dict."""
        return {k: self[k] for k in self.keys()}


@dataclass(frozen=True, slots=True)
class Server:
    """One server of the pool (``nc.server_pool()``)."""

    url: str  # without credentials
    reconnects: int = 0  # failed attempts since it last connected
    discovered: bool = False  # announced by the cluster rather than configured
    did_connect: bool = False

    @property
    def uri(self) -> ParseResult:
        """The URL parsed (``uri.hostname``, ``uri.port``), as nats-py's ``Server.uri``."""
        return urlparse(self.url)


class NATS(RxClientMixin):
    """A client connection to a NATS server or cluster.

    Create one with ``await rxnats.connect(...)``, or ``nc = NATS()`` then
    ``await nc.connect(...)``. Use it as an async context manager to close it at the end.
    """

    DISCONNECTED: Final = 0
    CONNECTED: Final = 1
    CLOSED: Final = 2
    RECONNECTING: Final = 3
    CONNECTING: Final = 4
    DRAINING_SUBS: Final = 5
    DRAINING_PUBS: Final = 6

    def __init__(self) -> None:
        # What users hear (callbacks, events, errors) and the tasks their code runs in
        # (rxnats.reporting); the status, closing and why it closed (rxnats.state).
        self._reporter = Reporter()
        self._life = Lifecycle(self._reporter)
        # The client as its subscriptions, messages and the Rx layer see it.
        self._port = ClientPort(self)
        # The options of the current life (connect() validates and sets them).
        self._options = ClientOptions()
        self._stats = Statistics()
        self._nuid = TextNUID()
        self._subs: dict[int, Subscription] = {}
        self._next_sid = 1
        self._conn: Transport | None = None
        # The writer while the client is usable (connect() made it and closing has not
        # begun), else None: the hot paths test this one attribute. What it means, and
        # why it is None, is the lifecycle's to say (_life.usable, _life.closed_error()).
        self._writer: Writer | None = None
        self._supervisor: Supervisor | None = None
        # PINGs outstanding: flushes' futures, and the keepalive timer's (see connect).
        self._pings: Keepalive[asyncio.Future[None]] = Keepalive(2)
        self._ping_task: asyncio.Task[None] | None = None
        self._connect_task: asyncio.Task[object] | None = None
        # The client dropped this connection itself, for this reason (already reported;
        # None: on request, as force_reconnect does).
        self._dropped: tuple[Transport, Exception | None] | None = None
        self._max_payload = 1024 * 1024
        self._requests = RequestMux(
            new_inbox=self.new_inbox,
            subscribe=lambda subject, handler: self._subscribe(subject, direct=handler),
            encode=self._encode_request,
        )
        # subject -> (size, b"PUB subject size\r\n", b"PUB subject "): see _cache_pub_line.
        self._pub_lines: dict[str, tuple[int, bytes, bytes]] = {}
        # Subscriptions drain() took out of _subs: close() must still stop their callbacks.
        self._draining_subs: list[Subscription] = []
        self._lame_duck = False

    # ------------------------------------------------------------------ connecting
    async def connect(
        self,
        servers: str | list[str] = [DEFAULT_SERVER],  # noqa: B006 - the seed's default; never mutated
        *,
        error_cb: ErrorCallback | None = None,
        disconnected_cb: Callback | None = None,
        closed_cb: Callback | None = None,
        discovered_server_cb: Callback | None = None,
        reconnected_cb: Callback | None = None,
        lame_duck_mode_cb: Callback | None = None,
        name: str | None = None,
        pedantic: bool = False,
        verbose: bool = False,
        allow_reconnect: bool = True,
        connect_timeout: float = 2,
        reconnect_time_wait: float = 2,
        max_reconnect_attempts: int = 60,
        reconnect_max_wait: float | None = None,
        ping_interval: float = 120,
        max_outstanding_pings: int = 2,
        dont_randomize: bool = False,
        flusher_queue_size: int = 1024,
        no_echo: bool = False,
        tls: ssl.SSLContext | None = None,
        tls_hostname: str | None = None,
        tls_handshake_first: bool = False,
        user: str | CredentialCallback | None = None,
        password: str | CredentialCallback | None = None,
        token: str | TokenCallback | None = None,
        drain_timeout: float = 30,
        signature_cb: SignatureCallback | None = None,
        user_jwt_cb: JWTCallback | None = None,
        user_credentials: Credentials | None = None,
        nkeys_seed: str | None = None,
        nkeys_seed_str: str | None = None,
        inbox_prefix: str | bytes = b"_INBOX",
        pending_size: int = 2 * 1024 * 1024,
        flush_timeout: float | None = None,
        ws_connection_headers: WebSocketHeaders | None = None,
        ws_compression: bool = False,
    ) -> None:
        """Connect to the first server of ``servers`` that answers.

        Every server is tried once, in random order unless ``dont_randomize``; each
        address its host name resolves to (also shuffled) gets up to ``connect_timeout``
        seconds, so with the defaults a dead ``localhost`` fails within a few seconds.
        After a loss the client reconnects, ``max_reconnect_attempts`` times per server
        (``-1``: forever); a server that refuses the same credentials twice is dropped
        from the pool. Two attempts on the same server start at least
        ``reconnect_time_wait`` apart (plus up to 10 % jitter), whatever ended the first
        one, also across reconnects: a server that accepts the client and drops it at
        once is retried at that pace, not in a loop. The first attempt after losing a
        connection that lasted longer than that is immediate. With
        ``reconnect_max_wait`` the wait doubles with each attempt on a server that gives
        no lasting connection, up to that many seconds (exponential backoff).
        Options are those of the seed; ``flusher_queue_size`` is accepted for nats-py
        compatibility and has no effect (rxnats has no flusher queue: writes coalesce
        per loop turn).

        ``servers`` may mix ``nats://``/``tls://`` URLs with WebSocket ones (``ws://``,
        ``wss://``; ``pip install 'rxnats[websocket]'``): the protocol is the same, only
        the transport differs, and the servers a cluster announces are reached the way
        the one that announced them was. ``ws_connection_headers`` (name to a value or a
        list of values) go into every WebSocket upgrade request, at the first connect
        and at each reconnect; ``ws_compression`` offers permessage-deflate, which a
        server uses when its ``websocket`` block has ``compression: true``.

        Credentials given (``user``/``password``, ``token``, ``user_credentials``, nkeys,
        or in a URL) are sent in every CONNECT, whether or not the server says it requires
        authentication. ``user``, ``password`` and ``token`` may be functions returning
        the string, called at each connect (they must not block).

        Raises:
            NoServersError: no server could be connected to; the message names each
                server and why.
            AuthorizationError: the only server refused the credentials.
            SecureConnRequiredError: the only server requires TLS and none is configured.
            SecureConnWantedError: TLS was asked for and the only server offers none.
            SecureConnFailedError: the TLS handshake with the only server failed.
            InvalidInputError: an option is invalid (bad URL, negative timeout, ...).
            MissingDependencyError: a ``ws://`` or ``wss://`` URL without the
                ``websocket`` extra (also an ``ImportError``).
            InvalidUserCredentialsError: credentials are unreadable or conflict.
            Error: the client is connecting, connected or still closing.
            ConnectionClosedError: :meth:`close` was called while connecting (the
                half-open connection is closed too).

        Each server that fails is reported to ``error_cb`` as it fails, and the error
        raised becomes :meth:`last_error`; the client is then closed (a ``Closed``
        event, no ``closed_cb``: it never connected). A closed client may call
        ``connect()`` again.

        Cancelling it closes the client.
        """
        self._life.check_can_connect()
        options = ClientOptions(
            servers=servers,
            error_cb=error_cb,
            disconnected_cb=disconnected_cb,
            closed_cb=closed_cb,
            discovered_server_cb=discovered_server_cb,
            reconnected_cb=reconnected_cb,
            lame_duck_mode_cb=lame_duck_mode_cb,
            name=name,
            pedantic=pedantic,
            verbose=verbose,
            allow_reconnect=allow_reconnect,
            connect_timeout=connect_timeout,
            reconnect_time_wait=reconnect_time_wait,
            max_reconnect_attempts=max_reconnect_attempts,
            reconnect_max_wait=reconnect_max_wait,
            ping_interval=ping_interval,
            max_outstanding_pings=max_outstanding_pings,
            dont_randomize=dont_randomize,
            flusher_queue_size=flusher_queue_size,
            no_echo=no_echo,
            tls=tls,
            tls_hostname=tls_hostname,
            tls_handshake_first=tls_handshake_first,
            user=user,
            password=password,
            token=token,
            drain_timeout=drain_timeout,
            signature_cb=signature_cb,
            user_jwt_cb=user_jwt_cb,
            user_credentials=user_credentials,
            nkeys_seed=nkeys_seed,
            nkeys_seed_str=nkeys_seed_str,
            inbox_prefix=inbox_prefix,
            pending_size=pending_size,
            flush_timeout=flush_timeout,
            ws_connection_headers=ws_connection_headers,
            ws_compression=ws_compression,
        )
        self._options = options
        reporter = self._reporter
        supervisor = Supervisor(
            options.supervisor_settings(),
            connect_settings=options.connect_settings(),
            on_attempt_failed=self._on_attempt_failed,
            on_attempt=lambda n, entry, delay: reporter.emit(
                ev.Reconnecting(n, entry.address.display(), delay)
            ),
        )
        life = self._life
        life.begin_connect(options.callbacks)
        # A new life: what the last one left behind (a closed client connecting again).
        self._supervisor = supervisor
        self._writer = Writer(pending_size=options.pending_size)
        self._pings = Keepalive(options.max_outstanding_pings)
        self._dropped = None
        task = self._connect_task = asyncio.current_task()
        try:
            conn, entry = await supervisor.connect_initial()
            if options.no_echo and conn.info.proto < 1:
                conn.abort()
                raise NoEchoNotSupportedError()
        except asyncio.CancelledError:
            if life.closing:
                # close() is under way and cancelled this attempt (_finish_closing): unless
                # the caller cancelled too, say what happened rather than "cancelled".
                if task is not None and task.uncancel() == 0:
                    raise ConnectionClosedError("close() was called while connecting") from None
                raise
            await self._connect_failed(None)
            raise
        except BaseException as exc:
            if not life.closing:  # (else close() is closing it)
                await self._connect_failed(exc)
            raise
        finally:
            self._connect_task = None
        self._attach(conn, entry, reconnect=False)

    async def _connect_failed(self, exc: BaseException | None) -> None:
        """The first connect failed (or was cancelled): close, ``exc`` as the last error."""
        life = self._life
        if isinstance(exc, Exception):
            self._reporter.last_error = exc
        life.connect_failed()
        await self._close(CloseReason.CONNECT_FAILED)

    def _attach(self, conn: Transport, entry: PoolEntry, *, reconnect: bool) -> None:
        """Make ``conn`` the live connection: re-send state, then buffered publishes."""
        assert self._writer is not None and self._supervisor is not None
        self._conn = conn
        self._set_max_payload(conn.info.max_payload)
        self._lame_duck = False
        preamble = b""
        if reconnect:
            # The subscriptions, then a PING per flush still waiting, then (the writer
            # sends them after this) the publishes buffered meanwhile.
            flushes = self._pings.reconnected(lambda fut: not fut.done())
            preamble = resume_commands(
                (Replay(s.subject, s.sid, s.queue, s.max_msgs, s.received) for s in self._subs.values()),
                flushes,
            )
        # Servers named in the handshake INFO join the pool quietly: discovered_server_cb
        # (and the ServersDiscovered event) are for servers learnt later, as in nats-py.
        # Before set_handlers, which hands over the frames that came after the PONG.
        self._apply_info_urls(conn, announce=False)
        conn.set_handlers(self._on_frames, lambda exc: self._on_lost(conn, exc))
        self._writer.attach(conn, preamble)
        self._ping_task = asyncio.get_running_loop().create_task(
            self._ping_loop(conn), name="rxnats-ping"
        )
        if reconnect:
            self._stats.reconnects += 1
        self._life.connected(conn.address.display(), reconnect=reconnect)

    def _apply_info_urls(self, conn: Transport, *, announce: bool) -> None:
        assert self._supervisor is not None
        if conn.info.connect_urls:
            added = self._supervisor.pool.add_discovered(
                conn.info.connect_urls, scheme=conn.address.scheme
            )
            if added and announce:
                reporter = self._reporter
                reporter.emit(ev.ServersDiscovered(tuple(added)))
                reporter.call(reporter.callbacks.discovered_server_cb)

    # ------------------------------------------------------------------ frames in
    def _on_frames(self, frames: list[Frame]) -> None:
        # Hot path (one call per socket read, thousands of MSG frames each): locals only,
        # tuple unpacking rather than attribute access, counters added once at the end.
        # Whatever handling one frame raises (a bug, or a handler the client does not
        # own) is reported and the next frame handled: it is never the connection's.
        #
        # What the frames cause to be written goes out coalesced, per read: the replies
        # inline callbacks send (the writer is held meanwhile) and the PONGs owed, each
        # in one write at the end. After a read with several messages the writer stays
        # held until the tasks those messages woke have run (release_after_ready), so
        # that their requests and replies go out together too; a lone message's answer
        # is written at once, as before.
        subs_get = self._subs.get
        port = self._port
        writer = self._writer
        if writer is not None:
            writer.holding = True
        in_msgs = in_bytes = pings = 0
        for frame in frames:
            try:
                if type(frame) is tuple:
                    subject, sid, reply, payload, raw_headers = frame
                    in_msgs += 1
                    in_bytes += len(payload)
                    sub = subs_get(sid)
                    if sub is not None:
                        sub._push(received_msg(port, subject, reply, payload, sid, raw_headers))
                    continue
                match frame:
                    case PingFrame():
                        pings += 1
                    case PongFrame():
                        fut = self._pings.pong()
                        if fut is not None and not fut.done():
                            fut.set_result(None)
                    case InfoFrame(info=info):
                        self._on_info(info)
                    case ErrFrame(message=message):
                        self._on_server_error(message)
                    case OkFrame():
                        pass
            except Exception as exc:
                self._frame_failed(exc)
        stats = self._stats
        stats.in_msgs += in_msgs
        stats.in_bytes += in_bytes
        if pings and self._conn is not None:
            self._conn.answer_ping(pings)
        if writer is not None:
            if in_msgs > 1:
                writer.release_after_ready()
            else:
                writer.holding = False  # release(), inlined: most reads write nothing
                if writer.batch:
                    writer.flush_now()

    def _frame_failed(self, exc: Exception) -> None:
        # A bug (ours or a handler's), not the peer's doing: logged with its traceback,
        # then told to error_cb like a callback's exception; the connection is not
        # affected, so it does not become last_error.
        log.error("rxnats: handling a frame from the server raised", exc_info=exc)
        self._report_callback_error(exc)

    def _set_max_payload(self, limit: int) -> None:
        if limit != self._max_payload:
            self._max_payload = limit
            self._pub_lines.clear()  # their sizes were checked against the old limit

    def _on_info(self, info: ServerInfo) -> None:
        conn = self._conn
        if conn is None:
            return
        conn.info = info
        if info.max_payload:
            self._set_max_payload(info.max_payload)
        self._apply_info_urls(conn, announce=True)
        if info.ldm and not self._lame_duck:
            self._lame_duck = True
            reporter = self._reporter
            reporter.emit(ev.LameDuck(conn.address.display()))
            reporter.call(reporter.callbacks.lame_duck_mode_cb)

    def _on_server_error(self, message: str) -> None:
        self._stats.errors_received += 1
        err = server_error_exception(message)
        action = classify_server_error(message)
        self._reporter.report_error(err)
        if action is ErrAction.KEEP:
            # A denied publish or subscription leaves the subscription in place, as in
            # nats-py: the server simply never delivers to it (error_cb was told).
            return
        if action is ErrAction.AUTH and self._supervisor is not None:
            self._supervisor.note_auth_error(err)
        # The server closes the socket after these; do not wait for it.
        if self._conn is not None:
            self._drop(self._conn, err)

    def _drop(self, conn: Transport, reason: Exception | None) -> None:
        """Drop ``conn`` on purpose: ``reason`` was reported already (None: on request)."""
        self._dropped = (conn, reason)
        conn.abort()

    # ------------------------------------------------------------------ loss and reconnect
    def _on_lost(self, conn: Transport, exc: BaseException | None) -> None:
        if conn is not self._conn:
            return
        self._conn = None
        if self._writer is not None:
            self._writer.detach()
        if self._ping_task is not None:
            self._ping_task.cancel()
            self._ping_task = None
        life = self._life
        if life.closing or life.status == ConnectionStatus.CLOSED:
            return
        dropped, self._dropped = self._dropped, None
        cause: Exception | None
        if dropped is not None and dropped[0] is conn:
            cause, reported = dropped[1], True
        else:
            cause, reported = (exc if isinstance(exc, Exception) else UnexpectedEOF()), False
        draining = life.status in (ConnectionStatus.DRAINING_SUBS, ConnectionStatus.DRAINING_PUBS)
        reconnect = self._options.allow_reconnect and not draining
        life.lost(cause, reported=reported, reconnect=reconnect)
        if reconnect:
            assert self._supervisor is not None
            self._supervisor.start_reconnect(self._on_reconnected, self._on_reconnect_gave_up)
        else:
            self._close_in_background(CloseReason.CONNECTION_LOST)

    def _on_reconnected(self, conn: Transport, entry: PoolEntry) -> None:
        if self._life.closing:
            conn.abort()
            return
        self._attach(conn, entry, reconnect=True)

    def _on_reconnect_gave_up(self, error: Exception) -> None:
        life = self._life
        self._reporter.report_error(error)
        life.gave_up()
        self._close_in_background(CloseReason.CONNECTION_LOST)

    def _on_attempt_failed(self, entry: PoolEntry, error: BaseException) -> None:
        # Every failed attempt is reported, on the first connect as on a reconnect.
        if isinstance(error, Exception) and not self._life.closing:
            self._reporter.report_error(error)

    async def force_reconnect(self) -> None:
        """Drop the current connection and reconnect (to the next server of the pool).

        It returns once the connection is dropped, not when the new one is up (watch
        ``reconnected_cb`` or the events). Publishes still in the client's buffer are
        sent after the reconnect; as with any lost connection, bytes already handed to
        the old socket may be lost. Does nothing while already reconnecting.

        Raises:
            ConnectionClosedError: the client is closed.

        Cancelling it changes nothing (it does not wait).
        """
        if not self._life.usable:
            raise self._life.closed_error()
        if self._conn is not None:
            self._drop(self._conn, None)

    async def rtt(self, timeout: float = 10.0) -> float:
        """The round-trip time to the server, in seconds, measured with one PING/PONG.

        Raises:
            TimeoutError: no PONG within ``timeout`` (also a builtin ``TimeoutError``).
            BadTimeoutError: ``timeout`` is not positive.
            ConnectionClosedError: the client is closed (or closes while waiting).

        While reconnecting it waits for the reconnect, within ``timeout``. Cancelling
        it stops the wait.
        """
        if timeout is None or timeout <= 0:
            raise BadTimeoutError(f"rtt timeout must be positive, not {timeout!r}")
        loop = asyncio.get_running_loop()
        start = loop.time()
        await self.flush(timeout)  # its FlushTimeoutError is a TimeoutError
        return loop.time() - start

    async def _ping_loop(self, conn: Transport) -> None:
        writer = self._writer
        assert writer is not None
        while True:
            await asyncio.sleep(self._options.ping_interval)
            if conn is not self._conn:
                return
            if not self._pings.tick():
                err = StaleConnectionError(
                    f"{self._pings.max_outstanding} PINGs unanswered for "
                    f"{self._options.ping_interval} s each"
                )
                self._reporter.report_error(err)
                self._drop(conn, err)
                return
            writer.write(PING)

    # ------------------------------------------------------------------ callbacks
    def add_event_listener(self, listener: Callable[[ev.ConnectionEvent], None]) -> Callable[[], None]:
        """Call ``listener`` (on the event loop) with every :mod:`rxnats.events` event.

        Returns a function that removes it. A listener that raises is logged and kept.
        """
        return self._reporter.add_event_listener(listener)

    def report_error(self, err: Exception) -> None:
        """Tell ``error_cb`` (or the log, without one) about an error that does not stop
        the client, with an ``ErrorReported`` event (``SlowConsumer`` for a
        :class:`SlowConsumerError`); it becomes :meth:`last_error`.

        For code built on the client (JetStream consumers report the problems they meet
        in the background this way) and for applications that want their own errors
        to go where the client's go. It never raises.
        """
        self._reporter.report_error(err)

    def _report_callback_error(self, err: Exception) -> None:
        """Tell ``error_cb`` about an exception a user callback or observer raised.

        Unlike :meth:`report_error` it does not become :meth:`last_error` (it says
        nothing about the connection), as in nats-py.
        """
        self._reporter.report_error(err, record=False)

    # ------------------------------------------------------------------ publish
    async def publish(
        self,
        subject: str,
        payload: bytes = b"",
        reply: str = "",
        headers: HeadersInput | None = None,
    ) -> None:
        """Publish ``payload`` to ``subject``.

        The message is buffered and written with others in one socket write; use
        :meth:`flush` to know the server has it. While reconnecting, publishes are kept
        (up to ``pending_size`` bytes) and sent after the reconnect.

        Raises:
            ConnectionClosedError: the client is closed.
            BadSubjectError: ``subject`` or ``reply`` is invalid.
            BadHeaderError: a header key or value is invalid.
            MaxPayloadError: headers plus payload exceed :meth:`max_payload`.
            OutboundBufferLimitError: disconnected and ``pending_size`` is used up.
            FlushTimeoutError: the socket stayed full longer than ``flush_timeout``.

        Cancelling it loses nothing already accepted: the message is in the buffer before
        the first await.
        """
        writer = self._writer
        if (
            headers is None
            and not reply
            and type(payload) is bytes
            and writer is not None
        ):
            # Hot path: "PUB subject " is validated once and cached per subject, with the
            # whole line for the first size published there. While the writer is armed a
            # publish of that size is three appends to its batch and two counters; any
            # other is one format and one write(), as before the line was cached.
            size = len(payload)
            stats = self._stats
            cached = self._pub_lines.get(subject)
            if cached is not None and cached[0] == size and writer.armed:
                batch = writer.batch
                batch += cached[1]
                batch += payload
                batch += b"\r\n"
                stats.out_msgs += 1
                stats.out_bytes += size
                if len(batch) >= writer.flush_threshold and writer.flush_full():
                    await self._wait_capacity(writer)
                return
            if size <= self._max_payload:
                if cached is None:
                    cached = self._cache_pub_line(subject, size)
                wait = writer.write(b"%b%d\r\n%b\r\n" % (cached[2], size, payload))
                stats.out_msgs += 1
                stats.out_bytes += size
                if wait:
                    await self._wait_capacity(writer)
                return
        # Headers, a reply, a payload that is not bytes or is too large, a closed client.
        writer = self._publish_nowait(subject, payload, reply, headers)
        if writer.must_wait():
            await self._wait_capacity(writer)

    def _cache_pub_line(self, subject: str, size: int) -> tuple[int, bytes, bytes]:
        """Validate ``subject`` and cache ``(size, b"PUB subject size\r\n", b"PUB subject ")``.

        The cache is cleared whenever max_payload changes, so a cached line's size is
        always one the server allows.

        Raises:
            BadSubjectError: ``subject`` is not a valid literal subject.
        """
        lines = self._pub_lines
        if len(lines) >= _PUB_LINES_LIMIT:
            lines.clear()
        head = pub_head(subject)
        cached = lines[subject] = (size, b"%b%d\r\n" % (head, size), head)
        return cached

    def _publish_nowait(
        self,
        subject: str,
        payload: bytes = b"",
        reply: str = "",
        headers: HeadersInput | None = None,
        *,
        now: bool = False,
    ) -> Writer:
        """Encode and buffer one message without waiting (for the Rx layer); return the writer.

        ``now`` sends it at once (see :meth:`_write_encoded`). Raises what :meth:`publish`
        raises, except ``FlushTimeoutError``.
        """
        if self._writer is None:
            raise self._life.closed_error()
        return self._write_encoded(
            self._encode_message(subject, payload, reply, headers), _nbytes(payload), now=now
        )

    def _publish_reply(self, subject: str, payload: bytes, headers: HeadersInput | None) -> bool:
        """Send a reply to ``subject`` now (see :meth:`Writer.write_now`); return whether
        the writer asks to wait for capacity.

        A reply subject is answered once: it is checked but kept out of the publish
        caches (which it would only churn). Raises what :meth:`publish` raises, except
        ``FlushTimeoutError``.
        """
        writer = self._writer
        if headers is not None or type(payload) is not bytes or writer is None:
            return self._publish_nowait(subject, payload, "", headers, now=True).must_wait()
        size = len(payload)
        if size > self._max_payload:
            raise MaxPayloadError(f"payload of {size} bytes exceeds max_payload {self._max_payload}")
        if type(subject) is not str or match_plain_reply(subject) is None:
            check_reply(subject)  # raises for what cannot be sent, with its message
            if not subject:
                raise BadSubjectError("invalid publish subject ''")
        wait = writer.write_now(b"PUB %b %d\r\n%b\r\n" % (subject.encode(), size, payload))
        stats = self._stats
        stats.out_msgs += 1
        stats.out_bytes += size
        return wait

    def _write_encoded(self, data: bytes, payload_size: int, *, now: bool = False) -> Writer:
        """Buffer one encoded message and count it; return the writer.

        ``now``: someone waits for an answer (a request, a reply): send it at once rather
        than at the end of this loop turn (see :meth:`Writer.write_now`).
        """
        writer = self._writer
        if writer is None:
            raise self._life.closed_error()
        if now:
            writer.write_now(data)
        else:
            writer.write(data)
        stats = self._stats
        stats.out_msgs += 1
        stats.out_bytes += payload_size
        return writer

    def _encode_message(
        self, subject: str, payload: bytes, reply: str, headers: HeadersInput | None
    ) -> bytes:
        """Validate and encode one PUB/HPUB; nothing is sent.

        Raises:
            InvalidInputError, BadSubjectError, BadHeaderError, MaxPayloadError: as
                :meth:`publish` documents.
        """
        if not isinstance(payload, (bytes, bytearray, memoryview)):  # a tuple: no union built per call
            raise InvalidInputError(f"payload must be bytes, not {type(payload).__name__}")
        if type(payload) is not bytes:
            # bytes() of a memoryview is its raw bytes: len() of one whose items are wider
            # than a byte (array('i'), numpy) counts items and would under-size the frame.
            payload = bytes(payload)
        if headers is None:
            size = len(payload)
            if size > self._max_payload:
                raise MaxPayloadError(f"payload of {size} bytes exceeds max_payload {self._max_payload}")
            data = encode_pub(subject, payload, reply)
        else:
            block = encode_headers(headers)
            size = len(block) + len(payload)
            if size > self._max_payload:
                raise MaxPayloadError(
                    f"headers plus payload ({size} bytes) exceed max_payload {self._max_payload}"
                )
            data = encode_hpub(subject, payload, block, reply)
        return data

    def _encode_request(
        self, subject: str, payload: bytes, reply: str, headers: HeadersInput | None
    ) -> bytes:
        """:meth:`_encode_message` for a request, whose reply subject is the client's own
        (a valid inbox and a hex token): the subject's ``PUB subject `` comes from the
        publish cache and the reply is not checked again.

        Raises:
            What :meth:`_encode_message` raises.
        """
        if headers is None and type(payload) is bytes and len(payload) <= self._max_payload:
            cached = self._pub_lines.get(subject)
            if cached is None:
                cached = self._cache_pub_line(subject, len(payload))
            return b"%b%b %d\r\n%b\r\n" % (cached[2], reply.encode(), len(payload), payload)
        return self._encode_message(subject, payload, reply, headers)

    async def _wait_capacity(self, writer: Writer) -> None:
        if self._options.flush_timeout is None:
            await writer.wait_capacity()
            return
        try:
            async with asyncio.timeout(self._options.flush_timeout):
                await writer.wait_capacity()
        except builtins.TimeoutError as exc:
            raise FlushTimeoutError(
                f"the socket did not accept data within flush_timeout={self._options.flush_timeout}"
            ) from exc

    async def flush(self, timeout: float = 10.0) -> None:
        """Send everything buffered and wait for the server to confirm (PING/PONG).

        While reconnecting it waits for the reconnect, within ``timeout``.

        Raises:
            FlushTimeoutError: no PONG within ``timeout`` seconds.
            BadTimeoutError: ``timeout`` is not positive.
            ConnectionClosedError: the client is closed (or closes while waiting).

        Cancelling it stops the wait; the data stays buffered and will be sent.
        """
        if timeout is None or timeout <= 0:
            raise BadTimeoutError(f"flush timeout must be positive, not {timeout!r}")
        writer = self._writer
        if writer is None:
            raise self._life.closed_error()
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pings.flush(fut)
        # A dying connection is as good as none: the reconnect sends this flush's PING
        # (once) in its preamble, so writing one now could answer a later flush early.
        if self._conn is not None and writer.connected:
            writer.write(PING)
        try:
            async with asyncio.timeout(timeout):
                await fut
        except builtins.TimeoutError as exc:
            if isinstance(exc, Error):
                raise
            raise FlushTimeoutError(f"no PONG from the server within {timeout} s") from exc
        finally:
            if not fut.done():
                fut.cancel()

    def pending_data_size(self) -> int:
        """Bytes published but not yet handed to the socket."""
        return self._writer.pending if self._writer is not None else 0

    # ------------------------------------------------------------------ subscribe
    async def subscribe(
        self,
        subject: str,
        queue: str = "",
        cb: MessageCallback | None = None,
        future: asyncio.Future[Msg] | None = None,
        max_msgs: int = 0,
        pending_msgs_limit: int = DEFAULT_PENDING_MSGS_LIMIT,
        pending_bytes_limit: int = DEFAULT_PENDING_BYTES_LIMIT,
        *,
        overflow: Overflow = Overflow.DROP_NEWEST,
    ) -> Subscription:
        """Subscribe to ``subject`` (wildcards allowed), optionally in a queue group.

        Messages go to ``cb`` (a plain or ``async`` function, called one message at a
        time), or complete ``future`` with the first one, or else wait to be read with
        ``async for msg in sub.messages`` / ``await sub.next_msg()``.

        A plain-function ``cb`` is called inline by the reader as each message arrives:
        nothing is queued (the pending limits never drop for it), so it must be quick
        and must not block. If it returns an awaitable, that and every later call run in
        the subscription's task, in order (to answer requests from a plain function use
        :meth:`Msg.respond_nowait`, which returns nothing). An ``async`` ``cb`` always
        runs in that task, behind ``pending_msgs_limit`` / ``pending_bytes_limit`` (a
        limit of 0 or less means no limit, as in nats-py); so do iterator
        subscriptions. When a message does not fit, ``overflow`` decides what is dropped
        (see :mod:`rxnats.pending`); the queue never holds more than its limits.

        Raises:
            ConnectionClosedError: the client is closed.
            ConnectionDrainingError: the client is draining.
            BadSubjectError: invalid subject or queue name.
            InvalidCallbackTypeError: ``cb`` is not callable, or both ``cb`` and ``future``.
            InvalidInputError: negative ``max_msgs``.
        """
        if self._writer is None:
            raise self._life.closed_error()
        if self.is_draining():
            raise ConnectionDrainingError()
        if cb is not None and not callable(cb):
            raise InvalidCallbackTypeError("cb must be callable")
        if cb is not None and future is not None:
            raise InvalidCallbackTypeError("give cb or future, not both")
        if future is not None and not isinstance(future, asyncio.Future):
            raise InvalidCallbackTypeError("future must be an asyncio.Future")
        if max_msgs < 0:
            raise InvalidInputError("max_msgs must be >= 0")
        return self._subscribe(
            subject,
            queue,
            cb=cb,
            future=future,
            max_msgs=max_msgs,
            pending_msgs_limit=pending_msgs_limit,
            pending_bytes_limit=pending_bytes_limit,
            overflow=overflow,
        )

    def _subscribe(
        self,
        subject: str,
        queue: str = "",
        *,
        cb: MessageCallback | None = None,
        future: asyncio.Future[Msg] | None = None,
        max_msgs: int = 0,
        pending_msgs_limit: int = DEFAULT_PENDING_MSGS_LIMIT,
        pending_bytes_limit: int = DEFAULT_PENDING_BYTES_LIMIT,
        overflow: Overflow = Overflow.DROP_NEWEST,
        direct: Callable[[Msg], None] | None = None,
    ) -> Subscription:
        sid = self._next_sid
        line = encode_sub(subject, sid, queue)  # validates before anything is registered
        self._next_sid += 1
        sub = Subscription(
            self._port,
            sid,
            subject,
            queue,
            cb=cb,
            future=future,
            max_msgs=max_msgs,
            pending_msgs_limit=pending_msgs_limit,
            pending_bytes_limit=pending_bytes_limit,
            overflow=overflow,
            direct=direct,
        )
        self._subs[sid] = sub
        if self._conn is not None and self._writer is not None:
            self._writer.write(line)
            if max_msgs:
                self._writer.write(encode_unsub(sid, max_msgs))
        sub._start()
        return sub

    def _send_unsub(self, sid: int, limit: int) -> None:
        # While disconnected nothing is sent: the reconnect re-sends only live subs.
        if self._conn is not None and self._writer is not None:
            self._writer.write(encode_unsub(sid, limit))

    def _forget_sub(self, sid: int) -> None:
        self._subs.pop(sid, None)

    def new_inbox(self) -> str:
        """A unique subject under ``inbox_prefix`` for replies."""
        return f"{self._options.inbox}.{self._nuid.next()}"

    # ------------------------------------------------------------------ request
    async def request(
        self,
        subject: str,
        payload: bytes = b"",
        timeout: float = 0.5,
        old_style: bool = False,
        headers: HeadersInput | None = None,
    ) -> Msg:
        """Publish a request and wait for the first reply.

        New-style requests share one wildcard inbox subscription per client; with
        ``old_style`` each request gets its own inbox subscription.

        Raises:
            TimeoutError: no reply within ``timeout`` (also a builtin ``TimeoutError``).
            NoRespondersError: nobody subscribes to ``subject`` (the server said 503).
            MalformedHeadersError: the reply has no payload and a malformed header block
                (a reply with a payload is returned; its ``headers`` raise it). Only this
                request fails.
            BadTimeoutError: ``timeout`` is not positive.
            ConnectionClosedError: the client is closed, or closes while waiting.
            ConnectionDrainingError: the client is draining (no reply could arrive).
            plus what :meth:`publish` raises.

        Cancelling it forgets the request; a late reply is dropped.
        """
        if timeout is None or timeout <= 0:
            raise BadTimeoutError(f"request timeout must be positive, not {timeout!r}")
        writer = self._writer
        if writer is None:
            raise self._life.closed_error()
        if self._life.cell.value in _DRAINING:
            # The inbox subscriptions are being drained: a reply could never arrive.
            raise ConnectionDrainingError()
        if old_style:
            return await self._request_old_style(subject, payload, timeout, headers)
        # Validated (encoded) before anything is subscribed or registered. The future
        # fails with a builtin TimeoutError when the mux's timer finds it expired.
        requests = self._requests
        data, token, fut = requests.start(subject, payload, headers, timeout)
        try:
            # A request waits for its answer anyway: send now rather than at the end of
            # this loop turn (one turn less per round trip). _write_encoded, inlined.
            wait = writer.write_now(data)
            stats = self._stats
            stats.out_msgs += 1
            stats.out_bytes += len(payload) if type(payload) is bytes else _nbytes(payload)
            if wait:
                await self._wait_capacity(writer)
            # A reply took the request's future out of the mux as it resolved it.
            return await fut
        except BaseException as exc:
            requests.forget(token)  # timed out, cancelled, or the write failed
            if isinstance(exc, NoRespondersError):
                raise NoRespondersError(f"no responders on {subject!r}") from None
            if isinstance(exc, builtins.TimeoutError) and not isinstance(exc, Error):
                raise TimeoutError(f"no reply on {subject!r} within {timeout} s") from exc
            raise

    async def _request_old_style(
        self, subject: str, payload: bytes, timeout: float, headers: HeadersInput | None
    ) -> Msg:
        inbox = self.new_inbox()
        # Validate everything before the inbox is subscribed.
        data = self._encode_message(subject, payload, inbox, headers)
        fut: asyncio.Future[Msg] = asyncio.get_running_loop().create_future()
        sub = await self.subscribe(inbox, future=fut, max_msgs=1)
        try:
            writer = self._write_encoded(data, _nbytes(payload), now=True)
            if writer.must_wait():
                await self._wait_capacity(writer)
            async with asyncio.timeout(timeout):
                msg = await fut
        except builtins.TimeoutError as exc:
            if isinstance(exc, Error):
                raise
            raise TimeoutError(f"no reply on {subject!r} within {timeout} s") from exc
        except BadSubscriptionError as exc:
            if self._life.closing:  # close() ended the inbox subscription
                raise self._life.closed_error() from exc
            raise
        finally:
            if not sub.is_closed and self._life.usable:
                await sub.unsubscribe()
        if not msg.data and msg.status == 503:
            raise NoRespondersError(f"no responders on {subject!r}")
        return msg

    # ------------------------------------------------------------------ drain / close
    async def drain(self) -> None:
        """Drain every subscription, flush publishes, then close.

        Subscriptions stop receiving, deliver what they already hold, then the buffered
        publishes are flushed and the client closes, all within ``drain_timeout``.
        Messages held by an iterator subscription wait for its ``async for`` /
        ``next_msg()`` reader: one that nobody reads any more makes drain last until
        ``drain_timeout``. Called from a subscription callback, drain does not wait for
        that callback's own later messages (they are dropped when it closes).

        Raises:
            ConnectionClosedError: the client is already closed.
            ConnectionReconnectingError: the client is reconnecting.
            DrainTimeoutError: it took longer than ``drain_timeout``; the client is closed
                anyway (and ``error_cb`` is told).

        Cancelling it closes the client.
        """
        life = self._life
        if life.status == ConnectionStatus.CLOSED or not (life.usable or life.closing):
            raise life.closed_error()
        if self.is_draining() or self.is_draining_pubs() or life.closing:
            await life.wait_closed()
            return
        if self.is_reconnecting() or self._conn is None:
            raise ConnectionReconnectingError()
        life.set_status(ConnectionStatus.DRAINING_SUBS)
        try:
            async with asyncio.timeout(self._options.drain_timeout):
                subs = list(self._subs.values())
                self._draining_subs = subs
                for sub in subs:
                    self._send_unsub(sub.sid, 0)
                await self.flush(timeout=self._options.drain_timeout)
                for sub in subs:
                    self._forget_sub(sub.sid)
                    sub._end(None, discard=False)
                # Called from a callback, drain cannot wait for that callback's own task.
                current = asyncio.current_task()
                await asyncio.gather(
                    *(sub.wait_done() for sub in subs if sub._task is not current)
                )
                if life.status == ConnectionStatus.DRAINING_SUBS:
                    life.set_status(ConnectionStatus.DRAINING_PUBS)
                    await self.flush(timeout=self._options.drain_timeout)
        except builtins.TimeoutError as exc:
            err = DrainTimeoutError(f"drain did not finish within {self._options.drain_timeout} s")
            self._reporter.report_error(err)
            await self._close()
            raise err from exc
        except BaseException:
            await self._close()
            raise
        await self._close()

    async def close(self) -> None:
        """Close the connection now; calling it again does nothing.

        What is buffered is handed to the socket first (up to a few seconds); messages
        still queued in subscriptions are dropped, iterators end, waiting requests,
        flushes and ``next_msg()`` calls fail with :class:`ConnectionClosedError`.
        Subscription callbacks still running (also those of a drain in progress) are
        cancelled, and ``close()`` returns once they finished (waiting a few seconds at
        most). ``disconnected_cb`` (when connected), then ``closed_cb`` (when it ever
        connected) are called, and awaited (as long, at most) before it returns.
        Called while ``connect()`` is still connecting, it stops that attempt (which
        raises :class:`ConnectionClosedError`) and closes its half-open socket.

        Cancelling it still closes everything (without waiting for the socket), then
        re-raises the cancellation.
        """
        await self._close()

    async def _close(self, reason: CloseReason = CloseReason.CLOSED) -> None:
        """Close for ``reason``, or wait for the close already under way."""
        writer = self._writer
        if not self._life.begin_close(reason):
            await self._life.wait_closed()
            return
        self._writer = None  # unusable from now on (see __init__)
        await self._finish_closing(writer)

    def _close_in_background(self, reason: CloseReason) -> None:
        """Begin closing now, for ``reason``, and finish in a task (from a callback)."""
        writer = self._writer
        if self._life.begin_close(reason):
            self._writer = None
            self._reporter.spawn(self._finish_closing(writer), "rxnats-close")

    async def _finish_closing(self, writer: Writer | None) -> None:
        life = self._life
        subs = [*self._subs.values(), *self._draining_subs]
        cancelled: asyncio.CancelledError | None = None
        connect_task = self._connect_task
        if connect_task is asyncio.current_task() or (
            connect_task is not None and connect_task.done()
        ):
            connect_task = None
        try:
            if self._ping_task is not None:
                self._ping_task.cancel()
                self._ping_task = None
            conn = self._conn
            self._conn = None
            try:
                if connect_task is not None:
                    # close() during connect(): stop the attempt, which closes its
                    # half-open connection, and wait for that before going on.
                    connect_task.cancel()
                    await asyncio.wait([connect_task])
                if self._supervisor is not None:
                    await self._supervisor.stop()
                if conn is not None and writer is not None:
                    writer.flush_now()
                    await _close_connection(conn)
            except asyncio.CancelledError as exc:
                # Cancelling close() still closes everything; the rest is synchronous
                # (but for the callbacks), and the cancellation is re-raised at the end.
                cancelled = exc
                if conn is not None:
                    conn.abort()
            if writer is not None:
                writer.detach()
                writer.discard()
            for sub in subs:
                sub._end(None, discard=True)
            self._subs.clear()
            self._draining_subs = []
            self._requests.fail_all(life.closed_error())
            for pong in self._pings.reset():
                if not pong.done():
                    pong.set_exception(life.closed_error())
        finally:
            life.finish_close()
            sub_tasks = [s._task for s in subs if s._task is not None]
            # Callbacks still running (subscription tasks already cancelled by _end):
            # close() returns once none runs any more. The caller, maybe a callback
            # itself, is named, as the waits run in tasks of their own.
            await self._reporter.settle(_CLOSE_WAIT, asyncio.current_task(), sub_tasks)
        if cancelled is not None:
            raise cancelled

    async def __aenter__(self) -> NATS:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # ------------------------------------------------------------------ predicates
    @property
    def status(self) -> ConnectionStatus:
        """The current :class:`ConnectionStatus`."""
        return self._life.cell.value

    @property
    def is_connected(self) -> CallableBool:
        """Connected (``nc.is_connected()`` and ``if nc.is_connected:`` both work)."""
        return callable_bool(self._life.cell.value == ConnectionStatus.CONNECTED)

    @property
    def is_closed(self) -> CallableBool:
        """Closed for good."""
        return callable_bool(self._life.cell.value == ConnectionStatus.CLOSED)

    @property
    def is_reconnecting(self) -> CallableBool:
        """Looking for a server after losing the connection."""
        return callable_bool(self._life.cell.value == ConnectionStatus.RECONNECTING)

    @property
    def is_connecting(self) -> CallableBool:
        """Making the first connection."""
        return callable_bool(self._life.cell.value == ConnectionStatus.CONNECTING)

    @property
    def is_draining(self) -> CallableBool:
        """Draining subscriptions or publishes."""
        return callable_bool(self._life.cell.value in _DRAINING)

    @property
    def is_draining_pubs(self) -> CallableBool:
        """Draining publishes (the last step before closing)."""
        return callable_bool(self._life.cell.value == ConnectionStatus.DRAINING_PUBS)

    # ------------------------------------------------------------------ information
    def connected_url(self) -> str:
        """The URL of the connected server without credentials ("" when not connected)."""
        return self._conn.address.display() if self._conn is not None else ""

    def servers(self) -> list[str]:
        """Every server of the pool (configured and discovered), without credentials."""
        return self._supervisor.pool.urls() if self._supervisor is not None else []

    def discovered_servers(self) -> list[str]:
        """The servers learnt from the cluster, without credentials."""
        return self._supervisor.pool.discovered_urls() if self._supervisor is not None else []

    def server_pool(self) -> list[Server]:
        """The servers the client may connect to, in the order it will try them.

        A copy: each :class:`Server` has its URL (without credentials), the failed
        attempts since it last connected, and whether it was discovered or connected.
        Empty before ``connect()``.
        """
        if self._supervisor is None:
            return []
        return [
            Server(e.url, reconnects=e.failures, discovered=e.discovered, did_connect=e.did_connect)
            for e in self._supervisor.pool.entries
        ]

    def set_server_pool(self, servers: list[str]) -> None:
        """Replace the server pool; it is used from the next reconnect on.

        The live connection stays as it is. A server already in the pool keeps what the
        client knows of it (failed attempts); the new pool is shuffled unless
        ``dont_randomize``, and servers the cluster announces are still added to it.

        Raises:
            ConnectionClosedError: the client is closed (or never connected).
            InvalidURLError: a URL is invalid; the pool is left as it was.
            InvalidInputError: ``servers`` is empty or not a list of strings.
        """
        if not self._life.usable or self._supervisor is None:
            raise self._life.closed_error()
        if isinstance(servers, str) or not all(isinstance(u, str) for u in servers):
            raise InvalidInputError("set_server_pool() takes a list of URL strings")
        if not servers:
            raise InvalidInputError("set_server_pool() needs at least one server")
        self._supervisor.set_pool(servers)

    def client_ip(self) -> str:
        """The client's IP address as the server sees it ("" when not connected)."""
        return self._conn.info.client_ip if self._conn is not None else ""

    def max_payload(self) -> int:
        """The largest headers+payload the connected server accepts."""
        return self._max_payload

    def client_id(self) -> int:
        """The id the server gave this connection (0 when not connected)."""
        return self._conn.info.client_id if self._conn is not None else 0

    def connected_server_version(self) -> str:
        """The connected server's version, e.g. ``"2.15.1"`` ("" when not connected)."""
        return self._conn.info.version if self._conn is not None else ""

    def connected_server_info(self) -> ServerInfo | None:
        """The connected server's parsed INFO (:class:`~rxnats.wire.frames.ServerInfo`)."""
        return self._conn.info if self._conn is not None else None

    def last_error(self) -> Exception | None:
        """The most recent error the client met, or ``None`` until one happened."""
        return self._reporter.last_error

    def jetstream(
        self,
        *,
        prefix: str = "$JS.API",
        domain: str | None = None,
        timeout: float = 5.0,
        publish_async_max_pending: int = 4000,
    ) -> JetStreamContext:
        """A JetStream context for publishing to streams and consuming from them.

        ``publish_async_max_pending`` bounds the acks ``js.publish_async`` keeps waiting for.
        """
        from rxnats.jetstream import JetStreamContext  # JetStream is big: loaded on first use

        return JetStreamContext(
            self,
            prefix=prefix,
            domain=domain,
            timeout=timeout,
            publish_async_max_pending=publish_async_max_pending,
        )

    def jsm(
        self,
        *,
        prefix: str = "$JS.API",
        domain: str | None = None,
        timeout: float = 5.0,
    ) -> JetStreamManager:
        """A JetStream manager for administering streams and consumers."""
        from rxnats.jetstream import JetStreamManager  # JetStream is big: loaded on first use

        return JetStreamManager(self, prefix=prefix, domain=domain, timeout=timeout)

    @property
    def stats(self) -> Statistics:
        """Traffic counters."""
        return self._stats

    def __repr__(self) -> str:
        url = self.connected_url() or "-"
        return f"<rxnats.NATS {self._life.cell.value.name} {url}>"


async def _close_connection(conn: Transport) -> None:
    """Close ``conn`` after its buffered bytes are written (at most ``_CLOSE_WAIT`` s).

    The connection's handlers are replaced first, so frames still arriving are ignored
    and its loss does not look like a disconnect to the client. Cancelling it aborts
    the connection.
    """
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def lost(_: BaseException | None) -> None:
        if not done.done():
            done.set_result(None)

    # set_handlers calls lost() at once when the connection is already gone.
    conn.set_handlers(lambda frames: None, lost)
    conn.close()
    try:
        await asyncio.wait_for(done, _CLOSE_WAIT)
    except builtins.TimeoutError:
        conn.abort()
    except asyncio.CancelledError:
        conn.abort()
        raise


P = ParamSpec("P")


def _module_connect(
    method: Callable[Concatenate[NATS, P], Awaitable[None]],
) -> Callable[P, Awaitable[NATS]]:
    """Make ``rxnats.connect(...)`` from ``NATS.connect``: same typed parameters, one place."""

    async def connect(*args: P.args, **kwargs: P.kwargs) -> NATS:
        nc = NATS()
        await method(nc, *args, **kwargs)
        return nc

    sig = inspect.signature(method)
    params = list(sig.parameters.values())[1:]  # without self
    connect.__signature__ = sig.replace(  # type: ignore[attr-defined]  # read by inspect.signature
        parameters=params, return_annotation="NATS"
    )
    connect.__doc__ = (
        "Connect to NATS and return the connected client.\n\n"
        "Takes exactly the parameters of :meth:`NATS.connect`.\n\n" + (method.__doc__ or "")
    )
    connect.__qualname__ = connect.__name__ = "connect"
    return connect


connect: Final = _module_connect(NATS.connect)
