"""An incremental, bounded parser for what a NATS server sends.

``Parser.feed(data)`` takes bytes as they arrive, split at any offset, and returns the
frames completed so far. It never rescans: a partial control line remembers where the
search for ``\\r\\n`` stopped, and a partial payload waits for exactly the bytes it
still needs. Every buffer is bounded (this is a security limit): a control line longer
than ``max_control_line`` or a payload larger than ``max_payload`` is a
:class:`ProtocolError`, as is any line that is not a known operation.

After an error the parser is poisoned and the connection must be dropped, but nothing
that came before the error is lost: frames completed earlier in the same ``feed()`` are
returned, and :attr:`Parser.error` is set at once (the next ``feed()`` raises it). A
``feed()`` that completes no frame before the error raises it directly.
"""

from __future__ import annotations

from collections.abc import Callable

from rxnats.errors import ProtocolError
from rxnats.wire.frames import OK, PING, PONG, ErrFrame, Frame, InfoFrame, ServerInfo

__all__ = ["DEFAULT_MAX_CONTROL_LINE", "DEFAULT_MAX_PAYLOAD", "Parser"]

#: nats-server bounds only the lines clients send it (its max_control_line: 4 KiB by
#: default, configurable up to 2 GiB). What it sends back is longer: a MSG line adds the
#: sid to a publisher's 4 KiB of subject and reply, and INFO grows with the cluster
#: (``connect_urls`` and ``ws_connect_urls`` list every client address of every server).
#: nats.go bounds no line at all; 1 MiB takes INFO for tens of thousands of addresses
#: and still bounds the buffer (payloads may be 64 times larger).
DEFAULT_MAX_CONTROL_LINE = 1024 * 1024
#: nats-server's own ceiling for max_payload is 64 MiB; nothing legitimate is larger.
DEFAULT_MAX_PAYLOAD = 64 * 1024 * 1024

_CRLF = b"\r\n"
_CR = 0x0D
_LF = 0x0A
#: The bulk path splits at most this much of a feed at a time (bounds each copy).
_BULK_WINDOW = 64 * 1024
#: A bulk run that yields fewer frames than this turns the bulk path off for the feed.
_BULK_MIN_RUN = 32
#: A read this long may be a stream's and starts with the bulk path; a shorter one (a
#: request or a reply with a small payload, some 75 bytes) starts line by line. Measured:
#: at 416 bytes the subscriber of `instructions.py pubsub` paid 0.7% more per message.
_BULK_MIN_BYTES = 128
#: Parsed "MSG subject sid size" lines remembered (a stream repeats the same few lines).
_LINE_CACHE_LIMIT = 1024


