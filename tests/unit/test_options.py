"""connect()'s options, validated without an event loop or a socket (rxnats.client.options)."""

from __future__ import annotations

import inspect
import ssl

import pytest

from rxnats import NATS
from rxnats.client.options import DEFAULT_SERVER, ClientOptions
from rxnats.errors import (
    BadSubjectError,
    BadTimeoutError,
    InvalidCallbackTypeError,
    InvalidInputError,
    InvalidUserCredentialsError,
)
from rxnats.wire.frames import ServerInfo
from rxnats.wire.urls import parse_server_url


def test_the_options_have_connects_parameters_and_defaults() -> None:
    connect = inspect.signature(NATS.connect).parameters
    fields = {
        name: p.default
        for name, p in inspect.signature(ClientOptions).parameters.items()
    }
    assert list(fields) == [name for name in connect if name != "self"]
    for name, default in fields.items():
        if name == "servers":  # a default_factory: the same list each time, a fresh one
            assert ClientOptions().servers == connect[name].default
        else:
            assert default == connect[name].default, name


def test_derived_values() -> None:
    opts = ClientOptions(servers="nats://a:1", inbox_prefix=b"_MY", tls_handshake_first=True)
    assert opts.urls == ("nats://a:1",)
    assert opts.inbox == "_MY"
    assert opts.tls_configured
    assert ClientOptions(servers=[]).urls == (DEFAULT_SERVER,)
    settings = ClientOptions(servers=["nats://a:1", "nats://b:2"], dont_randomize=True)
    sup = settings.supervisor_settings()
    assert list(sup.urls) == ["nats://a:1", "nats://b:2"] and not sup.randomize
    assert isinstance(sup.connect_timeout, float)


def test_connect_settings_carry_identity_and_credentials() -> None:
    opts = ClientOptions(name="svc", no_echo=True, user="u", password="p")
    settings = opts.connect_settings()
    fields = settings.connect_fields(ServerInfo(), parse_server_url("nats://h:1"))
    assert fields["name"] == "svc" and fields["echo"] is False
    assert (fields["user"], fields["pass"]) == ("u", "p")


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"connect_timeout": 0}, BadTimeoutError),
        ({"ping_interval": -1}, BadTimeoutError),
        ({"drain_timeout": "30"}, BadTimeoutError),
        ({"reconnect_time_wait": -0.5}, BadTimeoutError),
        ({"reconnect_time_wait": 2, "reconnect_max_wait": 1}, BadTimeoutError),
        ({"flush_timeout": 0}, BadTimeoutError),
        ({"max_outstanding_pings": 0}, InvalidInputError),
        ({"pending_size": -1}, InvalidInputError),
        ({"tls": "yes"}, InvalidInputError),
        ({"inbox_prefix": "bad prefix"}, BadSubjectError),
        ({"error_cb": "not callable"}, InvalidCallbackTypeError),
        ({"user": "u", "token": "t"}, InvalidUserCredentialsError),
    ],
)
def test_each_invalid_option_is_refused_when_made(kwargs: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        ClientOptions(**kwargs)  # type: ignore[arg-type]  # bad values on purpose


def test_zero_reconnect_time_wait_and_a_context_are_fine() -> None:
    opts = ClientOptions(reconnect_time_wait=0, tls=ssl.create_default_context())
    assert opts.tls_configured
