"""Authentication against real nats-server processes configured at test time.

user/password (options and URL), token (option and URL), nkey users (seed file and
string), operator mode with a memory resolver (creds file, JWT + signature callbacks,
expired/revoked/unknown-account JWTs), per-URL credentials in one pool, permissions, and
wrong credentials that must fail with a typed error instead of retrying.
"""

from __future__ import annotations

import asyncio
import base64
import time
from pathlib import Path

import nkeys
import pytest
from jwt_helpers import (  # tests/ is on sys.path (conftest.py lives there)
    account_jwt,
    creds_text,
    new_keypair,
    operator_jwt,
    operator_setup,
    server_config,
    user_jwt,
)

import rxnats
from rxnats.errors import (
    AuthorizationError,
    NoServersError,
    PermissionsViolationError,
)
from rxnats.server import NatsServer
from rxnats.testing.plugin import NatsServerFactory

USER_PASS_CONFIG = 'authorization { user: alice, password: "s3cret-pw" }\n'
TOKEN_CONFIG = 'authorization { token: "t0ken-abc" }\n'


def with_userinfo(server: NatsServer, userinfo: str) -> str:
    return f"nats://{userinfo}@127.0.0.1:{server.port}"


async def assert_works(nc: rxnats.NATS) -> None:
    sub = await nc.subscribe("auth.check")
    await nc.publish("auth.check", b"ok")
    assert (await sub.next_msg(timeout=5)).data == b"ok"
    await sub.unsubscribe()


# ------------------------------------------------------------------------- user / password
async def test_user_password_options(nats_server_factory: NatsServerFactory) -> None:
    server = nats_server_factory(config=USER_PASS_CONFIG)
    async with await rxnats.connect(server.url, user="alice", password="s3cret-pw") as nc:
        await assert_works(nc)


async def test_user_password_in_url(nats_server_factory: NatsServerFactory) -> None:
    server = nats_server_factory(config=USER_PASS_CONFIG)
    async with await rxnats.connect(with_userinfo(server, "alice:s3cret-pw")) as nc:
        await assert_works(nc)


async def test_url_credentials_win_over_options(nats_server_factory: NatsServerFactory) -> None:
    server = nats_server_factory(config=USER_PASS_CONFIG)
    url = with_userinfo(server, "alice:s3cret-pw")
    async with await rxnats.connect(url, user="alice", password="wrong") as nc:
        await assert_works(nc)


async def test_wrong_password_raises_authorization_error(
    nats_server_factory: NatsServerFactory,
) -> None:
    server = nats_server_factory(config=USER_PASS_CONFIG)
    errors: list[Exception] = []

    async def error_cb(e: Exception) -> None:
        errors.append(e)

    with pytest.raises(AuthorizationError, match=r"(?i)authorization violation") as info:
        await rxnats.connect(
            server.url, user="alice", password="nope", error_cb=error_cb,
            max_reconnect_attempts=-1,
        )
    await asyncio.sleep(0.05)  # let anything else due reach error_cb
    # Raised at once and told to error_cb once (each failed server is), no retries.
    assert errors == [info.value]


async def test_missing_credentials_raise_authorization_error(
    nats_server_factory: NatsServerFactory,
) -> None:
    server = nats_server_factory(config=USER_PASS_CONFIG)
    with pytest.raises(AuthorizationError):
        await rxnats.connect(server.url)


async def test_credentials_refused_after_reconnect_end_the_client(
    nats_server_factory: NatsServerFactory,
) -> None:
    # The server comes back with another password: the client must give up, not loop.
    server = nats_server_factory(config=USER_PASS_CONFIG)
    errors: list[Exception] = []
    closed = asyncio.Event()

    async def error_cb(e: Exception) -> None:
        errors.append(e)

    async def closed_cb() -> None:
        closed.set()

    nc = await rxnats.connect(
        server.url, user="alice", password="s3cret-pw", error_cb=error_cb,
        closed_cb=closed_cb, reconnect_time_wait=0.05, max_reconnect_attempts=-1,
    )
    try:
        server.stop()
        nats_server_factory(
            port=server.port, config='authorization { user: alice, password: "rotated" }\n'
        )
        await asyncio.wait_for(closed.wait(), 20)
        assert any(isinstance(e, AuthorizationError) for e in errors), errors
        assert isinstance(errors[-1], NoServersError | AuthorizationError)
    finally:
        await nc.close()


