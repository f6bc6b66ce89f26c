"""Fuzzing a real client over a real socket: a fake server sends it mutated streams.

Each example runs one fake server (``rxnats.testing.fakeserver``) whose first connection, once
the client has subscribed, gets a mutated stream (``tests/fuzzing.py``) and is then
served normally; every later connection is served normally. Whatever the stream, the
client must end connected (it was valid enough) or reconnect cleanly (it was not, or it
promised bytes that never came, which only the PINGs going unanswered reveal): in both
cases a ``flush()`` round trip works afterwards, no exception reaches asyncio's
handler (which is where an exception escaping ``data_received`` would go), and the only
errors reported are the documented ones.

The example count is small in CI; ``RXNATS_FUZZ_EXAMPLES`` makes it longer.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fuzzing import fuzz_settings, mutated_streams
from hypothesis import given
from polling import eventually

import rxnats
from rxnats.errors import (
    MalformedHeadersError,
    ProtocolError,
    ServerError,
    StaleConnectionError,
)
from rxnats.testing.fakeserver import FakePeer, FakeServer, sid_of


async def scenario(stream_for: dict[int, bytes]) -> None:
    async def script(peer: FakePeer) -> None:
        await peer.handshake()
        sub = await peer.expect(b"SUB")
        if peer.number == 1:
            peer.send(stream_for[sid_of(sub.line)])
        await peer.serve()

    loop = asyncio.get_running_loop()
    escaped: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, context: escaped.append(context))
    reported: list[Exception] = []
    seen: list[rxnats.Msg] = []

    def on_msg(msg: rxnats.Msg) -> None:
        seen.append(msg)
        try:
            msg.headers  # noqa: B018 - decoding is part of what is fuzzed
        except MalformedHeadersError:
            pass

    async with FakeServer(script) as server:
        nc = await rxnats.connect(
            server.url,
            reconnect_time_wait=0.01,
            connect_timeout=2,
            # A size that promises more bytes than ever come leaves the client waiting
            # for them: only unanswered PINGs tell (the PONGs become payload).
            ping_interval=0.1,
            max_outstanding_pings=2,
            max_reconnect_attempts=-1,
            error_cb=reported.append,
        )
        try:
            sub = await nc.subscribe("s", cb=on_msg)
            assert sub.sid in stream_for
            await eventually(lambda: len(server.peers) >= 1, what="the first connection")
            await asyncio.sleep(0.02)  # let the stream arrive
            await eventually(lambda: nc.is_connected, what="connected again")
            await nc.flush(timeout=10)
        finally:
            await nc.close()
        assert server.errors == []
    assert escaped == []
    for error in reported:
        assert isinstance(error, ProtocolError | ServerError | StaleConnectionError), repr(error)


@fuzz_settings(ci_examples=25)
@given(stream=mutated_streams(sid=1, subject="s"))
def test_client_survives_a_mutated_stream(stream: bytes) -> None:
    asyncio.run(scenario({1: stream}))