class Parser:
    """Incremental NATS server-protocol parser (no I/O).

    Args:
        max_control_line: longest control line accepted, ``\\r\\n`` excluded.
        max_payload: largest ``MSG``/``HMSG`` total size accepted.
    """

    __slots__ = (
        "_buf",
        "_lines",
        "_msg_args",
        "_need",
        "_scan",
        "error",
        "max_control_line",
        "max_payload",
    )

    def __init__(
        self,
        *,
        max_control_line: int = DEFAULT_MAX_CONTROL_LINE,
        max_payload: int = DEFAULT_MAX_PAYLOAD,
    ) -> None:
        self.max_control_line: int = max_control_line
        self.max_payload: int = max_payload
        self._buf = bytearray()  # the unparsed rest of earlier feeds
        self._scan = 0  # where the search for CRLF in _buf resumes
        self._need = -1  # payload bytes awaited (incl. CRLF), -1 when reading a control line
        # (subject, sid, reply, header_len) of the message whose payload is awaited
        self._msg_args: tuple[str, int, str, int] = ("", 0, "", -1)
        #: The error that poisoned the parser, or ``None`` while the stream is valid
        #: (a plain attribute: the reader checks it after every read).
        self.error: ProtocolError | None = None
        # control line -> (subject, sid, payload size), for reply-less MSG lines only
        self._lines: dict[bytes, tuple[str, int, int]] = {}

    @property
    def buffered(self) -> int:
        """Bytes received but not yet turned into frames."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[Frame]:
        """Add ``data`` and return every frame it completes, in order.

        When ``data`` holds an error after some complete frames, those frames are
        returned and :attr:`error` is set: check it after each call to drop the
        connection at once.

        Raises:
            ProtocolError: the stream is not valid NATS protocol and no frame came before
                the error in this call, or an earlier call found an error; every later
                call raises it again.
        """
        if self.error is not None:
            raise self.error
        buf = self._buf
        if not buf:
            if data.startswith(b"MSG ") and self._need < 0:
                frame = self._lone_msg(data)
                if frame is not None:
                    return [frame]
        else:
            buf += data
            need = self._need
            if need >= 0 and len(buf) < need:
                return []  # still inside a payload: nothing to parse, nothing to copy
            if need < 0 and self._scan >= 0 and buf.find(_CRLF, self._scan) < 0:
                try:
                    self._check_partial_line(len(buf))
                except ProtocolError as exc:
                    self.error = exc
                    raise
                self._scan = len(buf) - 1
                return []
            data = bytes(buf)
            buf.clear()
        frames: list[Frame] = []
        try:
            rest = self._parse(data, frames)
        except ProtocolError as exc:
            self.error = exc
            if frames:
                return frames  # delivered first; the error follows (see `error`)
            raise
        if rest < len(data):
            buf += memoryview(data)[rest:]
        return frames

    def _lone_msg(self, data: bytes) -> Frame | None:
        """The frame of a read that holds exactly one well-formed plain ``MSG``, or None.

        A lone request or reply arrives as such a read. Anything else (more or less
        than one frame, HMSG, a line the general path would refuse) returns None and
        the general path parses the read, reporting every error as usual. Reply-less
        lines are not cached here: a reply's subject is new every time.
        """
        nl = data.find(_CRLF)
        if nl < 0:
            return None
        # ``data[4:nl]`` is the line after "MSG ": ``subject sid [reply] size``.
        args = data[4:nl].split()
        nargs = len(args)
        if nargs == 4:
            subj_b, sid_b, reply_b, size_b = args
            reply = reply_b.decode("utf-8", "replace")
        elif nargs == 3:
            subj_b, sid_b, size_b = args
            reply = ""
        else:
            return None
        # isdigit() and the lengths as in _parse (int() alone takes '+5' and '1_0').
        if not (size_b.isdigit() and sid_b.isdigit() and len(size_b) < 20 and len(sid_b) < 20):
            return None
        stop = len(data) - 2
        if nl + 2 + int(size_b) != stop or not data.endswith(_CRLF) or nl > self.max_control_line:
            return None
        if stop - nl - 2 > self.max_payload:
            return None
        return (subj_b.decode("utf-8", "replace"), int(sid_b), reply, data[nl + 2 : stop], None)

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
        lines = self._lines
        # The bulk path pays for its set-up over a run of frames. A read of
        # _BULK_MIN_BYTES or more (a stream's) starts with it; in a shorter one it
        # starts at a line seen before when the read holds three frames of its size,
        # or after the line-by-line path parsed one frame and the rest holds two more
        # of its size. A read with a request or a reply alone never pays for it.
        bulk = True
        stream = end - pos >= _BULK_MIN_BYTES
        last = 0
        while pos < end:
            if bulk and (stream or 0 < 2 * last <= end - pos) and startswith(b"MSG ", pos):
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
            line = data[pos:nl]
            if startswith(b"MSG ", pos):
                # The hot path, inlined: a well-formed upper-case MSG whose payload is
                # already here becomes a frame without touching the parser's state.
                # Anything unusual falls through to _line(), which says what is wrong.
                # A reply-less line seen before (a stream repeats a few) is a dict lookup.
                cached = lines.get(line)
                if cached is not None:
                    subject, sid, size = cached
                    if bulk and last == 0 and 3 * (nl + size + 4 - pos) <= end - pos:
                        last = nl + size + 4 - pos  # a stream's read: bulk from here
                        continue
                    head: tuple[str, int, str, int] | None = (subject, sid, "", size)
                else:
                    # ``subject sid [reply] size``; None when malformed (the general path
                    # below parses the line again to say what is wrong).
                    head = None
                    args = line.split()
                    nargs = len(args)
                    if nargs == 5:
                        _, subj_b, sid_b, reply_b, size_b = args
                        reply = reply_b.decode("utf-8", "replace")
                    elif nargs == 4:
                        _, subj_b, sid_b, size_b = args
                        reply = ""
                    else:
                        subj_b = sid_b = size_b = b""
                    # isdigit() before int(), which would also take '+5', ' 5' and '1_0';
                    # the lengths keep int() from refusing (more than 4,300 digits):
                    # anything longer is _line()'s to parse or refuse.
                    if (size_b.isdigit() and sid_b.isdigit()
                            and len(size_b) < 20 and len(sid_b) < 20):
                        head = (subj_b.decode("utf-8", "replace"), int(sid_b), reply, int(size_b))
                if head is not None:
                    subject, sid, reply, size = head
                    start = nl + 2
                    stop = start + size
                    if size <= max_payload:
                        if cached is None and not reply:
                            if len(lines) >= _LINE_CACHE_LIMIT:
                                lines.clear()
                            lines[line] = (subject, sid, size)
                        if stop + 2 <= end:
                            if data[stop] != _CR or data[stop + 1] != _LF:
                                raise ProtocolError("message payload is not followed by CRLF")
                            append((subject, sid, reply, data[start:stop], None))
                            last = stop + 2 - pos
                            pos = scan = stop + 2
                            continue
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
                # The line-by-line path's parse, inlined here too (a call per frame less).
                args = line.split()
                nargs = len(args)
                if nargs == 5:
                    _, subj_b, sid_b, reply_b, size_b = args
                    reply = reply_b.decode("utf-8", "replace")
                elif nargs == 4:
                    _, subj_b, sid_b, size_b = args
                    reply = ""
                else:
                    break
                if not (size_b.isdigit() and sid_b.isdigit()
                        and len(size_b) < 20 and len(sid_b) < 20):
                    break
                size = int(size_b)
                if size > max_payload or len(payload) != size:
                    break
                subject = subj_b.decode("utf-8", "replace")
                sid = int(sid_b)
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
        # subject, sid, [reply], [header size], total size. Unpacked rather than sliced
        # and checked in a generator: every HMSG comes this way.
        nargs = len(args)
        hlen_b = b"0"
        if headers:
            if nargs == 4:
                subject_b, sid_b, hlen_b, total_b = args
                reply = ""
            elif nargs == 5:
                subject_b, sid_b, reply_b, hlen_b, total_b = args
                reply = reply_b.decode("utf-8", "replace")
            else:
                raise ProtocolError(f"HMSG has {nargs} arguments")
        elif nargs == 3:
            subject_b, sid_b, total_b = args
            reply = ""
        elif nargs == 4:
            subject_b, sid_b, reply_b, total_b = args
            reply = reply_b.decode("utf-8", "replace")
        else:
            raise ProtocolError(f"MSG has {nargs} arguments")
        # isdigit() rather than int() alone: int() would also take '+5', ' 5' and '1_0'.
        # int() refuses more than 4,300 digits with a ValueError: a protocol error too
        # (the fast paths leave numbers of 20 digits or more to this one).
        try:
            if not (sid_b.isdigit() and total_b.isdigit() and hlen_b.isdigit()):
                raise ValueError
            total = int(total_b)
            hlen = int(hlen_b) if headers else -1
            sid = int(sid_b)
        except ValueError:
            op = "HMSG" if headers else "MSG"
            raise ProtocolError(
                f"{op} has a malformed sid or size: {b' '.join(args)[:80]!r}"
            ) from None
        if hlen > total:
            raise ProtocolError(f"HMSG header size {hlen} exceeds total size {total}")
        if total > self.max_payload:
            op = "HMSG" if headers else "MSG"
            raise ProtocolError(f"{op} of {total} bytes exceeds limit {self.max_payload}")
        self._msg_args = (subject_b.decode("utf-8", "replace"), sid, reply, hlen)
        self._need = total + 2