# ------------------------------------------------------------------------- token
async def test_token_option(nats_server_factory: NatsServerFactory) -> None:
    server = nats_server_factory(config=TOKEN_CONFIG)
    async with await rxnats.connect(server.url, token="t0ken-abc") as nc:
        await assert_works(nc)


async def test_token_in_url(nats_server_factory: NatsServerFactory) -> None:
    server = nats_server_factory(config=TOKEN_CONFIG)
    async with await rxnats.connect(with_userinfo(server, "t0ken-abc")) as nc:
        await assert_works(nc)


async def test_wrong_token(nats_server_factory: NatsServerFactory) -> None:
    server = nats_server_factory(config=TOKEN_CONFIG)
    with pytest.raises(AuthorizationError):
        await rxnats.connect(server.url, token="t0ken-xyz")


# ------------------------------------------------------------------------- nkeys
@pytest.fixture
def nkey_server(nats_server_factory: NatsServerFactory) -> tuple[NatsServer, str]:
    user = new_keypair(nkeys.PREFIX_BYTE_USER)
    server = nats_server_factory(config=f"authorization {{ users: [ {{ nkey: {user.public} }} ] }}\n")
    return server, user.seed


async def test_nkeys_seed_string(nkey_server: tuple[NatsServer, str]) -> None:
    server, seed = nkey_server
    async with await rxnats.connect(server.url, nkeys_seed_str=seed) as nc:
        await assert_works(nc)


async def test_nkeys_seed_file(nkey_server: tuple[NatsServer, str], tmp_path: Path) -> None:
    server, seed = nkey_server
    seed_file = tmp_path / "user.nk"
    seed_file.write_text(seed + "\n")
    async with await rxnats.connect(server.url, nkeys_seed=str(seed_file)) as nc:
        await assert_works(nc)


async def test_nkeys_unknown_key_is_refused(nkey_server: tuple[NatsServer, str]) -> None:
    server, _ = nkey_server
    stranger = new_keypair(nkeys.PREFIX_BYTE_USER)
    with pytest.raises(AuthorizationError):
        await rxnats.connect(server.url, nkeys_seed_str=stranger.seed)


# ------------------------------------------------------------------------- operator mode
async def test_creds_file_in_operator_mode(
    nats_server_factory: NatsServerFactory, tmp_path: Path
) -> None:
    setup = operator_setup()
    server = nats_server_factory(config=setup.config)
    creds = setup.write_creds(tmp_path)
    async with await rxnats.connect(server.url, user_credentials=str(creds)) as nc:
        await assert_works(nc)


async def test_jwt_and_seed_file_pair(
    nats_server_factory: NatsServerFactory, tmp_path: Path
) -> None:
    setup = operator_setup()
    server = nats_server_factory(config=setup.config)
    jwt_file, seed_file = tmp_path / "user.jwt", tmp_path / "user.nk"
    jwt_file.write_text(setup.user_jwt)
    seed_file.write_text(setup.user.seed)
    async with await rxnats.connect(server.url, user_credentials=(jwt_file, seed_file)) as nc:
        await assert_works(nc)


async def test_user_jwt_cb_and_signature_cb(nats_server_factory: NatsServerFactory) -> None:
    # The keys live "elsewhere": the client only sees the JWT and signatures.
    setup = operator_setup()
    server = nats_server_factory(config=setup.config)
    signed: list[str] = []

    def user_jwt_cb() -> bytes:
        return setup.user_jwt.encode()

    def signature_cb(nonce: str) -> bytes:
        signed.append(nonce)
        return base64.urlsafe_b64encode(setup.user.sign(nonce.encode())).rstrip(b"=")

    async with await rxnats.connect(
        server.url, user_jwt_cb=user_jwt_cb, signature_cb=signature_cb
    ) as nc:
        await assert_works(nc)
    assert len(signed) == 1


async def test_signature_cb_returning_raw_signature_bytes(
    nats_server_factory: NatsServerFactory,
) -> None:
    setup = operator_setup()
    server = nats_server_factory(config=setup.config)
    async with await rxnats.connect(
        server.url,
        user_jwt_cb=lambda: setup.user_jwt,
        signature_cb=lambda nonce: setup.user.sign(nonce.encode()),
    ) as nc:
        await assert_works(nc)


