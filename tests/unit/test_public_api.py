"""The public surface: exports, the seed's signatures and defaults, and the error names."""

from __future__ import annotations

import builtins
import importlib
import inspect
import re
from collections.abc import Callable

import pytest

import rxnats
import rxnats.errors
from rxnats import NATS

# Every parameter of the seed's connect(), with the seed's default.
SEED_CONNECT_DEFAULTS: dict[str, object] = {
    "servers": ["nats://localhost:4222"],
    "error_cb": None,
    "disconnected_cb": None,
    "closed_cb": None,
    "discovered_server_cb": None,
    "reconnected_cb": None,
    "name": None,
    "pedantic": False,
    "verbose": False,
    "allow_reconnect": True,
    "connect_timeout": 2,
    "reconnect_time_wait": 2,
    "max_reconnect_attempts": 60,
    "ping_interval": 120,
    "max_outstanding_pings": 2,
    "dont_randomize": False,
    "flusher_queue_size": 1024,
    "no_echo": False,
    "tls": None,
    "tls_hostname": None,
    "tls_handshake_first": False,
    "user": None,
    "password": None,
    "token": None,
    "drain_timeout": 30,
    "signature_cb": None,
    "user_jwt_cb": None,
    "user_credentials": None,
    "nkeys_seed": None,
    "nkeys_seed_str": None,
    "inbox_prefix": b"_INBOX",
    "pending_size": 2 * 1024 * 1024,
    "flush_timeout": None,
}

# The errors nats-py users catch, which `import rxnats as nats` must keep working.
NATS_PY_ERROR_NAMES = [
    "Error",
    "TimeoutError",
    "NoRespondersError",
    "ConnectionClosedError",
    "ConnectionDrainingError",
    "ConnectionReconnectingError",
    "DrainTimeoutError",
    "FlushTimeoutError",
    "NoServersError",
    "SlowConsumerError",
    "BadSubjectError",
    "BadSubscriptionError",
    "BadTimeoutError",
    "MaxPayloadError",
    "InvalidCallbackTypeError",
    "AuthorizationError",
    "StaleConnectionError",
    "OutboundBufferLimitError",
    "UnexpectedEOF",
    "NoEchoNotSupportedError",
    "ProtocolError",
    "SecureConnRequiredError",
    "SecureConnWantedError",
    "SecureConnFailedError",
    "InvalidUserCredentialsError",
]


def _params(func: Callable[..., object]) -> dict[str, inspect.Parameter]:
    return dict(inspect.signature(func).parameters)


def _isort_key(name: str) -> tuple[int, list[int | str]]:
    """The order ruff's RUF022 enforces: CONSTANTS, then CamelCase, then the rest."""
    if name.isupper() or (name.upper() == name and any(c.isalpha() for c in name)):
        category = 0
    elif name[:1].isupper():
        category = 1
    else:
        category = 2
    natural = [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]
    return category, natural


def _is_sorted(names: list[str]) -> bool:
    return names == sorted(names, key=_isort_key)


# ---------------------------------------------------------------- exports
def test_all_is_sorted_unique_and_importable() -> None:
    names = rxnats.__all__
    assert _is_sorted(list(names))
    assert len(set(names)) == len(names)
    for name in names:
        assert hasattr(rxnats, name), name
    # `from rxnats import *` gives exactly those names.
    namespace: dict[str, object] = {}
    exec("from rxnats import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(names)


def test_core_names_are_exported() -> None:
    for name in ("NATS", "connect", "Msg", "Subscription", "errors", "ConnectionStatus"):
        assert name in rxnats.__all__


def test_errors_all_is_sorted_and_every_error_is_in_the_tree() -> None:
    names = rxnats.errors.__all__
    assert _is_sorted(list(names))
    for name in names:
        cls = getattr(rxnats.errors, name)
        assert issubclass(cls, rxnats.errors.Error), name
    # Every public Error subclass defined in the module is listed.
    defined = {
        n
        for n, obj in vars(rxnats.errors).items()
        if isinstance(obj, type) and issubclass(obj, Exception) and not n.startswith("_")
        and obj.__module__ == "rxnats.errors"
    }
    assert defined == set(names)


def test_sort_key_matches_ruff() -> None:
    assert _is_sorted(["NATS", "Callback", "Msg", "__version__", "connect", "errors"])
    assert not _is_sorted(["Callback", "NATS"])
    assert not _is_sorted(["errors", "connect"])


@pytest.mark.parametrize("module", ["rxnats.client", "rxnats.subscription", "rxnats.msg"])
def test_submodule_all_is_importable(module: str) -> None:
    mod = importlib.import_module(module)
    assert _is_sorted(list(mod.__all__))
    for name in mod.__all__:
        assert hasattr(mod, name), f"{module}.{name}"


# ---------------------------------------------------------------- connect signature
@pytest.mark.parametrize("func", [rxnats.connect, NATS.connect], ids=["module", "method"])
def test_connect_has_every_seed_parameter_with_its_default(func: Callable[..., object]) -> None:
    params = _params(func)
    params.pop("self", None)
    for name, default in SEED_CONNECT_DEFAULTS.items():
        assert name in params, f"missing connect parameter {name}"
        assert params[name].default == default, f"{name}: {params[name].default!r} != {default!r}"
        assert type(params[name].default) is type(default) or default in (2, 30, 120), name


def test_connect_has_no_catch_all_parameters() -> None:
    for func in (rxnats.connect, NATS.connect):
        kinds = {p.kind for p in _params(func).values()}
        assert inspect.Parameter.VAR_KEYWORD not in kinds
        assert inspect.Parameter.VAR_POSITIONAL not in kinds


def test_connect_servers_is_the_first_positional_parameter() -> None:
    first = next(iter(_params(rxnats.connect).values()))
    assert first.name == "servers"
    assert first.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD


def test_module_connect_matches_the_method() -> None:
    method = _params(NATS.connect)
    method.pop("self")
    assert list(_params(rxnats.connect)) == list(method)


def test_connect_is_a_coroutine_function() -> None:
    assert inspect.iscoroutinefunction(rxnats.connect)
    assert inspect.iscoroutinefunction(NATS.connect)


# ---------------------------------------------------------------- method signatures
@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("publish", {"subject": inspect.Parameter.empty, "payload": b"", "reply": "", "headers": None}),
        ("flush", {"timeout": 10.0}),
        (
            "subscribe",
            {
                "subject": inspect.Parameter.empty,
                "queue": "",
                "cb": None,
                "future": None,
                "max_msgs": 0,
                "pending_msgs_limit": 65536,
                "pending_bytes_limit": 67108864,
            },
        ),
        (
            "request",
            {
                "subject": inspect.Parameter.empty,
                "payload": b"",
                "timeout": 0.5,
                "old_style": False,
                "headers": None,
            },
        ),
    ],
)
def test_method_parameters_follow_the_seed(method: str, expected: dict[str, object]) -> None:
    params = _params(getattr(NATS, method))
    params.pop("self")
    positional = [
        name
        for name, p in params.items()
        if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    ]
    # The seed's parameters come first, in the seed's order, positionally usable.
    assert positional[: len(expected)] == list(expected)
    for name, default in expected.items():
        assert params[name].default == default, f"{method}({name}=...)"
    assert inspect.iscoroutinefunction(getattr(NATS, method))


