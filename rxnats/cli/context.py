"""``rxnats context ls|add|select|unselect|info|rm``: the ``nats`` CLI's contexts.

The files are the ``nats`` CLI's own (see :mod:`rxnats.cli.contexts`), so a context
added here is usable with ``nats --context NAME`` and the other way round.
``context add NAME`` takes the connection options (``--server``, ``--user``,
``--creds``, ``--tlsca``, ...) and stores them; adding to an existing context changes
only the settings given.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from rxnats.cli.connection import open_connection
from rxnats.cli.contexts import ContextStore, NatsContext, validate_name
from rxnats.cli.errors import EXIT_OK, EXIT_USAGE, CommandFailed
from rxnats.cli.output import confirm, info, print_json, print_table
from rxnats.cli.parsing import Commands, add_command, add_group

__all__ = ["add_commands"]

# setting (argparse dest) -> context key
_SAVED = {
    "server": "url",
    "user": "user",
    "password": "password",
    "token": "token",
    "creds": "creds",
    "nkey": "nkey",
    "jwt": "user_jwt",
    "seed": "user_seed",
    "tls_cert": "cert",
    "tls_key": "key",
    "tls_ca": "ca",
    "inbox_prefix": "inbox_prefix",
    "js_domain": "jetstream_domain",
    "js_api_prefix": "jetstream_api_prefix",
}
_FILES = frozenset({"creds", "nkey", "tls_cert", "tls_key", "tls_ca"})


def add_commands(commands: Commands) -> None:
    """Add the ``context`` group."""
    group = add_group(commands, "context", "manage the nats CLI's configuration contexts", aliases=["ctx"])
    ls = add_command(group, "ls", cmd_ls, "list the contexts", aliases=["list"], connects=False)
    ls.add_argument("-j", "--json", action="store_true", help="the names as a JSON list")
    ls.add_argument("--names", action="store_true", help="only the names, one a line")
    add = add_command(
        group, "add", cmd_add,
        "create or update a context from the connection options (--server, --user, --creds, ...)",
        aliases=["create", "save"],
    )
    add.add_argument("name", help="the context's name")
    add.add_argument("--description", help="a description shown by 'context ls'")
    add.add_argument("--select", action="store_true", help="select it as well")
    select = add_command(group, "select", cmd_select, "select the default context (no NAME: show it)",
                         aliases=["switch", "set"], connects=False)
    select.add_argument("name", nargs="?", help="the context to select")
    add_command(group, "unselect", cmd_unselect, "select no context", connects=False)
    show = add_command(group, "info", cmd_info, "show a context (the selected one by default)",
                       aliases=["show", "view"], connects=False)
    show.add_argument("name", nargs="?", help="the context to show")
    show.add_argument("-j", "--json", action="store_true", help="the context file as JSON")
    show.add_argument("--connect", action="store_true", help="also try to connect with it")
    rm = add_command(group, "rm", cmd_rm, "remove a context", aliases=["remove"], connects=False)
    rm.add_argument("name", help="the context to remove")
    rm.add_argument("-f", "--force", action="store_true", help="do not ask")


def cmd_ls(args: argparse.Namespace) -> int:
    """``rxnats context ls``."""
    store = ContextStore.default()
    names = store.names()
    if args.json:
        print_json(names)
        return EXIT_OK
    if args.names:
        for name in names:
            print(name)
        return EXIT_OK
    if not names:
        info(f"no contexts in {store.directory}; 'rxnats context add NAME --server URL' makes one")
        return EXIT_OK
    selected = store.selected()
    rows = []
    for name in names:
        try:
            context = store.load(name)
            description, url = context.description, context.text("url")
        except CommandFailed as exc:
            description, url = f"(unreadable: {exc})", ""
        rows.append((name + ("*" if name == selected else ""), url, description))
    print_table(("Name", "URL", "Description"), rows)
    return EXIT_OK


def cmd_add(args: argparse.Namespace) -> int:
    """``rxnats context add NAME [options]``."""
    store = ContextStore.default()
    name = validate_name(args.name)
    context = store.load(name) if store.exists(name) else NatsContext(name, store.path(name))
    existed = bool(context.values)
    if getattr(args, "socks_proxy", None):
        raise CommandFailed("SOCKS proxies are not supported by rxnats", EXIT_USAGE, hint="drop --socks-proxy")
    given = {dest: getattr(args, dest) for dest in _SAVED if getattr(args, dest, None) is not None}
    if "user" in given and "password" not in given and not context.text("password"):
        given["token"] = given.pop("user")  # as nats: a user without a password is a token
    for dest, value in given.items():
        text = str(value)
        if dest in _FILES:
            text = str(Path(text).expanduser().resolve())
        context.values[_SAVED[dest]] = text
    if getattr(args, "tls_first", False):
        context.values["tls_first"] = True
    if args.description is not None:
        context.values["description"] = args.description
    if not context.text("url"):
        context.values["url"] = "nats://127.0.0.1:4222"
    path = store.save(context)
    info(f"{'updated' if existed else 'created'} context {name!r} ({path})")
    if args.select:
        store.select(name)
        info(f"selected context {name!r}")
    return EXIT_OK


def cmd_select(args: argparse.Namespace) -> int:
    """``rxnats context select [NAME]``."""
    store = ContextStore.default()
    if args.name is None:
        selected = store.selected()
        if selected is None:
            raise CommandFailed("no context is selected", hint="rxnats context select NAME")
        print(selected)
        return EXIT_OK
    store.select(validate_name(args.name))
    info(f"selected context {args.name!r}")
    return EXIT_OK


def cmd_unselect(args: argparse.Namespace) -> int:
    """``rxnats context unselect``."""
    ContextStore.default().unselect()
    info("no context is selected now")
    return EXIT_OK


def cmd_info(args: argparse.Namespace) -> int:
    """``rxnats context info [NAME]``."""
    store = ContextStore.default()
    name: str | None = args.name or store.selected()
    if name is None:
        raise CommandFailed("no context named and none is selected", hint="rxnats context info NAME")
    context = store.load(name)
    if args.json:
        print_json(context.as_file())
    else:
        print(f"Context {context.name!r} ({context.path})\n")
        print_table(("Setting", "Value"), sorted(context.redacted().items()))
    if args.connect:

        async def run() -> str:
            probe = argparse.Namespace(context=name)
            async with await open_connection(probe) as nc:
                return f"connected to {nc.connected_url()} (nats-server {nc.connected_server_version()})"

        info(asyncio.run(run()))
    return EXIT_OK


def cmd_rm(args: argparse.Namespace) -> int:
    """``rxnats context rm NAME``."""
    store = ContextStore.default()
    name = validate_name(args.name)
    if not store.exists(name):
        raise CommandFailed(f"unknown context {name!r}", hint="'rxnats context ls' lists the contexts")
    confirm(f"remove context {name!r}?", force=args.force)
    store.remove(name)
    info(f"removed context {name!r}")
    return EXIT_OK
