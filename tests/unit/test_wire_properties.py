"""Property-based tests of the wire layer: parser round trips, robustness, and validators."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rxnats.errors import BadSubjectError, ProtocolError
from rxnats.wire.encoder import encode_pub, encode_publish, encode_sub
from rxnats.wire.frames import (
    ErrFrame,
    Frame,
    InfoFrame,
    OkFrame,
    PingFrame,
    PongFrame,
    ServerInfo,
    is_msg_frame,
    msg_frame,
)
from rxnats.wire.headers import decode_headers, encode_headers
from rxnats.wire.parser import Parser
from rxnats.wire.subjects import (
    check_publish_subject,
    check_queue,
    check_reply,
    check_subscribe_subject,
    is_valid_publish_subject,
    is_valid_subscribe_subject,
    match_plain_reply,
)

PROPS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

HeaderFields = dict[str, list[str]]

# --------------------------------------------------------------------------- helpers


def header_block(headers: HeaderFields) -> bytes:
    """The ADR-4 header block for ``headers``, built independently of encode_headers."""
    lines = ["NATS/1.0\r\n"]
    for key, values in headers.items():
        lines.extend(f"{key}: {value}\r\n" for value in values)
    lines.append("\r\n")
    return "".join(lines).encode()


def server_msg(
    subject: str,
    sid: int,
    reply: str,
    payload: bytes,
    headers: HeaderFields | None = None,
) -> bytes:
    """``MSG``/``HMSG`` bytes exactly as a server would deliver this message."""
    fields = [subject, str(sid)]
    if reply:
        fields.append(reply)
    if headers is None:
        fields.append(str(len(payload)))
        return f"MSG {' '.join(fields)}\r\n".encode() + payload + b"\r\n"
    block = header_block(headers)
    fields += [str(len(block)), str(len(block) + len(payload))]
    return f"HMSG {' '.join(fields)}\r\n".encode() + block + payload + b"\r\n"


def split_at(data: bytes, cuts: Sequence[int]) -> list[bytes]:
    points = sorted({0, len(data), *(min(max(c, 0), len(data)) for c in cuts)})
    return [data[a:b] for a, b in itertools.pairwise(points)] or [b""]


def feed_chunks(parser: Parser, chunks: Sequence[bytes]) -> list[Frame]:
    frames: list[Frame] = []
    for chunk in chunks:
        frames += parser.feed(chunk)
    return frames


def assert_same_headers(block: bytes | None, expected: HeaderFields | None) -> None:
    if expected is None:
        assert block is None
        return
    assert block is not None
    decoded = decode_headers(block)
    assert decoded.status is None
    assert list(decoded) == list(expected)
    for key, values in expected.items():
        assert decoded.get_all(key) == values
    assert decoded.multi_items() == [(k, v) for k, vs in expected.items() for v in vs]


# --------------------------------------------------------------------------- strategies

_TEXT_CHARS = st.characters(exclude_categories=["Cs"], exclude_characters="\r\n")

tokens = st.text(alphabet="abcXYZ019-_$*>é", min_size=1, max_size=6).filter(
    lambda t: t not in ("*", ">")
)
subjects = st.lists(tokens, min_size=1, max_size=4).map(".".join)
replies = st.one_of(st.just(""), subjects)
sids = st.integers(min_value=0, max_value=2**40)
header_keys = st.text(alphabet="abcXYZ019-_.é", min_size=1, max_size=8)
# Values lose surrounding whitespace on decode (as in Go's textproto): generate trimmed ones.
header_values = st.text(alphabet=_TEXT_CHARS, max_size=12).filter(lambda v: v == v.strip())
header_maps: st.SearchStrategy[HeaderFields | None] = st.one_of(
    st.none(),
    st.dictionaries(header_keys, st.lists(header_values, min_size=1, max_size=3), max_size=4),
)
payloads = st.one_of(
    st.binary(max_size=80),
    st.lists(
        st.sampled_from([b"\r\n", b"\r", b"\n", b"MSG foo 1 3", b"PING", b"-ERR 'x'", b"\x00"]),
        max_size=8,
    ).map(b"".join),
)


@st.composite
def messages(draw: st.DrawFn) -> tuple[bytes, Frame, HeaderFields | None]:
    subject = draw(subjects)
    sid = draw(sids)
    reply = draw(replies)
    payload = draw(payloads)
    headers = draw(header_maps)
    data = server_msg(subject, sid, reply, payload, headers)
    block = None if headers is None else header_block(headers)
    return data, msg_frame(subject, sid, reply, payload, block), headers


@st.composite
def control_frames(draw: st.DrawFn) -> tuple[bytes, Frame, HeaderFields | None]:
    kind = draw(st.sampled_from(["PING", "PONG", "+OK", "-ERR", "INFO"]))
    if kind == "PING":
        return b"PING\r\n", PingFrame(), None
    if kind == "PONG":
        return b"PONG\r\n", PongFrame(), None
    if kind == "+OK":
        return b"+OK\r\n", OkFrame(), None
    if kind == "-ERR":
        text = draw(st.text(alphabet=_TEXT_CHARS, max_size=30))
        return f"-ERR '{text}'\r\n".encode(), ErrFrame(text), None
    server_id = draw(st.text(max_size=10))
    max_payload = draw(st.integers(min_value=0, max_value=2**40))
    body = json.dumps({"server_id": server_id, "max_payload": max_payload, "extra": [1, None]})
    expected = InfoFrame(ServerInfo(server_id=server_id, max_payload=max_payload))
    return f"INFO {body}\r\n".encode(), expected, None


stream_items = st.lists(st.one_of(messages(), control_frames()), max_size=12)


# --------------------------------------------------------------------------- (a) round trip


@PROPS
@given(items=stream_items, data=st.data())
def test_server_stream_round_trip(
    items: list[tuple[bytes, Frame, HeaderFields | None]], data: st.DataObject
) -> None:
    stream = b"".join(raw for raw, _, _ in items)
    cuts = data.draw(st.lists(st.integers(min_value=0, max_value=len(stream)), max_size=30))
    parser = Parser()
    frames = feed_chunks(parser, split_at(stream, cuts))
    assert frames == [frame for _, frame, _ in items]
    assert parser.buffered == 0
    for frame, (_, _, headers) in zip(frames, items, strict=True):
        if is_msg_frame(frame):
            block = frame[4]
            assert_same_headers(block, headers)
            if headers is not None:
                # The client-side encoder produces the very same block.
                assert encode_headers(headers) == block


@PROPS
@given(items=stream_items)
def test_server_stream_byte_by_byte(items: list[tuple[bytes, Frame, HeaderFields | None]]) -> None:
    stream = b"".join(raw for raw, _, _ in items)
    parser = Parser()
    frames = feed_chunks(parser, [stream[i : i + 1] for i in range(len(stream))])
    assert frames == [frame for _, frame, _ in items]


# --------------------------------------------------------------------------- (b) robustness

_FRAGMENTS = [
    b"MSG ",
    b"HMSG ",
    b"msg\t",
    b"PING",
    b"PONG",
    b"+OK",
    b"-ERR ",
    b"INFO ",
    b"{}",
    b'{"a":[',
    b"NATS/1.0",
    b"foo",
    b" ",
    b"\t",
    b"\r\n",
    b"\r",
    b"\n",
    b"0",
    b"1",
    b"5",
    b"12",
    b"-1",
    b"+5",
    b"\x00",
    b"\xff",
    b"[[[[[[[[",
]
junk = st.one_of(
    st.binary(max_size=400),
    st.lists(st.sampled_from(_FRAGMENTS), max_size=60).map(b"".join),
    st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.binary(max_size=8)), max_size=40).map(
        b"".join
    ),
)

MAX_LINE = 64
MAX_PAYLOAD = 128


def feed_until_error(parser: Parser, chunks: Sequence[bytes], bound: int) -> list[Frame]:
    """Every frame ``parser`` yields for ``chunks`` until it is poisoned, checking the bound."""
    frames: list[Frame] = []
    for chunk in chunks:
        try:
            frames += parser.feed(chunk)
        except ProtocolError as exc:
            assert exc is parser.error
            break
        assert parser.buffered <= bound
        if parser.error is not None:
            break
    return frames


@PROPS
@given(blob=junk, data=st.data())
def test_random_bytes_frames_or_protocol_error(blob: bytes, data: st.DataObject) -> None:
    cuts = data.draw(st.lists(st.integers(min_value=0, max_value=len(blob)), max_size=30))
    bound = max(MAX_LINE + 1, MAX_PAYLOAD + 1)

    parser = Parser(max_control_line=MAX_LINE, max_payload=MAX_PAYLOAD)
    chunked = feed_until_error(parser, split_at(blob, cuts), bound)
    if parser.error is not None:
        # Poisoned: it keeps failing, whatever it is fed.
        for extra in (b"", b"PING\r\n"):
            try:
                parser.feed(extra)
            except ProtocolError:
                pass
            else:  # pragma: no cover - the assertion below reports it
                raise AssertionError("a poisoned parser accepted more input")

    for frame in chunked:
        if is_msg_frame(frame):
            _, _, _, payload, block = frame
            assert len(payload) + len(block or b"") <= MAX_PAYLOAD

    # However the bytes are split, the outcome is the same as for one feed: the same
    # frames, and an error or none.
    whole = Parser(max_control_line=MAX_LINE, max_payload=MAX_PAYLOAD)
    at_once = feed_until_error(whole, [blob], bound)
    assert chunked == at_once
    assert (whole.error is None) == (parser.error is None)
    if whole.error is None:
        assert whole.buffered == parser.buffered


# --------------------------------------------------------------------------- (c) encoder


def as_server_msg(pub: bytes, sid: int) -> bytes:
    """Turn ``PUB``/``HPUB`` bytes into the ``MSG``/``HMSG`` a subscriber would receive."""
    line, _, rest = pub.partition(b"\r\n")
    op, subject, *tail = line.split(b" ")
    new_op = {b"PUB": b"MSG", b"HPUB": b"HMSG"}[op]
    return b" ".join([new_op, subject, b"%d" % sid, *tail]) + b"\r\n" + rest


@PROPS
@given(
    subject=subjects,
    reply=replies,
    payload=payloads,
    headers=header_maps,
    sid=sids,
)
def test_encode_publish_parses_back(
    subject: str, reply: str, payload: bytes, headers: HeaderFields | None, sid: int
) -> None:
    out = encode_publish(subject, payload, reply, headers)
    line, sep, rest = out.partition(b"\r\n")
    assert sep == b"\r\n"
    fields = line.decode().split(" ")
    expected = ["HPUB" if headers is not None else "PUB", subject]
    if reply:
        expected.append(reply)
    block = b"" if headers is None else encode_headers(headers)
    if headers is not None:
        expected.append(str(len(block)))
    expected.append(str(len(block) + len(payload)))
    assert fields == expected
    assert rest == block + payload + b"\r\n"

    frames = Parser().feed(as_server_msg(out, sid))
    assert frames == [msg_frame(subject, sid, reply, payload, None if headers is None else block)]
    assert is_msg_frame(frames[0])
    assert_same_headers(frames[0][4], headers)


# --------------------------------------------------------------------------- (d) validators


def _ref_token(token: str) -> bool:
    return bool(token) and not any(c.isspace() or c == "\x00" for c in token)


def ref_publish(subject: str) -> bool:
    return all(_ref_token(t) and t not in ("*", ">") for t in subject.split("."))


def ref_subscribe(subject: str) -> bool:
    toks = subject.split(".")
    return all(_ref_token(t) and (t != ">" or i == len(toks) - 1) for i, t in enumerate(toks))


def ref_queue(queue: str) -> bool:
    return not any(c.isspace() or c == "\x00" for c in queue)  # "" means no queue


subject_chars = st.one_of(
    st.sampled_from(list(".*>ab \t\r\n\x00\x0b\x0c\x1c\x85\xa0\u2028\u3000")),
    st.characters(exclude_categories=["Cs"]),
)
any_subjects = st.text(alphabet=subject_chars, max_size=12)


def _raises_bad_subject(check: object, value: str) -> bool:
    assert callable(check)
    try:
        check(value)
    except BadSubjectError:
        return True
    return False


@PROPS
@given(subject=any_subjects)
def test_validators_match_reference(subject: str) -> None:
    assert is_valid_publish_subject(subject) == ref_publish(subject)
    assert is_valid_subscribe_subject(subject) == ref_subscribe(subject)
    assert _raises_bad_subject(check_publish_subject, subject) != ref_publish(subject)
    # Twice: the second call may come from the publish cache.
    assert _raises_bad_subject(check_publish_subject, subject) != ref_publish(subject)
    assert _raises_bad_subject(check_subscribe_subject, subject) != ref_subscribe(subject)
    assert _raises_bad_subject(check_reply, subject) != (subject == "" or ref_publish(subject))
    # The reply hot path's one-call acceptance takes only what check_reply accepts.
    if match_plain_reply(subject) is not None:
        assert subject and ref_publish(subject) and "*" not in subject and ">" not in subject
    elif subject and ref_publish(subject):
        assert "*" in subject or ">" in subject
    assert _raises_bad_subject(check_queue, subject) != ref_queue(subject)


@PROPS
@given(subject=any_subjects, reply=any_subjects, queue=any_subjects)
def test_encoders_never_inject(subject: str, reply: str, queue: str) -> None:
    try:
        pub = encode_pub(subject, b"\r\nPING\r\n", reply)
    except BadSubjectError:
        assert not (ref_publish(subject) and (reply == "" or ref_publish(reply)))
    else:
        line, _, rest = pub.partition(b"\r\n")
        assert len(line.split()) == (4 if reply else 3)
        assert rest == b"\r\nPING\r\n\r\n"
    try:
        sub = encode_sub(subject, 5, queue)
    except BadSubjectError:
        assert not (ref_subscribe(subject) and ref_queue(queue))
    else:
        assert sub.count(b"\r\n") == 1
        assert sub.endswith(b"\r\n")
        assert len(sub.split()) == (4 if queue else 3)


_subject_chars = st.sampled_from([*"ab.*>$_- \t\r\n\x00\x0c\u00e9\u2028", "\ud800"])


@given(subject=st.lists(_subject_chars, max_size=24).map("".join))
def test_the_literal_subject_check_is_the_token_by_token_one(subject: str) -> None:
    # What nats-server accepts as a publish subject: every token non-empty, without
    # whitespace, NUL or a lone surrogate, and not exactly '*' or '>'.
    tokens = subject.split(".")
    expected = bool(subject) and all(
        token
        and token not in ("*", ">")
        and not any(c.isspace() or c == "\x00" or "\ud800" <= c <= "\udfff" for c in token)
        for token in tokens
    )
    assert is_valid_publish_subject(subject) is expected


def _parsed_by_the_general_path(data: bytes, max_payload: int) -> tuple[list[Frame], str | None, int]:
    parser = Parser(max_payload=max_payload)
    frames: list[Frame] = []
    try:
        rest = parser._parse(data, frames)
    except ProtocolError as exc:
        return frames, str(exc), 0
    return frames, None, len(data) - rest


def _fed(data: bytes, max_payload: int) -> tuple[list[Frame], str | None, int]:
    parser = Parser(max_payload=max_payload)
    try:
        frames = parser.feed(data)
    except ProtocolError as exc:
        return [], str(exc), 0
    if parser.error is not None:
        return frames, str(parser.error), 0
    return frames, None, parser.buffered


_odd_fields = st.sampled_from(["", "+5", "1_0", "-1", "0x1", "9" * 25, "x y"])
_separators = st.sampled_from([" ", " ", " ", "  ", "\t"])
_frame_ends = st.sampled_from(
    [b"\r\n", b"\r\n", b"\r\n", b"\n\r", b"", b"X\r\n", b"\r\nPING\r\n", b"\r\nMSG s 1 0\r\n\r\n"]
)


@settings(PROPS, max_examples=400)
@given(  # well-formed fields three times in four
    subject=st.one_of(subjects, subjects, subjects, _odd_fields),
    sid=st.one_of(sids.map(str), sids.map(str), sids.map(str), _odd_fields),
    reply=st.one_of(replies, replies, replies, _odd_fields),
    payload=st.one_of(st.binary(max_size=40), st.just(b"a\r\nb")),
    size=st.one_of(*[st.sampled_from([0, 0, 0, -1, 1])] * 3, _odd_fields),
    seps=st.lists(_separators, min_size=4, max_size=4),
    end=_frame_ends,
    max_payload=st.sampled_from([3, 1024]),
)
def test_a_read_starting_with_msg_parses_as_the_general_path_says(
    subject: str, sid: str, reply: str, payload: bytes, size: int | str,
    seps: list[str], end: bytes, max_payload: int,
) -> None:
    # A read holding one plain MSG has a shortcut: whatever the read (well-formed or not,
    # one frame or more), the frames, the error and what stays buffered are the general
    # path's.
    size_field = str(len(payload) + size) if isinstance(size, int) else size
    fields = [subject, sid, reply, size_field] if reply else [subject, sid, size_field]
    line = "MSG" + "".join(sep + field for sep, field in zip(seps, fields, strict=False))
    data = line.encode() + b"\r\n" + payload + end
    assert _fed(data, max_payload) == _parsed_by_the_general_path(data, max_payload)


def test_a_lone_msg_is_parsed_without_remembering_its_line() -> None:
    parser = Parser()
    assert parser.feed(b"MSG _INBOX.x.1f 2 5\r\nhello\r\n") == [msg_frame("_INBOX.x.1f", 2, "", b"hello")]
    assert parser.feed(b"MSG svc 1 _INBOX.x.20 3\r\na\r\n\r\n") == [msg_frame("svc", 1, "_INBOX.x.20", b"a\r\n")]
    assert parser._lines == {}  # a reply's subject is new each time: nothing to reuse
    assert parser.buffered == 0
