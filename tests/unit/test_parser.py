"""Unit tests for the incremental server-protocol parser (rxnats.wire.parser)."""

from __future__ import annotations

import json

import pytest

from rxnats.errors import ProtocolError
from rxnats.wire.frames import (
    ErrFrame,
    Frame,
    InfoFrame,
    MsgFrame,
    OkFrame,
    PingFrame,
    PongFrame,
    ServerInfo,
    is_msg_frame,
    msg_frame,
)
from rxnats.wire.parser import DEFAULT_MAX_CONTROL_LINE, Parser


def parse_all(data: bytes, parser: Parser | None = None) -> list[Frame]:
    return (parser or Parser()).feed(data)


def parse_one(data: bytes) -> Frame:
    frames = parse_all(data)
    assert len(frames) == 1, frames
    return frames[0]


# --------------------------------------------------------------------------- frame kinds


def test_ping_pong_ok() -> None:
    assert parse_all(b"PING\r\nPONG\r\n+OK\r\n") == [PingFrame(), PongFrame(), OkFrame()]


def test_err_strips_quotes() -> None:
    assert parse_one(b"-ERR 'Authorization Violation'\r\n") == ErrFrame("Authorization Violation")


def test_err_without_quotes_and_empty() -> None:
    assert parse_one(b"-ERR Stale Connection\r\n") == ErrFrame("Stale Connection")
    assert parse_one(b"-ERR\r\n") == ErrFrame("")
    assert parse_one(b"-ERR ''\r\n") == ErrFrame("")
    # A lone quote is not a quoted string: kept as is.
    assert parse_one(b"-ERR '\r\n") == ErrFrame("'")


def test_info_frame() -> None:
    frame = parse_one(
        b'INFO {"server_id":"S1","version":"2.10.0","proto":1,"headers":true,'
        b'"max_payload":2048,"connect_urls":["a:4222","b:4222"],"ldm":true}\r\n'
    )
    assert isinstance(frame, InfoFrame)
    info = frame.info
    assert info.server_id == "S1"
    assert info.version == "2.10.0"
    assert info.proto == 1
    assert info.headers is True
    assert info.max_payload == 2048
    assert info.connect_urls == ("a:4222", "b:4222")
    assert info.ldm is True
    assert info.raw["server_id"] == "S1"


def test_info_lenient_unknown_and_odd_typed_fields() -> None:
    frame = parse_one(
        b'INFO {"future_field":{"x":[1,2]},"port":"4222","headers":"yes","max_payload":1.5,'
        b'"proto":true,"server_name":17,"connect_urls":["ok:1",5,null],"nonce":null}\r\n'
    )
    assert isinstance(frame, InfoFrame)
    info = frame.info
    default = ServerInfo()
    assert info.port == 0
    assert info.headers is False
    assert info.max_payload == default.max_payload
    assert info.proto == 0  # a bool is not an int here
    assert info.server_name == ""
    assert info.connect_urls == ("ok:1",)
    assert info.nonce == ""
    assert info.raw["future_field"] == {"x": [1, 2]}


def test_info_empty_object() -> None:
    frame = parse_one(b"INFO {}\r\n")
    assert frame == InfoFrame(ServerInfo())


@pytest.mark.parametrize(
    "line",
    [
        b"INFO notjson\r\n",
        b"INFO\r\n",
        b"INFO []\r\n",
        b'INFO "text"\r\n',
        b"INFO {\r\n",
        b"INFO \xff\xfe\r\n",
        # Deep nesting must be a ProtocolError too, not a RecursionError.
        b"INFO " + b"[" * 4000 + b"\r\n",
    ],
)
def test_bad_info_is_protocol_error(line: bytes) -> None:
    with pytest.raises(ProtocolError):
        Parser().feed(line)


def test_msg_without_reply() -> None:
    assert parse_one(b"MSG foo.bar 9 5\r\nhello\r\n") == msg_frame("foo.bar", 9, "", b"hello")


