"""TLS against real nats-server processes, with certificates made by ``trustme``.

Covers: a given ``tls`` context, ``tls://`` URLs with a default context, ``tls_hostname``,
``tls_handshake_first``, mutual TLS, the server requiring TLS, TLS asked of a server that
has none (never plaintext), certificate failures at connect (fast, typed) and at reconnect.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

import rxnats
from rxnats.errors import (
    NoServersError,
    SecureConnFailedError,
    SecureConnRequiredError,
    SecureConnWantedError,
)
from rxnats.server import NatsServer
from rxnats.testing.plugin import NatsServerFactory


@dataclass(frozen=True)
class Certs:
    """A CA and the files of a server certificate it issued."""

    ca: trustme.CA
    ca_file: Path
    cert_file: Path
    key_file: Path

    def client_context(self) -> ssl.SSLContext:
        """A default (verifying) client context that trusts this CA."""
        ctx = ssl.create_default_context()
        self.ca.configure_trust(ctx)
        return ctx

    def tls_block(self, *, verify: bool = False, handshake_first: bool = False) -> str:
        """The server's ``tls { }`` config block for these files."""
        lines = [
            f'cert_file: "{self.cert_file}"',
            f'key_file: "{self.key_file}"',
            f'ca_file: "{self.ca_file}"',
        ]
        if verify:
            lines.append("verify: true")
        if handshake_first:
            lines.append("handshake_first: true")
        return "tls {\n  " + "\n  ".join(lines) + "\n}\n"


def make_certs(directory: Path, *identities: str) -> Certs:
    """A fresh CA and a server certificate for ``identities``, written to ``directory``."""
    ca = trustme.CA()
    leaf = ca.issue_cert(*identities)
    directory.mkdir(parents=True, exist_ok=True)
    certs = Certs(
        ca=ca,
        ca_file=directory / "ca.pem",
        cert_file=directory / "server.pem",
        key_file=directory / "server.key",
    )
    ca.cert_pem.write_to_path(str(certs.ca_file))
    leaf.cert_chain_pems[0].write_to_path(str(certs.cert_file))
    leaf.private_key_pem.write_to_path(str(certs.key_file))
    return certs


@pytest.fixture
def certs(tmp_path: Path) -> Certs:
    """A CA and a server certificate for ``localhost`` and ``127.0.0.1``."""
    return make_certs(tmp_path / "certs", "localhost", "127.0.0.1")


def tls_url(server: NatsServer, host: str = "127.0.0.1") -> str:
    return f"tls://{host}:{server.port}"


class HandshakeFirstServer(NatsServer):
    """A server whose ``tls`` block has ``handshake_first: true``.

    Such a server says nothing until the client's TLS ClientHello, so the readiness probe
    of :class:`NatsServer` (which reads the INFO line in plaintext) is replaced by one
    that speaks TLS first. ``_probe_info`` is NatsServer's readiness hook.
    """

    def __init__(self, certs: Certs) -> None:
        super().__init__(config=certs.tls_block(handshake_first=True))
        self._probe_ctx = certs.client_context()

    def _probe_info(self, timeout: float) -> bool:
        try:
            with (
                socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as raw,
                self._probe_ctx.wrap_socket(raw, server_hostname="localhost") as sock,
            ):
                line = sock.makefile("rb").readline(1 << 20)
        except (OSError, ssl.SSLError):
            return False
        return line.startswith(b"INFO ")


@pytest.fixture
def handshake_first_server(certs: Certs) -> Iterator[NatsServer]:
    server = HandshakeFirstServer(certs)
    server.start()
    try:
        yield server
    finally:
        server.close()


async def roundtrip(nc: rxnats.NATS, subject: str = "tls.check") -> bytes:
    sub = await nc.subscribe(subject)
    await nc.publish(subject, b"over tls")
    msg = await sub.next_msg(timeout=5)
    await sub.unsubscribe()
    return msg.data


def is_tls(nc: rxnats.NATS) -> bool:
    info = nc.connected_server_info()
    conn = nc._conn
    return info is not None and conn is not None and conn.secure


# ------------------------------------------------------------------------- success paths
async def test_tls_context_with_trusted_ca(
    nats_server_factory: NatsServerFactory, certs: Certs
) -> None:
    server = nats_server_factory(config=certs.tls_block())
    async with await rxnats.connect(tls_url(server), tls=certs.client_context()) as nc:
        assert is_tls(nc)
        assert await roundtrip(nc) == b"over tls"


