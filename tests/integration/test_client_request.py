"""Request/reply against a real nats-server."""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import AsyncIterator

import pytest

import rxnats as nats
from rxnats import NATS, Msg
from rxnats.errors import NoRespondersError
from rxnats.server import NatsServer


@pytest.fixture
async def nc(nats_server: NatsServer) -> AsyncIterator[NATS]:
    client = await nats.connect(nats_server.url)
    yield client
    await client.close()


@pytest.fixture
async def echo(nats_server: NatsServer) -> AsyncIterator[NATS]:
    """A separate client answering on ``echo``: the request's data, headers and subject."""
    responder = await nats.connect(nats_server.url)

    async def handler(msg: Msg) -> None:
        headers = dict(msg.headers) if msg.headers is not None else None
        if headers is not None:
            headers["Echoed"] = "yes"
        await msg.respond(b"echo:" + msg.data, headers=headers)

    await responder.subscribe("echo", cb=handler)
    await responder.flush()
    yield responder
    await responder.close()


async def test_simple_request(nc: NATS, echo: NATS) -> None:
    msg = await nc.request("echo", b"hi", timeout=5)
    assert msg.data == b"echo:hi"
    assert msg.headers is None
    assert len(nc._requests) == 0


async def test_many_concurrent_requests_are_matched(nc: NATS, echo: NATS) -> None:
    n = 200
    replies = await asyncio.gather(
        *(nc.request("echo", str(i).encode(), timeout=10) for i in range(n))
    )
    assert [r.data for r in replies] == [f"echo:{i}".encode() for i in range(n)]
    assert len(nc._requests) == 0
    # All of them shared one inbox subscription.
    subjects = {r.subject.rsplit(".", 1)[0] for r in replies}
    assert len(subjects) == 1


async def test_old_style_request(nc: NATS, echo: NATS) -> None:
    msg = await nc.request("echo", b"old", timeout=5, old_style=True)
    assert msg.data == b"echo:old"
    # The per-request inbox subscription is gone again.
    await nc.flush()
    assert all(s.subject != msg.subject for s in nc._subs.values())


@pytest.mark.parametrize("old_style", [False, True])
async def test_request_headers_round_trip(nc: NATS, echo: NATS, old_style: bool) -> None:
    msg = await nc.request(
        "echo",
        b"h",
        timeout=5,
        old_style=old_style,
        headers={"Authorization": "Bearer token123"},
    )
    assert msg.data == b"echo:h"
    assert msg.headers is not None
    assert msg.headers["Authorization"] == "Bearer token123"
    assert msg.headers["Echoed"] == "yes"


@pytest.mark.parametrize("old_style", [False, True])
async def test_request_timeout(nc: NATS, old_style: bool) -> None:
    # A subscriber that never answers: no 503, so the request must time out.
    silent = await nc.subscribe("silent")
    with pytest.raises(nats.errors.TimeoutError) as info:
        await nc.request("silent", b"?", timeout=0.2, old_style=old_style)
    assert isinstance(info.value, builtins.TimeoutError)
    assert len(nc._requests) == 0
    assert (await silent.next_msg(1)).data == b"?"
    # Catchable as the builtin, as the seed's example does.
    try:
        await nc.request("silent", b"?", timeout=0.1, old_style=old_style)
    except TimeoutError:
        pass
    else:
        pytest.fail("expected a timeout")
    assert len(nc._requests) == 0
    assert nc.is_connected()


@pytest.mark.parametrize("old_style", [False, True])
async def test_no_responders_raised_at_once(nc: NATS, old_style: bool) -> None:
    # With a 30 s timeout this test would hang far longer than the suite allows if the
    # 503 were not turned into NoRespondersError at once.
    with pytest.raises(NoRespondersError):
        await nc.request("nobody.home", b"?", timeout=30, old_style=old_style)
    assert len(nc._requests) == 0
    assert nc.is_connected()


async def test_late_reply_after_timeout_is_dropped(nc: NATS) -> None:
    gate = asyncio.Event()
    replied = asyncio.Event()

    async def slow(msg: Msg) -> None:
        await gate.wait()
        await msg.respond(b"late")
        replied.set()

    await nc.subscribe("slow.service", cb=slow)
    with pytest.raises(nats.errors.TimeoutError):
        await nc.request("slow.service", b"?", timeout=0.1)
    gate.set()
    await asyncio.wait_for(replied.wait(), 5)
    await nc.flush()
    assert len(nc._requests) == 0
    # And the next request to the (now quick) service still works.
    assert (await nc.request("slow.service", b"", timeout=5)).data == b"late"


