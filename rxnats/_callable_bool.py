"""A bool that can also be called, for predicates used both ways.

The seed writes ``nc.is_connected()``; nats-py code writes ``if nc.is_connected:``.
A :class:`CallableBool` property serves both (Django's ``CallableBool`` is the precedent).
"""

from __future__ import annotations

from typing import Final

__all__ = ["CallableBool", "CallableFalse", "CallableTrue"]


class CallableBool:
    """Truthy or falsy like its value; calling it returns the plain ``bool``."""

    __slots__ = ("_value",)

    def __init__(self, value: bool) -> None:
        self._value = value

    def __bool__(self) -> bool:
        return self._value

    def __call__(self) -> bool:
        return self._value

    def __eq__(self, other: object) -> bool:
        if isinstance(other, CallableBool):
            return self._value == other._value
        return self._value == other

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return repr(self._value)


CallableTrue: Final = CallableBool(True)
CallableFalse: Final = CallableBool(False)


def callable_bool(value: bool) -> CallableBool:
    """The shared instance for ``value``."""
    return CallableTrue if value else CallableFalse
