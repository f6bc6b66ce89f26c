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
from functools import partial

from rxnats.errors import ProtocolError
from rxnats.wire.frames import OK, PING, PONG, ErrFrame, Frame, InfoFrame, MsgFrame, ServerInfo

__all__ = ["DEFAULT_MAX_CONTROL_LINE", "DEFAULT_MAX_PAYLOAD", "Parser"]

DEFAULT_MAX_CONTROL_LINE = 4096
#: nats-server's own ceiling for max_payload is 64 MiB; nothing legitimate is larger.
DEFAULT_MAX_PAYLOAD = 64 * 1024 * 1024

_CRLF = b"\r\n"
_CR = 0x0D
_LF = 0x0A
#: Builds a MsgFrame without the Python-level ``__new__`` a NamedTuple adds: one per message.
_new_msg = partial(tuple.__new__, MsgFrame)


class Parser:
    """Incremental NATS server-protocol parser (no I/O).

    Args:
        max_control_line: longest control line accepted, ``\\r\\n`` excluded.
        max_payload: largest ``MSG``/``HMSG`` total size accepted.
    """

    __slots__ = (
        "_buf",
        "_error",
        "_msg_args",
        "_need",
        "_pos",
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
        self._buf = bytearray()
        self._pos = 0  # start of the unparsed part of _buf
        self._scan = 0  # where the search for CRLF resumes
        self._need = -1  # payload bytes awaited (incl. CRLF), -1 when reading a control line
        # (subject, sid, reply, header_len) of the message whose payload is awaited
        self._msg_args: tuple[str, int, str, int] = ("", 0, "", -1)
        self._error: ProtocolError | None = None

    @property
    def buffered(self) -> int:
        """Bytes received but not yet turned into frames."""
        return len(self._buf) - self._pos

    def feed(self, data: bytes) -> list[Frame]:
        """Add ``data`` and return every frame it completes, in order.

        Raises:
            ProtocolError: the stream is not valid NATS protocol; every later call
                raises it again.
        """
        if self._error is not None:
            raise self._error
        self._buf += data
        frames: list[Frame] = []
        try:
            self._parse(frames)
        except ProtocolError as exc:
            self._error = exc
            raise
        return frames

    def _parse(self, frames: list[Frame]) -> None:
        buf = self._buf
        pos = self._pos
        scan = self._scan
        end = len(buf)
        append = frames.append
        max_payload = self.max_payload
        max_line = self.max_control_line
        while pos < end:
            need = self._need
            if need >= 0:
                if end - pos < need:
                    break
                stop = pos + need - 2
                if buf[stop] != _CR or buf[stop + 1] != _LF:
                    raise ProtocolError("message payload is not followed by CRLF")
                subject, sid, reply, hlen = self._msg_args
                if hlen < 0:
                    append(_new_msg((subject, sid, reply, bytes(buf[pos:stop]), None)))
                else:
                    split = pos + hlen
                    append(
                        _new_msg((subject, sid, reply, bytes(buf[split:stop]), bytes(buf[pos:split])))
                    )
                pos = scan = stop + 2
                self._need = -1
                continue

            nl = buf.find(_CRLF, scan if scan > pos else pos)
            if nl < 0:
                # One byte of slack when the buffer ends in CR: a line of exactly
                # max_control_line bytes may have been split between its CR and LF.
                pending = end - pos
                if pending > max_line and not (
                    pending == max_line + 1 and buf[end - 1] == _CR
                ):
                    raise ProtocolError(f"control line exceeds {max_line} bytes without CRLF")
                # A CR at the very end may be the first half of the CRLF we look for.
                scan = max(pos, end - 1)
                break
            if nl - pos > max_line:
                raise ProtocolError(f"control line exceeds {max_line} bytes")
            if buf.startswith(b"MSG ", pos):
                # The hot path, inlined: a well-formed upper-case MSG whose payload is
                # already here becomes a frame without touching the parser's state.
                # Anything unusual falls through to _line(), which says what is wrong.
                args = buf[pos + 4 : nl].split()
                nargs = len(args)
                if nargs == 3:
                    subj, sid_b, size_b = args
                    reply = ""
                elif nargs == 4:
                    subj, sid_b, reply_b, size_b = args
                    reply = reply_b.decode("utf-8", "replace")
                else:
                    subj = sid_b = size_b = bytearray()
                if size_b.isdigit() and sid_b.isdigit():
                    total = int(size_b)
                    start = nl + 2
                    stop = start + total
                    if total <= max_payload and stop + 2 <= end:
                        if buf[stop] != _CR or buf[stop + 1] != _LF:
                            raise ProtocolError("message payload is not followed by CRLF")
                        append(
                            _new_msg(
                                (
                                    subj.decode("utf-8", "replace"),
                                    int(sid_b),
                                    reply,
                                    bytes(buf[start:stop]),
                                    None,
                                )
                            )
                        )
                        pos = scan = stop + 2
                        continue
            line = bytes(buf[pos:nl])
            pos = scan = nl + 2
            self._line(line, append)
        self._scan = scan
        if pos >= end:
            buf.clear()
            self._pos = 0
            self._scan = 0
        else:
            # Deleting from the front of a bytearray is cheap in CPython (it moves a
            # start pointer); offsets shift with it.
            if pos:
                del buf[:pos]
                self._scan -= pos
            self._pos = 0

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
