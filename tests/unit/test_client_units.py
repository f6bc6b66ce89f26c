"""Client pieces without a server: subscriptions fed by hand, CallableBool, Msg, argument checks.

A :class:`~rxnats.NATS` that never connected stands in for the client a
:class:`~rxnats.Subscription` talks to: with no connection it sends nothing, and its
``error_cb`` records what the subscription reports.
"""

from __future__ import annotations

import asyncio

import pytest

import rxnats as nats
from rxnats import NATS, Msg, Statistics, Subscription
from rxnats import events as ev
from rxnats._callable_bool import CallableBool, CallableFalse, CallableTrue, callable_bool
from rxnats.errors import (
    BadSubscriptionError,
    BadTimeoutError,
    ConnectionClosedError,
    Error,
    InvalidCallbackTypeError,
    InvalidInputError,
    InvalidURLError,
    MalformedHeadersError,
)
from rxnats.msg import Msg as MsgClass
from rxnats.state import Callbacks, ConnectionStatus, StatusCell


def _client(errors: list[Exception] | None = None) -> NATS:
    nc = NATS()
    if errors is not None:
        nc._reporter.callbacks = Callbacks(error_cb=errors.append)
    return nc


# ---------------------------------------------------------------- CallableBool
def test_callable_bool() -> None:
    assert callable_bool(True) is CallableTrue
    assert callable_bool(False) is CallableFalse
    assert CallableTrue() is True and CallableFalse() is False
    assert bool(CallableTrue) and not CallableFalse
    assert CallableTrue == True  # noqa: E712 - comparing with the bool is the point
    assert CallableFalse == False  # noqa: E712
    assert CallableTrue != CallableFalse
    assert CallableBool(True) == CallableTrue
    assert hash(CallableTrue) == hash(True)
    assert repr(CallableFalse) == "False"


# ---------------------------------------------------------------- Statistics
def test_statistics_mapping_access() -> None:
    stats = Statistics(in_msgs=3, out_bytes=7)
    assert stats["in_msgs"] == 3
    assert stats.as_dict() == {
        "in_msgs": 3,
        "out_msgs": 0,
        "in_bytes": 0,
        "out_bytes": 7,
        "reconnects": 0,
        "errors_received": 0,
    }
    with pytest.raises(KeyError):
        stats["__init__"]


# ---------------------------------------------------------------- status cell
def test_status_cell_rejects_illegal_transitions() -> None:
    cell = StatusCell()
    seen: list[ConnectionStatus] = []
    remove = cell.add_listener(seen.append)
    assert cell.set(ConnectionStatus.CONNECTING)
    assert not cell.set(ConnectionStatus.CONNECTING)
    cell.set(ConnectionStatus.CONNECTED)
    cell.set(ConnectionStatus.CLOSED)
    with pytest.raises(RuntimeError):
        cell.set(ConnectionStatus.CONNECTED)
    remove()
    assert seen == [
        ConnectionStatus.CONNECTING,
        ConnectionStatus.CONNECTED,
        ConnectionStatus.CLOSED,
    ]


# ---------------------------------------------------------------- Msg
async def test_msg_headers_are_decoded_lazily() -> None:
    msg = MsgClass(None, "s", "", b"", 1, b"NATS/1.0 503\r\n\r\n")
    assert msg._headers is None
    assert msg.status == 503
    assert msg.headers is not None and len(msg.headers) == 0
    plain = MsgClass(None, "s", "", b"data", 1)
    assert plain.headers is None and plain.status is None and plain.description == ""


async def test_msg_respond_needs_reply_and_client() -> None:
    with pytest.raises(Error):
        await MsgClass(None, "s", "", b"").respond(b"x")
    with pytest.raises(Error):
        await MsgClass(None, "s", "reply.to", b"").respond(b"x")
    with pytest.raises(ConnectionClosedError):
        await MsgClass(NATS()._port, "s", "reply.to", b"").respond(b"x")


def test_msg_repr_is_short() -> None:
    text = repr(MsgClass(None, "s", "r", b"x" * 1000))
    assert len(text) < 200 and "reply='r'" in text


