"""The NATS header block (ADR-4): ``NATS/1.0[ status[ description]]`` then ``Key: Value`` lines.

:class:`Headers` is a read-only, case-preserving multi-map. Indexing returns the first
value of a key, so code written for nats-py's ``Dict[str, str]`` headers keeps working;
:meth:`Headers.get_all` returns every value. Encoding accepts a plain mapping of
``str -> str`` or ``str -> sequence of str``, leaves out empty or blank keys (as nats-py
does) and rejects anything that could break the framing: CR or LF anywhere, and ``:`` or
whitespace in keys.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from rxnats.errors import BadHeaderError, ProtocolError

__all__ = [
    "HEADER_LINE",
    "Headers",
    "HeadersInput",
    "decode_headers",
    "encode_headers",
]

HEADER_LINE = b"NATS/1.0"
_HEADER_LINE_LEN = len(HEADER_LINE)

#: What ``publish(headers=...)`` accepts.
HeadersInput = Mapping[str, str] | Mapping[str, Sequence[str]] | Mapping[str, str | Sequence[str]]

_BAD_KEY_CHARS = frozenset(":\r\n \t\x00\x0b\x0c")


class Headers(Mapping[str, str]):
    """Message headers: a read-only multi-map that keeps key case and value order.

    ``headers[key]`` and ``headers.get(key)`` give the first value; ``get_all(key)`` gives
    all. ``status`` and ``description`` come from the ``NATS/1.0`` line (``None`` and
    ``""`` when absent).
    """

    __slots__ = ("_items", "_map", "description", "status")

    def __init__(
        self,
        items: Sequence[tuple[str, str]] = (),
        *,
        status: int | None = None,
        description: str = "",
    ) -> None:
        self._items: tuple[tuple[str, str], ...] = tuple(items)
        grouped: dict[str, list[str]] = {}
        for key, value in self._items:
            grouped.setdefault(key, []).append(value)
        self._map = grouped
        self.status = status
        self.description = description

    def __getitem__(self, key: str) -> str:
        return self._map[key][0]

    def __iter__(self) -> Iterator[str]:
        return iter(self._map)

    def __len__(self) -> int:
        return len(self._map)

    def get_all(self, key: str) -> list[str]:
        """Every value of ``key`` in the order received (empty when absent)."""
        return list(self._map.get(key, ()))

    def multi_items(self) -> list[tuple[str, str]]:
        """Every ``(key, value)`` pair in wire order, repeats included."""
        return list(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return (self._items, self.status, self.description) == (
                other._items,
                other.status,
                other.description,
            )
        if isinstance(other, Mapping):
            return dict(self.items()) == dict(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable-looking mapping: unhashable like dict

    def __repr__(self) -> str:
        status = f", status={self.status}" if self.status is not None else ""
        return f"Headers({list(self._items)!r}{status})"


def _check_key(key: str) -> None:
    if not isinstance(key, str) or not key or not _BAD_KEY_CHARS.isdisjoint(key):
        raise BadHeaderError(f"invalid header key {key!r}")


def _check_value(key: str, value: str) -> None:
    if not isinstance(value, str):
        raise BadHeaderError(f"header {key!r} value must be str, not {type(value).__name__}")
    if "\r" in value or "\n" in value:
        raise BadHeaderError(f"header {key!r} value contains CR or LF")


def encode_headers(headers: HeadersInput) -> bytes:
    """Encode ``headers`` into a header block, ``NATS/1.0`` line and final blank line included.

    A key that is empty or only whitespace is left out (nats-py does the same).

    Raises:
        BadHeaderError: a key contains ``:``, whitespace, CR or LF; a value contains CR
            or LF or is not a ``str``; a key or value holds a lone surrogate.
    """
    lines = [b"NATS/1.0\r\n"]
    for key, value in headers.items():
        if isinstance(key, str) and not key.strip():
            continue  # an empty or blank key is dropped, as nats-py drops it
        _check_key(key)
        values: Sequence[str]
        if isinstance(value, str):
            values = (value,)
        elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
            values = value
        else:  # an int or bytes would otherwise raise TypeError or be split into ints
            raise BadHeaderError(
                f"header {key!r} value must be str or a sequence of str, not {type(value).__name__}"
            )
        for one in values:
            _check_value(key, one)
            try:
                lines.append(f"{key}: {one}\r\n".encode())
            except UnicodeEncodeError:  # a lone surrogate: no UTF-8 for it
                raise BadHeaderError(
                    f"header {key!r} has text that is not valid Unicode (a lone surrogate)"
                ) from None
    lines.append(b"\r\n")
    return b"".join(lines)


def decode_headers(block: bytes) -> Headers:
    """Decode a header block as received in ``HMSG``.

    Lines without a colon are skipped (lenient, as servers do); a missing ``NATS/1.0``
    prefix is a :class:`ProtocolError`.
    """
    if not block.startswith(HEADER_LINE):
        raise ProtocolError(f"header block does not start with NATS/1.0: {block[:32]!r}")
    text = block.decode("utf-8", "replace")
    lines = text.split("\r\n")
    first = lines[0][_HEADER_LINE_LEN:].strip()
    status: int | None = None
    description = ""
    if first:
        code, _, rest = first.partition(" ")
        if code.isdigit():
            status = int(code)
            description = rest.strip()
        else:
            description = first
    items: list[tuple[str, str]] = []
    for line in lines[1:]:
        if not line:
            continue
        key, sep, value = line.partition(":")
        if not sep:
            continue
        items.append((key.strip(), value.strip()))
    return Headers(items, status=status, description=description)
