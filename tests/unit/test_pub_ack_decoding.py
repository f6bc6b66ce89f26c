"""The stream's reply to a publish: the plain-ack fast path equals the generic decoding."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rxnats.errors import ProtocolError
from rxnats.jetstream import APIError, PubAck
from rxnats.jetstream.publish_async import decode_pub_ack


def _generic(data: bytes) -> PubAck:
    return PubAck.from_response(json.loads(data))


def _same(a: PubAck, b: PubAck) -> None:
    assert a == b
    assert a.extra_fields == b.extra_fields
    assert a._wire == b._wire
    assert a.as_request() == b.as_request()


@pytest.mark.parametrize(
    "body",
    [
        b'{"stream":"ORDERS","seq":1}',
        b'{"stream":"KV_b","seq":18446744073709551615}',
        b'{"stream":"ORDERS","seq":0}',
        b'{"stream":"\xc3\xa9t\xc3\xa9","seq":7}',  # UTF-8 name, no escape
        b'{"stream":"ORDERS","seq":3,"duplicate":true}',
        b'{"stream":"ORDERS","seq":3,"domain":"hub"}',
        b'{"stream":"OR\\"DERS","seq":3}',  # an escape: the JSON decoder's path
        b'{"stream":"\\u00e9","seq":3}',
        b'{ "stream": "ORDERS", "seq": 3 }',
        b'{"seq":3,"stream":"ORDERS"}',
        b'{"stream":"ORDERS","seq":3,"a_newer_field":{"x":[1,2]}}',
        b'{"stream":"C","seq":4,"val":"12"}',
        b'{"stream":"B","seq":9,"batch":"b1","count":3}',
    ],
)
def test_every_ack_shape_decodes_as_the_generic_model_decoder_does(body: bytes) -> None:
    _same(decode_pub_ack(body), _generic(body))


@given(name=st.text(min_size=1, max_size=20), seq=st.integers(0, 2**64 - 1))
def test_any_name_and_sequence_decode_alike(name: str, seq: int) -> None:
    body = json.dumps({"stream": name, "seq": seq}, separators=(",", ":")).encode()
    _same(decode_pub_ack(body), _generic(body))


def test_a_refusal_is_the_typed_api_error() -> None:
    body = b'{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 1"}}'
    with pytest.raises(APIError) as info:
        decode_pub_ack(body, stream="ORDERS")
    assert info.value.err_code == 10071


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"[1]", b'{"stream":"ORDERS","seq":01}', b'{"stream":"\xff","seq":1}'],
)
def test_a_reply_that_is_no_json_object_is_a_protocol_error(body: bytes) -> None:
    with pytest.raises(ProtocolError):
        decode_pub_ack(body)