# ---------------------------------------------------------------- a client that never connected
async def test_never_connected_client_refuses_work() -> None:
    nc = NATS()
    with pytest.raises(ConnectionClosedError):
        await nc.publish("a", b"")
    with pytest.raises(ConnectionClosedError):
        await nc.subscribe("a")
    with pytest.raises(ConnectionClosedError):
        await nc.flush()
    with pytest.raises(ConnectionClosedError):
        await nc.request("a", b"", timeout=1)
    assert nc.connected_url() == "" and nc.client_id() == 0 and nc.servers() == []
    assert nc.pending_data_size() == 0
    assert nc.new_inbox().startswith("_INBOX.")


async def test_close_of_a_never_connected_client() -> None:
    events: list[ev.ConnectionEvent] = []
    nc = NATS()
    nc.add_event_listener(events.append)
    await nc.close()
    await nc.close()
    assert nc.is_closed()
    # It never connected: a Closed event, but no closed_cb (there was no connection).
    assert events == [ev.Closed(None)]
    assert nc.last_error() is None
    # A closed client may connect again; here no server listens, so that fails.
    with pytest.raises(Error) as info:
        await nc.connect("nats://127.0.0.1:1", connect_timeout=0.5)
    assert not isinstance(info.value, ConnectionClosedError)
    assert nc.is_closed() and nc.last_error() is info.value


@pytest.mark.parametrize("url", ["foo://x", "nats://h:99999", "nats://has space", "", "nats://"])
async def test_bad_urls_fail_before_io(url: str) -> None:
    nc = NATS()
    with pytest.raises(InvalidURLError):
        await nc.connect(url)
    assert nc.status == ConnectionStatus.DISCONNECTED


async def test_connect_argument_checks() -> None:
    with pytest.raises(BadTimeoutError):
        await nats.connect("nats://127.0.0.1:1", connect_timeout=-1)
    with pytest.raises(BadTimeoutError):
        await nats.connect("nats://127.0.0.1:1", flush_timeout=0)
    with pytest.raises(InvalidCallbackTypeError):
        await nats.connect("nats://127.0.0.1:1", error_cb=42)  # type: ignore[arg-type]  # deliberately wrong
    with pytest.raises(InvalidInputError):
        await nats.connect("nats://127.0.0.1:1", max_outstanding_pings=0)


async def test_unsubscribe_nowait_from_a_plain_callback_stops_the_rest_of_the_read() -> None:
    nc = _client()
    got: list[bytes] = []

    def first_only(msg: Msg) -> None:
        got.append(msg.data)
        sub.unsubscribe_nowait()

    sub = Subscription(nc._port, 1, "s", cb=first_only)
    nc._subs[1] = sub
    sub._start()
    nc._on_frames([("s", 1, "", b"%d" % i, None) for i in range(10)])  # one socket read
    assert got == [b"0"]
    assert sub.is_closed and nc._subs == {}
    with pytest.raises(BadSubscriptionError):
        sub.unsubscribe_nowait()


# ---------------------------------------------------------------- what a frame may raise
async def test_a_malformed_header_block_raises_on_access_only() -> None:
    msg = MsgClass(None, "s", "r", b"data", 1, "NATS/1.0 ²\r\n\r\n".encode())
    assert (msg.subject, msg.reply, msg.data) == ("s", "r", b"data")
    for read in (lambda: msg.headers, lambda: msg.status, lambda: msg.description):
        with pytest.raises(MalformedHeadersError):
            read()


async def test_whatever_handling_a_frame_raises_is_reported_and_the_next_frame_handled() -> None:
    errors: list[Exception] = []
    nc = _client(errors)
    got: list[bytes] = []

    def broken(msg: Msg) -> None:  # stands for any handler the reader calls directly
        raise RuntimeError(f"bug on {msg.data!r}")

    sub = nc._subscribe("a", direct=broken)
    good = Subscription(nc._port, 99, "b", cb=lambda msg: got.append(msg.data))
    nc._subs[99] = good
    good._start()
    nc._on_frames([("a", sub.sid, "", b"1", None), ("b", 99, "", b"2", None)])
    assert got == [b"2"]
    assert [str(e) for e in errors] == ["bug on b'1'"]
    assert nc.stats.in_msgs == 2


async def test_connect_checks_reconnect_max_wait() -> None:
    with pytest.raises(BadTimeoutError, match="reconnect_max_wait"):
        await nats.connect("nats://127.0.0.1:1", reconnect_time_wait=2, reconnect_max_wait=1)


