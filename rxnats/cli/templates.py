"""The ``nats`` CLI's message templates: ``{{Count}}``, ``{{TimeStamp}}``, ``{{Random 5 10}}``...

``pub``, ``req`` and ``reply`` expand these in the subject and body, as ``nats`` does with
Go templates (only this set of functions, which is the one ``nats`` documents):

=================  ===================================================
``Count``          the message number, from 1 (``Cnt`` too)
``TimeStamp``      the current time, RFC 3339
``Unix``           seconds since 1970 (UTC)
``UnixNano``       nanoseconds since 1970 (UTC)
``Time``           the current time as ``3:04PM``
``ID``             a unique id (a NUID)
``Random A B``     a random string of A to B letters and digits
``Request``        the request's payload (``reply`` only)
=================  ===================================================

``{{ .Count }}`` (with a dot) works too. Anything else between ``{{`` and ``}}`` is an
error, reported before anything is sent.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import string
import time
from dataclasses import dataclass

from rxnats.cli.errors import EXIT_USAGE, CommandFailed
from rxnats.nuid import TextNUID

__all__ = ["Template", "TemplateValues"]

_ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}")
_NAMES = ("Count", "Cnt", "TimeStamp", "Unix", "UnixNano", "Time", "ID", "Random", "Request")
_ALPHABET = string.ascii_letters + string.digits
_nuid = TextNUID()


@dataclass(frozen=True)
class TemplateValues:
    """What a template may refer to: the message number and, for replies, the request."""

    count: int
    request: str | None = None


class Template:
    """A parsed template; :meth:`render` expands it for one message.

    Raises:
        CommandFailed: (from the constructor) an action that is not a known function,
            or ``Random`` without two numbers.
    """

    def __init__(self, text: str, *, what: str = "template", allow_request: bool = False) -> None:
        self._parts: list[str | tuple[str, tuple[int, ...]]] = []
        pos = 0
        for m in _ACTION.finditer(text):
            self._parts.append(text[pos : m.start()])
            self._parts.append(self._action(m.group(1), what, allow_request))
            pos = m.end()
        self._parts.append(text[pos:])
        self.is_static: bool = len(self._parts) == 1

    @classmethod
    def literal(cls, text: str) -> Template:
        """A template that renders ``text`` as it is (``--no-templates``)."""
        template = cls("")
        template._parts = [text]
        return template

    @staticmethod
    def _action(body: str, what: str, allow_request: bool) -> tuple[str, tuple[int, ...]]:
        words = body.removeprefix(".").split()
        name = words[0] if words else ""
        if name not in _NAMES or (name == "Request" and not allow_request):
            known = ", ".join(n for n in _NAMES if allow_request or n != "Request")
            raise CommandFailed(
                f"{what}: unknown template function {name or body!r} in {{{{{body}}}}}",
                EXIT_USAGE,
                hint=f"use one of {known}, or --no-templates to send braces as they are",
            )
        args = words[1:]
        if name == "Random":
            try:
                low, high = (int(a) for a in args)
            except ValueError:
                raise CommandFailed(
                    f"{what}: Random takes two numbers, as in {{{{Random 5 10}}}}", EXIT_USAGE,
                    hint="e.g. {{Random 10 100}} for 10 to 100 random characters",
                ) from None
            return name, (max(0, low), max(0, high))
        if args:
            raise CommandFailed(f"{what}: {name} takes no arguments", EXIT_USAGE, hint=f"write {{{{{name}}}}}")
        return name, ()

    def render(self, values: TemplateValues) -> str:
        """The text for one message."""
        if self.is_static:
            return str(self._parts[0])
        now = time.time_ns()
        out: list[str] = []
        for part in self._parts:
            if isinstance(part, str):
                out.append(part)
                continue
            name, args = part
            if name in ("Count", "Cnt"):
                out.append(str(values.count))
            elif name == "TimeStamp":
                out.append(dt.datetime.fromtimestamp(now / 1e9).astimezone().isoformat(timespec="seconds"))
            elif name == "Unix":
                out.append(str(now // 1_000_000_000))
            elif name == "UnixNano":
                out.append(str(now))
            elif name == "Time":
                local = dt.datetime.fromtimestamp(now / 1e9)
                out.append(f"{local.hour % 12 or 12}:{local:%M%p}")
            elif name == "ID":
                out.append(_nuid.next())
            elif name == "Random":
                low, high = args
                length = random.randint(min(low, high), max(low, high))
                out.append("".join(random.choices(_ALPHABET, k=length)))
            else:  # Request
                out.append(values.request or "")
        return "".join(out)
