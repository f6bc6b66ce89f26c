"""The command line's parts that need no server: values, templates, settings, contexts."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import stat
from pathlib import Path

import nkeys
import pytest

from rxnats.cli import build_parser
from rxnats.cli.contexts import ContextStore, NatsContext
from rxnats.cli.errors import CommandFailed, UsageError, describe, one_line
from rxnats.cli.parsing import duration, size
from rxnats.cli.server import auth_config
from rxnats.cli.settings import resolve_settings
from rxnats.cli.templates import Template, TemplateValues
from rxnats.errors import NoServersError


# ---------------------------------------------------------------------- values
@pytest.mark.parametrize(
    ("text", "seconds"),
    [("2s", 2.0), ("500ms", 0.5), ("1m30s", 90.0), ("1.5h", 5400.0), ("250us", 0.00025),
     ("100ns", 1e-7), ("1h2m3s", 3723.0), ("2", 2.0), ("0.25", 0.25), ("0", 0.0)],
)
def test_durations_are_read_as_nats_reads_them(text: str, seconds: float) -> None:
    assert duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["2x", "-1s", "", "s", "1s2", "ms", "1 s", "-3", "nan"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="invalid duration"):
        duration(text)


@pytest.mark.parametrize(
    ("text", "nbytes"),
    [("1024", 1024), ("64KiB", 65536), ("64k", 65536), ("10MB", 10 << 20), ("1G", 1 << 30), ("-1", -1)],
)
def test_sizes(text: str, nbytes: int) -> None:
    assert size(text) == nbytes


@pytest.mark.parametrize("text", ["lots", "-2", "-1k", "1.5M"])
def test_bad_sizes_are_refused(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        size(text)


# ---------------------------------------------------------------------- templates
def test_templates_expand_each_function() -> None:
    text = Template("{{Count}}|{{ .Count }}|{{Cnt}}|{{Unix}}|{{UnixNano}}|{{TimeStamp}}|{{Time}}|{{ID}}|{{Random 3 3}}")
    parts = text.render(TemplateValues(7)).split("|")
    assert parts[:3] == ["7", "7", "7"]
    assert re.fullmatch(r"\d{10}", parts[3]) and re.fullmatch(r"\d{19}", parts[4])
    assert dt.datetime.fromisoformat(parts[5]).tzinfo is not None
    assert re.fullmatch(r"\d{1,2}:\d\d(AM|PM)", parts[6])
    assert re.fullmatch(r"[0-9A-Za-z]{22}", parts[7]) and re.fullmatch(r"[0-9A-Za-z]{3}", parts[8])


def test_request_only_in_replies_and_literal_text_stays() -> None:
    assert Template("got {{Request}}", allow_request=True).render(TemplateValues(1, "hi")) == "got hi"
    with pytest.raises(CommandFailed, match="unknown template function 'Request'"):
        Template("{{Request}}")
    assert Template.literal("{{Count}}").render(TemplateValues(3)) == "{{Count}}"
    assert Template("no actions").is_static


@pytest.mark.parametrize("text", ["{{Nope}}", "{{Random}}", "{{Random a b}}", "{{Count 2}}", "{{}}"])
def test_bad_templates_are_usage_errors(text: str) -> None:
    with pytest.raises(CommandFailed) as caught:
        Template(text)
    assert caught.value.code == 2 and caught.value.hint


# ---------------------------------------------------------------------- contexts
def test_a_saved_context_has_every_nats_key_in_order_and_private_mode(tmp_path: Path) -> None:
    store = ContextStore(tmp_path / "nats")
    path = store.save(NatsContext("dev", store.path("dev"), {"url": "nats://h:1", "extra": 1}))
    data = json.loads(path.read_text())
    assert list(data)[:3] == ["description", "url", "socks_proxy"] and list(data)[-1] == "extra"
    assert data["tls_first"] is False and data["windows_ca_certs_match"] is None
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert store.names() == ["dev"] and store.load("dev").text("url") == "nats://h:1"


def test_selection_remembers_the_previous_one(tmp_path: Path) -> None:
    store = ContextStore(tmp_path / "nats")
    for name in ("a", "b"):
        store.save(NatsContext(name, store.path(name), {"url": f"nats://{name}:1"}))
    assert store.select("a") is None and store.select("b") == "a"
    assert store.selection_file.read_text() == "b"
    assert (store.root / "previous-context.txt").read_text() == "a"
    with pytest.raises(CommandFailed, match="is selected"):
        store.remove("b")
    store.remove("a")
    assert store.names() == ["b"]
    with pytest.raises(CommandFailed, match="unknown context"):
        store.select("a")


@pytest.mark.parametrize("name", ["", "..", "a/b", "a\\b", "x..y"])
def test_context_names_nats_refuses_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(CommandFailed, match="invalid context name"):
        ContextStore(tmp_path).path(name)


def test_the_default_store_honours_xdg_config_home(tmp_path: Path) -> None:
    assert ContextStore.default({"XDG_CONFIG_HOME": str(tmp_path)}).root == tmp_path / "nats"
    assert ContextStore.default({}).root == Path.home() / ".config" / "nats"


# ---------------------------------------------------------------------- settings
def _args(*argv: str) -> argparse.Namespace:
    args, _ = build_parser().parse_known_args([*argv, "pub", "subject"])
    return args


def test_settings_precedence_flag_then_environment_then_context(tmp_path: Path) -> None:
    store = ContextStore(tmp_path)
    store.save(NatsContext("c", store.path("c"), {
        "url": "nats://ctx:1", "user": "cu", "password": "cp", "creds": "~/my.creds", "inbox_prefix": "_CTX",
        "jetstream_domain": "hub", "tls_first": True,
    }))
    store.select("c")
    settings = resolve_settings(_args(), {}, store)
    assert settings.servers == ("nats://ctx:1",) and (settings.user, settings.password) == ("cu", "cp")
    assert settings.creds == str(Path.home() / "my.creds") and settings.tls_first
    assert (settings.inbox_prefix, settings.js_domain, settings.context) == ("_CTX", "hub", "c")
    env = {"NATS_URL": "nats://env:1,nats://env:2", "NATS_PASSWORD": "ep", "NATS_TIMEOUT": "1500ms"}
    settings = resolve_settings(_args(), env, store)
    assert settings.servers == ("nats://env:1", "nats://env:2") and settings.password == "ep"
    assert settings.timeout == 1.5
    settings = resolve_settings(_args("-s", "nats://flag:1", "--password", "fp", "--timeout", "2s"), env, store)
    assert settings.servers == ("nats://flag:1",) and settings.password == "fp" and settings.timeout == 2.0
    assert resolve_settings(_args("--no-context"), {}, store).servers == ("nats://127.0.0.1:4222",)


def test_a_user_without_password_is_a_token_as_in_nats(tmp_path: Path) -> None:
    settings = resolve_settings(_args("--user", "s3cret"), {}, ContextStore(tmp_path))
    assert (settings.user, settings.token) == (None, "s3cret")


def test_nats_context_variable_and_missing_contexts(tmp_path: Path) -> None:
    store = ContextStore(tmp_path)
    store.save(NatsContext("e", store.path("e"), {"url": "nats://e:1"}))
    assert resolve_settings(_args(), {"NATS_CONTEXT": "e"}, store).servers == ("nats://e:1",)
    with pytest.raises(CommandFailed, match="unknown context 'x'"):
        resolve_settings(_args("--context", "x"), {}, store)
    store.selection_file.write_text("ghost")
    with pytest.raises(CommandFailed, match="does not exist") as caught:
        resolve_settings(_args(), {}, store)
    assert "--no-context" in (caught.value.hint or "")


# ---------------------------------------------------------------------- the server's generated auth
def test_server_auth_config_quotes_values_and_derives_nkeys(tmp_path: Path) -> None:
    config = auth_config("al ice", 'p"w', None, [])
    assert config is not None and '{user: "al ice", password: "p\\"w"}' in config
    assert auth_config(None, None, "t", []) == 'authorization {\n  token: "t"\n}\n'
    assert auth_config(None, None, None, []) is None
    seed = nkeys.encode_seed(os.urandom(32), nkeys.PREFIX_BYTE_USER).decode()
    kp = nkeys.from_seed(bytearray(seed.encode()))
    public = bytes(kp.public_key).decode()
    (tmp_path / "u.nk").write_text(f"# a comment\n{seed}\n")
    derived = auth_config(None, None, None, [str(tmp_path / "u.nk"), public])
    assert derived is not None and derived.count(f'{{nkey: "{public}"}}') == 2


# ---------------------------------------------------------------------- errors
def test_errors_become_one_line_with_a_hint() -> None:
    code, message, hint = describe(NoServersError("could not connect:\n  a: refused\n  b: refused"))
    assert code == 4 and message == "could not connect:; a: refused; b: refused" and "rxnats server" in (hint or "")
    assert one_line("  x \n\n y  ") == "x; y"
    usage = UsageError("bad", "rxnats pub")
    assert describe(usage) == (2, "bad", "see 'rxnats pub --help'")


def test_parser_errors_raise_instead_of_exiting() -> None:
    with pytest.raises(UsageError):
        build_parser().parse_args(["pub"])
