"""Unique, fast identifiers for inboxes (the NUID scheme: random prefix + sequence)."""

from __future__ import annotations

import secrets

__all__ = ["NUID"]

_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_BASE = len(_DIGITS)
_PREFIX_LEN = 12
_SEQ_LEN = 10
_MAX_SEQ = _BASE**_SEQ_LEN


class NUID:
    """Generates 22-character base62 identifiers: a random prefix and a sequence.

    The sequence starts at a random value and advances by a random increment, so
    successive ids are unpredictable enough for inboxes while costing only an addition.
    """

    __slots__ = ("_inc", "_prefix", "_seq")

    def __init__(self) -> None:
        self._prefix = ""
        self._seq = 0
        self._inc = 0
        self._reset()

    def _reset(self) -> None:
        self._prefix = "".join(secrets.choice(_DIGITS) for _ in range(_PREFIX_LEN))
        self._seq = secrets.randbelow(_MAX_SEQ // 2)
        self._inc = 33 + secrets.randbelow(300)

    def next(self) -> str:
        """Return the next identifier."""
        self._seq += self._inc
        if self._seq >= _MAX_SEQ:
            self._reset()
        n = self._seq
        out = []
        for _ in range(_SEQ_LEN):
            n, r = divmod(n, _BASE)
            out.append(_DIGITS[r])
        return self._prefix + "".join(out)
