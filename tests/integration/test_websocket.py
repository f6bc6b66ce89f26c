"""NATS over WebSocket (``ws://``, ``wss://``) against real nats-server processes.

Every server here has a ``websocket`` block (plaintext, or TLS with certificates made by
``trustme``). Covered: publish/subscribe, headers, requests and no responders over both;
a 1 MiB message; a reconnect across a server restart on the same ports; a pool that mixes
``nats://`` and ``ws://``; discovery of WebSocket URLs in a cluster; TLS: certificate,
hostname and client-certificate failures, and never plaintext when TLS is configured;
``ws_connection_headers`` checked by the server (``allowed_origins``), at connect and at
reconnect; compression; clear errors for a wrong port; and nats-py 2.16 over the same
WebSocket listener.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme
from polling import eventually  # tests/ is on sys.path (conftest.py lives there)

import rxnats
from rxnats.errors import (
    NoRespondersError,
    NoServersError,
    ProtocolError,
    SecureConnFailedError,
    SecureConnWantedError,
)
from rxnats.server import NatsCluster, NatsServer, free_port
from rxnats.testing.plugin import NatsServerFactory
from rxnats.wire.aio.tcp import TLSCertificateError

FAST = {"reconnect_time_wait": 0.1, "connect_timeout": 2.0}


@dataclass(frozen=True)
class Certs:
    """A CA and the files of a server certificate (and a client one) it issued."""

    ca: trustme.CA
    ca_file: Path
    cert_file: Path
    key_file: Path
    client: trustme.LeafCert

    def client_context(self, *, with_client_cert: bool = False) -> ssl.SSLContext:
        ctx = ssl.create_default_context()
        self.ca.configure_trust(ctx)
        if with_client_cert:
            self.client.configure_cert(ctx)
        return ctx


def make_certs(directory: Path, *identities: str) -> Certs:
    ca = trustme.CA()
    leaf = ca.issue_cert(*identities)
    directory.mkdir(parents=True, exist_ok=True)
    certs = Certs(
        ca=ca,
        ca_file=directory / "ca.pem",
        cert_file=directory / "server.pem",
        key_file=directory / "server.key",
        client=ca.issue_cert("client@example.com"),
    )
    ca.cert_pem.write_to_path(str(certs.ca_file))
    leaf.cert_chain_pems[0].write_to_path(str(certs.cert_file))
    leaf.private_key_pem.write_to_path(str(certs.key_file))
    return certs


@pytest.fixture
def certs(tmp_path: Path) -> Certs:
    return make_certs(tmp_path / "certs", "localhost", "127.0.0.1")


@dataclass
class WsServer:
    """A server with a WebSocket listener, and how a client connects to it."""

    server: NatsServer
    tls: ssl.SSLContext | None

    @property
    def url(self) -> str:
        return self.server.ws_url

    async def connect(self, **options: object) -> rxnats.NATS:
        return await rxnats.connect(self.url, tls=self.tls, **{**FAST, **options})  # type: ignore[arg-type]  # options are typed by connect()


@pytest.fixture(params=["ws", "wss"])
def ws_server(
    request: pytest.FixtureRequest, nats_server_factory: NatsServerFactory, certs: Certs
) -> WsServer:
    """A server with a plaintext (``ws``) or TLS (``wss``) WebSocket listener."""
    if request.param == "ws":
        return WsServer(nats_server_factory(websocket=True), None)
    server = nats_server_factory(websocket_tls=(certs.cert_file, certs.key_file))
    return WsServer(server, certs.client_context())


@pytest.fixture
async def ws_client(ws_server: WsServer) -> AsyncIterator[rxnats.NATS]:
    nc = await ws_server.connect()
    try:
        yield nc
    finally:
        await nc.close()


# --------------------------------------------------------------------- core over ws
async def test_publish_subscribe_over_websocket(ws_server: WsServer, ws_client: rxnats.NATS) -> None:
    nc = ws_client
    assert nc.connected_url() == ws_server.url
    assert nc._conn is not None and nc._conn.secure == ws_server.url.startswith("wss://")
    sub = await nc.subscribe("ws.>")
    for i in range(100):
        await nc.publish(f"ws.{i}", str(i).encode())
    got = [await sub.next_msg(timeout=5) for _ in range(100)]
    assert [m.data for m in got] == [str(i).encode() for i in range(100)]
    assert all(type(m.data) is bytes for m in got)
    assert got[7].subject == "ws.7"


async def test_headers_over_websocket(ws_client: rxnats.NATS) -> None:
    sub = await ws_client.subscribe("ws.headers")
    await ws_client.publish("ws.headers", b"x", headers={"Trace": "abc", "Multi": ["1", "2"]})
    msg = await sub.next_msg(timeout=5)
    assert msg.headers is not None
    assert msg.headers["Trace"] == "abc"
    assert msg.headers.get_all("Multi") == ["1", "2"]


async def test_request_and_no_responders_over_websocket(ws_client: rxnats.NATS) -> None:
    nc = ws_client

    async def echo(msg: rxnats.Msg) -> None:
        await msg.respond(b"re:" + msg.data)

    await nc.subscribe("ws.echo", cb=echo)
    replies = await asyncio.gather(*(nc.request("ws.echo", b"%d" % i, timeout=5) for i in range(50)))
    assert [r.data for r in replies] == [b"re:%d" % i for i in range(50)]
    with pytest.raises(NoRespondersError):
        await nc.request("ws.nobody", b"", timeout=5)


async def test_one_mib_message_over_websocket(
    request: pytest.FixtureRequest, nats_server_factory: NatsServerFactory, certs: Certs
) -> None:
    for scheme in ("ws", "wss"):
        if scheme == "ws":
            server = WsServer(nats_server_factory(config="max_payload: 4MB\n", websocket=True), None)
        else:
            server = WsServer(
                nats_server_factory(
                    config="max_payload: 4MB\n", websocket_tls=(certs.cert_file, certs.key_file)
                ),
                certs.client_context(),
            )
        async with await server.connect() as nc:
            assert nc.max_payload() == 4 * 1024 * 1024
            payload = bytes(range(256)) * (4 * 1024)  # 1 MiB
            sub = await nc.subscribe("ws.big")
            for _ in range(3):
                await nc.publish("ws.big", payload)
            for _ in range(3):
                msg = await sub.next_msg(timeout=10)
                assert msg.data == payload


async def test_compression_is_negotiated_when_the_server_allows_it(
    nats_server_factory: NatsServerFactory,
) -> None:
    server = nats_server_factory(websocket=True, websocket_compression=True)
    payload = b"compressible " * 20_000
    async with await rxnats.connect(server.ws_url, ws_compression=True) as nc:
        assert nc._conn is not None and getattr(nc._conn, "compressed", None) is True
        sub = await nc.subscribe("ws.z")
        await nc.publish("ws.z", payload)
        assert (await sub.next_msg(timeout=5)).data == payload
    # Not asked for: not used, even by a server that allows it.
    async with await rxnats.connect(server.ws_url) as nc:
        assert nc._conn is not None and getattr(nc._conn, "compressed", None) is False
        await nc.flush()


# --------------------------------------------------------------------- reconnect
async def test_reconnect_across_a_restart_on_the_same_ports(ws_server: WsServer) -> None:
    disconnected = asyncio.Event()
    reconnected = asyncio.Event()

    async def on_disconnect() -> None:
        disconnected.set()

    async def on_reconnect() -> None:
        reconnected.set()

    nc = await ws_server.connect(
        disconnected_cb=on_disconnect, reconnected_cb=on_reconnect, max_reconnect_attempts=-1
    )
    try:
        sub = await nc.subscribe("ws.restart")
        await nc.publish("ws.restart", b"before")
        assert (await sub.next_msg(timeout=5)).data == b"before"
        await ws_server.server.astop()
        await asyncio.wait_for(disconnected.wait(), 10)
        await nc.publish("ws.restart", b"while down")  # buffered, sent after the reconnect
        await ws_server.server.astart()
        await asyncio.wait_for(reconnected.wait(), 20)
        assert nc.connected_url() == ws_server.url
        await nc.publish("ws.restart", b"after")
        assert (await sub.next_msg(timeout=5)).data == b"while down"
        assert (await sub.next_msg(timeout=5)).data == b"after"
    finally:
        await nc.close()


async def test_mixed_pool_fails_over_from_tcp_to_websocket(
    nats_server_factory: NatsServerFactory,
) -> None:
    tcp_only = nats_server_factory()
    ws_too = nats_server_factory(websocket=True)
    reconnected = asyncio.Event()

    async def on_reconnect() -> None:
        reconnected.set()

    nc = await rxnats.connect(
        [tcp_only.url, ws_too.ws_url], dont_randomize=True, reconnected_cb=on_reconnect, **FAST  # type: ignore[arg-type]  # FAST holds floats
    )
    try:
        assert nc.connected_url() == tcp_only.url
        sub = await nc.subscribe("mixed")
        await tcp_only.astop()
        await asyncio.wait_for(reconnected.wait(), 20)
        assert nc.connected_url() == ws_too.ws_url
        await nc.publish("mixed", b"over ws now")
        assert (await sub.next_msg(timeout=5)).data == b"over ws now"
    finally:
        await nc.close()


@pytest.mark.slow
async def test_a_websocket_client_discovers_the_clusters_websocket_urls() -> None:
    cluster = NatsCluster(2, websocket=True)
    cluster.start()
    try:
        first, second = cluster.servers
        reconnected = asyncio.Event()

        async def on_reconnect() -> None:
            reconnected.set()

        nc = await rxnats.connect(first.ws_url, reconnected_cb=on_reconnect, **FAST)  # type: ignore[arg-type]  # FAST holds floats
        try:
            # The server tells a WebSocket client its peers' WebSocket addresses.
            await eventually(lambda: second.ws_url in nc.discovered_servers(), 10, "discovery")
            assert second.url not in nc.servers()  # never the TCP one
            sub = await nc.subscribe("ws.cluster")
            await first.astop()
            await asyncio.wait_for(reconnected.wait(), 20)
            assert nc.connected_url() == second.ws_url
            await nc.publish("ws.cluster", b"on the discovered server")
            assert (await sub.next_msg(timeout=5)).data == b"on the discovered server"
        finally:
            await nc.close()
    finally:
        cluster.close()


# --------------------------------------------------------------------- TLS
async def test_wss_with_a_certificate_from_another_ca_fails_with_a_certificate_error(
    nats_server_factory: NatsServerFactory, certs: Certs, tmp_path: Path
) -> None:
    server = nats_server_factory(websocket_tls=(certs.cert_file, certs.key_file))
    other = make_certs(tmp_path / "other", "localhost", "127.0.0.1")
    with pytest.raises(TLSCertificateError) as info:
        await rxnats.connect(server.ws_url, tls=other.client_context(), connect_timeout=2)
    assert isinstance(info.value, SecureConnFailedError)
    assert isinstance(info.value, ssl.SSLCertVerificationError)
    assert "certificate verification failed" in str(info.value)
    assert server.ws_url in str(info.value)
    # No context at all: the system's CAs do not know trustme's either.
    with pytest.raises(TLSCertificateError):
        await rxnats.connect(server.ws_url, connect_timeout=2)


async def test_wss_checks_the_host_name_and_tls_hostname_overrides_it(
    nats_server_factory: NatsServerFactory, tmp_path: Path
) -> None:
    certs = make_certs(tmp_path / "named", "nats.example.com")
    server = nats_server_factory(websocket_tls=(certs.cert_file, certs.key_file))
    with pytest.raises(TLSCertificateError, match=r"mismatch|doesn't match|not valid"):
        await rxnats.connect(server.ws_url, tls=certs.client_context(), connect_timeout=2)
    async with await rxnats.connect(
        server.ws_url, tls=certs.client_context(), tls_hostname="nats.example.com"
    ) as nc:
        await nc.flush()


async def test_wss_with_client_certificates(
    nats_server_factory: NatsServerFactory, certs: Certs
) -> None:
    port = free_port()
    server = nats_server_factory(
        config=(
            f'websocket {{\n  host: "127.0.0.1"\n  port: {port}\n'
            f'  tls {{ cert_file: "{certs.cert_file}", key_file: "{certs.key_file}", '
            f'ca_file: "{certs.ca_file}", verify: true }}\n}}\n'
        )
    )
    url = f"wss://127.0.0.1:{port}"
    async with await rxnats.connect(url, tls=certs.client_context(with_client_cert=True)) as nc:
        await nc.flush()
    # Without one the server refuses the connection (TLS 1.3: after the handshake, while
    # the client reads the upgrade's answer), and the error says TLS.
    with pytest.raises(SecureConnFailedError, match="certificate required"):
        await rxnats.connect(url, tls=certs.client_context(), connect_timeout=2)
    assert server.is_running()


async def test_a_tls_context_never_falls_back_to_a_plaintext_websocket(
    nats_server_factory: NatsServerFactory, certs: Certs
) -> None:
    server = nats_server_factory(websocket=True)
    with pytest.raises(SecureConnWantedError, match="use wss://"):
        await rxnats.connect(server.ws_url, tls=certs.client_context(), connect_timeout=2)


async def test_wss_against_a_plaintext_listener_is_never_plaintext(
    nats_server_factory: NatsServerFactory,
) -> None:
    server = nats_server_factory(websocket=True)
    url = server.ws_url.replace("ws://", "wss://")
    with pytest.raises(SecureConnWantedError, match="plaintext"):
        await rxnats.connect(url, connect_timeout=2)


async def test_a_tls_pool_refuses_its_ws_member_and_uses_the_tls_one(
    nats_server_factory: NatsServerFactory, certs: Certs
) -> None:
    tls_server = nats_server_factory(websocket_tls=(certs.cert_file, certs.key_file))
    plain = nats_server_factory(websocket=True)
    errors: list[Exception] = []

    async def on_error(exc: Exception) -> None:
        errors.append(exc)

    nc = await rxnats.connect(
        [plain.ws_url, tls_server.ws_url], dont_randomize=True, tls=certs.client_context(),
        error_cb=on_error, connect_timeout=2,
    )
    try:
        assert nc.connected_url() == tls_server.ws_url
        assert any(isinstance(e, SecureConnWantedError) for e in errors)
        assert plain.ws_url not in nc.servers()  # retired: it can never be used
    finally:
        await nc.close()


# --------------------------------------------------------------------- headers, errors
async def test_ws_connection_headers_reach_the_server_at_connect_and_reconnect(
    nats_server_factory: NatsServerFactory,
) -> None:
    port = free_port()
    server = nats_server_factory(
        config=(
            f'websocket {{ host: "127.0.0.1", port: {port}, no_tls: true, '
            'allowed_origins: ["https://app.example"] }\n'
        )
    )
    url = f"ws://127.0.0.1:{port}"
    with pytest.raises((ProtocolError, NoServersError), match="HTTP 403"):
        await rxnats.connect(url, ws_connection_headers={"Origin": "https://evil.example"}, connect_timeout=2)
    reconnected = asyncio.Event()

    async def on_reconnect() -> None:
        reconnected.set()

    nc = await rxnats.connect(
        url, ws_connection_headers={"Origin": ["https://app.example"]},
        reconnected_cb=on_reconnect, max_reconnect_attempts=-1, **FAST,  # type: ignore[arg-type]  # FAST holds floats
    )
    try:
        await server.astop()
        await server.astart()
        # The server checks the Origin again: the reconnect sent the headers again.
        await asyncio.wait_for(reconnected.wait(), 20)
        await nc.flush()
    finally:
        await nc.close()


async def test_ws_url_on_the_tcp_port_says_so(nats_server: NatsServer) -> None:
    url = f"ws://127.0.0.1:{nats_server.port}"
    with pytest.raises(NoServersError, match="speaks plain NATS"):
        await rxnats.connect(url, connect_timeout=2)


# --------------------------------------------------------------------- nats-py
# nats-py 2.16 passes aiohttp a float timeout, which aiohttp deprecates.
natspy_ws = pytest.mark.filterwarnings("ignore:parameter 'timeout':DeprecationWarning")


@natspy_ws
async def test_natspy_and_rxnats_talk_over_the_same_websocket_listener(
    nats_server_factory: NatsServerFactory,
) -> None:
    natspy = pytest.importorskip("nats")
    pytest.importorskip("aiohttp")  # nats-py's WebSocket transport
    server = nats_server_factory(websocket=True)
    py = await natspy.connect(server.ws_url, ws_connection_headers={"X-Client": ["nats-py"]})
    rx = await rxnats.connect(server.ws_url, ws_connection_headers={"X-Client": ["rxnats"]})
    try:

        async def py_echo(msg: object) -> None:
            await msg.respond(b"py:" + msg.data)  # type: ignore[attr-defined]  # nats-py's Msg is untyped

        await py.subscribe("cmp.echo", cb=py_echo)
        py_sub = await py.subscribe("cmp.to_py")
        await py.flush()
        # Under heavy load nats-py's flush() over WebSocket has returned before the server
        # routed to its new subscription (rxnats then gets "no responders"); what this test
        # checks is the exchange itself, so it waits for the route rather than for flush().
        replies: list[bytes] = []

        async def echoed() -> bool:
            try:
                replies.append((await rx.request("cmp.echo", b"hi", timeout=5)).data)
            except NoRespondersError:
                return False
            return True

        await eventually(echoed, timeout=10, what="nats-py's echo subscription answers")
        assert replies == [b"py:hi"]
        await rx.publish("cmp.to_py", b"from rx", headers={"K": "v"})
        got = await py_sub.next_msg(timeout=5)
        assert got.data == b"from rx" and got.headers == {"K": "v"}
        rx_sub = await rx.subscribe("cmp.to_rx")
        await rx.flush()  # the SUB is in before the other connection publishes
        await py.publish("cmp.to_rx", b"from py", headers={"K": "w"})
        msg = await rx_sub.next_msg(timeout=5)
        assert msg.data == b"from py" and msg.headers is not None and msg.headers["K"] == "w"
    finally:
        await rx.close()
        await py.close()


@natspy_ws
async def test_natspy_and_rxnats_agree_on_a_refused_origin(
    nats_server_factory: NatsServerFactory,
) -> None:
    natspy = pytest.importorskip("nats")
    pytest.importorskip("aiohttp")
    port = free_port()
    nats_server_factory(
        config=(
            f'websocket {{ host: "127.0.0.1", port: {port}, no_tls: true, '
            'allowed_origins: ["https://app.example"] }\n'
        )
    )
    url = f"ws://127.0.0.1:{port}"
    good = {"Origin": ["https://app.example"]}
    bad = {"Origin": ["https://evil.example"]}
    py = await natspy.connect(url, ws_connection_headers=good, allow_reconnect=False)
    await py.close()
    async with await rxnats.connect(url, ws_connection_headers=good) as rx:
        await rx.flush()
    with pytest.raises(natspy.errors.NoServersError):
        await natspy.connect(
            url, ws_connection_headers=bad, allow_reconnect=False, max_reconnect_attempts=1,
            error_cb=_ignore,
        )
    with pytest.raises(NoServersError, match="HTTP 403"):
        await rxnats.connect(url, ws_connection_headers=bad, connect_timeout=2)


async def _ignore(exc: Exception) -> None:
    pass
