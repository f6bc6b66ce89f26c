"""The request multiplexer alone: one inbox subscription, one future per token, one timer."""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import Callable

import pytest

from rxnats.client.requests import RequestMux
from rxnats.contract import EndListener, MessageListener
from rxnats.errors import ConnectionClosedError, MalformedHeadersError, NoRespondersError
from rxnats.msg import Msg
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


class Made:
    """A mux, the inboxes it subscribed and the reply subjects it encoded, in order."""

    def __init__(self) -> None:
        self.inboxes: list[Inbox] = []
        self.replies: list[str] = []
        count = iter(range(100))
        self.mux = RequestMux(
            new_inbox=lambda: f"_INBOX.{next(count)}",
            subscribe=self.subscribe,
            encode=self.encode,
        )

    def subscribe(self, subject: str, handler: Callable[[Msg], None]) -> Inbox:
        self.inboxes.append(Inbox(subject, handler))
        return self.inboxes[-1]

    def encode(self, subject: str, payload: bytes, reply: str, headers: object) -> bytes:
        if subject == "bad subject":
            raise ValueError("bad subject")
        self.replies.append(reply)
        return b"PUB"


def reply(inbox: Inbox, subject: str, data: bytes = b"ok", headers: bytes | None = None) -> None:
    inbox.handler(Msg(None, subject, "", data, inbox.sid, headers))


async def test_requests_share_one_inbox_and_each_reply_resolves_its_own_future() -> None:
    m = Made()
    _, a, fut_a = m.mux.start("svc", b"", None, 5.0)
    _, b, fut_b = m.mux.start("svc", b"", None, 5.0)
    assert [i.subject for i in m.inboxes] == ["_INBOX.0.*"]  # one subscription for both
    assert m.replies == [f"_INBOX.0.{a}", f"_INBOX.0.{b}"] and len(m.mux) == 2
    reply(m.inboxes[0], m.replies[1], b"to b")
    reply(m.inboxes[0], m.replies[0], b"to a")
    reply(m.inboxes[0], m.replies[0], b"late duplicate")  # dropped
    assert (await fut_a).data == b"to a" and (await fut_b).data == b"to b"
    assert len(m.mux) == 0


async def test_a_refused_request_leaves_nothing_behind() -> None:
    m = Made()
    with pytest.raises(ValueError):
        m.mux.start("bad subject", b"", None, 5.0)
    assert m.inboxes == [] and len(m.mux) == 0


async def test_the_inbox_is_made_again_after_it_ended() -> None:
    m = Made()
    m.mux.start("svc", b"", None, 5.0)
    m.inboxes[0].cancel()
    m.mux.start("svc", b"", None, 5.0)
    assert [i.subject for i in m.inboxes] == ["_INBOX.0.*", "_INBOX.1.*"]
    assert m.mux.subscription is m.inboxes[1]


async def test_status_replies_no_responders_and_malformed_headers() -> None:
    m = Made()
    futs = [m.mux.start("svc", b"", None, 5.0)[2] for _ in range(3)]
    reply(m.inboxes[0], m.replies[0], b"", b"NATS/1.0 503\r\n\r\n")
    reply(m.inboxes[0], m.replies[1], b"", "NATS/1.0 ²\r\n\r\n".encode())  # this request only
    reply(m.inboxes[0], m.replies[2], b"", b"NATS/1.0 408 Request Timeout\r\n\r\n")
    with pytest.raises(NoRespondersError):
        await futs[0]
    with pytest.raises(MalformedHeadersError):
        await futs[1]
    assert (await futs[2]).status == 408


async def test_forget_and_fail_all() -> None:
    m = Made()
    _, token, forgotten = m.mux.start("svc", b"", None, 5.0)
    m.mux.forget(token)
    reply(m.inboxes[0], m.replies[0])
    assert not forgotten.done()  # nobody waits for it any more
    _, _, waiting = m.mux.start("svc", b"", None, 5.0)
    m.mux.fail_all(ConnectionClosedError())
    with pytest.raises(ConnectionClosedError):
        await asyncio.wait_for(waiting, 1)
    assert len(m.mux) == 0


async def test_each_request_times_out_at_its_own_deadline_on_one_timer() -> None:
    m = Made()
    slow = m.mux.start("svc", b"", None, 1.0)[2]
    fast = m.mux.start("svc", b"", None, 0.01)[2]  # earlier than the armed timer
    answered = m.mux.start("svc", b"", None, 0.01)[2]
    reply(m.inboxes[0], m.replies[2])
    with pytest.raises(builtins.TimeoutError):
        await fast
    assert not slow.done() and answered.result().data == b"ok"
    with pytest.raises(builtins.TimeoutError):
        await slow
    assert m.mux._timer is None and m.mux._deadlines == []  # nothing left to time (private)


async def test_answered_requests_do_not_pile_up_in_the_deadline_heap() -> None:
    m = Made()
    for i in range(10_000):
        m.mux.start("svc", b"", None, 60.0)
        reply(m.inboxes[0], m.replies[i])
    assert len(m.mux) == 0
    assert len(m.mux._deadlines) <= 2 * len(m.mux) + 64  # rebuilt from the live ones (private)
    live = m.mux.start("svc", b"", None, 60.0)[2]
    m.mux.fail_all(ConnectionClosedError())
    assert m.mux._timer is None and m.mux._deadlines == []
    with pytest.raises(ConnectionClosedError):
        await live


async def test_tokens_are_unique_hex_under_the_inbox() -> None:
    m = Made()
    tokens = [m.mux.start("svc", b"", None, 5.0)[1] for _ in range(1000)]
    assert len(set(tokens)) == 1000
    assert all(int(t, 16) >= 0 for t in tokens)
    assert m.replies == [f"_INBOX.0.{t}" for t in tokens]
    m.mux.fail_all(ConnectionClosedError())
