"""The bench's own parts, without a server: latency percentiles, the argument lists and the
raw client's framing."""

from __future__ import annotations

import argparse
import asyncio
import math
import random
from typing import cast

import pytest

from rxnats.bench.command import _configs, add_bench_arguments
from rxnats.bench.compare import run_comparison
from rxnats.bench.rawclient import RawClient, raw_client_factory
from rxnats.bench.runner import LATENCY_PERCENTILES, BenchConfig, LatencyHistogram


def test_latency_percentiles_are_within_one_percent_and_max_is_exact() -> None:
    rng = random.Random(7)
    samples = [rng.lognormvariate(-8, 1) for _ in range(20_000)]  # around 300 µs
    hist = LatencyHistogram()
    for s in samples:
        hist.record(s)
    got = hist.percentiles()
    assert list(got) == [name for name, _ in LATENCY_PERCENTILES]
    ordered = sorted(samples)
    for name, p in LATENCY_PERCENTILES[:-1]:
        exact = ordered[max(0, math.ceil(len(ordered) * p / 100) - 1)] * 1e6  # nearest rank
        assert got[name] == pytest.approx(exact, rel=0.01)
    assert got["max"] == pytest.approx(ordered[-1] * 1e6, abs=0.1)


def test_latency_histogram_edges() -> None:
    hist = LatencyHistogram()
    assert hist.percentiles() == {}
    hist.record(0.0)  # below a microsecond: the first bucket
    hist.record(5.0)  # the request timeout, long after anything else
    got = hist.percentiles()
    assert got["p50"] <= 1.01 and got["max"] == 5e6
    assert all(v <= got["max"] for v in got.values())


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_bench_arguments(parser)
    return parser.parse_args(list(argv))


def test_each_concurrency_is_a_request_run_of_its_own() -> None:
    configs = _configs(_args("request,pub", "--concurrency", "1,10,100"))
    assert [(c.mode, c.concurrency) for c in configs] == [
        ("request", 1), ("request", 10), ("request", 100), ("pub", 1),
    ]
    assert [c.concurrency for c in _configs(_args("request"))] == [1]


class _Transport:
    """What the raw client writes, without a socket."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def close(self) -> None:
        pass


def _raw_client() -> tuple[RawClient, _Transport]:
    transport = _Transport()
    client = RawClient()
    client.connection_made(cast(asyncio.Transport, transport))
    return client, transport


async def _request_then_read(cut: int) -> int:
    """A request and a PING, then the server's answers fed in two reads cut at ``cut``;
    returns the length of what the server sent."""
    client, transport = _raw_client()
    request = asyncio.create_task(client.request("rq", b"hi", timeout=60))
    flush = asyncio.create_task(client.flush())
    await asyncio.sleep(0)  # both append; the flush of the loop turn follows
    await asyncio.sleep(0)
    assert len(transport.writes) == 1  # the request and the PING in one write
    pub, ping = transport.writes[0].split(b"\r\nhi\r\n")
    assert ping == b"PING\r\n"
    _, subject, reply, size = pub.split(b" ")
    assert (subject, size) == (b"rq", b"2")
    inbox = reply.rsplit(b".", 1)[0]
    stream = (
        b'INFO {"server_id":"x","max_payload":1048576}\r\n+OK\r\nPING\r\n'
        b"MSG rq 2 _INBOX.them.1 5\r\nhello\r\n"
        + b"MSG " + inbox + b".99 1 3\r\nbye\r\n"  # a token nobody waits for: dropped
        + b"MSG " + reply + b" 1 2\r\nhi\r\n"
        + b"MSG rq 2 4\r\nno\r\n\r\n"  # no reply subject: nothing to answer
        + b"MSG rq 2 _INBOX.them.2 4\r\na\r\nb\r\n"  # a payload holding CRLF
        + b"PONG\r\n"
    )
    client.data_received(stream[:cut])
    client.data_received(stream[cut:])
    assert b"".join(transport.writes[1:]) == (
        b"PONG\r\nPUB _INBOX.them.1 5\r\nhello\r\nPUB _INBOX.them.2 4\r\na\r\nb\r\n"
    ), cut
    assert len(transport.writes) <= 3, cut  # at most one write per read
    assert await request == b"hi"
    await flush
    return len(stream)


async def test_raw_client_frames_split_at_every_offset() -> None:
    length = await _request_then_read(0)
    for cut in range(1, length + 1):
        await _request_then_read(cut)


async def test_raw_client_byte_by_byte_and_replies_after_a_timeout_or_cancel() -> None:
    client, transport = _raw_client()
    with pytest.raises(TimeoutError):
        await client.request("rq", b"", timeout=0.01)  # nothing answers
    reply = transport.writes[0].split(b" ")[2]
    request = asyncio.create_task(client.request("rq", b"", timeout=60))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    second = transport.writes[1].split(b" ")[2]
    for byte in b"MSG " + reply + b" 1 1\r\nL\r\nMSG " + second + b" 1 1\r\nR\r\n":
        client.data_received(bytes([byte]))  # the late reply is dropped, no error
    assert await request == b"R"
    cancelled = asyncio.create_task(client.request("rq", b"", timeout=60))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    third = transport.writes[2].split(b" ")[2]
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    client.data_received(b"MSG " + third + b" 1 1\r\nC\r\n")  # dropped too


async def test_raw_client_pending_ping_fails_when_the_connection_is_lost() -> None:
    client, _ = _raw_client()
    flush = asyncio.create_task(client.flush())
    await asyncio.sleep(0)
    client.connection_lost(None)
    with pytest.raises(ConnectionError):
        await flush


@pytest.mark.parametrize(
    "url", ["tls://127.0.0.1:4222", "ws://127.0.0.1:8080", "nats://user:pw@127.0.0.1:4222",
            "nats://token@127.0.0.1:4222"],
)
async def test_raw_client_plain_tcp_only(url: str) -> None:
    with pytest.raises(ValueError, match="plain TCP only"):
        await raw_client_factory(url)
    rows = await run_comparison(
        url, [BenchConfig(mode="request", count=10)], rounds=1, libraries=["raw"],
        natscore_python=None,
    )
    assert [(r.library, r.runs) for r in rows] == [("raw-client", [])]
    assert "plain TCP only" in rows[0].error
