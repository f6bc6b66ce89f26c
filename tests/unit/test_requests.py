"""The request multiplexer alone: one inbox subscription, one future per token."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from rxnats.client.requests import RequestMux
from rxnats.contract import EndListener, MessageListener
from rxnats.errors import ConnectionClosedError, MalformedHeadersError, NoRespondersError
from rxnats.msg import Msg
from rxnats.nuid import TextNUID
from rxnats.pending import PendingLimits


class Inbox:
    """Stands for the wildcard subscription the mux makes (an ObservedSubscription)."""

    def __init__(self, subject: str, handler: Callable[[Msg], None]) -> None:
        self.sid = 1
        self.subject = subject
        self.handler = handler
        self.is_closed = False
        self.limits = PendingLimits()

    def add_listener(self, on_msg: MessageListener, on_end: EndListener) -> Callable[[], None]:
        return lambda: None

    def cancel(self, error: Exception | None = None) -> None:
        self.is_closed = True

    def note_dropped(self, count: int, new_episode: bool) -> None:
        pass


def make() -> tuple[RequestMux, list[Inbox]]:
    inboxes: list[Inbox] = []
    count = iter(range(100))

    def subscribe(subject: str, handler: Callable[[Msg], None]) -> Inbox:
        inboxes.append(Inbox(subject, handler))
        return inboxes[-1]

    mux = RequestMux(new_inbox=lambda: f"_INBOX.{next(count)}", nuid=TextNUID(), subscribe=subscribe)
    return mux, inboxes


def recording(subjects: list[str]) -> Callable[[str], bytes]:
    """An encode function that notes the reply subject it is given."""

    def encode(reply: str) -> bytes:
        subjects.append(reply)
        return b"PUB"

    return encode


def reply(inbox: Inbox, subject: str, data: bytes = b"ok", headers: bytes | None = None) -> None:
    inbox.handler(Msg(None, subject, "", data, inbox.sid, headers))


async def test_requests_share_one_inbox_and_each_reply_resolves_its_own_future() -> None:
    mux, inboxes = make()
    replies: list[str] = []
    _, a, fut_a = mux.start(recording(replies))
    _, b, fut_b = mux.start(recording(replies))
    assert [i.subject for i in inboxes] == ["_INBOX.0.*"]  # one subscription for both
    assert replies == [f"_INBOX.0.{a}", f"_INBOX.0.{b}"] and len(mux) == 2
    reply(inboxes[0], replies[1], b"to b")
    reply(inboxes[0], replies[0], b"to a")
    reply(inboxes[0], replies[0], b"late duplicate")  # dropped
    assert (await fut_a).data == b"to a" and (await fut_b).data == b"to b"
    assert len(mux) == 0


async def test_a_refused_request_leaves_nothing_behind() -> None:
    mux, inboxes = make()

    def refuse(reply: str) -> bytes:
        raise ValueError("bad subject")

    with pytest.raises(ValueError):
        mux.start(refuse)
    assert inboxes == [] and len(mux) == 0


async def test_the_inbox_is_made_again_after_it_ended() -> None:
    mux, inboxes = make()
    mux.start(lambda r: b"")
    inboxes[0].cancel()
    mux.start(lambda r: b"")
    assert [i.subject for i in inboxes] == ["_INBOX.0.*", "_INBOX.1.*"]
    assert mux.subscription is inboxes[1]


async def test_status_replies_no_responders_and_malformed_headers() -> None:
    mux, inboxes = make()
    subjects: list[str] = []
    futs = [mux.start(recording(subjects))[2] for _ in range(3)]
    reply(inboxes[0], subjects[0], b"", b"NATS/1.0 503\r\n\r\n")
    reply(inboxes[0], subjects[1], b"", "NATS/1.0 ²\r\n\r\n".encode())  # malformed: this request only
    reply(inboxes[0], subjects[2], b"", b"NATS/1.0 408 Request Timeout\r\n\r\n")
    with pytest.raises(NoRespondersError):
        await futs[0]
    with pytest.raises(MalformedHeadersError):
        await futs[1]
    assert (await futs[2]).status == 408


async def test_forget_and_fail_all() -> None:
    mux, inboxes = make()
    subjects: list[str] = []
    _, token, forgotten = mux.start(recording(subjects))
    mux.forget(token)
    reply(inboxes[0], subjects[0])
    assert not forgotten.done()  # nobody waits for it any more
    _, _, waiting = mux.start(lambda r: b"")
    mux.fail_all(ConnectionClosedError())
    with pytest.raises(ConnectionClosedError):
        await asyncio.wait_for(waiting, 1)
    assert len(mux) == 0
