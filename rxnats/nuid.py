"""Unique, fast identifiers for inboxes (the NUID scheme: random prefix + sequence).

:class:`NUID` is the public generator, whose ``next()`` returns ``bytes`` as nats-py's
does; the client itself uses :class:`TextNUID`, the same generator returning ``str``
(inbox subjects are text: no encode and decode per request).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import ClassVar

__all__ = ["NUID", "TextNUID"]

_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_BASE = len(_DIGITS)
_PREFIX_LEN = 12
_SEQ_LEN = 10
_MAX_SEQ = _BASE**_SEQ_LEN
_MIN_INC = 33
_MAX_INC = 333


class _Generator:
    """22-character base62 identifiers: a random prefix and a sequence.

    The sequence starts at a random value and advances by a random increment, so
    successive ids are unpredictable enough for inboxes while costing only an addition.
    """

    __slots__ = ("_inc", "_prefix", "_seq")

    def __init__(self) -> None:
        self._prefix = ""
        self._seq = 0
        self._inc = 0
        self.randomize_prefix()
        self.reset_sequential()

    def randomize_prefix(self) -> None:
        """Draw a new random prefix."""
        self._prefix = "".join(secrets.choice(_DIGITS) for _ in range(_PREFIX_LEN))

    def reset_sequential(self) -> None:
        """Restart the sequence at a random value with a new random increment."""
        self._seq = secrets.randbelow(_MAX_SEQ // 2)
        self._inc = _MIN_INC + secrets.randbelow(_MAX_INC - _MIN_INC)

    def _next_text(self) -> str:
        self._seq += self._inc
        if self._seq >= _MAX_SEQ:
            self.randomize_prefix()
            self.reset_sequential()
        n = self._seq
        out = []
        for _ in range(_SEQ_LEN):
            n, r = divmod(n, _BASE)
            out.append(_DIGITS[r])
        return self._prefix + "".join(out)


class NUID(_Generator):
    """The NUID generator of nats-py: ``NUID().next()`` is a 22-byte ``bytes`` id."""

    __slots__ = ()

    def next(self) -> bytes:
        """Return the next identifier (ASCII letters and digits)."""
        return self._next_text().encode("ascii")


class TextNUID(_Generator):
    """The same generator returning ``str`` (what the client's inboxes need)."""

    __slots__ = ()

    #: Return the next identifier (the generator's own method: no extra call per id).
    next: ClassVar[Callable[[_Generator], str]] = _Generator._next_text
