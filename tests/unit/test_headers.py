"""Unit tests for the ADR-4 header block and the Headers multi-map (rxnats.wire.headers)."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from rxnats.errors import BadHeaderError, MalformedHeadersError, ProtocolError
from rxnats.wire.headers import HEADER_LINE, Headers, decode_headers, encode_headers


def test_round_trip_simple() -> None:
    h = decode_headers(encode_headers({"Foo": "bar", "Baz": "qux"}))
    assert h == {"Foo": "bar", "Baz": "qux"}
    assert h.status is None
    assert h.description == ""


def test_round_trip_multi_value_and_case() -> None:
    block = encode_headers({"X-Trace": ["a", "b", "c"], "x-trace": "lower", "Single": "1"})
    h = decode_headers(block)
    assert h.get_all("X-Trace") == ["a", "b", "c"]
    assert h.get_all("x-trace") == ["lower"]
    assert h["X-Trace"] == "a"
    assert list(h) == ["X-Trace", "x-trace", "Single"]
    assert h.multi_items() == [
        ("X-Trace", "a"),
        ("X-Trace", "b"),
        ("X-Trace", "c"),
        ("x-trace", "lower"),
        ("Single", "1"),
    ]


def test_round_trip_value_with_colon_and_utf8() -> None:
    h = decode_headers(encode_headers({"Url": "http://x:1/a", "Ü": "ñ ü"}))
    assert h["Url"] == "http://x:1/a"
    assert h["Ü"] == "ñ ü"


def test_round_trip_empty_value() -> None:
    h = decode_headers(encode_headers({"Empty": ""}))
    assert h["Empty"] == ""


def test_round_trip_no_headers() -> None:
    block = encode_headers({})
    assert block == b"NATS/1.0\r\n\r\n"
    h = decode_headers(block)
    assert len(h) == 0
    assert h == {}
    assert h.status is None


def test_status_only() -> None:
    h = decode_headers(b"NATS/1.0 503\r\n\r\n")
    assert h.status == 503
    assert h.description == ""
    assert len(h) == 0


def test_status_with_description() -> None:
    h = decode_headers(b"NATS/1.0 408 Request Timeout\r\n\r\n")
    assert h.status == 408
    assert h.description == "Request Timeout"


def test_status_with_description_and_headers() -> None:
    block = b"NATS/1.0 100 Idle Heartbeat\r\nNats-Last-Consumer: 12\r\nNats-Last-Stream: 34\r\n\r\n"
    h = decode_headers(block)
    assert h.status == 100
    assert h.description == "Idle Heartbeat"
    assert h["Nats-Last-Consumer"] == "12"
    assert h["Nats-Last-Stream"] == "34"
    assert dict(h) == {"Nats-Last-Consumer": "12", "Nats-Last-Stream": "34"}


def test_bare_version_line() -> None:
    h = decode_headers(b"NATS/1.0\r\n\r\n")
    assert h.status is None
    assert h.description == ""
    h = decode_headers(HEADER_LINE)
    assert h.status is None
    assert len(h) == 0


def test_version_line_with_non_numeric_text() -> None:
    h = decode_headers(b"NATS/1.0 hello there\r\n\r\n")
    assert h.status is None
    assert h.description == "hello there"


def test_decode_is_lenient_about_lines_without_colon() -> None:
    h = decode_headers(b"NATS/1.0\r\njunk line\r\nK:v\r\nK2 :  spaced  \r\n\r\n")
    assert h.multi_items() == [("K", "v"), ("K2", "spaced")]


@pytest.mark.parametrize(
    "block",
    [b"", b"HTTP/1.1 200\r\n\r\n", b"nats/1.0\r\n\r\n", b" NATS/1.0\r\n\r\n", b"K: v\r\n\r\n"],
)
def test_decode_rejects_missing_version_line(block: bytes) -> None:
    with pytest.raises(ProtocolError):
        decode_headers(block)


@pytest.mark.parametrize(
    "block",
    [
        "NATS/1.0 ²\r\n\r\n".encode(),  # str.isdigit() says yes; int() raises
        "NATS/1.0 ٥٠٣\r\n\r\n".encode(),  # Arabic-Indic 503: digits, not ASCII
        b"NATS/1.0 " + b"5" * 5000 + b"\r\n\r\n",  # int() refuses over 4300 digits
        b"NATS/1.0 5030\r\n\r\n",
        b"NATS/1.0 50\r\n\r\n",
        b"NATS/1.0 5x3 Bad\r\n\r\n",
        b"NATS/1.01 503\r\n\r\n",  # another version, or garbage: not 1.0
        b"NATS/1.0\r\nKey: a\rb\r\n\r\n",  # a lone CR would end up in the value
        b"NATS/1.0\r\nKey: a\nInjected: b\r\n\r\n",
    ],
)
def test_decode_is_strict_about_status_and_line_ends(block: bytes) -> None:
    with pytest.raises(MalformedHeadersError) as info:
        decode_headers(block)
    assert isinstance(info.value, ProtocolError)  # the peer's fault, as documented
    assert len(str(info.value)) < 200  # says what is wrong without echoing it all


def test_a_three_digit_status_with_tabs_and_a_long_description() -> None:
    h = decode_headers(b"NATS/1.0\t404\tNo Messages, " + b"x" * 1000 + b"\r\n\r\n")
    assert h.status == 404
    assert h.description.startswith("No Messages, ")


@pytest.mark.parametrize(
    "headers",
    [{"k": "a\ud800b"}, {"k\udfff": "v"}, {"k": ["ok", "\udc80"]}],
)
def test_lone_surrogates_are_bad_headers_not_unicode_errors(
    headers: dict[str, str | list[str]],
) -> None:
    with pytest.raises(BadHeaderError, match="surrogate"):
        encode_headers(headers)


# --------------------------------------------------------------------------- Mapping behaviour


def _sample() -> Headers:
    return Headers([("A", "1"), ("b", "2"), ("A", "3")])


def test_is_a_mapping() -> None:
    h = _sample()
    assert isinstance(h, Mapping)
    assert h["A"] == "1"
    assert h["b"] == "2"
    with pytest.raises(KeyError):
        h["missing"]
    with pytest.raises(KeyError):
        h["a"]  # keys are case-sensitive: case is preserved, not folded


def test_get_in_len_iter() -> None:
    h = _sample()
    assert h.get("A") == "1"
    assert h.get("missing") is None
    assert h.get("missing", "d") == "d"
    assert "A" in h
    assert "b" in h
    assert "a" not in h
    assert len(h) == 2
    assert list(h) == ["A", "b"]
    assert list(h.keys()) == ["A", "b"]
    assert list(h.values()) == ["1", "2"]
    assert list(h.items()) == [("A", "1"), ("b", "2")]


def test_dict_conversion_and_equality() -> None:
    h = _sample()
    assert dict(h) == {"A": "1", "b": "2"}
    assert h == {"A": "1", "b": "2"}
    assert {"A": "1", "b": "2"} == h
    assert h != {"A": "3", "b": "2"}
    assert h != {"A": "1"}
    assert h != [("A", "1"), ("b", "2")]


def test_equality_between_headers() -> None:
    assert _sample() == _sample()
    assert Headers([("A", "1")]) != Headers([("A", "1"), ("A", "2")])
    assert Headers([("A", "1")], status=503) != Headers([("A", "1")])
    assert Headers(status=408, description="x") == Headers(status=408, description="x")


def test_unhashable() -> None:
    with pytest.raises(TypeError):
        hash(_sample())


def test_get_all_and_multi_items() -> None:
    h = _sample()
    assert h.get_all("A") == ["1", "3"]
    assert h.get_all("b") == ["2"]
    assert h.get_all("missing") == []
    assert h.multi_items() == [("A", "1"), ("b", "2"), ("A", "3")]


def test_returned_lists_are_copies() -> None:
    h = _sample()
    h.get_all("A").append("x")
    h.multi_items().clear()
    assert h.get_all("A") == ["1", "3"]
    assert len(h.multi_items()) == 3


def test_empty_headers() -> None:
    h = Headers()
    assert len(h) == 0
    assert h == {}
    assert h.status is None
    assert h.description == ""


def test_repr_mentions_items_and_status() -> None:
    text = repr(Headers([("A", "1")], status=503))
    assert "A" in text
    assert "503" in text