@pytest.mark.parametrize("name", ["close", "drain", "flush", "publish", "subscribe", "request"])
def test_lifecycle_methods_are_coroutines(name: str) -> None:
    assert inspect.iscoroutinefunction(getattr(NATS, name))


@pytest.mark.parametrize(
    "name",
    [
        "connected_url",
        "servers",
        "discovered_servers",
        "max_payload",
        "client_id",
        "connected_server_version",
        "last_error",
        "pending_data_size",
        "new_inbox",
        "jetstream",
        "jsm",
    ],
)
def test_accessors_are_plain_methods(name: str) -> None:
    attr = inspect.getattr_static(NATS, name)
    assert inspect.isfunction(attr), name
    assert not inspect.iscoroutinefunction(attr), name


def test_state_constants() -> None:
    assert [
        NATS.DISCONNECTED,
        NATS.CONNECTED,
        NATS.CLOSED,
        NATS.RECONNECTING,
        NATS.CONNECTING,
        NATS.DRAINING_SUBS,
        NATS.DRAINING_PUBS,
    ] == list(range(7))
    assert [int(s) for s in rxnats.ConnectionStatus] == list(range(7))


def test_predicates_on_a_fresh_client() -> None:
    nc = NATS()
    for name in (
        "is_connected",
        "is_closed",
        "is_reconnecting",
        "is_connecting",
        "is_draining",
        "is_draining_pubs",
    ):
        pred = getattr(nc, name)
        assert pred() is False, name
        assert not pred, name
    assert nc.status == rxnats.ConnectionStatus.DISCONNECTED


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("name", NATS_PY_ERROR_NAMES)
def test_nats_py_error_names_exist(name: str) -> None:
    cls = getattr(rxnats.errors, name)
    assert issubclass(cls, Exception)
    assert issubclass(cls, rxnats.errors.Error)


def test_timeout_errors_are_builtin_timeouts() -> None:
    assert issubclass(rxnats.errors.TimeoutError, builtins.TimeoutError)
    assert issubclass(rxnats.errors.FlushTimeoutError, builtins.TimeoutError)
    assert issubclass(rxnats.errors.DrainTimeoutError, builtins.TimeoutError)
    assert rxnats.TimeoutError is rxnats.errors.TimeoutError
    assert rxnats.NoRespondersError is rxnats.errors.NoRespondersError
    with pytest.raises(TimeoutError):
        raise rxnats.errors.TimeoutError()


def test_bad_input_errors_are_value_errors() -> None:
    for name in (
        "BadSubjectError",
        "BadHeaderError",
        "BadTimeoutError",
        "MaxPayloadError",
        "InvalidURLError",
        "InvalidCallbackTypeError",
    ):
        assert issubclass(getattr(rxnats.errors, name), ValueError), name


def test_errors_have_readable_messages() -> None:
    assert str(rxnats.errors.NoRespondersError()) == "no responders available for request"
    assert str(rxnats.errors.ConnectionClosedError()) == "connection closed"
    assert str(rxnats.errors.TimeoutError("custom")) == "custom"
