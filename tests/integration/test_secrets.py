"""Secrets stay secret: passwords, tokens, seeds and JWTs never show up in logs, ``repr()``,
exception messages, ``servers()``, ``connected_url()`` or connection events.

Each test runs a real server, drives the client through connect, errors and reconnects
with DEBUG logging captured, then searches everything observable for the secret.
"""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path

import nkeys
import pytest
from jwt_helpers import new_keypair, operator_setup  # tests/ is on sys.path

import rxnats
from rxnats import events as ev
from rxnats.auth import AuthSettings
from rxnats.errors import (
    AuthorizationError,
    Error,
    InvalidURLError,
    InvalidUserCredentialsError,
    NoServersError,
)
from rxnats.server import free_port
from rxnats.testing.plugin import NatsServerFactory
from rxnats.wire.urls import parse_server_url

PASSWORD = "pa55-Secret-9f2c"
TOKEN = "tok-Secret-77ab"


def observable_text(nc: rxnats.NATS, events: list[ev.ConnectionEvent], *extra: object) -> str:
    """Everything a user or a log could see of the client, as one string."""
    parts: list[object] = [
        repr(nc),
        str(nc.servers()),
        str(nc.discovered_servers()),
        nc.connected_url(),
        repr(nc.last_error()),
        str(nc.last_error()),
        *(repr(e) for e in events),
        *extra,
    ]
    return "\n".join(str(p) for p in parts)


def record_events(nc: rxnats.NATS) -> list[ev.ConnectionEvent]:
    events: list[ev.ConnectionEvent] = []
    nc.add_event_listener(events.append)
    return events


@pytest.fixture(autouse=True)
def debug_logging(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)


def assert_hidden(secret: str, *texts: str) -> None:
    for text in texts:
        assert secret not in text