async def test_server_requiring_tls_upgrades_a_nats_url_when_a_context_is_given(
    nats_server_factory: NatsServerFactory, certs: Certs
) -> None:
    # nats:// URL + tls= context: the server's INFO says tls_required, the client upgrades.
    server = nats_server_factory(config=certs.tls_block())
    async with await rxnats.connect(server.url, tls=certs.client_context()) as nc:
        assert is_tls(nc)
        assert nc.connected_server_info() is not None
        assert nc.connected_server_info().tls_required  # type: ignore[union-attr]  # checked above
        assert await roundtrip(nc) == b"over tls"


async def test_tls_url_alone_uses_a_default_verifying_context(
    nats_server_factory: NatsServerFactory, certs: Certs, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No tls= at all: the tls:// URL makes the client use ssl.create_default_context(),
    # which trusts what OpenSSL's default paths say; point them at the test CA.
    server = nats_server_factory(config=certs.tls_block())
    monkeypatch.setenv("SSL_CERT_FILE", str(certs.ca_file))
    async with await rxnats.connect(tls_url(server)) as nc:
        assert is_tls(nc)
        assert await roundtrip(nc) == b"over tls"


async def test_tls_hostname_verifies_a_certificate_for_another_name(
    nats_server_factory: NatsServerFactory, tmp_path: Path
) -> None:
    # The certificate is only for "nats.internal.test"; we connect by IP.
    certs = make_certs(tmp_path / "named", "nats.internal.test")
    server = nats_server_factory(config=certs.tls_block())
    with pytest.raises(SecureConnFailedError, match="certificate verification failed"):
        await rxnats.connect(tls_url(server), tls=certs.client_context(), allow_reconnect=False)
    async with await rxnats.connect(
        tls_url(server), tls=certs.client_context(), tls_hostname="nats.internal.test"
    ) as nc:
        assert is_tls(nc)
        assert await roundtrip(nc) == b"over tls"


async def test_tls_handshake_first(handshake_first_server: NatsServer, certs: Certs) -> None:
    async with await rxnats.connect(
        handshake_first_server.url, tls=certs.client_context(), tls_handshake_first=True
    ) as nc:
        assert is_tls(nc)
        assert await roundtrip(nc) == b"over tls"


async def test_without_handshake_first_against_such_a_server_says_why(
    handshake_first_server: NatsServer, certs: Certs
) -> None:
    # The server waits silently for a ClientHello; the timeout names the likely cause.
    with pytest.raises(NoServersError, match="handshake_first"):
        await rxnats.connect(
            tls_url(handshake_first_server), tls=certs.client_context(), connect_timeout=0.5
        )


async def test_handshake_first_against_a_plain_tls_server_is_secure_conn_wanted(
    nats_server_factory: NatsServerFactory, certs: Certs
) -> None:
    # The server sends its INFO in plaintext first: no handshake-first TLS there.
    server = nats_server_factory(config=certs.tls_block())
    with pytest.raises(SecureConnWantedError, match=r"plaintext.*tls \{ handshake_first"):
        await rxnats.connect(
            server.url, tls=certs.client_context(), tls_handshake_first=True
        )


async def test_mutual_tls(nats_server_factory: NatsServerFactory, certs: Certs) -> None:
    server = nats_server_factory(config=certs.tls_block(verify=True))
    ctx = certs.client_context()
    certs.ca.issue_cert("client@example.test").configure_cert(ctx)
    async with await rxnats.connect(tls_url(server), tls=ctx) as nc:
        assert is_tls(nc)
        assert await roundtrip(nc) == b"over tls"


async def test_mutual_tls_without_a_client_certificate_fails_typed(
    nats_server_factory: NatsServerFactory, certs: Certs
) -> None:
    server = nats_server_factory(config=certs.tls_block(verify=True))
    with pytest.raises(SecureConnFailedError, match="certificate"):
        await rxnats.connect(tls_url(server), tls=certs.client_context())


async def test_mutual_tls_with_a_client_certificate_from_another_ca_fails(
    nats_server_factory: NatsServerFactory, certs: Certs
) -> None:
    server = nats_server_factory(config=certs.tls_block(verify=True))
    ctx = certs.client_context()
    trustme.CA().issue_cert("mallory@example.test").configure_cert(ctx)
    with pytest.raises(SecureConnFailedError):
        await rxnats.connect(tls_url(server), tls=ctx)


async def test_client_cert_loaded_from_files(
    nats_server_factory: NatsServerFactory, certs: Certs, tmp_path: Path
) -> None:
    # The brief's form: ctx.load_cert_chain(cert_file, key_file).
    server = nats_server_factory(config=certs.tls_block(verify=True))
    leaf = certs.ca.issue_cert("client@example.test")
    cert_file, key_file = tmp_path / "client.pem", tmp_path / "client.key"
    leaf.cert_chain_pems[0].write_to_path(str(cert_file))
    leaf.private_key_pem.write_to_path(str(key_file))
    ctx = ssl.create_default_context(cafile=str(certs.ca_file))
    ctx.load_cert_chain(str(cert_file), str(key_file))
    async with await rxnats.connect(tls_url(server), tls=ctx) as nc:
        assert await roundtrip(nc) == b"over tls"


# ------------------------------------------------------------------------- failure paths
async def test_default_context_without_the_ca_fails_fast(
    nats_server_factory: NatsServerFactory, certs: Certs
) -> None:
    # tls:// URL, no context: a default verifying context, which does not know the CA.
    server = nats_server_factory(config=certs.tls_block())
    errors: list[Exception] = []

    async def error_cb(e: Exception) -> None:
        errors.append(e)

    with pytest.raises(SecureConnFailedError, match="certificate verification failed") as info:
        await rxnats.connect(tls_url(server), error_cb=error_cb, max_reconnect_attempts=-1)
    assert isinstance(info.value.__cause__, ssl.SSLCertVerificationError)
    assert isinstance(info.value, ssl.SSLCertVerificationError)  # as nats-py's error is
    await asyncio.sleep(0.05)  # let anything else due reach error_cb
    # The first connect raises; error_cb heard of the one failed server, nothing retried.
    assert errors == [info.value]


async def test_tls_required_by_server_but_not_configured(
    nats_server_factory: NatsServerFactory, certs: Certs
) -> None:
    server = nats_server_factory(config=certs.tls_block())
    with pytest.raises(SecureConnRequiredError, match="requires TLS"):
        await rxnats.connect(server.url)


async def test_tls_url_against_server_without_tls_is_never_plaintext(
    nats_server: NatsServer,
) -> None:
    with pytest.raises(SecureConnWantedError, match="does not offer it"):
        await rxnats.connect(tls_url(nats_server))


async def test_tls_context_against_server_without_tls_is_never_plaintext(
    nats_server: NatsServer, certs: Certs
) -> None:
    with pytest.raises(SecureConnWantedError):
        await rxnats.connect(nats_server.url, tls=certs.client_context())


async def test_handshake_first_against_server_without_tls(nats_server: NatsServer) -> None:
    with pytest.raises(SecureConnWantedError):
        await rxnats.connect(nats_server.url, tls_handshake_first=True)


async def test_certificate_failure_on_reconnect_is_reported_and_ends(
    nats_server_factory: NatsServerFactory, certs: Certs, tmp_path: Path
) -> None:
    """The server comes back with a certificate from another CA.

    Policy (rxnats.wire.policy.classify_attempt_error): a TLS failure retires that server
    at once; error_cb hears each failed attempt; with no server left the client closes
    instead of retrying for max_reconnect_attempts * reconnect_time_wait.
    """
    server = nats_server_factory(config=certs.tls_block())
    port = server.port
    errors: list[Exception] = []
    closed = asyncio.Event()

    async def error_cb(e: Exception) -> None:
        errors.append(e)

    async def closed_cb() -> None:
        closed.set()

    nc = await rxnats.connect(
        tls_url(server),
        tls=certs.client_context(),
        error_cb=error_cb,
        closed_cb=closed_cb,
        reconnect_time_wait=0.1,
        max_reconnect_attempts=-1,  # forever, were it not for the TLS policy
    )
    try:
        server.stop()
        other = make_certs(tmp_path / "other-ca", "localhost", "127.0.0.1")
        nats_server_factory(port=port, config=other.tls_block())
        await asyncio.wait_for(closed.wait(), 20)
        assert nc.is_closed
        assert any(isinstance(e, SecureConnFailedError) for e in errors), errors
    finally:
        await nc.close()


# ------------------------------------------------------------------------- the seed's example
async def test_seed_tls_example(nats_server_factory: NatsServerFactory, certs: Certs) -> None:
    server = nats_server_factory(config=certs.tls_block())
    nats = rxnats  # the seed says `import nats`

    # From /work/shared/seed/core-nats-client.md, "TLS connection", as written except:
    # the URL is our server's instead of tls://demo.nats.io:4443, and the default context
    # is taught our test CA (demo.nats.io's certificate is signed by a public CA).
    ssl_ctx = ssl.create_default_context()
    certs.ca.configure_trust(ssl_ctx)  # substitution: trust the test CA
    nc = await nats.connect(
        servers=[tls_url(server)],
        tls=ssl_ctx,
    )
    try:
        assert is_tls(nc)
        assert await roundtrip(nc) == b"over tls"
    finally:
        await nc.close()
