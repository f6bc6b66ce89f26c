"""Connecting with resolved :class:`~rxnats.cli.settings.Settings`, and JetStream handles."""

from __future__ import annotations

import argparse
import ssl
from pathlib import Path

from rxnats.auth import Credentials, sign_nonce
from rxnats.cli.errors import EXIT_USAGE, CommandFailed, one_line
from rxnats.cli.output import info
from rxnats.cli.settings import Settings, resolve_settings
from rxnats.client import NATS, ErrorCallback, connect
from rxnats.jetstream import JetStreamContext

__all__ = ["jetstream", "open_connection", "settings_of", "tls_context"]


def settings_of(args: argparse.Namespace) -> Settings:
    """The resolved settings of ``args`` (resolved once, then kept on ``args``)."""
    cached = getattr(args, "_settings", None)
    if isinstance(cached, Settings):
        return cached
    settings = resolve_settings(args)
    args._settings = settings
    return settings


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    """An SSL context for the TLS options, or None when none is given.

    Raises:
        CommandFailed: a key without a certificate, or a file that cannot be used.
    """
    ca, cert, key = settings.tls_ca, settings.tls_cert, settings.tls_key
    if key and not cert:
        raise CommandFailed("--tlskey needs --tlscert", EXIT_USAGE, hint="give the certificate too")
    if not (ca or cert or settings.tls_first):
        return None
    try:
        context = ssl.create_default_context(cafile=ca)
    except OSError as exc:  # ssl.SSLError is an OSError too
        raise CommandFailed(
            f"cannot use --tlsca {ca}: {exc.strerror or exc}", hint="give a PEM file of CA certificates"
        ) from None
    if cert:
        try:
            context.load_cert_chain(cert, key)
        except OSError as exc:
            raise CommandFailed(
                f"cannot use --tlscert {cert}" + (f" / --tlskey {key}" if key else "")
                + f": {exc.strerror or exc}",
                hint="give a PEM certificate and its private key",
            ) from None
    return context


def _literal(value: str, what: str) -> str:
    """``value``, or the content of the file it names (errors never quote a value)."""
    path = Path(value).expanduser()
    try:
        is_file = path.is_file()
    except OSError:  # e.g. a JWT is too long to be a file name: it is the value itself
        is_file = False
    if not is_file:
        return value.strip()
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandFailed(f"cannot read the {what} file {value}: {exc}", hint="check the path") from None


async def open_connection(
    args: argparse.Namespace,
    servers: list[str] | None = None,
    *,
    connect_timeout: float | None = None,
    max_reconnect_attempts: int = 60,
    reconnect_time_wait: float = 2.0,
    error_cb: ErrorCallback | None = None,
) -> NATS:
    """Connect with the settings of ``args`` (to ``servers`` when given).

    Errors the client reports while connecting are left to the error this raises (one
    line); once connected, each reported error is a one-line warning on stderr, unless
    ``error_cb`` handles them.

    Raises:
        NoServersError, AuthorizationError, ...: what :func:`rxnats.connect` raises.
        CommandFailed: inconsistent or unusable connection options.
    """
    settings = settings_of(args)
    credentials: Credentials | None = settings.creds
    jwt_cb = signature_cb = None
    if settings.jwt or settings.seed:
        if not (settings.jwt and settings.seed):
            raise CommandFailed("--jwt and --seed go together", EXIT_USAGE, hint="give both, or use --creds FILE")
        jwt, seed = _literal(settings.jwt, "--jwt"), _literal(settings.seed, "--seed")

        def jwt_cb() -> str:
            return jwt

        def signature_cb(nonce: str) -> bytes:
            return sign_nonce(bytearray(seed.encode()), nonce)[1].encode()

    connected = False

    async def warn(error: Exception) -> None:
        if connected:
            info(f"rxnats: warning: {one_line(str(error)) or type(error).__name__}")

    nc = await connect(
        servers if servers is not None else list(settings.servers),
        name=settings.connection_name,
        connect_timeout=connect_timeout if connect_timeout is not None else settings.timeout,
        user_credentials=credentials,
        nkeys_seed=settings.nkey,
        user_jwt_cb=jwt_cb,
        signature_cb=signature_cb,
        user=settings.user,
        password=settings.password,
        token=settings.token,
        tls=tls_context(settings),
        tls_handshake_first=settings.tls_first,
        inbox_prefix=settings.inbox_prefix or "_INBOX",
        max_reconnect_attempts=max_reconnect_attempts,
        reconnect_time_wait=reconnect_time_wait,
        error_cb=error_cb or warn,
    )
    connected = True
    return nc


def jetstream(nc: NATS, settings: Settings) -> JetStreamContext:
    """A JetStream context honouring ``--js-domain``, ``--js-api-prefix`` and ``--timeout``."""
    if settings.js_api_prefix:
        return nc.jetstream(prefix=settings.js_api_prefix, timeout=settings.timeout)
    return nc.jetstream(domain=settings.js_domain, timeout=settings.timeout)
