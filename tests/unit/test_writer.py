"""The coalescing writer's contract with the publish hot path (``armed`` and ``batch``).

The writer's only collaborator is a transport's ``write``/``paused``/``is_closing``; an
in-memory transport takes its place here (no server is involved: this is the buffer
logic). Real sockets are covered by the integration tests.
"""

from __future__ import annotations

import asyncio

import pytest

from rxnats.errors import OutboundBufferLimitError
from rxnats.testing.transport import MemoryTransport
from rxnats.wire.aio.writer import Writer


def attached(writer: Writer) -> MemoryTransport:
    conn = MemoryTransport()
    writer.attach(conn)
    return conn


async def test_armed_only_while_a_flush_is_scheduled_on_a_connection() -> None:
    writer = Writer(pending_size=1024)
    conn = attached(writer)
    assert not writer.armed
    assert writer.write(b"PUB a 1\r\nx\r\n") is False
    assert writer.armed
    # What the hot path does while armed: append to the batch, nothing else.
    writer.batch += b"PUB a 1\r\ny\r\n"
    await asyncio.sleep(0)  # the scheduled flush runs
    assert not writer.armed
    assert conn.writes == [b"PUB a 1\r\nx\r\nPUB a 1\r\ny\r\n"]
    assert writer.pending == 0


async def test_detach_disarms_so_disconnected_writes_meet_pending_size() -> None:
    writer = Writer(pending_size=16)
    attached(writer)
    writer.write(b"0123456789")
    assert writer.armed
    writer.detach()  # the connection was lost before the scheduled flush
    assert not writer.armed
    with pytest.raises(OutboundBufferLimitError):
        writer.write(b"0123456789")
    assert writer.pending == 10  # the refused write kept nothing
    await asyncio.sleep(0)  # the stale scheduled flush finds no connection
    assert writer.pending == 10
    writer.write(b"abc")
    assert not writer.armed  # never armed without a connection


async def test_flush_full_hands_over_the_batch_and_reports_backpressure() -> None:
    writer = Writer(pending_size=1024, flush_threshold=8)
    conn = attached(writer)
    writer.write(b"abc")
    writer.batch += b"defghi"
    conn.pause()
    assert writer.flush_full() is True
    assert conn.writes == [b"abcdefghi"]
    assert writer.pending == 0
    await asyncio.sleep(0)
    assert conn.writes == [b"abcdefghi"]  # the scheduled flush had nothing left


async def test_write_now_sends_at_once_and_schedules_nothing() -> None:
    writer = Writer(pending_size=16)
    conn = attached(writer)
    assert writer.write_now(b"PUB r 1\r\nx\r\n") is False
    assert conn.writes == [b"PUB r 1\r\nx\r\n"]  # no batch, no scheduled flush
    assert not writer.armed
    writer.write(b"a")  # a batch in progress goes first, in one write
    writer.write_now(b"b")
    assert conn.writes[1:] == [b"ab"]
    conn.pause()
    assert writer.write_now(b"c") is True  # backpressure is reported


async def test_write_now_while_disconnected_keeps_within_pending_size() -> None:
    writer = Writer(pending_size=4)
    writer.write_now(b"abc")
    with pytest.raises(OutboundBufferLimitError):
        writer.write_now(b"de")
    assert writer.pending == 3
    conn = attached(writer)  # a new connection gets what was kept
    assert conn.writes == [b"abc"]


async def test_held_write_now_calls_go_out_in_one_write_at_the_release() -> None:
    writer = Writer(pending_size=1024)
    conn = attached(writer)
    writer.hold()
    writer.write_now(b"PUB r1 1\r\na\r\n")
    writer.write(b"PUB p 1\r\nb\r\n")  # a publish in between keeps its place
    writer.write_now(b"PUB r2 1\r\nc\r\n")
    assert conn.writes == []
    writer.release()
    assert conn.writes == [b"PUB r1 1\r\na\r\nPUB p 1\r\nb\r\nPUB r2 1\r\nc\r\n"]
    assert not writer.holding
    writer.write_now(b"d")  # released: at once again
    assert conn.writes[1:] == [b"d"]


async def test_a_held_batch_reaching_the_threshold_is_handed_over() -> None:
    writer = Writer(pending_size=1024, flush_threshold=8)
    conn = attached(writer)
    writer.hold()
    writer.write_now(b"abcd")
    assert conn.writes == []
    writer.write_now(b"efgh")
    assert conn.writes == [b"abcdefgh"]  # held or not, a batch never grows past it


async def test_release_after_ready_waits_for_the_callbacks_already_scheduled() -> None:
    writer = Writer(pending_size=1024)
    conn = attached(writer)
    loop = asyncio.get_running_loop()
    writer.hold()
    writer.write_now(b"inline ")  # what the reader's own callbacks answered
    # Tasks the reader woke run next, before the release scheduled after them.
    loop.call_soon(writer.write_now, b"task1 ")
    writer.release_after_ready()
    assert conn.writes == [b"inline "]  # handed over at once
    loop.call_soon(writer.write_now, b"later")  # scheduled after the release
    await asyncio.sleep(0)
    assert conn.writes == [b"inline ", b"task1 ", b"later"]
    assert not writer.holding


async def test_held_writes_while_disconnected_still_meet_pending_size() -> None:
    writer = Writer(pending_size=4)
    writer.hold()
    writer.write_now(b"abc")
    with pytest.raises(OutboundBufferLimitError):
        writer.write_now(b"de")
    writer.release()
    assert writer.pending == 3


async def test_write_now_on_a_closing_connection_keeps_the_data_for_the_next() -> None:
    writer = Writer(pending_size=1024)
    conn = attached(writer)
    writer.write_now(b"a")
    conn.close()  # closing: takes nothing more
    assert writer.write_now(b"b") is False
    writer.hold()
    writer.write_now(b"c")
    writer.release()
    assert conn.writes == [b"a"]
    assert writer.pending == 2
    writer.detach()
    fresh = attached(writer)
    assert fresh.writes == [b"bc"]


async def test_paused_follows_the_channel_and_ends_with_it() -> None:
    writer = Writer(pending_size=1024)
    conn = attached(writer)
    conn.pause()
    assert conn.paused and writer.write_now(b"a") is True and writer.must_wait()
    conn.resume()
    assert not conn.paused and writer.write_now(b"b") is False
    conn.pause()
    conn.lost(None)  # a closed channel asks nobody to wait
    assert not conn.paused and not writer.must_wait()
    conn.pause()  # a late report changes nothing
    assert not conn.paused