# ---------------------------------------------------------------- PONGs while writing is paused
def test_pings_while_writing_is_paused_owe_one_pong() -> None:
    from rxnats.testing.transport import MemoryTransport

    conn = MemoryTransport()
    conn.answer_ping()
    assert conn.writes == [b"PONG\r\n"]
    conn.pause()  # the channel's buffer is over its high-water mark
    for _ in range(100_000):  # a server that floods PINGs and reads nothing
        conn.answer_ping()
    assert conn.writes == [b"PONG\r\n"]
    conn.resume()  # one PONG answers every PING the server sent
    assert conn.writes == [b"PONG\r\n", b"PONG\r\n"]
    conn.resume()
    assert len(conn.writes) == 2


# ---------------------------------------------------------------- one read, coalesced writes
async def test_what_one_read_causes_to_be_written_goes_out_coalesced() -> None:
    from rxnats.testing.transport import MemoryTransport
    from rxnats.wire.aio.writer import Writer
    from rxnats.wire.frames import PING

    nc = _client()
    conn = MemoryTransport()
    writer = Writer(pending_size=1 << 20)
    writer.attach(conn)
    nc._writer, nc._conn = writer, conn  # a connected client without a socket (private)

    async def echo_async(msg: Msg) -> None:
        await msg.respond(msg.data.upper())

    inline = Subscription(nc._port, 1, "inline", cb=lambda msg: msg.respond_nowait(msg.data))
    tasked = Subscription(nc._port, 2, "tasked", cb=echo_async)
    nc._subs.update({1: inline, 2: tasked})
    inline._start()
    tasked._start()
    await asyncio.sleep(0)  # the async subscription's task waits for messages

    nc._on_frames([  # one socket read
        PING, ("inline", 1, "r1", b"a", None), ("tasked", 2, "r3", b"c", None),
        PING, ("inline", 1, "r2", b"b", None), ("tasked", 2, "r4", b"d", None),
    ])
    # The PONGs (one per PING) in one write, the inline answers in another, at once.
    assert conn.writes == [b"PONG\r\nPONG\r\n", b"PUB r1 1\r\na\r\nPUB r2 1\r\nb\r\n"]
    await asyncio.sleep(0)  # the tasks the read woke answer; their answers go out together
    assert conn.writes[2:] == [b"PUB r3 1\r\nC\r\nPUB r4 1\r\nD\r\n"]
    assert not writer.holding

    nc._on_frames([("inline", 1, "r5", b"e", None)])  # a lone message: answered at once
    assert conn.writes[3:] == [b"PUB r5 1\r\ne\r\n"]
    await tasked.unsubscribe()


async def test_replies_are_checked_and_written_exactly() -> None:
    from rxnats.errors import BadSubjectError, MaxPayloadError
    from rxnats.testing.transport import MemoryTransport
    from rxnats.wire.aio.writer import Writer

    nc = _client()
    conn = MemoryTransport()
    writer = Writer(pending_size=1 << 20)
    writer.attach(conn)
    nc._writer, nc._conn = writer, conn  # a connected client without a socket (private)
    nc._max_payload = 32

    def msg(reply: str) -> MsgClass:
        return MsgClass(nc._port, "svc", reply, b"q", 1, None)

    for bad in ("two words", "a..b", "wild.*", "crlf\r\nPUB x 0"):
        with pytest.raises(BadSubjectError):
            msg(bad).respond_nowait(b"a")
    with pytest.raises(MaxPayloadError):
        msg("_INBOX.r").respond_nowait(b"x" * 33)
    with pytest.raises(nats.errors.Error, match="no reply subject"):
        msg("").respond_nowait(b"a")
    assert conn.writes == [] and writer.pending == 0  # nothing refused was kept

    msg("_INBOX.r").respond_nowait(b"ok")
    await msg("_INBOX.s").respond(b"", headers={"K": "v"})
    block = b"NATS/1.0\r\nK: v\r\n\r\n"
    assert conn.writes == [
        b"PUB _INBOX.r 2\r\nok\r\n",
        b"HPUB _INBOX.s %d %d\r\n%b\r\n" % (len(block), len(block), block),
    ]
    assert nc.stats.out_msgs == 2