def test_msg_with_reply() -> None:
    frame = parse_one(b"MSG foo 1 _INBOX.x 3\r\nabc\r\n")
    assert frame == msg_frame("foo", 1, "_INBOX.x", b"abc")
    assert is_msg_frame(frame)
    assert frame[4] is None  # headers


def test_msg_empty_payload() -> None:
    assert parse_one(b"MSG foo 1 0\r\n\r\n") == msg_frame("foo", 1, "", b"")


def test_msg_payload_containing_crlf_and_protocol_text() -> None:
    payload = b"MSG foo 1 3\r\nPING\r\n-ERR 'x'\r\n\r\n"
    data = b"MSG a.b 2 %d\r\n" % len(payload) + payload + b"\r\nPONG\r\n"
    assert parse_all(data) == [msg_frame("a.b", 2, "", payload), PongFrame()]


def test_hmsg_without_reply() -> None:
    hdr = b"NATS/1.0\r\nA: 1\r\n\r\n"
    data = b"HMSG foo 3 %d %d\r\n" % (len(hdr), len(hdr) + 2) + hdr + b"hi\r\n"
    assert parse_one(data) == msg_frame("foo", 3, "", b"hi", hdr)


def test_hmsg_with_reply_and_empty_payload() -> None:
    hdr = b"NATS/1.0 503\r\n\r\n"
    data = b"HMSG foo 3 r.1 %d %d\r\n" % (len(hdr), len(hdr)) + hdr + b"\r\n"
    assert parse_one(data) == msg_frame("foo", 3, "r.1", b"", hdr)


def test_case_insensitive_ops() -> None:
    data = b"ping\r\nPoNg\r\n+ok\r\n-err 'x'\r\ninfo {}\r\nmsg foo 1 2\r\nhi\r\n"
    hdr = b"NATS/1.0\r\n\r\n"
    data += b"hmsg foo 1 %d %d\r\n" % (len(hdr), len(hdr)) + hdr + b"\r\n"
    assert parse_all(data) == [
        PingFrame(),
        PongFrame(),
        OkFrame(),
        ErrFrame("x"),
        InfoFrame(ServerInfo()),
        msg_frame("foo", 1, "", b"hi"),
        msg_frame("foo", 1, "", b"", hdr),
    ]


def test_tab_and_repeated_separators() -> None:
    data = (
        b"MSG\tfoo\t1\t2\r\nhi\r\n"
        b"MSG\tfoo 1  r   2\r\nhi\r\n"
        b"MSG  foo \t 1 \t 2\r\nhi\r\n"
        b'INFO\t{"server_id": "S"}\r\n'
        b"-ERR\t'x y'\r\n"
        b"PING \r\n"
        b"PONG\t\r\n"
    )
    assert parse_all(data) == [
        msg_frame("foo", 1, "", b"hi"),
        msg_frame("foo", 1, "r", b"hi"),
        msg_frame("foo", 1, "", b"hi"),
        InfoFrame(ServerInfo(server_id="S")),
        ErrFrame("x y"),
        PingFrame(),
        PongFrame(),
    ]


# --------------------------------------------------------------------------- limits


def _err_line(length: int) -> bytes:
    """A valid -ERR control line of exactly ``length`` bytes (CRLF excluded)."""
    line = b"-ERR '" + b"x" * (length - 7) + b"'"
    assert len(line) == length
    return line


def test_control_line_exactly_at_cap_is_accepted() -> None:
    line = _err_line(DEFAULT_MAX_CONTROL_LINE)
    assert parse_all(line + b"\r\n") == [ErrFrame("x" * (DEFAULT_MAX_CONTROL_LINE - 7))]


