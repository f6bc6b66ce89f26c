"""The handshake's decisions, fed frames: no socket, no TLS library, no clock."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest

from rxnats.errors import (
    AuthorizationError,
    ProtocolError,
    SecureConnRequiredError,
    SecureConnWantedError,
)
from rxnats.wire.frames import Frame, InfoFrame, OkFrame, PingFrame, PongFrame, ServerInfo
from rxnats.wire.handshake import (
    AnswerPing,
    Connected,
    ConnectSettings,
    Handshake,
    Replay,
    Send,
    StartTLS,
    Step,
    resume_commands,
)
from rxnats.wire.parser import Parser
from rxnats.wire.urls import ServerAddress, parse_server_url


def frame(data: bytes) -> Frame:
    frames = Parser().feed(data)
    assert len(frames) == 1
    return frames[0]


def info(**fields: object) -> InfoFrame:
    found = frame(b"INFO " + json.dumps({"server_id": "S", **fields}).encode() + b"\r\n")
    assert isinstance(found, InfoFrame)
    return found


def connect_of(steps: list[Step]) -> dict[str, object]:
    assert len(steps) == 1 and isinstance(steps[0], Send)
    data = steps[0].data
    assert data.startswith(b"CONNECT ") and data.endswith(b"\r\nPING\r\n")
    fields: dict[str, object] = json.loads(data[len(b"CONNECT ") : -len(b"\r\nPING\r\n")])
    return fields


def handshake(url: str = "nats://h:4222", **kwargs: bool) -> Handshake:
    return Handshake(parse_server_url(url), ConnectSettings(version="9.9"), **kwargs)


def test_info_then_connect_and_ping_then_the_pong_ends_it() -> None:
    hs = handshake()
    assert hs.awaiting_info
    fields = connect_of(hs.receive(info(max_payload=512)))
    assert fields == {
        "verbose": False,
        "pedantic": False,
        "lang": "python3",
        "version": "9.9",
        "protocol": 1,
        "headers": True,
        "no_responders": True,
        "echo": True,
        "tls_required": False,
    }
    assert not hs.awaiting_info and not hs.done
    assert hs.receive(OkFrame()) == []
    assert hs.receive(PingFrame()) == [AnswerPing()]
    assert hs.receive(info(max_payload=1024)) == []  # a newer INFO replaces the first
    steps = hs.receive(PongFrame())
    assert steps == [Connected(hs.info)] and hs.info.max_payload == 1024
    assert hs.done


def test_the_first_frame_must_be_info() -> None:
    with pytest.raises(ProtocolError, match="expected INFO from nats://h:4222, got PongFrame"):
        handshake().receive(PongFrame())


def test_a_message_before_the_pong_is_a_protocol_error() -> None:
    hs = handshake()
    hs.receive(info())
    with pytest.raises(ProtocolError, match="before PONG"):
        hs.receive(frame(b"MSG a 1 0\r\n\r\n"))


def test_err_after_connect_is_the_servers_refusal() -> None:
    hs = handshake()
    hs.receive(info())
    with pytest.raises(AuthorizationError):
        hs.receive(frame(b"-ERR 'Authorization Violation'\r\n"))


def test_tls_wanted_of_a_server_without_tls_never_degrades() -> None:
    with pytest.raises(SecureConnWantedError, match="does not offer it"):
        handshake("tls://h:4222", tls_wanted=True).receive(info())


def test_a_server_requiring_tls_of_a_client_without_it() -> None:
    with pytest.raises(SecureConnRequiredError, match="requires TLS"):
        handshake().receive(info(tls_required=True))


@pytest.mark.parametrize("offer", [{"tls_required": True}, {"tls_available": True}])
def test_wanted_tls_starts_after_info_then_connect_follows(offer: dict[str, bool]) -> None:
    hs = handshake("tls://h:4222", tls_wanted=True)
    assert hs.receive(info(**offer)) == [StartTLS()]
    fields = connect_of(hs.tls_started())
    assert fields["tls_required"] is True
    assert hs.secure


def test_a_secure_channel_is_not_upgraded_nor_checked() -> None:
    # TLS handshake-first (or wss://): encrypted before INFO, whatever INFO says.
    hs = handshake(tls_wanted=True, secure=True)
    connect_of(hs.receive(info()))


def test_tls_started_out_of_turn_is_a_bug() -> None:
    with pytest.raises(RuntimeError):
        handshake().tls_started()


def test_connect_carries_the_identity_options_and_the_auth_for_this_server() -> None:
    seen: list[tuple[str, str]] = []

    def auth(server: ServerInfo, address: ServerAddress) -> Mapping[str, str]:
        seen.append((server.nonce, address.host))
        return {"nkey": "UABC", "sig": "signed-" + server.nonce}

    settings = ConnectSettings(
        version="1.0",
        name="svc",
        verbose=True,
        pedantic=True,
        echo=False,
        tls_configured=True,
        auth=auth,
    )
    hs = Handshake(parse_server_url("nats://h:4222"), settings)
    fields = connect_of(hs.receive(info(nonce="N1")))
    assert seen == [("N1", "h")]
    assert fields["name"] == "svc" and fields["verbose"] is True and fields["pedantic"] is True
    assert fields["echo"] is False
    assert fields["tls_required"] is True  # TLS configured (context or handshake-first)
    assert fields["nkey"] == "UABC" and fields["sig"] == "signed-N1"


def test_resume_replays_subscriptions_then_one_ping_per_waiting_flush() -> None:
    data = resume_commands(
        [
            Replay("a", 1),
            Replay("b", 2, "q"),
            Replay("c", 3, max_msgs=10, received=4),
            Replay("d", 4, max_msgs=10, received=10),  # nothing left: at least 1
        ],
        flushes=2,
    )
    assert data == (
        b"SUB a 1\r\n"
        b"SUB b q 2\r\n"
        b"SUB c 3\r\nUNSUB 3 6\r\n"
        b"SUB d 4\r\nUNSUB 4 1\r\n"
        b"PING\r\nPING\r\n"
    )
    assert resume_commands([], 0) == b""
