"""How commands print: messages, status lines (stderr), tables and JSON (stdout)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import sys
from collections.abc import Iterable, Sequence

from rxnats.cli.errors import CommandFailed
from rxnats.jetstream.models import Base
from rxnats.msg import Msg

__all__ = ["confirm", "format_msg", "info", "print_json", "print_msg", "print_table", "to_jsonable"]


def info(text: str) -> None:
    """A status line: it goes to stderr so that stdout carries only the results."""
    print(text, file=sys.stderr, flush=True)


def format_msg(msg: Msg, number: int | None = None, *, headers_only: bool = False) -> str:
    """A message as ``sub``/``req``/``reply`` print it: heading, headers, blank line, data."""
    tag = f"[#{number}] " if number is not None else ""
    reply = f' (reply "{msg.reply}")' if msg.reply else ""
    lines = [f'{tag}Received on "{msg.subject}"{reply}']
    headers = msg.headers
    if headers is not None:
        if headers.status is not None:
            lines.append(f"NATS/1.0 {headers.status} {headers.description}".rstrip())
        lines.extend(f"{key}: {value}" for key, value in headers.multi_items())
        if not headers_only:
            lines.append("")
    if not headers_only:
        lines.append(msg.data.decode("utf-8", errors="replace"))
    return "\n".join(lines) + "\n"


def print_msg(msg: Msg, number: int | None, *, raw: bool = False, headers_only: bool = False) -> None:
    """Print ``msg``: its payload alone with ``raw``, else :func:`format_msg`."""
    if raw and not headers_only:
        sys.stdout.buffer.write(msg.data + b"\n")
        sys.stdout.buffer.flush()
    else:
        print(format_msg(msg, number, headers_only=headers_only), flush=True)


def to_jsonable(value: object) -> object:
    """``value`` with dataclasses, enums, datetimes and bytes made JSON-friendly."""
    if isinstance(value, Base):  # JetStream models: the server's own JSON shape
        return to_jsonable(value.as_request())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, BaseException):
        return f"{type(value).__name__}: {value}"
    return value


def print_json(value: object) -> None:
    """Print ``value`` as indented JSON on stdout."""
    print(json.dumps(to_jsonable(value), indent=2, sort_keys=False), flush=True)


def print_table(headings: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Print rows under headings, columns aligned (numbers to the right)."""
    cells = [[("" if c is None else str(c)) for c in row] for row in rows]
    widths = [len(h) for h in headings]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    numeric = [
        bool(cells) and all(row[i].lstrip("-").replace(".", "", 1).isdigit() or not row[i] for row in cells)
        for i in range(len(headings))
    ]

    def line(row: Sequence[str]) -> str:
        parts = [c.rjust(w) if num else c.ljust(w) for c, w, num in zip(row, widths, numeric, strict=True)]
        return "  ".join(parts).rstrip()

    print(line(list(headings)))
    for row in cells:
        print(line(row))
    sys.stdout.flush()


def confirm(question: str, *, force: bool) -> None:
    """Go on when ``force`` or when the user answers yes on a terminal; refuse otherwise.

    Raises:
        CommandFailed: not confirmed (in a script, without ``--force``).
    """
    if force:
        return
    if sys.stdin.isatty():
        answer = input(f"{question} [y/N] ").strip().lower()
        if answer in ("y", "yes"):
            return
        raise CommandFailed("not confirmed: nothing was changed", hint="answer 'y', or pass --force")
    raise CommandFailed(
        f"refusing without confirmation: {question}", hint="pass --force (-f) to confirm"
    )