def test_control_line_at_cap_split_anywhere_is_accepted() -> None:
    line = _err_line(DEFAULT_MAX_CONTROL_LINE) + b"\r\n"
    # Particularly between its CR and LF, and just before the CR.
    for cut in (len(line) - 1, len(line) - 2, DEFAULT_MAX_CONTROL_LINE // 2):
        parser = Parser()
        frames = parser.feed(line[:cut]) + parser.feed(line[cut:])
        assert len(frames) == 1
        assert parser.buffered == 0


def test_control_line_over_cap_is_rejected() -> None:
    with pytest.raises(ProtocolError):
        Parser().feed(_err_line(DEFAULT_MAX_CONTROL_LINE + 1) + b"\r\n")


def test_control_line_over_cap_rejected_before_crlf_arrives() -> None:
    parser = Parser()
    assert parser.feed(_err_line(DEFAULT_MAX_CONTROL_LINE)) == []
    with pytest.raises(ProtocolError):
        parser.feed(b"x")


def test_control_line_over_cap_with_trailing_cr_rejected() -> None:
    parser = Parser()
    with pytest.raises(ProtocolError):
        parser.feed(_err_line(DEFAULT_MAX_CONTROL_LINE + 1) + b"\r")


def test_no_crlf_never_grows_unbounded() -> None:
    with pytest.raises(ProtocolError):
        Parser().feed(b"x" * (DEFAULT_MAX_CONTROL_LINE + 10))


def test_no_crlf_never_grows_unbounded_in_small_chunks() -> None:
    parser = Parser(max_control_line=4096)
    with pytest.raises(ProtocolError):
        for _ in range(10_000):
            parser.feed(b"x")
            assert parser.buffered <= 4096
    assert parser.error is not None
    with pytest.raises(ProtocolError):  # poisoned, as after any other error
        parser.feed(b"\r\nPING\r\n")


def test_info_and_msg_lines_longer_than_the_servers_own_limit_are_accepted() -> None:
    # nats-server limits the lines clients send it to 4 KiB by default; a MSG line adds the
    # sid to that, and INFO lists every client address of a cluster.
    subject = "s" * 4092
    info = json.dumps({"connect_urls": [f"nats-{i}.example.com:4222" for i in range(2000)]})
    assert len(info) > 50_000
    frames = Parser().feed(
        f"MSG {subject} 123456 2\r\nok\r\nINFO {info}\r\n".encode()
    )
    assert frames[0] == msg_frame(subject, 123456, "", b"ok")
    assert isinstance(frames[1], InfoFrame)
    assert len(frames[1].info.connect_urls) == 2000


def test_custom_control_line_cap() -> None:
    assert Parser(max_control_line=9).feed(b"MSG a 1 0\r\n\r\n") == [msg_frame("a", 1, "", b"")]
    with pytest.raises(ProtocolError):
        Parser(max_control_line=8).feed(b"MSG a 1 0\r\n\r\n")
    parser = Parser(max_control_line=8)
    assert parser.feed(b"MSG a 1 ") == []
    with pytest.raises(ProtocolError):
        parser.feed(b"0")


def test_payload_over_max_payload_rejected_before_it_arrives() -> None:
    parser = Parser(max_payload=10)
    assert parser.feed(b"MSG foo 1 10\r\n") == []
    parser = Parser(max_payload=10)
    with pytest.raises(ProtocolError):
        parser.feed(b"MSG foo 1 11\r\n")
    hparser = Parser(max_payload=10)
    with pytest.raises(ProtocolError):
        hparser.feed(b"HMSG foo 1 4 11\r\n")


def test_default_max_payload_rejects_huge_size_without_buffering() -> None:
    parser = Parser()
    with pytest.raises(ProtocolError):
        parser.feed(b"MSG foo 1 99999999999999999999\r\n")


def test_header_size_larger_than_total_rejected() -> None:
    with pytest.raises(ProtocolError):
        Parser().feed(b"HMSG foo 1 5 4\r\n")


@pytest.mark.parametrize(
    "data",
    [
        b"MSG foo 1 3\r\nabcXY",
        b"MSG foo 1 3\r\nabcd\r\n",
        b"MSG foo 1 3\r\nab\r\n\r\n",
        b"MSG foo 1 3\r\nabc\n\r",
    ],
)
def test_payload_not_followed_by_crlf(data: bytes) -> None:
    with pytest.raises(ProtocolError):
        Parser().feed(data)


# --------------------------------------------------------------------------- malformed lines


@pytest.mark.parametrize(
    "size", [b"-1", b"+5", b"1_0", b"abc", b" 5x", b"0x10", b"\xd9\xa3", b"5.0"]
)
def test_bad_sizes(size: bytes) -> None:
    with pytest.raises(ProtocolError):
        Parser().feed(b"MSG foo 1 " + size + b"\r\n")
    with pytest.raises(ProtocolError):
        Parser().feed(b"HMSG foo 1 " + size + b" 10\r\n")
    with pytest.raises(ProtocolError):
        Parser().feed(b"HMSG foo 1 0 " + size + b"\r\n")


@pytest.mark.parametrize("sid", [b"-1", b"+1", b"x", b"1_0"])
def test_bad_sid(sid: bytes) -> None:
    with pytest.raises(ProtocolError):
        Parser().feed(b"MSG foo " + sid + b" 3\r\n")


@pytest.mark.parametrize(
    "line",
    [
        b"MSG\r\n",
        b"MSG foo\r\n",
        b"MSG foo 1\r\n",
        b"MSG foo 1 r extra 3\r\n",
        b"HMSG foo 1 3\r\n",
        b"HMSG foo 1 r x 1 3\r\n",
        b"HMSG\r\n",
    ],
)
def test_wrong_argument_counts(line: bytes) -> None:
    with pytest.raises(ProtocolError):
        Parser().feed(line)


@pytest.mark.parametrize(
    "line",
    [
        b"FOO\r\n",
        b"\r\n",
        b" PING\r\n",
        b"PINGX\r\n",
        b"PING extra\r\n",
        b"PONG x\r\n",
        b"+OK x\r\n",
        b"PUB foo 3\r\n",
        b"SUB foo 1\r\n",
        b"CONNECT {}\r\n",
        b"MSGfoo 1 3\r\n",
    ],
)
def test_unknown_operations(line: bytes) -> None:
    with pytest.raises(ProtocolError):
        Parser().feed(line)


@pytest.mark.parametrize(
    "line",
    [
        b"MSG s " + b"9" * 5000 + b" 1\r\nx\r\n",
        b"MSG s 1 r " + b"9" * 5000 + b"\r\n",
        b"HMSG s 1 " + b"1" * 5000 + b" 2\r\n",
    ],
)
def test_numbers_of_thousands_of_digits_are_protocol_errors(line: bytes) -> None:
    # int() refuses more than 4300 digits with a ValueError, which must not escape.
    with pytest.raises(ProtocolError, match="malformed sid or size"):
        Parser().feed(line)


def test_poisoned_after_error() -> None:
    parser = Parser()
    with pytest.raises(ProtocolError) as first:
        parser.feed(b"BOGUS\r\n")
    with pytest.raises(ProtocolError) as again:
        parser.feed(b"PING\r\n")
    assert again.value is first.value
    with pytest.raises(ProtocolError):
        parser.feed(b"")


# --------------------------------------------------------------------------- buffering


def test_buffered_property() -> None:
    parser = Parser()
    assert parser.buffered == 0
    assert parser.feed(b"PI") == []
    assert parser.buffered == 2
    assert parser.feed(b"NG\r") == []
    assert parser.buffered == 5
    assert parser.feed(b"\nMSG foo 1 5\r\nab") == [PingFrame()]
    assert parser.buffered == 2  # the partial payload
    assert parser.feed(b"cde\r") == []
    assert parser.buffered == 6
    assert parser.feed(b"\nPO") == [msg_frame("foo", 1, "", b"abcde")]
    assert parser.buffered == 2
    assert parser.feed(b"NG\r\n") == [PongFrame()]
    assert parser.buffered == 0


def test_feed_empty_bytes() -> None:
    parser = Parser()
    assert parser.feed(b"") == []
    assert parser.buffered == 0


def _stream() -> tuple[bytes, list[Frame]]:
    hdr = b"NATS/1.0\r\nK: v\r\nK: w\r\n\r\n"
    payload = b"x\r\nMSG y 1 1\r\n"
    data = (
        b'INFO {"server_id":"S","max_payload":100}\r\n'
        b"PING\r\n"
        + b"MSG a.b 1 %d\r\n" % len(payload)
        + payload
        + b"\r\n"
        + b"HMSG c 2 r.s %d %d\r\n" % (len(hdr), len(hdr) + 3)
        + hdr
        + b"abc\r\n"
        + b"MSG e 3 0\r\n\r\n"
        + b"+OK\r\n-ERR 'bad thing'\r\nPONG\r\n"
    )
    expected: list[Frame] = [
        InfoFrame(ServerInfo(server_id="S", max_payload=100)),
        PingFrame(),
        msg_frame("a.b", 1, "", payload),
        msg_frame("c", 2, "r.s", b"abc", hdr),
        msg_frame("e", 3, "", b""),
        OkFrame(),
        ErrFrame("bad thing"),
        PongFrame(),
    ]
    return data, expected


def test_whole_stream() -> None:
    data, expected = _stream()
    assert parse_all(data) == expected


def test_split_at_every_offset() -> None:
    data, expected = _stream()
    for cut in range(len(data) + 1):
        parser = Parser()
        frames = parser.feed(data[:cut])
        frames += parser.feed(data[cut:])
        assert frames == expected, cut
        assert parser.buffered == 0


def test_split_at_every_pair_of_offsets() -> None:
    data, expected = _stream()
    step = 7  # every pair would be ~20k parsers; a stride keeps it quick but varied
    for a in range(0, len(data) + 1, step):
        for b in range(a, len(data) + 1, 3):
            parser = Parser()
            frames = parser.feed(data[:a]) + parser.feed(data[a:b]) + parser.feed(data[b:])
            assert frames == expected, (a, b)


def test_byte_by_byte() -> None:
    data, expected = _stream()
    parser = Parser()
    frames: list[Frame] = []
    for i in range(len(data)):
        frames += parser.feed(data[i : i + 1])
    assert frames == expected
    assert parser.buffered == 0


def test_large_payload_in_small_chunks() -> None:
    size = 1024 * 1024
    payload = bytes(range(256)) * (size // 256)
    data = b"MSG big 1 %d\r\n" % size + payload + b"\r\n"
    parser = Parser()
    frames: list[Frame] = []
    chunk = 1024
    for i in range(0, len(data), chunk):
        frames += parser.feed(data[i : i + chunk])
    assert frames == [msg_frame("big", 1, "", payload)]
    assert parser.buffered == 0


def test_many_frames_in_one_chunk() -> None:
    data = b"MSG s 1 1\r\nx\r\n" * 10_000
    frames = Parser().feed(data)
    assert len(frames) == 10_000
    assert frames[-1] == msg_frame("s", 1, "", b"x")


# --------------------------------------------------------------------------- bulk path
# Runs of plain MSG frames take a bulk path (split at CRLF, parsed lines remembered).
# These streams are built to cross every way that path can stop and hand over.
def _plain(subject: str, sid: int, payload: bytes, reply: str = "") -> tuple[bytes, MsgFrame]:
    args = f"{subject} {sid} {reply} " if reply else f"{subject} {sid} "
    line = b"MSG " + args.encode() + b"%d\r\n" % len(payload)
    return line + payload + b"\r\n", msg_frame(subject, sid, reply, payload)


def _mixed_stream(n: int) -> tuple[bytes, list[Frame]]:
    data = bytearray()
    expected: list[Frame] = []
    for i in range(n):
        frame: Frame
        kind = i % 97
        if kind == 13:  # a payload with CRLF and a MSG lookalike inside
            wire, frame = _plain("s.crlf", 2, b"a\r\nMSG s 1 3\r\nxyz\r\n")
        elif kind == 29:  # headers
            head = b"NATS/1.0\r\nK: v\r\n\r\n"
            wire = b"HMSG s.h 3 %d %d\r\n" % (len(head), len(head) + 2) + head + b"hi\r\n"
            frame = msg_frame("s.h", 3, "", b"hi", head)
        elif kind == 41:
            wire, frame = b"PING\r\n", PingFrame()
        elif kind % 5 == 0:  # a reply subject: parsed each time, never remembered
            wire, frame = _plain("s.req", 4, b"q%d" % i, reply=f"_INBOX.{i}")
        else:
            wire, frame = _plain(f"s.{i % 7}", 1 + i % 3, b"p" * (i % 40))
        data += wire
        expected.append(frame)
    return bytes(data), expected


def test_bulk_runs_with_every_kind_of_interruption() -> None:
    data, expected = _mixed_stream(10_000)
    assert len(data) > 3 * 64 * 1024  # crosses the bulk window several times
    assert Parser().feed(data) == expected


@pytest.mark.parametrize("chunk", [1, 7, 100, 4096, 65536 + 3])
def test_bulk_stream_in_chunks(chunk: int) -> None:
    data, expected = _mixed_stream(3000 if chunk > 1 else 400)
    parser = Parser()
    frames: list[Frame] = []
    for i in range(0, len(data), chunk):
        frames += parser.feed(data[i : i + chunk])
    assert frames == expected
    assert parser.buffered == 0


def test_remembered_lines_stay_bounded_and_correct() -> None:
    parser = Parser()
    data = b"".join(_plain(f"subject.{i}", i, b"x")[0] for i in range(5000))
    frames = parser.feed(data)
    assert [(f[0], f[1]) for f in frames if is_msg_frame(f)] == [
        (f"subject.{i}", i) for i in range(5000)
    ]
    assert len(parser._lines) <= 1024  # a stream of distinct subjects cannot grow it
    # The same line with another payload size is another line: never confused.
    again = parser.feed(_plain("subject.4999", 4999, b"longer")[0])
    assert again == [msg_frame("subject.4999", 4999, "", b"longer")]


def test_error_after_a_long_bulk_run_delivers_the_run_then_poisons() -> None:
    good = b"MSG s 1 2\r\nok\r\n" * 1000
    parser = Parser()
    assert parser.feed(good + b"MSG s 1 2\r\nokX\r\n") == [msg_frame("s", 1, "", b"ok")] * 1000
    assert parser.error is not None
    assert "not followed by CRLF" in str(parser.error)
    with pytest.raises(ProtocolError) as raised:
        parser.feed(b"PING\r\n")
    assert raised.value is parser.error


@pytest.mark.parametrize(
    "garbage",
    [b"BOGUS\r\n", b"MSG s 1 x\r\n", b"MSG s 1 2\r\nokX\r\n", b"HMSG s 1 9 2\r\n", b"INFO [\r\n"],
)
def test_frames_before_an_error_in_the_same_feed_are_returned(garbage: bytes) -> None:
    good = b"PING\r\n" + b"MSG s 1 2\r\nok\r\n" * 3 + b"HMSG h 2 12 12\r\nNATS/1.0\r\n\r\n\r\n"
    data = good + garbage + b"PONG\r\n"
    whole = Parser().feed(data)
    assert len(whole) == 5
    for cut in range(len(data) + 1):  # whatever the split, the same frames, then the error
        parser = Parser()
        frames: list[Frame] = []
        try:
            frames += parser.feed(data[:cut])
            frames += parser.feed(data[cut:])
        except ProtocolError:
            pass
        assert frames == whole, cut
        assert parser.error is not None


def test_bulk_respects_max_payload() -> None:
    parser = Parser(max_payload=4)
    frames = parser.feed(b"MSG s 1 4\r\nabcd\r\n" * 100 + b"MSG s 1 5\r\nabcde\r\n")
    assert len(frames) == 100
    with pytest.raises(ProtocolError, match="exceeds limit 4"):
        parser.feed(b"")


# --------------------------------------------------------------------------- one frame a read
# A request, or the reply to one, usually arrives alone in its read, and its line is new
# (the reply subject, or the inbox token): parsed line by line, never by the bulk path.
def _request_reads(n: int) -> tuple[list[bytes], list[Frame]]:
    reads: list[bytes] = []
    expected: list[Frame] = []
    for i in range(n):
        inbox = f"_INBOX.k3Jd9.{i:x}"
        if i % 2:  # the responder's read: the request, with its reply subject
            wire, frame = _plain("svc.echo", 1, b"q%d" % i, reply=inbox)
        else:  # the requester's read: the reply, on its own inbox subject
            wire, frame = _plain(inbox, 2, b"a%d" % i)
        reads.append(wire)
        expected.append(frame)
    return reads, expected


def test_reads_of_one_request_or_reply_each() -> None:
    reads, expected = _request_reads(3000)  # more lines than the parser remembers
    parser = Parser()
    assert [f for data in reads for f in parser.feed(data)] == expected
    assert len(parser._lines) <= 1024
    assert parser.buffered == 0


def test_one_frame_reads_split_at_every_offset() -> None:
    reads, expected = _request_reads(2)
    for data, frame in zip(reads, expected, strict=True):
        for cut in range(len(data) + 1):
            parser = Parser()
            assert parser.feed(data[:cut]) + parser.feed(data[cut:]) == [frame], cut
            assert parser.buffered == 0


def test_a_line_seen_before_alone_in_a_read_and_at_the_start_of_a_run() -> None:
    parser = Parser()
    wire, frame = _plain("s.seen", 5, b"abc")
    assert parser.feed(wire) == [frame]
    assert parser.feed(wire) == [frame]  # remembered: a dict lookup
    other, other_frame = _plain("s.seen", 5, b"abcd")  # same subject, another size
    assert parser.feed(other) == [other_frame]
    assert parser.feed(wire * 50 + other) == [frame] * 50 + [other_frame]  # a run
    assert parser.feed(wire[:-1]) == []  # a remembered line whose payload is incomplete
    assert parser.feed(b"\n" + wire) == [frame, frame]


def test_a_long_sid_in_a_read_of_its_own_is_parsed() -> None:
    big = 10**30  # longer than the line-by-line path's int() guard: the general parse
    data = b"MSG s %d r 2\r\nok\r\n" % big
    assert Parser().feed(data) == [msg_frame("s", big, "r", b"ok")]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"MSG s 1 r x\r\nok\r\n", "malformed sid or size"),
        (b"MSG s x r 2\r\nok\r\n", "malformed sid or size"),
        (b"MSG s 1 r 2 3\r\nok\r\n", "MSG has 5 arguments"),
        (b"MSG s 1 r 2\r\nokX\r\n", "not followed by CRLF"),
        (b"MSG s 1 2\r\nok\n\r", "not followed by CRLF"),
        (b"MSG s 1 r " + b"9" * 5000 + b"\r\n", "malformed sid or size"),
        (b"MSG s 1 r 9\r\nok\r\n", None),  # incomplete: nothing yet, no error
    ],
)
def test_malformed_one_frame_reads_fail_as_anywhere_else(data: bytes, error: str | None) -> None:
    for cut in (len(data), len(data) // 2, 12):
        parser = Parser(max_payload=64)
        if error is None:
            assert parser.feed(data[:cut]) + parser.feed(data[cut:]) == []
            continue
        with pytest.raises(ProtocolError, match=error):
            parser.feed(data[:cut])
            parser.feed(data[cut:])
        # The same line after a good frame: the frame is delivered, then the error.
        parser = Parser(max_payload=64)
        good, frame = _plain("s", 1, b"ok")
        assert parser.feed(good + data) == [frame]
        assert parser.error is not None and error in str(parser.error)


def test_a_remembered_line_with_a_bad_payload_end_is_refused() -> None:
    parser = Parser()
    wire, frame = _plain("s.seen", 5, b"abc")
    assert parser.feed(wire) == [frame]
    with pytest.raises(ProtocolError, match="not followed by CRLF"):
        parser.feed(wire[:-2] + b"X\r\n")
