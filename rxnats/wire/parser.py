"""An incremental, bounded parser for what a NATS server sends.

``Parser.feed(data)`` takes bytes as they arrive, split at any offset, and returns the
frames completed so far. It never rescans: a partial control line remembers where the
search for ``\\r\\n`` stopped, and a partial payload waits for exactly the bytes it
still needs. Every buffer is bounded (this is a security limit): a control line longer
than ``max_control_line`` or a payload larger than ``max_payload`` raises
:class:`ProtocolError`, as does any line that is not a known operation. After an error
the parser is poisoned: the connection must be dropped.
"""

from __future__ import annotations

from collections.abc import Callable

from rxnats.errors import ProtocolError
from rxnats.wire.frames import OK, PING, PONG, ErrFrame, Frame, InfoFrame, ServerInfo

__all__ = ["DEFAULT_MAX_CONTROL_LINE", "DEFAULT_MAX_PAYLOAD", "Parser"]

DEFAULT_MAX_CONTROL_LINE = 4096
#: nats-server's own ceiling for max_payload is 64 MiB; nothing legitimate is larger.
DEFAULT_MAX_PAYLOAD = 64 * 1024 * 1024

_CRLF = b"\r\n"
_CR = 0x0D
_LF = 0x0A
#: The bulk path splits at most this much of a feed at a time (bounds each copy).
_BULK_WINDOW = 64 * 1024
#: A bulk run that yields fewer frames than this turns the bulk path off for the feed.
_BULK_MIN_RUN = 32
#: Parsed "MSG subject sid size" lines remembered (a stream repeats the same few lines).
_LINE_CACHE_LIMIT = 1024


def _msg_head(args: list[bytes]) -> tuple[str, int, str, int] | None:
    """``subject sid [reply] size`` of a MSG line, parsed; ``None`` when malformed.

    The fast paths use it; ``Parser._msg`` parses the same line again to say what is wrong.
    """
    nargs = len(args)
    if nargs == 3:
        subj, sid_b, size_b = args
        reply = ""
    elif nargs == 4:
        subj, sid_b, reply_b, size_b = args
        reply = reply_b.decode("utf-8", "replace")
    else:
        return None
    # isdigit() before int(): int() would also take '+5', ' 5' and '1_0'.
    if not (size_b.isdigit() and sid_b.isdigit()):
        return None
    return subj.decode("utf-8", "replace"), int(sid_b), reply, int(size_b)