async def test_url_password_never_shown(
    nats_server_factory: NatsServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    server = nats_server_factory(config=f'authorization {{ user: alice, password: "{PASSWORD}" }}\n')
    url = f"nats://alice:{PASSWORD}@127.0.0.1:{server.port}"
    reconnected = asyncio.Event()
    errors: list[Exception] = []

    async def error_cb(e: Exception) -> None:
        errors.append(e)

    async def reconnected_cb() -> None:
        reconnected.set()

    nc = rxnats.NATS()
    events = record_events(nc)
    await nc.connect(url, error_cb=error_cb, reconnected_cb=reconnected_cb, reconnect_time_wait=0.05)
    try:
        assert nc.connected_url() == f"nats://127.0.0.1:{server.port}"
        assert nc.servers() == [f"nats://127.0.0.1:{server.port}"]
        await nc.force_reconnect()
        await asyncio.wait_for(reconnected.wait(), 10)
        text = observable_text(nc, events, *map(repr, errors), *map(str, errors))
    finally:
        await nc.close()
    assert_hidden(PASSWORD, text, caplog.text)
    assert "alice:" not in text


async def test_wrong_password_error_hides_it(
    nats_server_factory: NatsServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    server = nats_server_factory(config='authorization { user: alice, password: "right" }\n')
    for in_url in (True, False):
        with pytest.raises(AuthorizationError) as info:
            if in_url:
                await rxnats.connect(f"nats://alice:{PASSWORD}@127.0.0.1:{server.port}")
            else:
                await rxnats.connect(server.url, user="alice", password=PASSWORD)
        assert_hidden(PASSWORD, str(info.value), repr(info.value), repr(info.value.__cause__))
    assert_hidden(PASSWORD, caplog.text)


async def test_no_servers_error_hides_url_credentials(caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(NoServersError) as info:
        await rxnats.connect(
            [f"nats://alice:{PASSWORD}@127.0.0.1:{port}", f"nats://{TOKEN}@127.0.0.1:{port}"]
        )
    assert f"127.0.0.1:{port}" in str(info.value)
    assert_hidden(PASSWORD, str(info.value), repr(info.value), caplog.text)
    assert_hidden(TOKEN, str(info.value), repr(info.value), caplog.text)


async def test_token_never_shown(
    nats_server_factory: NatsServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    server = nats_server_factory(config=f'authorization {{ token: "{TOKEN}" }}\n')
    for in_url in (True, False):
        nc = rxnats.NATS()
        events = record_events(nc)
        if in_url:
            await nc.connect(f"nats://{TOKEN}@127.0.0.1:{server.port}")
        else:
            await nc.connect(server.url, token=TOKEN)
        try:
            text = observable_text(nc, events, repr(nc._options.auth))
        finally:
            await nc.close()
        assert_hidden(TOKEN, text)
    with pytest.raises(AuthorizationError) as info:
        await rxnats.connect(server.url, token=TOKEN + "-wrong")
    assert_hidden(TOKEN, str(info.value), repr(info.value), caplog.text)


async def test_nkey_seed_never_shown(
    nats_server_factory: NatsServerFactory, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    user = new_keypair(nkeys.PREFIX_BYTE_USER)
    server = nats_server_factory(config=f"authorization {{ users: [ {{ nkey: {user.public} }} ] }}\n")
    seed_file = tmp_path / "user.nk"
    seed_file.write_text(user.seed)
    for as_file in (False, True):
        nc = rxnats.NATS()
        events = record_events(nc)
        if as_file:
            await nc.connect(server.url, nkeys_seed=str(seed_file))
        else:
            await nc.connect(server.url, nkeys_seed_str=user.seed)
        try:
            text = observable_text(nc, events, repr(nc._options.auth))
        finally:
            await nc.close()
        assert_hidden(user.seed, text)
    assert_hidden(user.seed, caplog.text)


async def test_creds_jwt_and_seed_never_shown(
    nats_server_factory: NatsServerFactory, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    setup = operator_setup()
    server = nats_server_factory(config=setup.config)
    creds = setup.write_creds(tmp_path)
    nc = rxnats.NATS()
    events = record_events(nc)
    await nc.connect(server.url, user_credentials=str(creds))
    try:
        text = observable_text(nc, events, repr(nc._options.auth))
    finally:
        await nc.close()
    # An expired JWT's refusal hides it too.
    expired = operator_setup(user_expires=1)
    server2 = nats_server_factory(config=expired.config)
    bad = expired.write_creds(tmp_path, "expired.creds")
    with pytest.raises(AuthorizationError) as info:
        await rxnats.connect(server2.url, user_credentials=str(bad))
    for secret in (setup.user.seed, setup.user_jwt, expired.user.seed, expired.user_jwt):
        assert_hidden(secret, text, str(info.value), repr(info.value), caplog.text)


def test_auth_settings_repr_hides_secrets() -> None:
    user = new_keypair(nkeys.PREFIX_BYTE_USER)
    settings = AuthSettings(
        user="alice", password=PASSWORD, token=None, nkeys_seed_str=user.seed
    )
    assert_hidden(PASSWORD, repr(settings), str(settings))
    assert_hidden(user.seed, repr(settings), str(settings))
    assert_hidden(TOKEN, repr(AuthSettings(token=TOKEN)))


def test_server_address_repr_and_str_hide_credentials() -> None:
    for url in (f"nats://alice:{PASSWORD}@h:4222", f"tls://{PASSWORD}@h:4222"):
        address = parse_server_url(url)
        assert_hidden(PASSWORD, repr(address), str(address), address.display())
        assert address.display() == url.split("://")[0] + "://h:4222"


def test_invalid_url_error_hides_credentials() -> None:
    for url in (f"nats://alice:{PASSWORD}@h:notaport", f"http://alice:{PASSWORD}@h:4222"):
        with pytest.raises(InvalidURLError) as info:
            parse_server_url(url)
        assert_hidden(PASSWORD, str(info.value), repr(info.value))


def error_texts(exc: BaseException) -> list[str]:
    """str() and repr() of ``exc`` and of every exception chained to it."""
    texts: list[str] = []
    seen: BaseException | None = exc
    while seen is not None:
        texts += [str(seen), repr(seen)]
        seen = seen.__cause__ or seen.__context__
    return texts


# Passwords a user may paste without percent-encoding: each makes the URL unparseable
# in its own way ('/' starts a path, '#' a fragment, '?' a query, '@' ends userinfo).
# Every piece between them is distinctive, so that a test can look for each piece.
_AWKWARD_PASSWORDS = [
    "Xk7q/Secret",
    "Xk7q#Secret",
    "Xk7q?Secret",
    "Xk7q@Secret",
    "Xk7q/Wj2z#Rt5v?Qm9b@Secret",
    "Xk7q]Secret",
    "[Xk7qSecret",
]


def password_pieces(password: str) -> list[str]:
    return [p for p in re.split(r"[/#?@\[\]]", password) if p]


@pytest.mark.parametrize("password", _AWKWARD_PASSWORDS)
@pytest.mark.parametrize(
    "template",
    [
        "nats://alice:{}@h:4222",
        "tls://alice:{}@h",
        "alice:{}@h:4222",
        "nats://{}@h:4222",
        "http://alice:{}@h:4222",
        "nats://alice:{}@h:4222/path",
    ],
)
def test_invalid_url_error_hides_passwords_with_reserved_characters(
    template: str, password: str
) -> None:
    url = template.format(password)
    try:
        address = parse_server_url(url)
    except InvalidURLError as exc:
        for text in error_texts(exc):
            for piece in password_pieces(password):
                assert piece not in text, (url, text)
    else:  # parsed after all (e.g. '@' in a token): then it must be hidden as usual
        assert_hidden("Secret", repr(address), str(address), address.display())


async def test_connect_with_an_unparseable_url_hides_the_password() -> None:
    for password in _AWKWARD_PASSWORDS:
        with pytest.raises(InvalidURLError) as info:
            await rxnats.connect(f"nats://alice:{password}@127.0.0.1:4222/x")
        for text in error_texts(info.value):
            for piece in password_pieces(password):
                assert piece not in text, text


async def test_credential_file_errors_name_the_path_not_the_content(tmp_path: Path) -> None:
    user = new_keypair(nkeys.PREFIX_BYTE_USER)
    missing = tmp_path / "missing.creds"
    with pytest.raises(InvalidUserCredentialsError) as info:
        await rxnats.connect(free_port_url(), user_credentials=str(missing))
    assert str(missing) in str(info.value)

    malformed = tmp_path / "malformed.creds"
    malformed.write_text(f"-----BEGIN USER NKEY SEED-----\n{user.seed}\n------END USER NKEY SEED------\n")
    with pytest.raises(InvalidUserCredentialsError) as info:
        await rxnats.connect(free_port_url(), user_credentials=str(malformed))
    assert str(malformed) in str(info.value)
    assert_hidden(user.seed, str(info.value), repr(info.value))

    bad_seed = tmp_path / "bad.nk"
    bad_seed.write_text(user.seed[:-3] + "AAA")
    with pytest.raises(InvalidUserCredentialsError) as info:
        await rxnats.connect(free_port_url(), nkeys_seed=str(bad_seed))
    assert_hidden(user.seed[:-3], str(info.value), repr(info.value))
    with pytest.raises(InvalidUserCredentialsError) as info:
        await rxnats.connect(free_port_url(), nkeys_seed_str=user.seed[:-3] + "AAA")
    assert_hidden(user.seed[:-3], str(info.value), repr(info.value))
    assert isinstance(info.value, Error)


def free_port_url() -> str:
    # Credentials are checked before any connection is attempted: nothing listens here.
    return f"nats://127.0.0.1:{free_port()}"