async def test_wrong_signature_is_refused(nats_server_factory: NatsServerFactory) -> None:
    setup = operator_setup()
    server = nats_server_factory(config=setup.config)
    other = new_keypair(nkeys.PREFIX_BYTE_USER)
    with pytest.raises(AuthorizationError):
        await rxnats.connect(
            server.url,
            user_jwt_cb=lambda: setup.user_jwt,
            signature_cb=lambda nonce: other.sign(nonce.encode()),
        )


async def test_expired_user_jwt(nats_server_factory: NatsServerFactory, tmp_path: Path) -> None:
    setup = operator_setup(user_expires=int(time.time()) - 3600)
    server = nats_server_factory(config=setup.config)
    creds = setup.write_creds(tmp_path)
    with pytest.raises(AuthorizationError):
        await rxnats.connect(server.url, user_credentials=str(creds))


async def test_user_jwt_expiring_while_connected(
    nats_server_factory: NatsServerFactory, tmp_path: Path
) -> None:
    # The server drops the client when its JWT expires; the same creds cannot come back,
    # so the client reports the error and ends instead of retrying forever.
    setup = operator_setup(user_expires=int(time.time()) + 2)
    server = nats_server_factory(config=setup.config)
    creds = setup.write_creds(tmp_path)
    errors: list[Exception] = []
    closed = asyncio.Event()

    async def error_cb(e: Exception) -> None:
        errors.append(e)

    async def closed_cb() -> None:
        closed.set()

    nc = await rxnats.connect(
        server.url, user_credentials=str(creds), error_cb=error_cb, closed_cb=closed_cb,
        reconnect_time_wait=0.1, max_reconnect_attempts=-1,
    )
    try:
        await assert_works(nc)
        await asyncio.wait_for(closed.wait(), 30)
        auth_errors = [e for e in errors if isinstance(e, AuthorizationError)]
        assert auth_errors, errors
        assert "expired" in str(auth_errors[0]).lower()
    finally:
        await nc.close()


async def test_revoked_user_jwt(nats_server_factory: NatsServerFactory, tmp_path: Path) -> None:
    operator = new_keypair(nkeys.PREFIX_BYTE_OPERATOR)
    account = new_keypair(nkeys.PREFIX_BYTE_ACCOUNT)
    user = new_keypair(nkeys.PREFIX_BYTE_USER)
    issued = int(time.time()) - 60
    account_token = account_jwt(operator, account, revoked_users={user.public: issued + 1})
    server = nats_server_factory(
        config=server_config(operator_jwt(operator), {account.public: account_token})
    )
    creds = tmp_path / "revoked.creds"
    creds.write_text(creds_text(user_jwt(account, user, issued_at=issued), user.seed))
    with pytest.raises(AuthorizationError):
        await rxnats.connect(server.url, user_credentials=str(creds))
    # The same user with a JWT issued after the revocation time gets in.
    creds.write_text(creds_text(user_jwt(account, user), user.seed))
    async with await rxnats.connect(server.url, user_credentials=str(creds)) as nc:
        await assert_works(nc)


async def test_user_of_an_unknown_account(
    nats_server_factory: NatsServerFactory, tmp_path: Path
) -> None:
    setup = operator_setup()
    server = nats_server_factory(config=setup.config)
    stranger_account = new_keypair(nkeys.PREFIX_BYTE_ACCOUNT)
    user = new_keypair(nkeys.PREFIX_BYTE_USER)
    creds = tmp_path / "stranger.creds"
    creds.write_text(creds_text(user_jwt(stranger_account, user), user.seed))
    with pytest.raises(AuthorizationError):
        await rxnats.connect(server.url, user_credentials=str(creds))


# ------------------------------------------------------------------------- per-URL credentials
async def test_different_credentials_per_url_in_one_pool(
    nats_server_factory: NatsServerFactory,
) -> None:
    first = nats_server_factory(config='authorization { user: ann, password: "pw-a" }\n')
    second = nats_server_factory(config='authorization { user: bob, password: "pw-b" }\n')
    urls = [with_userinfo(first, "ann:pw-a"), with_userinfo(second, "bob:pw-b")]
    reconnected = asyncio.Event()

    async def reconnected_cb() -> None:
        reconnected.set()

    nc = await rxnats.connect(
        urls, dont_randomize=True, reconnect_time_wait=0.05, reconnected_cb=reconnected_cb
    )
    try:
        assert nc.connected_url() == f"nats://127.0.0.1:{first.port}"
        first.stop()
        await asyncio.wait_for(reconnected.wait(), 20)
        assert nc.connected_url() == f"nats://127.0.0.1:{second.port}"
        await assert_works(nc)
    finally:
        await nc.close()


