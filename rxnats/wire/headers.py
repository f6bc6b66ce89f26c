"""The NATS header block (ADR-4): ``NATS/1.0[ status[ description]]`` then ``Key: Value`` lines.

:class:`Headers` is a read-only, case-preserving multi-map. Indexing returns the first
value of a key, so code written for nats-py's ``Dict[str, str]`` headers keeps working;
:meth:`Headers.get_all` returns every value. Encoding accepts a plain mapping of
``str -> str`` or ``str -> sequence of str``, leaves out empty or blank keys (as nats-py
does) and rejects anything that could break the framing: CR or LF anywhere, ``:`` or
whitespace in keys, and text that is not encodable UTF-8 (a lone surrogate).

Decoding is strict where a lax reading could mislead: the block must start with
``NATS/1.0``, a status must be exactly three ASCII digits (``503``; not ``²``, not a
thousand digits), and lines end with CRLF only (no lone CR or LF inside a value).
Anything else is :class:`~rxnats.errors.MalformedHeadersError`, an error of that one
message: a client decodes a block when ``msg.headers`` is read, and where it decodes one
itself (a request's status reply) it fails that one request.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from rxnats.errors import BadHeaderError, MalformedHeadersError

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
        self.status: int | None = status
        self.description: str = description

    @classmethod
    def _decoded(
        cls,
        items: tuple[tuple[str, str], ...],
        grouped: dict[str, list[str]],
        status: int | None,
        description: str,
    ) -> Headers:
        """A Headers from what :func:`decode_headers` already grouped (no second pass)."""
        self = cls.__new__(cls)
        self._items = items
        self._map = grouped
        self.status = status
        self.description = description
        return self

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


def _stray_line_end() -> MalformedHeadersError:
    return MalformedHeadersError("header block has a CR or LF that does not end a line")


def decode_headers(block: bytes) -> Headers:
    """Decode a header block as received in ``HMSG``.

    Lines without a colon are skipped (lenient, as servers do); text after ``NATS/1.0``
    that does not start with a digit is a description without a status.

    Raises:
        MalformedHeadersError: the block does not start with ``NATS/1.0`` followed by the
            end of the line or a space, its status is not three ASCII digits, or it has
            a CR or LF that is not part of a line-ending CRLF.
    """
    if not block.startswith(HEADER_LINE):
        raise MalformedHeadersError(f"header block does not start with NATS/1.0: {block[:32]!r}")
    text = block.decode("utf-8", "replace")
    lines = text.split("\r\n")
    first = lines[0]
    status: int | None = None
    description = ""
    if len(first) > _HEADER_LINE_LEN:
        if "\r" in first or "\n" in first:
            raise _stray_line_end()
        rest = first[_HEADER_LINE_LEN:]
        if not rest[0].isspace():
            raise MalformedHeadersError(f"header block has a bad version line: {first[:32]!r}")
        parts = rest.split(None, 1)
        if parts:
            code = parts[0]
            # Anything that starts like a number must be a status: three ASCII digits.
            # (str.isdigit() alone takes '²' and '٣', and int() of thousands of digits
            # raises; neither may reach a caller as anything but this error.)
            if code[0].isdigit():
                if len(code) != 3 or not (code.isascii() and code.isdigit()):
                    raise MalformedHeadersError(
                        f"header status is not three ASCII digits: {code[:16]!r}"
                    )
                status = int(code)
                description = parts[1].strip() if len(parts) > 1 else ""
            else:
                description = rest.strip()
    # Grouped here rather than in Headers(): one pass over the lines (every message
    # whose headers are read pays for this).
    items: list[tuple[str, str]] = []
    grouped: dict[str, list[str]] = {}
    for line in lines[1:]:
        if not line:
            continue  # the blank line that ends the block (and the empty rest after it)
        if "\r" in line or "\n" in line:
            # A CR or LF that does not end a line would end up inside a key or a value.
            raise _stray_line_end()
        key, sep, value = line.partition(":")
        if not sep:
            continue  # lenient: a line without a colon is skipped
        key = key.strip()
        value = value.strip()
        items.append((key, value))
        same = grouped.get(key)
        if same is None:
            grouped[key] = [value]
        else:
            same.append(value)
    return Headers._decoded(tuple(items), grouped, status, description)