class Parser:
    """Incremental NATS server-protocol parser (no I/O).

    Args:
        max_control_line: longest control line accepted, ``\\r\\n`` excluded.
        max_payload: largest ``MSG``/``HMSG`` total size accepted.
    """

    __slots__ = (
        "_buf",
        "_error",
        "_lines",
        "_msg_args",
        "_need",
        "_scan",
        "max_control_line",
        "max_payload",
    )

    def __init__(
        self,
        *,
        max_control_line: int = DEFAULT_MAX_CONTROL_LINE,
        max_payload: int = DEFAULT_MAX_PAYLOAD,
    ) -> None:
        self.max_control_line = max_control_line
        self.max_payload = max_payload
        self._buf = bytearray()  # the unparsed rest of earlier feeds
        self._scan = 0  # where the search for CRLF in _buf resumes
        self._need = -1  # payload bytes awaited (incl. CRLF), -1 when reading a control line
        # (subject, sid, reply, header_len) of the message whose payload is awaited
        self._msg_args: tuple[str, int, str, int] = ("", 0, "", -1)
        self._error: ProtocolError | None = None
        # control line -> (subject, sid, payload size), for reply-less MSG lines only
        self._lines: dict[bytes, tuple[str, int, int]] = {}

    @property
    def buffered(self) -> int:
        """Bytes received but not yet turned into frames."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[Frame]:
        """Add ``data`` and return every frame it completes, in order.

        Raises:
            ProtocolError: the stream is not valid NATS protocol; every later call
                raises it again.
        """
        if self._error is not None:
            raise self._error
        buf = self._buf
        if buf:
            buf += data
            need = self._need
            if need >= 0 and len(buf) < need:
                return []  # still inside a payload: nothing to parse, nothing to copy
            if need < 0 and self._scan >= 0 and buf.find(_CRLF, self._scan) < 0:
                self._check_partial_line(len(buf))
                self._scan = len(buf) - 1
                return []
            data = bytes(buf)
            buf.clear()
        frames: list[Frame] = []
        try:
            rest = self._parse(data, frames)
        except ProtocolError as exc:
            self._error = exc
            raise
        if rest < len(data):
            buf += memoryview(data)[rest:]
        return frames

    def _check_partial_line(self, pending: int) -> None:
        # One byte of slack when the data ends in CR: a line of exactly max_control_line
        # bytes may have been split between its CR and LF.
        limit = self.max_control_line
        if pending > limit and not (pending == limit + 1 and self._buf[-1:] == b"\r"):
            raise ProtocolError(f"control line exceeds {limit} bytes without CRLF")

    def _parse(self, data: bytes, frames: list[Frame]) -> int:
        """Parse complete frames from ``data``; return the offset of the unparsed rest.

        ``data`` is immutable ``bytes`` so that every slice is a single copy. State
        carried between calls: ``_need`` (a payload being awaited) and ``_scan`` (how
        far the unfinished control line at offset 0 was already searched).
        """
        end = len(data)
        append = frames.append
        find = data.find
        startswith = data.startswith
        max_payload = self.max_payload
        max_line = self.max_control_line
        pos = 0
        need = self._need
        if need >= 0:
            # The payload of a MSG/HMSG whose control line came in an earlier feed.
            if end < need:
                return 0
            stop = need - 2
            if data[stop : stop + 2] != _CRLF:
                raise ProtocolError("message payload is not followed by CRLF")
            subject, sid, reply, hlen = self._msg_args
            if hlen < 0:
                append((subject, sid, reply, data[:stop], None))
            else:
                append((subject, sid, reply, data[hlen:stop], data[:hlen]))
            pos = need
            self._need = -1
        scan = self._scan if self._scan > 0 else pos
        self._scan = 0
        bulk = True
        while pos < end:
            if bulk and startswith(b"MSG ", pos):
                stop, count = self._bulk(data, pos, append)
                if count < _BULK_MIN_RUN:
                    bulk = False
                if stop > pos:
                    pos = scan = stop
                    continue
            nl = find(_CRLF, scan)
            if nl < 0:
                self._scan = end - 1 - pos  # relative to the rest; a trailing CR may pair
                if end - pos > max_line:
                    tail_cr = data[end - 1] == _CR
                    if not (end - pos == max_line + 1 and tail_cr):
                        raise ProtocolError(f"control line exceeds {max_line} bytes without CRLF")
                return pos
            if nl - pos > max_line:
                raise ProtocolError(f"control line exceeds {max_line} bytes")
            if startswith(b"MSG ", pos):
                # The hot path, inlined: a well-formed upper-case MSG whose payload is
                # already here becomes a frame without touching the parser's state.
                # Anything unusual falls through to _line(), which says what is wrong.
                head = _msg_head(data[pos + 4 : nl].split())
                if head is not None:
                    subject, sid, reply, size = head
                    start = nl + 2
                    stop = start + size
                    if stop + 2 <= end and size <= max_payload:
                        if data[stop] != _CR or data[stop + 1] != _LF:
                            raise ProtocolError("message payload is not followed by CRLF")
                        append((subject, sid, reply, data[start:stop], None))
                        pos = scan = stop + 2
                        continue
            line = data[pos:nl]
            pos = scan = nl + 2
            self._line(line, append)
            need = self._need
            if need >= 0:
                # _line() read a MSG/HMSG control line: its payload follows.
                if end - pos < need:
                    return pos
                stop = pos + need - 2
                if data[stop] != _CR or data[stop + 1] != _LF:
                    raise ProtocolError("message payload is not followed by CRLF")
                subject, sid, reply, hlen = self._msg_args
                if hlen < 0:
                    append((subject, sid, reply, data[pos:stop], None))
                else:
                    split = pos + hlen
                    append((subject, sid, reply, data[split:stop], data[pos:split]))
                pos = scan = stop + 2
                self._need = -1
        return pos

    def _bulk(self, data: bytes, pos: int, append: Callable[[Frame], None]) -> tuple[int, int]:
        """Parse a run of plain MSG frames from ``pos``; return (where it stopped, frames).

        The common case (many small messages per read) costs one C-level split of a
        bounded window at CRLF instead of a search per line, and a dict lookup per
        control line instead of a split and two int()s: a stream repeats the same few
        lines. A payload split must be exactly as long as its line says, which also
        proves the CRLF after it is the frame's own; anything else (a payload with a
        CRLF inside, HMSG, other operations, a frame cut by the window) stops the run
        and the general path takes over, which also reports every error.
        """
        parts = data[pos : pos + _BULK_WINDOW].split(_CRLF)
        # (line, payload) pairs; the last part is what follows the last CRLF (unfinished).
        pairs = iter(parts[: (len(parts) - 1) & ~1])
        lines = self._lines
        get = lines.get
        max_line = self.max_control_line
        max_payload = self.max_payload
        count = 0
        for line, payload in zip(pairs, pairs, strict=True):
            head = get(line)
            if head is not None:
                subject, sid, size = head
                if len(payload) != size:
                    break
                append((subject, sid, "", payload, None))
            else:
                if len(line) > max_line or not line.startswith(b"MSG "):
                    break
                parsed = _msg_head(line[4:].split())
                if parsed is None:
                    break
                subject, sid, reply, size = parsed
                if size > max_payload or len(payload) != size:
                    break
                if not reply:
                    if len(lines) >= _LINE_CACHE_LIMIT:
                        lines.clear()
                    lines[line] = (subject, sid, size)
                append((subject, sid, reply, payload, None))
            count += 1
        # Each frame was a line and a payload, each followed by CRLF: summed in C.
        used = 2 * count
        return pos + sum(map(len, parts[:used])) + 2 * used, count

    def _line(self, line: bytes, append: Callable[[Frame], None]) -> None:
        # Fast path first: servers send upper-case MSG lines.
        if line[:4] == b"MSG ":
            self._msg(line.split()[1:], headers=False)
            return
        if line[:5] == b"HMSG ":
            self._msg(line.split()[1:], headers=True)
            return
        # The operation ends at the first space or tab, whichever comes first.
        cut = line.find(b" ")
        tab = line.find(b"\t")
        if cut < 0 or 0 <= tab < cut:
            cut = tab
        op, rest = (line, b"") if cut < 0 else (line[:cut], line[cut + 1 :])
        op_upper = op.upper()
        if op_upper == b"PING" and not rest.strip():
            append(PING)
        elif op_upper == b"PONG" and not rest.strip():
            append(PONG)
        elif op_upper == b"+OK" and not rest.strip():
            append(OK)
        elif op_upper == b"-ERR":
            text = rest.strip().decode("utf-8", "replace")
            if len(text) >= 2 and text[0] == text[-1] == "'":
                text = text[1:-1]
            append(ErrFrame(text))
        elif op_upper == b"INFO":
            append(InfoFrame(ServerInfo.from_json(rest)))
        elif op_upper == b"MSG":
            self._msg(rest.split(), headers=False)
        elif op_upper == b"HMSG":
            self._msg(rest.split(), headers=True)
        else:
            raise ProtocolError(f"unknown protocol operation {line[:32]!r}")

    def _msg(self, args: list[bytes], *, headers: bool) -> None:
        op = "HMSG" if headers else "MSG"
        sizes = 2 if headers else 1
        # subject, sid, [reply], sizes...
        if len(args) not in (2 + sizes, 3 + sizes):
            raise ProtocolError(f"{op} has {len(args)} arguments")
        numbers = args[1:2] + args[-sizes:]
        # isdigit() rather than int() alone: int() would also take '+5', ' 5' and '1_0'.
        if not all(n.isdigit() for n in numbers):
            raise ProtocolError(f"{op} has a malformed sid or size: {b' '.join(args)[:80]!r}")
        total = int(args[-1])
        hlen = int(args[-2]) if headers else -1
        if hlen > total:
            raise ProtocolError(f"{op} header size {hlen} exceeds total size {total}")
        if total > self.max_payload:
            raise ProtocolError(f"{op} of {total} bytes exceeds limit {self.max_payload}")
        reply = args[2].decode("utf-8", "replace") if len(args) == 3 + sizes else ""
        self._msg_args = (args[0].decode("utf-8", "replace"), int(args[1]), reply, hlen)
        self._need = total + 2
