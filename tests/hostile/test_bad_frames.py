"""A server that sends what no nats-server sends (``rxnats.testing.fakeserver``): garbage after
valid frames, malformed header blocks. Each is the problem of the frame it is in (or of
what follows it), never of the messages before it or of the connection as a whole.

The garbage scenario also runs against nats-py 2.16 (skipped when it is not installed).
"""

from __future__ import annotations

from typing import Any

import pytest
from polling import eventually

import rxnats
from rxnats import events as ev
from rxnats.errors import MalformedHeadersError, ProtocolError
from rxnats.testing.fakeserver import FakePeer, FakeServer, sid_of

pytestmark = pytest.mark.timeout(60)


def ten_messages_then_garbage(sid: int) -> bytes:
    return b"".join(b"MSG s %d 1\r\n%d\r\n" % (sid, i) for i in range(10)) + b"GARBAGE\r\n"


async def garbage_after_ten_messages(peer: FakePeer) -> None:
    """First connection: ten messages and garbage in one write. Later ones: behave."""
    await peer.handshake()
    if peer.number == 1:
        sub = await peer.expect(b"SUB")
        peer.send(ten_messages_then_garbage(sid_of(sub.line)))
    await peer.serve()


async def test_messages_before_garbage_in_the_same_read_are_delivered_first() -> None:
    async with FakeServer(garbage_after_ten_messages) as server:
        events: list[ev.ConnectionEvent] = []
        got: list[bytes] = []
        nc = rxnats.NATS()
        nc.add_event_listener(events.append)
        await nc.connect(server.url, reconnect_time_wait=0.05)
        await nc.subscribe("s", cb=lambda msg: got.append(msg.data))
        await eventually(lambda: len(server.peers) >= 2 and nc.is_connected, what="reconnect")
        assert got == [b"%d" % i for i in range(10)]
        lost = [e for e in events if isinstance(e, ev.Disconnected)]
        assert len(lost) == 1 and isinstance(lost[0].cause, ProtocolError)
        await nc.flush()  # the new connection works
        await nc.close()
        assert server.errors == []


async def test_natspy_also_delivers_messages_before_garbage() -> None:
    nats: Any = pytest.importorskip("nats")  # nats-py, the behavioural reference
    async with FakeServer(garbage_after_ten_messages) as server:
        got: list[bytes] = []

        async def on_msg(msg: Any) -> None:
            got.append(msg.data)

        async def quiet(exc: Exception) -> None:
            pass

        nc = await nats.connect(server.url, reconnect_time_wait=0.05, error_cb=quiet)
        await nc.subscribe("s", cb=on_msg)
        await eventually(lambda: len(server.peers) >= 2 and nc.is_connected, what="reconnect")
        await eventually(lambda: len(got) == 10, what="ten messages")
        assert got == [b"%d" % i for i in range(10)]
        await nc.close()


_BAD_BLOCKS = [
    "NATS/1.0 ²\r\n\r\n".encode(),  # a digit to str.isdigit(), not to a protocol
    b"NATS/1.0 " + b"5" * 5000 + b"\r\n\r\n",  # int() refuses more than 4300 digits
    b"HTTP/1.1 200 OK\r\n\r\n",  # not a NATS header block at all
]


@pytest.mark.parametrize("block", _BAD_BLOCKS, ids=["superscript", "5000-digits", "not-nats"])
async def test_a_malformed_header_block_is_that_messages_error_only(block: bytes) -> None:
    async def script(peer: FakePeer) -> None:
        await peer.handshake()
        sid = sid_of((await peer.expect(b"SUB")).line)
        peer.send(b"HMSG s %d %d %d\r\n%bbody\r\n" % (sid, len(block), len(block) + 4, block))
        peer.send(b"MSG s %d 5\r\nafter\r\n" % sid)
        await peer.serve()

    async with FakeServer(script) as server:
        seen: list[tuple[bytes, type[BaseException] | None]] = []

        def on_msg(msg: rxnats.Msg) -> None:
            try:
                msg.headers  # noqa: B018 - reading it is the test
            except MalformedHeadersError as exc:
                seen.append((msg.data, type(exc)))
            else:
                seen.append((msg.data, None))

        nc = await rxnats.connect(server.url)
        await nc.subscribe("s", cb=on_msg)
        await eventually(lambda: len(seen) == 2, what="both messages")
        assert seen == [(b"body", MalformedHeadersError), (b"after", None)]
        assert nc.is_connected and len(server.peers) == 1 and nc.stats.reconnects == 0
        await nc.close()