async def test_msg_respond(nc: NATS) -> None:
    sub = await nc.subscribe("svc")
    inbox = nc.new_inbox()
    replies = await nc.subscribe(inbox)
    await nc.publish("svc", b"question", reply=inbox)
    msg = await sub.next_msg(5)
    await msg.respond(b"answer", headers={"X": "1"})
    reply = await replies.next_msg(5)
    assert reply.data == b"answer"
    assert reply.headers is not None and reply.headers["X"] == "1"


async def test_respond_without_reply_subject_fails(nc: NATS) -> None:
    sub = await nc.subscribe("noreply")
    await nc.publish("noreply", b"x")
    msg = await sub.next_msg(5)
    with pytest.raises(nats.errors.Error):
        await msg.respond(b"y")


async def test_respond_nowait_answers_from_a_plain_callback_that_stays_inline(
    nc: NATS, nats_server: NatsServer
) -> None:
    responder = await nats.connect(nats_server.url)
    try:
        seen: list[bytes] = []

        def handler(msg: Msg) -> None:
            seen.append(msg.data)
            msg.respond_nowait(b"re:" + msg.data, headers={"N": str(len(seen))})

        sub = await responder.subscribe("inline.svc", cb=handler)
        await responder.flush()
        for i in range(20):
            reply = await nc.request("inline.svc", b"%d" % i, timeout=5)
            assert reply.data == b"re:%d" % i
            assert reply.headers is not None and reply.headers["N"] == str(i + 1)
        # Answered from the reader: no callback task was ever started.
        assert sub._task is None
        assert sub.delivered == 20
    finally:
        await responder.close()


async def test_respond_nowait_refuses_what_respond_refuses(nc: NATS) -> None:
    sub = await nc.subscribe("nowait.noreply")
    await nc.publish("nowait.noreply", b"x")
    msg = await sub.next_msg(5)
    with pytest.raises(nats.errors.Error, match="no reply subject"):
        msg.respond_nowait(b"y")
    with pytest.raises(nats.errors.Error, match="not bound"):
        Msg(None, "s", "r").respond_nowait(b"y")
    await nc.publish("nowait.noreply", b"x", reply="some.inbox")
    msg = await sub.next_msg(5)
    with pytest.raises(nats.errors.BadHeaderError):
        msg.respond_nowait(b"y", headers={"Bad\r\nKey": "v"})
    await nc.close()
    with pytest.raises(nats.errors.ConnectionClosedError):
        msg.respond_nowait(b"y")


@pytest.mark.parametrize("prefix", ["_MY_INBOX", b"_MY_INBOX"])
async def test_new_inbox_honours_inbox_prefix(
    nats_server: NatsServer, prefix: str | bytes
) -> None:
    nc = await nats.connect(nats_server.url, inbox_prefix=prefix)
    responder = await nats.connect(nats_server.url)
    try:
        inbox = nc.new_inbox()
        assert isinstance(inbox, str)
        assert inbox.startswith("_MY_INBOX.")
        assert inbox != nc.new_inbox()

        seen: list[str] = []

        async def handler(msg: Msg) -> None:
            seen.append(msg.reply)
            await msg.respond(b"ok")

        await responder.subscribe("svc.prefix", cb=handler)
        await responder.flush()
        assert (await nc.request("svc.prefix", b"", timeout=5)).data == b"ok"
        assert (await nc.request("svc.prefix", b"", timeout=5, old_style=True)).data == b"ok"
        assert len(seen) == 2
        assert all(reply.startswith("_MY_INBOX.") for reply in seen)
    finally:
        await nc.close()
        await responder.close()


async def test_default_inbox_prefix(nc: NATS) -> None:
    assert nc.new_inbox().startswith("_INBOX.")


async def test_request_on_closed_client(nats_server: NatsServer) -> None:
    nc = await nats.connect(nats_server.url)
    await nc.close()
    for old_style in (False, True):
        with pytest.raises(nats.errors.ConnectionClosedError):
            await nc.request("x", b"", timeout=1, old_style=old_style)
