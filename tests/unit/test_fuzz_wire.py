"""Fuzzing the sans-I/O wire core: the parser and the header decoder on mutated streams.

What must hold for any input, however it is split into reads:

* the parser raises nothing but :class:`ProtocolError`, and once it has, keeps raising it;
* its buffer never holds more than one control line or one payload (the bounds);
* the frames it yields and whether it fails are the same for every split, and the same
  as for one read of the whole stream;
* the header decoder, on any block the parser yields or any mutated block, returns
  :class:`Headers` with a three-digit status or none, or raises
  :class:`MalformedHeadersError`, nothing else.

The example count is small in CI; ``RXNATS_FUZZ_EXAMPLES`` makes it longer (see
``tests/fuzzing.py`` and docs/testing.md).
"""

from __future__ import annotations

from fuzzing import fuzz_settings, mutated_streams, split, split_points  # tests/ on sys.path
from hypothesis import given
from hypothesis import strategies as st

from rxnats.errors import MalformedHeadersError, ProtocolError
from rxnats.wire.frames import Frame, is_msg_frame
from rxnats.wire.headers import Headers, decode_headers
from rxnats.wire.parser import DEFAULT_MAX_CONTROL_LINE, DEFAULT_MAX_PAYLOAD, Parser

# (max_control_line, max_payload): small ones, and the defaults (under which a line may
# hold numbers of thousands of digits).
LIMITS = [(256, 512), (DEFAULT_MAX_CONTROL_LINE, DEFAULT_MAX_PAYLOAD)]


def run(parser: Parser, chunks: list[bytes]) -> tuple[list[Frame], bool]:
    """Feed ``chunks``; return the frames yielded and whether the parser failed."""
    bound = max(parser.max_control_line + 1, parser.max_payload + 2)
    frames: list[Frame] = []
    for chunk in chunks:
        try:
            frames += parser.feed(chunk)
        except ProtocolError as exc:  # the only exception it may raise
            assert exc is parser.error
            break
        if parser.error is not None:
            break
        assert parser.buffered <= bound
    if parser.error is not None:
        for more in (b"", b"PING\r\n"):  # poisoned for good
            try:
                parser.feed(more)
            except ProtocolError as exc:
                assert exc is parser.error
            else:  # pragma: no cover - reported by the assertion
                raise AssertionError("a poisoned parser took more input")
    return frames, parser.error is not None


def check_headers(block: bytes) -> None:
    try:
        headers = decode_headers(block)
    except MalformedHeadersError:
        return
    assert isinstance(headers, Headers)
    assert headers.status is None or 100 <= headers.status <= 999
    for key, value in headers.multi_items():
        assert "\r" not in key + value and "\n" not in key + value


@fuzz_settings(ci_examples=300)
@given(data=st.data(), limits=st.sampled_from(LIMITS))
def test_parser_on_mutated_streams_split_anywhere(
    data: st.DataObject, limits: tuple[int, int]
) -> None:
    stream = data.draw(mutated_streams())
    points = data.draw(split_points(stream))
    max_line, max_payload = limits

    def parser() -> Parser:
        return Parser(max_control_line=max_line, max_payload=max_payload)

    whole = run(parser(), [stream])
    assert run(parser(), split(stream, points)) == whole
    if len(stream) <= 600:  # one byte at a time: every split at once
        assert run(parser(), [stream[i : i + 1] for i in range(len(stream))]) == whole
    for frame in whole[0]:
        if is_msg_frame(frame):
            _, _, _, payload, block = frame
            assert len(payload) + len(block or b"") <= max_payload
            if block is not None:
                check_headers(block)


_BLOCK_PIECES = [
    b"NATS/1.0",
    b" ",
    b"\t",
    b"503",
    b"100",
    "²".encode(),
    b"9" * 5000,
    b"Idle Heartbeat",
    b"\r\n",
    b"Key: value",
    b":",
    b"\xff\xfe",
    b"\x00",
]


@fuzz_settings(ci_examples=300)
@given(
    block=st.one_of(
        st.lists(st.sampled_from(_BLOCK_PIECES), max_size=12).map(b"".join),
        st.binary(max_size=64).map(lambda b: b"NATS/1.0" + b),
        st.binary(max_size=64),
    )
)
def test_header_decoder_raises_only_malformed_headers(block: bytes) -> None:
    check_headers(block)
