"""Contexts, ``NATS_*`` variables and global options, as the ``nats`` CLI has them.

The context files written here by hand have the shape the ``nats`` CLI writes (its
``natscontext`` package: one JSON object with every key, empty ones included, and the
selected name alone in ``context.txt``), so these tests check that contexts made by
``nats`` just work, and that ``rxnats context add`` writes files ``nats`` can read.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from cli_helpers import one_line_error, run_cli  # tests/ is on sys.path

from rxnats.server import NatsServer, free_port
from rxnats.testing.plugin import NatsServerFactory

NATS_KEYS = [
    "description", "url", "socks_proxy", "token", "user", "password", "creds", "nkey", "cert", "key",
    "ca", "nsc", "jetstream_domain", "jetstream_api_prefix", "jetstream_event_prefix", "inbox_prefix",
    "user_jwt", "user_seed", "color_scheme", "tls_first", "windows_cert_store", "windows_cert_match_by",
    "windows_cert_match", "windows_ca_certs_match",
]


def nats_context(home: Path, name: str, **settings: object) -> Path:
    """Write a context file as the ``nats`` CLI does."""
    values: dict[str, object] = {key: "" for key in NATS_KEYS}
    values.update(tls_first=False, windows_ca_certs_match=None)
    values.update(settings)
    directory = home / "nats" / "context"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.json"
    path.write_text(json.dumps(values, indent="  "), encoding="utf-8")
    return path


def select(home: Path, name: str) -> None:
    (home / "nats" / "context.txt").write_text(name, encoding="utf-8")  # no newline, as nats writes it


@pytest.fixture
def auth_server(nats_server_factory: NatsServerFactory) -> NatsServer:
    return nats_server_factory(config='authorization { user: alice, password: "wonder land" }')


# ---------------------------------------------------------------------- reading nats' contexts
def test_the_selected_nats_context_is_used(auth_server: NatsServer, tmp_path: Path) -> None:
    nats_context(tmp_path, "wonder", url=auth_server.url, user="alice", password="wonder land",
                 description="made by nats")
    assert run_cli("pub", "x", "y", url=None, config_home=tmp_path).returncode == 4  # none selected yet
    select(tmp_path, "wonder")
    result = run_cli("pub", "x", "y", url=None, config_home=tmp_path)
    assert result.returncode == 0, result.stderr


def test_context_option_and_nats_context_variable_pick_one(auth_server: NatsServer, tmp_path: Path) -> None:
    nats_context(tmp_path, "good", url=auth_server.url, user="alice", password="wonder land")
    nats_context(tmp_path, "wrong", url=auth_server.url, user="alice", password="nope")
    select(tmp_path, "wrong")
    assert run_cli("pub", "x", url=None, config_home=tmp_path).returncode == 4
    assert run_cli("pub", "x", "--context", "good", url=None, config_home=tmp_path).returncode == 0
    assert run_cli("--context", "good", "pub", "x", url=None, config_home=tmp_path).returncode == 0
    assert run_cli("pub", "x", url=None, config_home=tmp_path, env={"NATS_CONTEXT": "good"}).returncode == 0
    # a path to a .json file works too, as in nats
    path = str(tmp_path / "nats" / "context" / "good.json")
    assert run_cli("pub", "x", "--context", path, url=None, config_home=tmp_path).returncode == 0


def test_flags_beat_variables_beat_the_context(auth_server: NatsServer, tmp_path: Path) -> None:
    dead = f"nats://127.0.0.1:{free_port()}"
    nats_context(tmp_path, "ctx", url=dead, user="alice", password="nope")
    select(tmp_path, "ctx")
    # the context's URL is dead and its password wrong: variables fix both ...
    env = {"NATS_URL": auth_server.url, "NATS_PASSWORD": "wonder land"}
    assert run_cli("pub", "x", url=None, config_home=tmp_path, env=env).returncode == 0
    # ... and flags beat variables
    wrong = run_cli("pub", "x", "--password", "nope", url=None, config_home=tmp_path, env=env)
    assert wrong.returncode == 4
    # --no-context ignores it (nothing else gives a user then)
    assert run_cli("pub", "x", "--no-context", url=auth_server.url, config_home=tmp_path).returncode == 4


def test_context_file_references_and_home_paths(nats_server_factory: NatsServerFactory, tmp_path: Path) -> None:
    server = nats_server_factory(config='authorization { token: "from-env" }')
    nats_context(tmp_path, "refs", url=server.url, token="env://RXNATS_TEST_TOKEN")
    ok = run_cli("pub", "x", "--context", "refs", url=None, config_home=tmp_path,
                 env={"RXNATS_TEST_TOKEN": "from-env"})
    assert ok.returncode == 0, ok.stderr
    unset = run_cli("pub", "x", "--context", "refs", url=None, config_home=tmp_path)
    assert unset.returncode == 1 and "RXNATS_TEST_TOKEN" in one_line_error(unset)
    nats_context(tmp_path, "op", url=server.url, creds="op://vault/item/creds")
    refused = run_cli("pub", "x", "--context", "op", url=None, config_home=tmp_path)
    assert refused.returncode == 1 and "op reference" in one_line_error(refused)


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ({"nsc": "nsc://operator/account/user"}, "'nsc'"),
        ({"socks_proxy": "socks5://127.0.0.1:1080"}, "SOCKS proxies are not supported"),
        ({"windows_cert_store": "windowscurrentuser"}, "'windows_cert_store'"),
    ],
)
def test_context_settings_rxnats_cannot_honour_are_refused(
    nats_url: str, tmp_path: Path, settings: dict[str, object], says: str
) -> None:
    nats_context(tmp_path, "odd", url=nats_url, **settings)
    result = run_cli("pub", "x", "--context", "odd", url=None, config_home=tmp_path)
    assert result.returncode in (1, 2)
    assert says in one_line_error(result)


def test_unknown_selected_or_broken_contexts_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "nats").mkdir(parents=True)
    select(tmp_path, "ghost")
    ghost = run_cli("pub", "x", url=None, config_home=tmp_path)
    assert ghost.returncode == 1 and "--no-context" in one_line_error(ghost)
    unknown = run_cli("pub", "x", "--context", "nobody", url=None, config_home=tmp_path)
    assert "rxnats context ls" in one_line_error(unknown)
    (tmp_path / "nats" / "context").mkdir()
    (tmp_path / "nats" / "context" / "broken.json").write_text("{not json", encoding="utf-8")
    broken = run_cli("pub", "x", "--context", "broken", url=None, config_home=tmp_path)
    assert "not valid JSON" in one_line_error(broken)


# ---------------------------------------------------------------------- rxnats context ...
def test_context_add_writes_what_nats_writes(auth_server: NatsServer, tmp_path: Path) -> None:
    creds = tmp_path / "user.creds"
    creds.write_text("not used here", encoding="utf-8")
    added = run_cli("context", "add", "mine", "--server", auth_server.url, "--user", "alice",
                    "--password", "wonder land", "--description", "by rxnats", "--select",
                    url=None, config_home=tmp_path)
    assert added.returncode == 0, added.stderr
    path = tmp_path / "nats" / "context" / "mine.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert list(data) == NATS_KEYS
    assert data["url"] == auth_server.url and data["user"] == "alice" and data["password"] == "wonder land"
    assert data["description"] == "by rxnats" and data["tls_first"] is False
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert (tmp_path / "nats" / "context.txt").read_text(encoding="utf-8") == "mine"
    assert run_cli("pub", "x", url=None, config_home=tmp_path).returncode == 0
    # updating changes only what is given; files become absolute paths
    run_cli("context", "add", "mine", "--creds", "user.creds", url=None, config_home=tmp_path, cwd=tmp_path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["creds"] == str(creds) and data["user"] == "alice" and data["description"] == "by rxnats"


def test_context_add_keeps_keys_it_does_not_know(tmp_path: Path) -> None:
    nats_context(tmp_path, "future", url="nats://a:4222", some_future_key={"x": 1})
    run_cli("context", "add", "future", "--description", "d", url=None, config_home=tmp_path)
    data = json.loads((tmp_path / "nats" / "context" / "future.json").read_text(encoding="utf-8"))
    assert data["some_future_key"] == {"x": 1} and data["description"] == "d"


def test_context_ls_select_info_and_rm(tmp_path: Path, nats_url: str) -> None:
    nats_context(tmp_path, "one", url=nats_url, description="first", password="hidden", user="u")
    nats_context(tmp_path, "two", url="nats://elsewhere:4222")
    (tmp_path / "nats" / "context" / "empty.json").write_text("", encoding="utf-8")  # skipped, as nats does
    listed = run_cli("context", "ls", url=None, config_home=tmp_path)
    assert listed.returncode == 0
    assert "one" in listed.stdout and "first" in listed.stdout and "empty" not in listed.stdout
    assert json.loads(run_cli("context", "ls", "--json", url=None, config_home=tmp_path).stdout) == ["one", "two"]
    assert run_cli("context", "select", "one", url=None, config_home=tmp_path).returncode == 0
    assert run_cli("context", "select", url=None, config_home=tmp_path).stdout == "one\n"
    assert "one*" in run_cli("context", "ls", url=None, config_home=tmp_path).stdout
    shown = run_cli("context", "info", url=None, config_home=tmp_path)
    assert nats_url in shown.stdout and "hidden" not in shown.stdout and "*****" in shown.stdout
    raw = json.loads(run_cli("context", "info", "one", "--json", url=None, config_home=tmp_path).stdout)
    assert raw["password"] == "hidden"
    connected = run_cli("context", "info", "one", "--connect", url=None, config_home=tmp_path)
    assert connected.returncode == 0 and "connected to" in connected.stderr
    selected_rm = run_cli("context", "rm", "one", "-f", url=None, config_home=tmp_path)
    assert selected_rm.returncode == 1 and "is selected" in one_line_error(selected_rm)
    unconfirmed = run_cli("context", "rm", "two", url=None, config_home=tmp_path)
    assert unconfirmed.returncode == 1 and "--force" in one_line_error(unconfirmed)
    assert run_cli("context", "rm", "two", "--force", url=None, config_home=tmp_path).returncode == 0
    assert not (tmp_path / "nats" / "context" / "two.json").exists()
    assert run_cli("context", "unselect", url=None, config_home=tmp_path).returncode == 0
    assert not (tmp_path / "nats" / "context.txt").exists()


def test_xdg_config_home_is_honoured(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    run_cli("context", "add", "x", "--server", "nats://h:1", url=None, config_home=elsewhere)
    assert (elsewhere / "nats" / "context" / "x.json").is_file()


# ---------------------------------------------------------------------- variables and options
def test_nats_variables_give_the_connection_settings(auth_server: NatsServer) -> None:
    env = {"NATS_USER": "alice", "NATS_PASSWORD": "wonder land"}
    assert run_cli("pub", "x", url=auth_server.url, env=env).returncode == 0
    assert run_cli("pub", "x", url=auth_server.url).returncode == 4
    bad_timeout = run_cli("pub", "x", url=auth_server.url, env={"NATS_TIMEOUT": "soon"})
    assert bad_timeout.returncode == 2 and "NATS_TIMEOUT" in one_line_error(bad_timeout)
    socks = run_cli("pub", "x", url=auth_server.url, env={"NATS_SOCKS_PROXY": "socks5://h:1"})
    assert socks.returncode == 2 and "SOCKS" in one_line_error(socks)


@pytest.mark.parametrize(
    "where",
    [
        ("-s", "{url}", "kv", "ls"),
        ("kv", "-s", "{url}", "ls"),
        ("kv", "ls", "-s", "{url}"),
    ],
)
def test_global_options_go_before_or_after_the_command(nats_jetstream_server: NatsServer, where: tuple[str, ...]) -> None:
    args = [a.format(url=nats_jetstream_server.url) for a in where]
    dead = f"nats://127.0.0.1:{free_port()}"
    result = run_cli(*args, url=dead)
    assert result.returncode == 0, result.stderr


def test_nkey_seed_file_and_jwt_with_seed(nats_server_factory: NatsServerFactory, tmp_path: Path) -> None:
    import nkeys
    from jwt_helpers import new_keypair

    user = new_keypair(nkeys.PREFIX_BYTE_USER)
    server = nats_server_factory(config=f'authorization {{ users: [ {{nkey: "{user.public}"}} ] }}')
    seed_file = tmp_path / "user.nk"
    seed_file.write_text(user.seed, encoding="utf-8")
    assert run_cli("pub", "x", "--nkey", str(seed_file), url=server.url).returncode == 0
    assert run_cli("pub", "x", url=server.url, env={"NATS_NKEY": str(seed_file)}).returncode == 0
    half = run_cli("pub", "x", "--seed", user.seed, url=server.url)
    assert half.returncode == 2 and "--jwt and --seed go together" in one_line_error(half)


def test_creds_and_jwt_with_seed_in_operator_mode(nats_server_factory: NatsServerFactory, tmp_path: Path) -> None:
    from jwt_helpers import operator_setup

    setup = operator_setup()
    server = nats_server_factory(config=setup.config)
    creds = setup.write_creds(tmp_path)
    assert run_cli("pub", "x", "--creds", str(creds), url=server.url).returncode == 0
    assert run_cli("pub", "x", url=server.url, env={"NATS_CREDS": str(creds)}).returncode == 0
    literal = run_cli("pub", "x", "--jwt", setup.user_jwt, "--seed", setup.user.seed, url=server.url)
    assert literal.returncode == 0, literal.stderr
    (tmp_path / "u.jwt").write_text(setup.user_jwt, encoding="utf-8")
    (tmp_path / "u.nk").write_text(setup.user.seed, encoding="utf-8")
    files = run_cli("pub", "x", "--jwt", str(tmp_path / "u.jwt"), "--seed", str(tmp_path / "u.nk"), url=server.url)
    assert files.returncode == 0, files.stderr
    # a nats context holding the JWT and seed themselves (user_jwt / user_seed)
    nats_context(tmp_path, "op", url=server.url, user_jwt=setup.user_jwt, user_seed=setup.user.seed)
    assert run_cli("pub", "x", "--context", "op", url=None, config_home=tmp_path).returncode == 0
    assert run_cli("pub", "x", url=server.url).returncode == 4
