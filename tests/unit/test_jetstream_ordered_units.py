"""Units of ordered consumers and the consume engine: no server, fed by hand-made messages."""

from __future__ import annotations

import pytest

import rxnats
from rxnats.errors import InvalidInputError
from rxnats.jetstream.consume import MessageStream, classify, msg_size, status_error
from rxnats.jetstream.errors import ConsumerDeletedError, FetchStatusError
from rxnats.jetstream.models import AckPolicy, ConsumerConfig
from rxnats.jetstream.ordered import OrderedConsumer, SequenceTracker
from rxnats.msg import Msg
from rxnats.wire.headers import Headers


def _js_msg(cseq: int, sseq: int) -> Msg:
    return Msg(None, "o.x", f"$JS.ACK.O.C.1.{sseq}.{cseq}.1700000000000000000.0", b"x")


def _status(code: int, text: str, subject: str = "_INBOX.a.1", **hdrs: str) -> Msg:
    return Msg(None, subject, "", b"", headers=Headers(list(hdrs.items()), status=code, description=text))


def test_tracker_accepts_only_the_next_consumer_sequence() -> None:
    t = SequenceTracker()
    assert t.accept(1, 10) and t.accept(2, 11)
    assert not t.accept(4, 13)  # a gap: 3 is missing
    assert not t.accept(2, 11)  # a repeat
    assert (t.consumer_seq, t.stream_seq) == (2, 11)  # rejected deliveries are not recorded
    assert t.restart() == 12  # the new consumer starts after the last accepted message
    assert t.consumer_seq == 0 and t.accept(1, 12)


def test_tracker_restart_before_any_message_keeps_the_configured_start() -> None:
    assert SequenceTracker().restart() is None


def test_ordered_accept_records_gaps() -> None:
    js = rxnats.NATS().jetstream()
    ordered = OrderedConsumer(js, "O")
    assert ordered.accept(_js_msg(1, 5))
    assert not ordered.accept(_js_msg(3, 7))
    assert ordered._gap
    assert not ordered.accept(Msg(None, "o.x", "not-an-ack", b""))
    assert ordered.acks is False and ordered.resettable


def test_ordered_refuses_fields_it_sets_itself() -> None:
    js = rxnats.NATS().jetstream()
    with pytest.raises(InvalidInputError):
        OrderedConsumer(js, "O", durable_name="d")
    with pytest.raises(InvalidInputError):
        OrderedConsumer(js, "O", ConsumerConfig(max_ack_pending=3))
    with pytest.raises(InvalidInputError):
        OrderedConsumer(js, "O", no_such_field=1)
    OrderedConsumer(js, "O", ack_policy=AckPolicy.NONE, filter_subject="o.1")


@pytest.mark.parametrize(
    ("status", "text", "kind"),
    [
        (100, "Idle Heartbeat", "heartbeat"),
        (404, "No Messages", "end"),
        (408, "Request Timeout", "end"),
        (409, "Message Size Exceeds MaxBytes", "end"),
        (409, "Batch Completed", "end"),
        (409, "Leadership Change", "end"),
        (400, "Bad Request", "terminal"),
        (409, "Consumer Deleted", "terminal"),
        (409, "Consumer is push based", "terminal"),
        (409, "Exceeded MaxRequestBatch of 2", "warning"),
        (409, "Exceeded MaxWaiting", "warning"),
        (503, "", "warning"),
    ],
)
def test_status_classes_follow_adr_37(status: int, text: str, kind: str) -> None:
    assert classify(status, text) == kind


def test_status_errors_are_typed() -> None:
    assert isinstance(status_error(409, "Consumer Deleted"), ConsumerDeletedError)
    err = status_error(409, "Exceeded MaxWaiting")
    assert type(err) is FetchStatusError and err.status == 409


def test_msg_size_counts_subject_reply_headers_and_data() -> None:
    msg = Msg(None, "abc", "de", b"12345", raw_headers=b"NATS/1.0\r\n\r\n")
    assert msg_size(msg) == 3 + 2 + 5 + 12


class _Target:
    stream_name = "S"
    consumer_name = "C"
    resettable = False

    def accept(self, msg: Msg) -> bool:
        return True

    async def reset(self) -> None:
        raise AssertionError("not resettable")


async def test_stream_bookkeeping_follows_pending_headers() -> None:
    stream = MessageStream(rxnats.NATS(), "$JS.API", _Target(), max_messages=10, expires=2)
    stream._requested_msgs = 10
    stream._live["_INBOX.a.1"] = 10
    for i in range(3):
        stream._on_msg(_js_msg(i + 1, i + 1))
    assert stream.buffered == 3 and stream.pending[0] == 7
    stream._on_msg(_status(100, "Idle Heartbeat"))
    assert stream.pending[0] == 7
    # the request expired with 7 undelivered: they will not come
    stream._on_msg(_status(408, "Request Timeout", **{"Nats-Pending-Messages": "7"}))
    assert stream.pending[0] == 0 and stream.error is None
    msg = await stream.next(timeout=1)
    assert msg.metadata.sequence.stream == 1 and stream.buffered == 2


async def test_stream_warning_then_terminal_status() -> None:
    warnings: list[Exception] = []
    stream = MessageStream(
        rxnats.NATS(), "$JS.API", _Target(), max_messages=4, expires=2, error_cb=warnings.append
    )
    stream._requested_msgs = 4
    stream._live["_INBOX.a.1"] = 4
    stream._on_msg(_status(409, "Exceeded MaxRequestBatch of 2"))
    assert stream.pending[0] == 0  # the refused request's batch is forgotten
    assert len(warnings) == 1 and isinstance(warnings[0], FetchStatusError)
    stream._on_msg(_js_msg(1, 1))
    stream._on_msg(_status(409, "Consumer Deleted"))
    assert isinstance(stream.error, ConsumerDeletedError)
    assert (await stream.next()).metadata.sequence.stream == 1  # buffered ones first
    with pytest.raises(ConsumerDeletedError):
        await stream.next()


def test_stream_option_checks() -> None:
    nc = rxnats.NATS()
    with pytest.raises(InvalidInputError):
        MessageStream(nc, "$JS.API", _Target(), max_messages=5, max_bytes=10)
    with pytest.raises(InvalidInputError):
        MessageStream(nc, "$JS.API", _Target(), max_messages=5, threshold_messages=5)
    with pytest.raises(InvalidInputError):
        MessageStream(nc, "$JS.API", _Target(), expires=0.5)
    with pytest.raises(InvalidInputError):
        MessageStream(nc, "$JS.API", _Target(), expires=2, idle_heartbeat=1.5)
