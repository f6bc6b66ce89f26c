"""Argument parsing shared by every command: the parser class, value types, global options.

The global (connection) options are added to the top-level parser *and* to every command
parser with ``default=SUPPRESS``, so they may come before or after the command
(``rxnats -s URL pub x`` and ``rxnats pub x -s URL`` mean the same) and a later level
never overwrites what an earlier one parsed. :mod:`rxnats.cli.settings` then fills what
no flag gave from the ``NATS_*`` environment variables and the selected context.

Durations are written as the ``nats`` CLI writes them (Go's syntax: ``2s``, ``500ms``,
``1m30s``, ``1.5h``); a bare number is taken as seconds.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Iterable, Sequence
from typing import NoReturn, TypeAlias

from rxnats.cli.errors import UsageError

__all__ = [
    "GLOBAL_DESTS",
    "Commands",
    "Handler",
    "Parser",
    "add_command",
    "add_global_options",
    "add_group",
    "duration",
    "header",
    "non_negative_int",
    "positive_duration",
    "positive_int",
    "size",
]

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_DURATION_UNITS = {
    "ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0,
}
_SIZE = re.compile(r"(?i)^\s*(-?\d+)\s*([kmgt]i?b?|b)?\s*$")
_SIZE_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the usage line short: the connection options are listed below it, not in it."""

    def add_usage(
        self,
        usage: str | None,
        actions: Iterable[argparse.Action],
        groups: Iterable[argparse._MutuallyExclusiveGroup],
        prefix: str | None = None,
    ) -> None:
        if usage is None:
            actions = [a for a in actions if a.dest not in GLOBAL_DESTS]
        super().add_usage(usage, actions, groups, prefix)


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are a one-line :class:`UsageError`, not an exit.

    Abbreviated options are not accepted (as in ``nats``): ``--serv`` is an error, so
    that adding an option never changes what an existing command line means.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]  # ArgumentParser's own keywords

    def error(self, message: str) -> NoReturn:
        """Raise :class:`UsageError` for a bad command line."""
        raise UsageError(message, self.prog)


def duration(text: str) -> float:
    """``"2s"``, ``"500ms"``, ``"1m30s"`` or ``"1.5"`` (seconds) -> seconds.

    Raises:
        argparse.ArgumentTypeError: not a duration, or negative.
    """
    stripped = text.strip()
    try:
        value = float(stripped)
    except ValueError:
        value = _go_duration(stripped)
    if value < 0 or value != value:  # NaN compares unequal to itself
        raise argparse.ArgumentTypeError(f"invalid duration {text!r}: use e.g. 2s, 500ms or 1m30s")
    return value


def _go_duration(text: str) -> float:
    total, pos = 0.0, 0
    while pos < len(text):
        m = _DURATION_PART.match(text, pos)
        if m is None:
            break
        total += float(m.group(1)) * _DURATION_UNITS[m.group(2)]
        pos = m.end()
    if pos == 0 or pos != len(text):
        raise argparse.ArgumentTypeError(f"invalid duration {text!r}: use e.g. 2s, 500ms or 1m30s")
    return total


def positive_duration(text: str) -> float:
    """A :func:`duration` greater than zero."""
    value = duration(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive duration (e.g. 2s, 500ms)")
    return value


def positive_int(text: str) -> int:
    """An integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive integer")
    return value


def non_negative_int(text: str) -> int:
    """An integer of at least 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return value


def size(text: str) -> int:
    """``"1024"``, ``"64KiB"``, ``"10M"``, ``"1GB"`` -> bytes (binary units); ``-1``: unlimited.

    Raises:
        argparse.ArgumentTypeError: not a size.
    """
    m = _SIZE.match(text)
    if m is None:
        raise argparse.ArgumentTypeError(f"invalid size {text!r}: use e.g. 1024, 64KiB, 10MB or 1G")
    number, unit = int(m.group(1)), (m.group(2) or "").lower()[:1]
    if number < 0 and (number != -1 or unit):
        raise argparse.ArgumentTypeError(f"invalid size {text!r}: only -1 (unlimited) may be negative")
    return number * _SIZE_UNITS[unit]


def header(text: str) -> tuple[str, str]:
    """``"Key:Value"`` -> ``("Key", "Value")``."""
    key, sep, value = text.partition(":")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"header {text!r} is not KEY:VALUE")
    return key.strip(), value.strip()


