"""JetStream models, error mapping and ack-subject metadata, without a server."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rxnats.errors import Error, InvalidInputError
from rxnats.jetstream import (
    AckPolicy,
    APIError,
    BadRequestError,
    ConsumerConfig,
    ConsumerInfo,
    ConsumerNotFoundError,
    DeliverPolicy,
    KeyValueConfig,
    MessageNotFoundError,
    NotFoundError,
    NotJSMessageError,
    PubAck,
    RetentionPolicy,
    ServiceUnavailableError,
    StorageType,
    StreamConfig,
    StreamInfo,
    StreamNotFoundError,
    WrongLastSequenceError,
)
from rxnats.jetstream.ack import nak_body, parse_metadata
from rxnats.jetstream.base import parse_time
from rxnats.jetstream.errors import InvalidKeyError, api_error
from rxnats.jetstream.kv import kv_stream_config
from rxnats.msg import Msg


def test_stream_config_round_trip_converts_enums_and_durations() -> None:
    config = StreamConfig(
        name="S",
        subjects=["a.>"],
        retention=RetentionPolicy.WORK_QUEUE,
        storage=StorageType.MEMORY,
        max_age=1.5,
        duplicate_window=120.0,
    )
    wire = config.as_request()
    assert wire["retention"] == "workqueue"
    assert wire["storage"] == "memory"
    assert wire["max_age"] == 1_500_000_000
    assert wire["duplicate_window"] == 120_000_000_000
    assert "description" not in wire  # None fields are left out
    back = StreamConfig.from_response(wire)
    assert back == config


def test_from_response_ignores_unknown_fields_and_keeps_unknown_enum_values() -> None:
    info = StreamInfo.from_response(
        {
            "config": {"name": "S", "subjects": ["x"], "storage": "quantum", "brand_new": 1},
            "state": {"messages": 3, "bytes": 10, "first_seq": 1, "last_seq": 3},
            "created": "2024-01-01T00:00:00Z",
            "future_field": {"a": 1},
        }
    )
    assert info.state.messages == 3
    assert info.config.storage == "quantum"  # not dropped, not crashing
    assert info.config.name == "S"


def test_consumer_info_nested_models() -> None:
    info = ConsumerInfo.from_response(
        {
            "name": "c",
            "stream_name": "S",
            "config": {
                "durable_name": "c",
                "ack_policy": "explicit",
                "deliver_policy": "last_per_subject",
                "ack_wait": 30_000_000_000,
                "backoff": [1_000_000_000, 2_000_000_000],
            },
            "delivered": {"consumer_seq": 4, "stream_seq": 9},
            "num_pending": 7,
        }
    )
    assert info.config.ack_policy is AckPolicy.EXPLICIT
    assert info.config.deliver_policy is DeliverPolicy.LAST_PER_SUBJECT
    assert info.config.ack_wait == 30.0
    assert info.config.backoff == [1.0, 2.0]
    assert info.delivered is not None and info.delivered.stream_seq == 9
    assert info.num_pending == 7
    wire = info.config.as_request()
    assert wire["backoff"] == [1_000_000_000, 2_000_000_000]


def test_evolve_and_pub_ack() -> None:
    config = ConsumerConfig(durable_name="d").evolve(filter_subject="x")
    assert (config.durable_name, config.filter_subject) == ("d", "x")
    with pytest.raises(TypeError):
        ConsumerConfig().evolve(no_such_field=1)
    ack = PubAck.from_response({"stream": "S", "seq": 5, "duplicate": True})
    assert (ack.stream, ack.seq, ack.duplicate, ack.domain) == ("S", 5, True, None)


@pytest.mark.parametrize(
    ("error", "cls"),
    [
        ({"code": 404, "err_code": 10059, "description": "stream not found"}, StreamNotFoundError),
        ({"code": 404, "err_code": 10014, "description": "x"}, ConsumerNotFoundError),
        ({"code": 404, "err_code": 10037, "description": "x"}, MessageNotFoundError),
        ({"code": 400, "err_code": 10071, "description": "x"}, WrongLastSequenceError),
        # classified by err_code, never by the text
        ({"code": 404, "err_code": 10059, "description": "consumer not found"}, StreamNotFoundError),
        ({"code": 404, "err_code": 99999, "description": "stream not found"}, NotFoundError),
        ({"code": 400, "description": "stream not found"}, BadRequestError),
        ({"code": 503, "description": "x"}, ServiceUnavailableError),
        ({"code": 418, "description": "x"}, APIError),
    ],
)
def test_api_error_is_chosen_by_err_code_then_code(
    error: dict[str, object], cls: type[APIError]
) -> None:
    exc = api_error(error, stream="S")
    assert type(exc) is cls
    assert isinstance(exc, Error)
    assert exc.code == error["code"]
    assert exc.err_code == error.get("err_code")
    assert exc.description == error["description"]
    assert exc.stream == "S"


def test_metadata_v1_subject() -> None:
    meta = parse_metadata("$JS.ACK.ORDERS.worker.3.120.45.1700000000123456789.7")
    assert (meta.stream, meta.consumer, meta.domain) == ("ORDERS", "worker", "")
    assert meta.num_delivered == 3
    assert (meta.sequence.stream, meta.sequence.consumer) == (120, 45)
    assert meta.num_pending == 7
    assert meta.timestamp == dt.datetime.fromtimestamp(1700000000.123456789, tz=dt.UTC)


def test_metadata_v2_subject_with_domain_and_account_hash() -> None:
    meta = parse_metadata("$JS.ACK.hub.ACCHASH.ORDERS.worker.1.2.3.1700000000000000000.0.xyz")
    assert (meta.domain, meta.stream, meta.consumer) == ("hub", "ORDERS", "worker")
    assert (meta.num_delivered, meta.sequence.stream, meta.sequence.consumer) == (1, 2, 3)
    assert meta.num_pending == 0
    no_domain = parse_metadata("$JS.ACK._.ACCHASH.S.c.1.2.3.1700000000000000000.4")
    assert no_domain.domain == ""
    assert no_domain.num_pending == 4


@pytest.mark.parametrize(
    "reply",
    [
        "",
        "_INBOX.abc",
        "$JS.ACK.S.c.1.2.3",  # too short
        "$JS.ACK.a.b.S.c.1.2.3.4",  # 10 tokens: neither form
        "$JS.ACK.S.c.x.2.3.4.5",  # not a number
    ],
)
def test_metadata_rejects_non_js_subjects(reply: str) -> None:
    with pytest.raises(NotJSMessageError):
        parse_metadata(reply)
    with pytest.raises(NotJSMessageError):
        _ = Msg(reply=reply).metadata


def test_nak_body() -> None:
    assert nak_body(None) == b"-NAK"
    assert nak_body(1.5) == b'-NAK {"delay": 1500000000}'


async def test_ack_without_client_is_not_a_js_message() -> None:
    msg = Msg(subject="s", reply="$JS.ACK.S.c.1.2.3.4.5")
    assert msg.metadata.stream == "S"
    with pytest.raises(NotJSMessageError):
        await msg.ack()
    assert not msg.is_acked


def test_kv_stream_config() -> None:
    stream = kv_stream_config(KeyValueConfig(bucket="B", history=3, ttl=10.0, max_value_size=99))
    assert stream.name == "KV_B"
    assert stream.subjects == ["$KV.B.>"]
    assert stream.max_msgs_per_subject == 3
    assert stream.max_age == 10.0
    assert stream.duplicate_window == 10.0  # capped by the ttl
    assert stream.max_msg_size == 99
    assert stream.allow_rollup_hdrs and stream.deny_delete and stream.allow_direct
    assert kv_stream_config(KeyValueConfig(bucket="B")).duplicate_window == 120.0


def test_invalid_key_error_is_also_invalid_input() -> None:
    assert issubclass(InvalidKeyError, InvalidInputError)
    assert issubclass(InvalidKeyError, ValueError)


@given(
    st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31)),
    st.text("0123456789", max_size=12),
)
def test_the_servers_time_form_reads_as_any_rfc_3339_time(
    when: dt.datetime, fraction: str
) -> None:
    text = when.isoformat(timespec="seconds") + (f".{fraction}" if fraction else "")
    server_form = parse_time(text + "Z")  # UTC with "Z", up to nanoseconds: read in C
    other_form = parse_time(text + "+00:00")  # an offset: read by the general path
    assert server_form == other_form
    assert server_form.tzinfo is dt.UTC and other_form.tzinfo is dt.UTC
    assert server_form.microsecond == int(fraction[:6].ljust(6, "0"))  # past six: dropped


@pytest.mark.parametrize(
    "text",
    ["2026-12-01T24:00:00Z", "2026-02-30T07:34:19.5Z", "2026-12-01T07:34Z", "2026-W48-2T07:34:19Z"],
)
def test_a_time_that_is_not_one_is_refused_in_the_servers_form_too(text: str) -> None:
    with pytest.raises(ValueError):
        parse_time(text)
