"""WebSocket URLs, options and the missing-extra error, without a server."""

from __future__ import annotations

import random
import ssl
import sys

import pytest

import rxnats
from rxnats.client.options import ClientOptions
from rxnats.errors import InvalidInputError, InvalidURLError, MissingDependencyError
from rxnats.wire.aio.transport import TLSSettings
from rxnats.wire.frames import ServerInfo
from rxnats.wire.handshake import ConnectSettings
from rxnats.wire.policy import AttemptVerdict, ServerPool, classify_attempt_error
from rxnats.wire.urls import parse_server_url


# ------------------------------------------------------------------------------ URLs
@pytest.mark.parametrize(
    ("url", "scheme", "host", "port", "path"),
    [
        ("ws://h", "ws", "h", 80, ""),
        ("wss://h", "wss", "h", 443, ""),
        ("ws://h:8080", "ws", "h", 8080, ""),
        ("WSS://h:8443/", "wss", "h", 8443, ""),
        ("wss://proxy.example/nats/ws", "wss", "proxy.example", 443, "/nats/ws"),
        ("ws://[::1]:9222", "ws", "::1", 9222, ""),
    ],
)
def test_websocket_urls_parse_with_their_default_ports_and_path(
    url: str, scheme: str, host: str, port: int, path: str
) -> None:
    address = parse_server_url(url)
    assert (address.scheme, address.host, address.port, address.path) == (scheme, host, port, path)
    assert address.websocket
    assert address.secure_scheme == (scheme == "wss")


def test_websocket_url_display_keeps_the_path_and_hides_credentials() -> None:
    address = parse_server_url("wss://user:secret@proxy.example/nats")
    assert address.display() == "wss://proxy.example:443/nats"
    assert "secret" not in repr(address)
    assert (address.user, address.password) == ("user", "secret")


@pytest.mark.parametrize(
    "url", ["nats://h:4222/path", "tls://h/x", "ws://h:1?q=1", "ws://h#frag", "http://h:80"]
)
def test_a_path_on_a_tcp_url_a_query_or_another_scheme_is_refused(url: str) -> None:
    with pytest.raises(InvalidURLError):
        parse_server_url(url)


def test_tcp_urls_are_unchanged() -> None:
    address = parse_server_url("tls://h")
    assert (address.port, address.path, address.websocket, address.secure_scheme) == (
        4222, "", False, True
    )
    assert not parse_server_url("h:1").secure_scheme


def test_wss_wants_tls_and_says_so_in_connect() -> None:
    wss, ws = parse_server_url("wss://h"), parse_server_url("ws://h")
    assert TLSSettings().wanted(wss) and not TLSSettings().wanted(ws)
    settings = ConnectSettings(version="0")
    assert settings.connect_fields(ServerInfo(), wss)["tls_required"] is True
    assert settings.connect_fields(ServerInfo(), ws)["tls_required"] is False


# ------------------------------------------------------------------------------ pool
def test_a_websocket_pool_learns_websocket_urls_of_its_own_scheme() -> None:
    pool = ServerPool(["wss://a:443"], randomize=False, rng=random.Random(1))
    added = pool.add_discovered(["b:8443", "[fd00::2]:8443"], scheme="wss")
    assert added == ["wss://b:8443", "wss://[fd00::2]:8443"]
    mixed = ServerPool(["nats://a:4222", "ws://a:8080"], randomize=False)
    assert mixed.add_discovered(["c:8080"], scheme="ws") == ["ws://c:8080"]
    assert mixed.add_discovered(["c:4222"], scheme="nats") == ["nats://c:4222"]


# ------------------------------------------------------------------------------ options
def test_ws_connection_headers_take_a_value_or_a_list_of_values() -> None:
    opts = ClientOptions(
        servers="ws://h:1",
        ws_connection_headers={"Origin": "https://app", "X-Multi": ["1", "2"], "Empty": []},
    )
    assert opts.ws_headers == (("Origin", "https://app"), ("X-Multi", "1"), ("X-Multi", "2"))
    assert opts.supervisor_settings().ws_headers == opts.ws_headers
    assert ClientOptions().ws_headers == ()
    assert ClientOptions(ws_compression=True).supervisor_settings().ws_compression


@pytest.mark.parametrize(
    ("headers", "match"),
    [
        ({"Bad Name": "x"}, "invalid WebSocket header name"),
        ({"": "x"}, "invalid WebSocket header name"),
        ({"X-A:": "x"}, "invalid WebSocket header name"),
        ({"Host": "evil"}, "the WebSocket upgrade sets it"),
        ({"sec-websocket-key": "k"}, "the WebSocket upgrade sets it"),
        ({"X-A": "a\r\nInjected: 1"}, "without CR, LF or NUL"),
        ({"X-A": ["ok", 3]}, "without CR, LF or NUL"),
        ({"X-A": 3}, "a string or a list of strings"),
        ([("X-A", "b")], "must be a dict"),
    ],
)
def test_bad_ws_connection_headers_are_refused(headers: object, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        ClientOptions(ws_connection_headers=headers)  # type: ignore[arg-type]  # bad on purpose


# ------------------------------------------------------------------------------ the extra
@pytest.fixture
def without_websockets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``import websockets`` fail as it does when the extra is not installed."""
    monkeypatch.setitem(sys.modules, "websockets", None)
    for name in [n for n in sys.modules if n.startswith("websockets.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.delitem(sys.modules, "rxnats.wire.aio.ws", raising=False)


@pytest.mark.usefixtures("without_websockets")
def test_a_websocket_url_without_the_extra_names_the_pip_command() -> None:
    with pytest.raises(MissingDependencyError) as info:
        ClientOptions(servers=["nats://a:4222", "wss://b"])
    assert "pip install 'rxnats[websocket]'" in str(info.value)
    assert isinstance(info.value, ImportError) and info.value.name == "websockets"
    assert isinstance(info.value.__cause__, ModuleNotFoundError)
    # TCP URLs need nothing more.
    assert ClientOptions(servers=["nats://a:4222", "tls://b"]).urls == ("nats://a:4222", "tls://b")


@pytest.mark.usefixtures("without_websockets")
async def test_connect_to_a_websocket_url_without_the_extra_fails_and_closes() -> None:
    nc = rxnats.NATS()
    with pytest.raises(MissingDependencyError, match=r"rxnats\[websocket\]"):
        await nc.connect("ws://127.0.0.1:1")
    assert not nc.is_connected


def test_a_missing_extra_retires_the_server() -> None:
    assert classify_attempt_error(MissingDependencyError("x")) is AttemptVerdict.RETIRE


def test_a_tls_context_is_not_a_reason_to_refuse_ws_urls_at_connect() -> None:
    # Refused per server when it is tried (SecureConnWantedError), not as an option.
    opts = ClientOptions(servers=["ws://a", "wss://b"], tls=ssl.create_default_context())
    assert opts.tls_configured