async def test_url_credentials_are_not_sent_to_another_server(
    nats_server_factory: NatsServerFactory,
) -> None:
    # Both servers know ann, but only the first URL carries her password: it must not be
    # sent to the second server, which therefore refuses the connection.
    config = 'authorization { user: ann, password: "pw-a" }\n'
    first = nats_server_factory(config=config)
    second = nats_server_factory(config=config)
    first.stop()
    with pytest.raises(NoServersError) as info:
        await rxnats.connect(
            [with_userinfo(first, "ann:pw-a"), f"nats://127.0.0.1:{second.port}"],
            dont_randomize=True,
        )
    assert f"127.0.0.1:{second.port}" in str(info.value)
    assert "authorization violation" in str(info.value).lower()
    assert "pw-a" not in str(info.value)


# ------------------------------------------------------------------------- permissions
PERMISSIONS_CONFIG = """
authorization {
  users: [
    { user: limited, password: pw,
      permissions: { publish: { deny: ["secret.>"] }, subscribe: { deny: ["hidden.>"] } } }
  ]
}
"""


async def test_denied_publish_reports_permissions_violation_and_stays_up(
    nats_server_factory: NatsServerFactory,
) -> None:
    server = nats_server_factory(config=PERMISSIONS_CONFIG)
    errors: asyncio.Queue[Exception] = asyncio.Queue()

    async def error_cb(e: Exception) -> None:
        errors.put_nowait(e)

    async with await rxnats.connect(
        server.url, user="limited", password="pw", error_cb=error_cb
    ) as nc:
        await nc.publish("secret.plans", b"x")
        err = await asyncio.wait_for(errors.get(), 5)
        assert isinstance(err, PermissionsViolationError)
        assert "secret.plans" in str(err)
        assert nc.is_connected
        await assert_works(nc)


async def test_denied_subscription_is_reported_and_kept(
    nats_server_factory: NatsServerFactory,
) -> None:
    # As in nats-py: error_cb hears of it, the subscription is not ended by the client
    # (the server simply never delivers to it), and the connection stays up.
    server = nats_server_factory(config=PERMISSIONS_CONFIG)
    errors: asyncio.Queue[Exception] = asyncio.Queue()

    async def error_cb(e: Exception) -> None:
        errors.put_nowait(e)

    async with await rxnats.connect(
        server.url, user="limited", password="pw", error_cb=error_cb
    ) as nc:
        sub = await nc.subscribe("hidden.things")
        err = await asyncio.wait_for(errors.get(), 5)
        assert isinstance(err, PermissionsViolationError)
        assert "hidden.things" in str(err)
        assert nc.last_error() is err
        assert not sub.is_closed
        await sub.unsubscribe()
        assert nc.is_connected
        await assert_works(nc)


# ------------------------------------------------------------------------- the seed's examples
async def test_seed_authenticated_example(nats_server_factory: NatsServerFactory) -> None:
    server = nats_server_factory(config='authorization { user: myuser, password: "mypass" }\n')
    nats = rxnats  # the seed says `import nats`

    # From /work/shared/seed/core-nats-client.md, "Authenticated connection", as written
    # except the URL: our server instead of nats://demo.nats.io:4222.
    nc = await nats.connect(
        servers=[f"nats://127.0.0.1:{server.port}"],
        user="myuser",
        password="mypass",
    )
    try:
        await assert_works(nc)
    finally:
        await nc.close()


async def test_seed_credentials_file_example(
    nats_server_factory: NatsServerFactory, tmp_path: Path
) -> None:
    setup = operator_setup()
    server = nats_server_factory(config=setup.config)
    creds_path = setup.write_creds(tmp_path)
    nats = rxnats  # the seed says `import nats`

    # From /work/shared/seed/core-nats-client.md, "With credentials file", as written
    # except the URL (our server, not nats://connect.ngs.global) and the path.
    nc = await nats.connect(
        servers=[f"nats://127.0.0.1:{server.port}"],
        user_credentials=str(creds_path),
    )
    try:
        await assert_works(nc)
    finally:
        await nc.close()
