"""Unit tests for the client-protocol encoders (rxnats.wire.encoder)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rxnats.errors import BadHeaderError, BadSubjectError, InvalidInputError
from rxnats.wire.encoder import (
    PING,
    PONG,
    encode_connect,
    encode_hpub,
    encode_pub,
    encode_pub_once,
    encode_publish,
    encode_sub,
    encode_unsub,
)
from rxnats.wire.headers import encode_headers
from rxnats.wire.subjects import is_valid_publish_subject, is_valid_subscribe_subject

# --------------------------------------------------------------------------- exact bytes


def test_ping_pong() -> None:
    assert PING == b"PING\r\n"
    assert PONG == b"PONG\r\n"


def test_pub() -> None:
    assert encode_pub("foo.bar", b"hello") == b"PUB foo.bar 5\r\nhello\r\n"
    assert encode_pub("foo", b"hi", "_INBOX.1") == b"PUB foo _INBOX.1 2\r\nhi\r\n"
    assert encode_pub("foo", b"") == b"PUB foo 0\r\n\r\n"
    assert encode_pub("foo", b"a\r\nb") == b"PUB foo 4\r\na\r\nb\r\n"


def test_pub_once_encodes_as_pub_and_leaves_the_subject_cache_alone() -> None:
    from rxnats.wire import subjects

    ack = "$JS.ACK.S.C.1.7.7.1700000000000000000.0"
    assert encode_pub_once(ack, b"+ACK") == encode_pub(ack, b"+ACK")
    subjects._publish_ok.discard(ack)
    encode_pub_once(ack, b"+ACK")
    assert ack not in subjects._publish_ok


@pytest.mark.parametrize(
    "subject", ["", "$JS.ACK.a b", "$JS.ACK.a\r\nPUB x 1", "$JS.ACK..x", "$JS.ACK.*", "$JS.ACK.>"]
)
def test_pub_once_refuses_what_pub_refuses(subject: str) -> None:
    with pytest.raises(BadSubjectError):
        encode_pub_once(subject, b"+ACK")


def test_pub_counts_bytes_not_characters() -> None:
    payload = "héllo".encode()
    assert encode_pub("foo", payload) == b"PUB foo 6\r\n" + payload + b"\r\n"


def test_hpub() -> None:
    block = b"NATS/1.0\r\nA: 1\r\n\r\n"
    assert len(block) == 18
    assert encode_hpub("foo", b"hi", block) == b"HPUB foo 18 20\r\n" + block + b"hi\r\n"
    assert encode_hpub("foo", b"", block, "r.1") == b"HPUB foo r.1 18 18\r\n" + block + b"\r\n"


def test_publish_without_headers_is_pub() -> None:
    assert encode_publish("foo", b"x") == b"PUB foo 1\r\nx\r\n"
    assert encode_publish("foo", b"x", "r") == b"PUB foo r 1\r\nx\r\n"


def test_publish_with_headers_is_hpub() -> None:
    block = b"NATS/1.0\r\nKey: v1\r\nKey: v2\r\nOther: x\r\n\r\n"
    out = encode_publish("foo", b"data", "r", {"Key": ["v1", "v2"], "Other": "x"})
    assert out == b"HPUB foo r %d %d\r\n" % (len(block), len(block) + 4) + block + b"data\r\n"


def test_publish_with_empty_headers() -> None:
    block = b"NATS/1.0\r\n\r\n"
    assert encode_publish("foo", b"", headers={}) == b"HPUB foo 12 12\r\n" + block + b"\r\n"


def test_sub() -> None:
    assert encode_sub("foo.*", 1) == b"SUB foo.* 1\r\n"
    assert encode_sub("foo.>", 42, "workers") == b"SUB foo.> workers 42\r\n"
    assert encode_sub(">", 7) == b"SUB > 7\r\n"


def test_unsub() -> None:
    assert encode_unsub(3) == b"UNSUB 3\r\n"
    assert encode_unsub(3, 0) == b"UNSUB 3\r\n"
    assert encode_unsub(3, 10) == b"UNSUB 3 10\r\n"


def test_unsub_negative_max() -> None:
    with pytest.raises(InvalidInputError):
        encode_unsub(1, -1)
    with pytest.raises(ValueError):
        encode_unsub(1, -1)


def test_connect() -> None:
    out = encode_connect({"verbose": False, "protocol": 1, "name": "me", "headers": True})
    assert out == (b'CONNECT {"verbose":false,"protocol":1,"name":"me","headers":true}\r\n')


def test_connect_cannot_be_injected() -> None:
    out = encode_connect({"name": "x\r\nPUB evil 0\r\n\r\n", "pass": "é\u2028"})
    assert out.endswith(b"\r\n")
    assert out.count(b"\r") == 1
    assert out.count(b"\n") == 1
    body = json.loads(out[len(b"CONNECT ") : -2])
    assert body == {"name": "x\r\nPUB evil 0\r\n\r\n", "pass": "é\u2028"}


# --------------------------------------------------------------------------- injection

BAD_SUBJECTS = [
    "",
    "foo bar",
    "foo\tbar",
    "foo\rbar",
    "foo\nbar",
    "foo\r\nPUB evil 0\r\n",
    "foo\x00bar",
    "foo\x0cbar",
    "foo\x0bbar",
    " foo",
    "foo ",
    "a..b",
    ".a",
    "a.",
    ".",
    "..",
]
WILDCARD_SUBJECTS = ["*", ">", "foo.*", "foo.>", "*.foo", ">.foo", "a.*.b"]


def _expect_rejected(exc: type[Exception], fn: Any, *args: Any, **kwargs: Any) -> None:
    """``fn`` raises ``exc`` (and so returns nothing that could reach a socket)."""
    result: object = None
    with pytest.raises(exc):
        result = fn(*args, **kwargs)
    assert result is None


@pytest.mark.parametrize("subject", BAD_SUBJECTS + WILDCARD_SUBJECTS)
def test_publish_subject_rejected(subject: str) -> None:
    _expect_rejected(BadSubjectError, encode_pub, subject, b"x")
    _expect_rejected(BadSubjectError, encode_hpub, subject, b"x", b"NATS/1.0\r\n\r\n")
    _expect_rejected(BadSubjectError, encode_publish, subject, b"x")
    _expect_rejected(BadSubjectError, encode_publish, subject, b"x", headers={"a": "b"})


@pytest.mark.parametrize("reply", [s for s in BAD_SUBJECTS if s] + WILDCARD_SUBJECTS)
def test_reply_rejected(reply: str) -> None:
    _expect_rejected(BadSubjectError, encode_pub, "foo", b"x", reply)
    _expect_rejected(BadSubjectError, encode_hpub, "foo", b"x", b"NATS/1.0\r\n\r\n", reply)
    _expect_rejected(BadSubjectError, encode_publish, "foo", b"x", reply, {"a": "b"})


@pytest.mark.parametrize("subject", ["a*", "a>", "*a.b", "a.b>c"])
def test_wildcard_characters_inside_a_token_are_literal(subject: str) -> None:
    # nats-server treats '*' and '>' as wildcards only as whole tokens.
    assert encode_pub(subject, b"") == f"PUB {subject} 0\r\n\r\n".encode()
    assert encode_sub(subject, 1) == f"SUB {subject} 1\r\n".encode()


@pytest.mark.parametrize("subject", [*BAD_SUBJECTS, ">.a", "a.>.b", ">.>"])
def test_subscribe_subject_rejected(subject: str) -> None:
    _expect_rejected(BadSubjectError, encode_sub, subject, 1)
    _expect_rejected(BadSubjectError, encode_sub, subject, 1, "q")


@pytest.mark.parametrize("queue", ["a b", "a\tb", "a\rb", "a\nb", "q\r\nPING", " q", "q ", "a\x00"])
def test_queue_rejected(queue: str) -> None:
    _expect_rejected(BadSubjectError, encode_sub, "foo", 1, queue)


@pytest.mark.parametrize("text", ["a.\ud800", "\udfff", "a\udc80b"])
def test_lone_surrogates_are_bad_subjects_not_unicode_errors(text: str) -> None:
    # A lone surrogate has no UTF-8 form: str.encode() would raise UnicodeEncodeError.
    _expect_rejected(BadSubjectError, encode_pub, text, b"x")
    _expect_rejected(BadSubjectError, encode_pub, "ok", b"x", text)
    _expect_rejected(BadSubjectError, encode_hpub, text, b"x", b"NATS/1.0\r\n\r\n")
    _expect_rejected(BadSubjectError, encode_sub, text, 1)
    _expect_rejected(BadSubjectError, encode_sub, "ok", 1, text)
    assert not is_valid_publish_subject(text) and not is_valid_subscribe_subject(text)


def test_non_str_subject_rejected() -> None:
    _expect_rejected(BadSubjectError, encode_pub, b"foo", b"x")
    _expect_rejected(BadSubjectError, encode_sub, b"foo", 1)


@pytest.mark.parametrize("key", ["a:b", "a b", "a\rb", "a\nb", "a\r\nX", "a\tb", ":", " a", "a\r\n"])
def test_bad_header_keys(key: str) -> None:
    _expect_rejected(BadHeaderError, encode_headers, {key: "v"})
    _expect_rejected(BadHeaderError, encode_publish, "foo", b"x", headers={key: "v"})


@pytest.mark.parametrize("key", ["", " ", "\t", "\r\n", " \r\n "])
def test_empty_or_blank_header_keys_are_left_out(key: str) -> None:
    # As nats-py leaves them out: nothing of such a key reaches the wire.
    assert encode_headers({key: "v", "K": "w"}) == b"NATS/1.0\r\nK: w\r\n\r\n"
    assert encode_headers({key: ["a", "b"]}) == b"NATS/1.0\r\n\r\n"


@pytest.mark.parametrize("value", ["a\rb", "a\nb", "x\r\n\r\nPUB evil 0", "\r", "\n"])
def test_bad_header_values(value: str) -> None:
    _expect_rejected(BadHeaderError, encode_headers, {"K": value})
    _expect_rejected(BadHeaderError, encode_headers, {"K": ["ok", value]})
    _expect_rejected(BadHeaderError, encode_publish, "foo", b"x", headers={"K": value})


@pytest.mark.parametrize("value", [1, None, b"bytes", 1.5, [1], ["ok", None], [b"x"], {"a"}])
def test_non_str_header_values(value: Any) -> None:
    _expect_rejected(BadHeaderError, encode_headers, {"K": value})
    _expect_rejected(BadHeaderError, encode_publish, "foo", b"x", headers={"K": value})


def test_non_str_header_key() -> None:
    _expect_rejected(BadHeaderError, encode_headers, {1: "v"})


def test_header_errors_are_value_errors() -> None:
    with pytest.raises(ValueError):
        encode_headers({"a:b": "v"})
    with pytest.raises(ValueError):
        encode_pub("a b", b"")


def test_multi_value_headers_in_order() -> None:
    block = encode_headers({"X": ["3", "1", "2"], "a": "b", "Y": ("p", "q")})
    assert block == b"NATS/1.0\r\nX: 3\r\nX: 1\r\nX: 2\r\na: b\r\nY: p\r\nY: q\r\n\r\n"


def test_header_values_may_hold_colons_and_utf8() -> None:
    block = encode_headers({"K": "a: b", "Ü": "ünï"})
    assert block == "NATS/1.0\r\nK: a: b\r\nÜ: ünï\r\n\r\n".encode()
