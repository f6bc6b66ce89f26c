"""Every public name of nats-py 2.16's core modules exists under ``rxnats`` (or is listed).

The names are read from the installed nats-py (the dev extra has it; the tests skip
without it): what each module defines at its top level, plus what it imports from other
``nats`` modules (``from nats.aio.client import Msg`` works in nats-py, so it must work
after the rename). The few names rxnats deliberately lacks are listed in :data:`ABSENT`
with why, and docs/migrating.md must mention each of them.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import types
from pathlib import Path

import pytest

import rxnats

MIGRATING = Path(__file__).resolve().parents[2] / "docs" / "migrating.md"

#: nats-py module -> the rxnats module that stands for it after the import rename.
MODULES = {
    "nats": "rxnats",
    "nats.aio.client": "rxnats.aio.client",
    "nats.aio.msg": "rxnats.aio.msg",
    "nats.aio.subscription": "rxnats.aio.subscription",
    "nats.aio.errors": "rxnats.aio.errors",
    "nats.errors": "rxnats.errors",
}

#: Names (module-qualified) rxnats has no counterpart for, each with the reason.
ABSENT = {
    "nats.aio.client.Parser": "nats-py's protocol parser calls back into its client; "
    "rxnats' parser (rxnats.wire.parser) returns frames and has another API",
    "nats.aio.client.Transport": "no pluggable transports",
    "nats.aio.client.TcpTransport": "no pluggable transports",
    "nats.aio.client.WebSocketTransport": "no WebSocket (ws://) connections",
    "nats.aio.client.Srv": "the pool's internal record; nc.server_pool() gives Server records",
    "nats.aio.client.ServerVersion": "connected_server_version() is a str",
    "nats.aio.client.ReconnectToServerHandler": "no reconnect_to_server_handler option",
    "nats.aio.client.DEFAULT_BUFFER_SIZE": "rxnats reads through asyncio protocol callbacks: "
    "there is no read buffer size",
}
#: nats-py submodules rxnats has no counterpart for.
ABSENT_MODULES = {
    "nats.aio.transport": "no pluggable transports",
    "nats.protocol": "nats-py's parser and command encoder; rxnats.wire is its own",
}
#: Class members (``Class.member``) rxnats' class of the same name lacks, with the reason.
ABSENT_MEMBERS = {
    "Client.msg_class": "messages are built on the receive hot path: Msg is not replaceable",
    "Client.ssl_context": "the TLS context is the one given as tls= (or made for tls://)",
    "Msg.Ack": "JetStream's ack payloads live in rxnats.jetstream",
    "Msg.Metadata": "msg.metadata is a rxnats.jetstream.models.MsgMetadata",
}
#: nats-py class -> rxnats class, by the module that holds it.
CLASSES = {
    "nats.aio.client.Client": "rxnats.NATS",
    "nats.aio.client.Server": "rxnats.Server",
    "nats.aio.msg.Msg": "rxnats.Msg",
    "nats.aio.subscription.Subscription": "rxnats.Subscription",
}


def public_names(module_name: str) -> set[str]:
    """What ``module_name`` defines at its top level or imports from another nats module."""
    module = importlib.import_module(module_name)
    tree = ast.parse(inspect.getsource(module))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.ImportFrom):
            source = node.module or ""
            if node.level or source == "nats" or source.startswith("nats."):
                for alias in node.names:
                    name = alias.asname or alias.name
                    if not isinstance(getattr(module, name, None), types.ModuleType):
                        names.add(name)
    return {n for n in names if not n.startswith("_")}


@pytest.fixture(scope="module", autouse=True)
def _natspy() -> None:
    pytest.importorskip("nats", reason="nats-py (the dev extra) is not installed")


@pytest.mark.parametrize("natspy_module", sorted(MODULES))
def test_every_public_name_exists(natspy_module: str) -> None:
    ours = importlib.import_module(MODULES[natspy_module])
    names = public_names(natspy_module)
    assert names, natspy_module
    missing = sorted(
        name
        for name in names
        if not hasattr(ours, name) and f"{natspy_module}.{name}" not in ABSENT
    )
    assert missing == [], f"{MODULES[natspy_module]} lacks {missing}"


def test_every_submodule_of_nats_exists_or_is_listed() -> None:
    import nats

    for name, value in vars(nats).items():
        if isinstance(value, types.ModuleType) and value.__name__.startswith("nats."):
            if value.__name__ in ABSENT_MODULES:
                continue
            assert isinstance(getattr(rxnats, name, None), types.ModuleType), name
    for submodule in ("aio", "errors", "js", "nuid"):
        assert isinstance(getattr(rxnats, submodule), types.ModuleType)


def _resolve(qualified: str) -> type:
    module, name = qualified.rsplit(".", 1)
    found = getattr(importlib.import_module(module), name)
    assert isinstance(found, type)
    return found


@pytest.mark.parametrize("natspy_class", sorted(CLASSES))
def test_every_public_member_of_the_core_classes_exists(natspy_class: str) -> None:
    theirs, ours = _resolve(natspy_class), _resolve(CLASSES[natspy_class])
    short = natspy_class.rsplit(".", 1)[-1]
    missing = sorted(
        name
        for name in dir(theirs)
        if not name.startswith("_")
        and not hasattr(ours, name)
        and f"{short}.{name}" not in ABSENT_MEMBERS
    )
    assert missing == [], f"{ours.__name__} lacks {missing}"


def test_nats_aio_modules_have_counterparts() -> None:
    import nats.aio

    for info in pkgutil.iter_modules(nats.aio.__path__):
        natspy = f"nats.aio.{info.name}"
        assert natspy in MODULES or natspy in ABSENT_MODULES, natspy


def test_the_absent_names_are_still_absent_and_documented() -> None:
    text = MIGRATING.read_text(encoding="utf-8")
    for qualified in (*ABSENT, *ABSENT_MODULES):
        short = qualified.rsplit(".", 1)[-1] if qualified in ABSENT else qualified
        assert f"`{short}`" in text, f"docs/migrating.md does not mention {short}"
    for qualified in ABSENT:
        module, name = qualified.rsplit(".", 1)
        assert name in public_names(module), f"nats-py no longer has {qualified}: unlist it"
    for member in ABSENT_MEMBERS:
        assert f"`{member.split('.')[1]}`" in text or f"`{member}`" in text, member
        natspy_class = next(q for q in CLASSES if q.endswith("." + member.split(".")[0]))
        assert hasattr(_resolve(natspy_class), member.split(".")[1]), f"unlist {member}"


def test_the_err_aliases_are_the_rxnats_exceptions() -> None:
    import nats.aio.errors as natspy_errors

    from rxnats.aio import errors as ours

    for name in public_names("nats.aio.errors"):
        natspy_class = getattr(natspy_errors, name)
        ours_class = getattr(ours, name)
        assert issubclass(ours_class, rxnats.errors.Error), name
        # The same meaning: nats-py's Err* derives from the error of the same kind.
        natspy_base = next(b for b in natspy_class.__mro__[1:] if b.__module__ == "nats.errors")
        expected = {"JsonParseError": "ProtocolError"}.get(natspy_base.__name__, natspy_base.__name__)
        assert ours_class.__name__ == expected, name


def test_client_is_nats_and_the_defaults_match_connect() -> None:
    from rxnats.aio import client

    assert client.Client is rxnats.NATS
    defaults = {
        name: p.default for name, p in inspect.signature(rxnats.NATS.connect).parameters.items()
    }
    assert client.DEFAULT_CONNECT_TIMEOUT == defaults["connect_timeout"]
    assert client.DEFAULT_RECONNECT_TIME_WAIT == defaults["reconnect_time_wait"]
    assert client.DEFAULT_MAX_RECONNECT_ATTEMPTS == defaults["max_reconnect_attempts"]
    assert client.DEFAULT_PING_INTERVAL == defaults["ping_interval"]
    assert client.DEFAULT_MAX_OUTSTANDING_PINGS == defaults["max_outstanding_pings"]
    assert client.DEFAULT_DRAIN_TIMEOUT == defaults["drain_timeout"]
    assert client.DEFAULT_PENDING_SIZE == defaults["pending_size"]
    assert client.DEFAULT_INBOX_PREFIX == defaults["inbox_prefix"]
    assert client.DEFAULT_MAX_FLUSHER_QUEUE_SIZE == defaults["flusher_queue_size"]
    flush_default = inspect.signature(rxnats.NATS.flush).parameters["timeout"].default
    assert client.DEFAULT_FLUSH_TIMEOUT == flush_default


def test_the_seed_type_aliases_are_importable_from_rxnats() -> None:
    for name in (
        "Servers",
        "ConnectOptions",
        "SSLContext",
        "ErrorCallback",
        "ClosedCallback",
        "DisconnectedCallback",
        "ReconnectedCallback",
        "MessageCallback",
        "SignatureCallback",
        "UserJWTCallback",
        "Headers",
        "Payload",
        "Subject",
    ):
        assert name in rxnats.__all__, name
        assert getattr(rxnats, name) is not None


def test_the_jetstream_message_errors_are_in_rxnats_errors() -> None:
    # ``except nats.errors.MsgAlreadyAckdError`` must work after the rename: the core
    # message raises them, so rxnats.errors defines them (JetStream exports the same).
    import rxnats.jetstream.errors as js_errors
    import rxnats.js.errors as natspy_js_errors

    for name in ("NotJSMessageError", "MsgAlreadyAckdError", "JetStreamError"):
        ours = getattr(rxnats.errors, name)
        assert getattr(js_errors, name) is ours
        assert issubclass(ours, rxnats.errors.Error)
    assert issubclass(rxnats.errors.MsgAlreadyAckdError, js_errors.JetStreamError)
    assert natspy_js_errors.Error is rxnats.errors.JetStreamError