# dest -> (flags, metavar, help); every one is a string option unless listed in _FLAGS.
_GLOBALS: dict[str, tuple[tuple[str, ...], str | None, str]] = {
    "server": (("-s", "--server"), "URL", "server URL(s), comma separated [$NATS_URL]"),
    "user": (("--user",), "USER", "user name; alone, it is a token (as in nats) [$NATS_USER]"),
    "password": (("--password",), "PASSWORD", "password [$NATS_PASSWORD]"),
    "token": (("--token",), "TOKEN", "authentication token [$NATS_TOKEN]"),
    "creds": (("--creds",), "FILE", "user credentials file (JWT + nkey seed) [$NATS_CREDS]"),
    "nkey": (("--nkey",), "FILE", "user nkey seed file [$NATS_NKEY]"),
    "jwt": (("--jwt",), "JWT", "user JWT, or a file holding it (with --seed) [$NATS_JWT]"),
    "seed": (("--seed",), "SEED", "user nkey seed, or a file holding it (with --jwt) [$NATS_SEED]"),
    "tls_cert": (("--tlscert", "--tls-cert"), "FILE", "TLS client certificate [$NATS_CERT]"),
    "tls_key": (("--tlskey", "--tls-key"), "FILE", "TLS client certificate's key [$NATS_KEY]"),
    "tls_ca": (("--tlsca", "--tls-ca"), "FILE", "CA certificates that verify the server [$NATS_CA]"),
    "timeout": (("--timeout",), "DURATION", "time to wait for answers (default 5s) [$NATS_TIMEOUT]"),
    "connection_name": (("--connection-name",), "NAME", "name of the connection"),
    "inbox_prefix": (("--inbox-prefix",), "PREFIX", "prefix of reply inboxes"),
    "js_domain": (("--js-domain", "--domain"), "DOMAIN", "JetStream domain"),
    "js_api_prefix": (("--js-api-prefix",), "PREFIX", "subject prefix of the JetStream API"),
    "socks_proxy": (("--socks-proxy",), "PROXY", "not supported: rxnats refuses it [$NATS_SOCKS_PROXY]"),
    "context": (("--context",), "NAME", "configuration context (name or .json file) [$NATS_CONTEXT]"),
}
_FLAGS: dict[str, tuple[tuple[str, ...], str]] = {
    "tls_first": (("--tlsfirst", "--tls-first"), "TLS handshake before the server's greeting"),
    "no_context": (("--no-context",), "ignore the selected context"),
}
#: The ``argparse`` destinations of the global options.
GLOBAL_DESTS = (*_GLOBALS, *_FLAGS)


def add_global_options(parser: argparse.ArgumentParser, *, skip: tuple[str, ...] = ()) -> None:
    """Add the global (connection) options to ``parser``, leaving out the dests in ``skip``."""
    group = parser.add_argument_group("connection options (before or after the command)")
    for dest, (flags, metavar, help_) in _GLOBALS.items():
        if dest in skip:
            continue
        kind = positive_duration if dest == "timeout" else str
        group.add_argument(
            *flags, dest=dest, metavar=metavar, help=help_, type=kind, default=argparse.SUPPRESS
        )
    for dest, (flags, help_) in _FLAGS.items():
        if dest not in skip:
            group.add_argument(
                *flags, dest=dest, action="store_true", help=help_, default=argparse.SUPPRESS
            )


#: A command's implementation: the parsed arguments in, the exit code out.
Handler = Callable[[argparse.Namespace], int]
#: The sub-command container of a parser.
Commands: TypeAlias = "argparse._SubParsersAction[Parser]"


def add_command(
    commands: Commands,
    name: str,
    handler: Handler,
    help_: str,
    *,
    aliases: Sequence[str] = (),
    connects: bool = True,
    epilog: str | None = None,
) -> Parser:
    """Add command ``name`` (with the global options when it ``connects``)."""
    sub = commands.add_parser(
        name,
        aliases=list(aliases),
        help=help_,
        description=help_[:1].upper() + help_[1:] + ".",
        epilog=epilog,
    )
    if connects:
        add_global_options(sub)
    sub.set_defaults(handler=handler, command_prog=sub.prog)
    return sub


def add_group(commands: Commands, name: str, help_: str, *, aliases: Sequence[str] = ()) -> Commands:
    """Add a command group ``name`` (``rxnats stream ...``) and return its sub-commands."""
    group = commands.add_parser(
        name, aliases=list(aliases), help=help_, description=help_[:1].upper() + help_[1:] + "."
    )
    add_global_options(group)
    return group.add_subparsers(dest=f"{name}_command", metavar="COMMAND", required=True)
