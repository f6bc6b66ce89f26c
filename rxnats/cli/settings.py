"""Connection settings: flags, then ``NATS_*`` variables, then the context, then defaults.

This is the order the ``nats`` CLI applies (its environment variables are the defaults of
its flags, and both override the context). The context is the one named by ``--context``
or ``NATS_CONTEXT``, else the selected one, unless ``--no-context`` is given. As in
``nats``, a user name without a password is sent as a token.

Context files may point at files with ``~`` or ``file://`` and at secrets with
``env://VARIABLE``; other references (``op://``, ``nsc://``, ``data:``) and the ``nsc``
key need tools rxnats does not run, and are refused with a clear error. So are SOCKS
proxies and Windows certificate stores, which rxnats cannot use.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from rxnats.cli.contexts import ContextStore, NatsContext
from rxnats.cli.errors import EXIT_USAGE, CommandFailed
from rxnats.cli.parsing import duration

__all__ = ["DEFAULT_TIMEOUT", "DEFAULT_URL", "ENV_VARS", "Settings", "resolve_settings"]

DEFAULT_URL = "nats://127.0.0.1:4222"
DEFAULT_TIMEOUT = 5.0

#: setting -> (environment variable, context key); None where there is none.
ENV_VARS: dict[str, tuple[str | None, str | None]] = {
    "server": ("NATS_URL", "url"),
    "user": ("NATS_USER", "user"),
    "password": ("NATS_PASSWORD", "password"),
    "token": ("NATS_TOKEN", "token"),
    "creds": ("NATS_CREDS", "creds"),
    "nkey": ("NATS_NKEY", "nkey"),
    "jwt": ("NATS_JWT", "user_jwt"),
    "seed": ("NATS_SEED", "user_seed"),
    "tls_cert": ("NATS_CERT", "cert"),
    "tls_key": ("NATS_KEY", "key"),
    "tls_ca": ("NATS_CA", "ca"),
    "timeout": ("NATS_TIMEOUT", None),
    "socks_proxy": ("NATS_SOCKS_PROXY", "socks_proxy"),
    "inbox_prefix": (None, "inbox_prefix"),
    "js_domain": (None, "jetstream_domain"),
    "js_api_prefix": (None, "jetstream_api_prefix"),
    "connection_name": (None, None),
}
_PATHS = frozenset({"creds", "nkey", "tls_cert", "tls_key", "tls_ca"})


@dataclass(frozen=True)
class Settings:
    """Everything needed to connect, resolved; ``context`` names the context used."""

    servers: tuple[str, ...] = (DEFAULT_URL,)
    user: str | None = None
    password: str | None = None
    token: str | None = None
    creds: str | None = None
    nkey: str | None = None
    jwt: str | None = None
    seed: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_ca: str | None = None
    tls_first: bool = False
    timeout: float = DEFAULT_TIMEOUT
    connection_name: str = "rxnats-cli"
    inbox_prefix: str | None = None
    js_domain: str | None = None
    js_api_prefix: str | None = None
    context: str | None = None

    def __repr__(self) -> str:
        return f"Settings(servers={self.servers!r}, context={self.context!r})"


def _choose_context(args: argparse.Namespace, env: Mapping[str, str], store: ContextStore) -> NatsContext | None:
    if getattr(args, "no_context", False):
        return None
    ref: str | None = getattr(args, "context", None) or env.get("NATS_CONTEXT") or None
    if ref:
        return store.load(ref)
    selected = store.selected()
    if selected is None:
        return None
    if not store.exists(selected):
        raise CommandFailed(
            f"the selected context {selected!r} does not exist ({store.selection_file})",
            hint="select another with 'rxnats context select NAME', or pass --no-context",
        )
    return store.load(selected)


def _from_context(context: NatsContext, key: str, setting: str) -> str | None:
    value = context.text(key).strip()
    if not value:
        return None
    scheme, sep, rest = value.partition("://")
    if sep and scheme == "file":
        value = rest
    elif sep and scheme == "env":
        resolved = os.environ.get(rest)
        if not resolved:
            raise CommandFailed(
                f"context {context.name!r}: {key} refers to ${rest}, which is not set",
                hint=f"export {rest}=..., or change the context ('rxnats context info {context.name}')",
            )
        return resolved
    elif (sep and scheme in ("op", "nsc")) or value.startswith("data:"):
        raise CommandFailed(
            f"context {context.name!r}: {key} uses a {scheme or 'data'} reference, which rxnats cannot resolve",
            hint="point it at a file instead (rxnats context add NAME --creds FILE)",
        )
    if setting in _PATHS:
        value = str(Path(value).expanduser())
    return value


def resolve_settings(
    args: argparse.Namespace,
    environ: Mapping[str, str] | None = None,
    store: ContextStore | None = None,
) -> Settings:
    """The connection settings of a parsed command line.

    Raises:
        CommandFailed: a bad ``NATS_TIMEOUT``, an unknown or unusable context, or a
            setting rxnats cannot honour (a SOCKS proxy, a Windows certificate store,
            ``nsc`` lookups).
    """
    env = os.environ if environ is None else environ
    store = store or ContextStore.default(env)
    context = _choose_context(args, env, store)
    values: dict[str, str | None] = {}
    for setting, (variable, key) in ENV_VARS.items():
        value: object = getattr(args, setting, None)
        if value is None and variable is not None:
            value = env.get(variable) or None
        if value is None and context is not None and key is not None:
            value = _from_context(context, key, setting)
        values[setting] = None if value is None else str(value)
    if context is not None:
        for key in ("nsc", "windows_cert_store"):
            if context.text(key):
                raise CommandFailed(
                    f"context {context.name!r} sets {key!r}, which rxnats does not support",
                    hint=f"make a context without it: rxnats context add NAME ... ({context.path})",
                )
    if values["socks_proxy"]:
        raise CommandFailed(
            "SOCKS proxies are not supported by rxnats",
            EXIT_USAGE,
            hint="unset NATS_SOCKS_PROXY / drop --socks-proxy (or the context's socks_proxy)",
        )
    timeout = DEFAULT_TIMEOUT
    timeout_text = values["timeout"]
    if timeout_text is not None:
        try:
            timeout = duration(timeout_text)
        except argparse.ArgumentTypeError as exc:
            raise CommandFailed(f"NATS_TIMEOUT: {exc}", EXIT_USAGE, hint="e.g. NATS_TIMEOUT=5s") from None
        if timeout <= 0:
            raise CommandFailed("NATS_TIMEOUT must be positive", EXIT_USAGE, hint="e.g. NATS_TIMEOUT=5s")
    user, password, token = values["user"], values["password"], values["token"]
    if user and not password and not token:
        user, token = None, user  # `nats --user TOKEN` sends a token
    servers = tuple(u.strip() for u in (values["server"] or DEFAULT_URL).split(",") if u.strip())
    return Settings(
        servers=servers or (DEFAULT_URL,),
        user=user or None,
        password=password if user else None,
        token=token,
        creds=values["creds"],
        nkey=values["nkey"],
        jwt=values["jwt"],
        seed=values["seed"],
        tls_cert=values["tls_cert"],
        tls_key=values["tls_key"],
        tls_ca=values["tls_ca"],
        tls_first=bool(getattr(args, "tls_first", False)) or (context is not None and context.flag("tls_first")),
        timeout=timeout,
        connection_name=values["connection_name"] or "rxnats-cli",
        inbox_prefix=values["inbox_prefix"],
        js_domain=values["js_domain"],
        js_api_prefix=values["js_api_prefix"],
        context=context.name if context is not None else None,
    )
