"""Bad input is refused before anything reaches the server, and the client stays usable.

Every test here uses a :class:`Probe`: the client under test, plus a second client
subscribed to ``>`` that sees everything published on the server, plus the server's
monitoring endpoint to count the client's subscriptions. After the bad call,
:meth:`Probe.assert_clean` publishes a marker: the spy must see the marker as the very
next message (nothing leaked before it), the server must not have complained, and the
client must still work.
"""

from __future__ import annotations

import array
import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest

import rxnats as nats
from rxnats import NATS, Msg
from rxnats.errors import (
    BadHeaderError,
    BadSubjectError,
    BadTimeoutError,
    InvalidCallbackTypeError,
    InvalidInputError,
    MaxPayloadError,
)
from rxnats.server import NatsServer, free_port
from rxnats.testing.plugin import NatsServerFactory

MAX_PAYLOAD = 4096


@dataclass
class Probe:
    server: NatsServer
    nc: NATS
    spy_client: NATS
    spy: nats.Subscription
    errors: list[Exception] = field(default_factory=list)
    markers: int = 0

    async def server_subscriptions(self) -> int:
        connz = await asyncio.to_thread(self.server.monitor, "connz")
        conns = connz["connections"]
        assert isinstance(conns, list)
        for conn in conns:
            if conn["cid"] == self.nc.client_id():
                count = conn["subscriptions"]
                assert isinstance(count, int)
                return count
        raise AssertionError("client not found in connz")

    async def assert_clean(self, subscriptions: int = 0) -> None:
        """Nothing leaked to the server; the server is happy; the client works."""
        self.markers += 1
        marker = f"m{self.markers}".encode()
        await self.nc.publish("probe.marker", marker)
        await self.nc.flush()
        msg = await self.spy.next_msg(timeout=5)
        assert (msg.subject, msg.data) == ("probe.marker", marker), f"leaked: {msg!r}"
        assert self.errors == []
        assert self.nc.is_connected()
        assert await self.server_subscriptions() == subscriptions
        # A real round trip still works.
        sub = await self.nc.subscribe("probe.echo")
        await self.nc.publish("probe.echo", b"ok")
        assert (await sub.next_msg(5)).data == b"ok"
        await sub.unsubscribe()
        await self.nc.flush()
        assert (await self.spy.next_msg(5)).subject == "probe.echo"


@pytest.fixture
async def probe(nats_server_factory: NatsServerFactory) -> AsyncIterator[Probe]:
    server = nats_server_factory(
        config=f"max_payload: {MAX_PAYLOAD}\n", monitor_port=free_port()
    )
    errors: list[Exception] = []
    nc = await nats.connect(server.url, error_cb=errors.append)
    spy_client = await nats.connect(server.url)
    spy = await spy_client.subscribe(">")
    await spy_client.flush()
    p = Probe(server, nc, spy_client, spy, errors)
    yield p
    await nc.close()
    await spy_client.close()


BAD_PUBLISH_SUBJECTS = [
    "a b",
    "a\r\nb",
    "a\nb",
    "a\rb",
    "a\tb",
    "",
    " ",
    "a..b",
    ".a",
    "a.",
    "a.*",
    "a.>",
    "*",
    ">",
    "a\x00b",
    "x 1\r\nPUB injected 2\r\nhi",
    "a.\ud800",  # a lone surrogate: no UTF-8 for it
]


@pytest.mark.parametrize("subject", BAD_PUBLISH_SUBJECTS)
async def test_publish_bad_subject(probe: Probe, subject: str) -> None:
    with pytest.raises(BadSubjectError):
        await probe.nc.publish(subject, b"x")
    with pytest.raises(ValueError):  # for code that catches the builtin
        await probe.nc.publish(subject, b"x", headers={"A": "1"})
    await probe.assert_clean()


@pytest.mark.parametrize(
    "reply", ["r 1", "r\r\nPUB x 1", "r\tx", "r..x", "r.*", "r.>", ">", "r.\udfff"]
)
async def test_publish_bad_reply(probe: Probe, reply: str) -> None:
    with pytest.raises(BadSubjectError):
        await probe.nc.publish("ok.subject", b"x", reply=reply)
    with pytest.raises(BadSubjectError):
        await probe.nc.publish("ok.subject", b"x", reply=reply, headers={"A": "1"})
    await probe.assert_clean()


@pytest.mark.parametrize(
    "headers",
    [
        {"A\r\nB": "1"},
        {"A": "1\r\nPUB injected 1"},
        {"A": "1\nB: 2"},
        {"A": "1\r"},
        {"A:B": "1"},
        {"A B": "1"},
        {"A\tB": "1"},
        {"": "1", "\r\n": "2", "A": "\r\nPUB injected 1"},  # blank keys go, CR/LF is refused
        {"A": ["ok", "bad\r\n"]},
        {"A": "\ud800"},
        {"A\udc00": "1"},
    ],
)
async def test_publish_header_injection(
    probe: Probe, headers: dict[str, str] | dict[str, list[str]]
) -> None:
    with pytest.raises(BadHeaderError):
        await probe.nc.publish("ok.subject", b"x", headers=headers)
    with pytest.raises(ValueError):
        await probe.nc.publish("ok.subject", b"x", headers=headers)
    with pytest.raises(BadHeaderError):
        await probe.nc.request("ok.subject", b"x", headers=headers, timeout=1)
    assert len(probe.nc._requests) == 0
    # Not even the request's inbox subscription was made.
    await probe.assert_clean()


async def test_publish_header_value_of_wrong_type(probe: Probe) -> None:
    for value in (1, b"bytes", None):
        with pytest.raises(BadHeaderError):
            await probe.nc.publish("ok.subject", b"x", headers={"A": value})  # type: ignore[dict-item]  # deliberately wrong
    await probe.assert_clean()


async def test_publish_over_max_payload(probe: Probe) -> None:
    nc = probe.nc
    assert nc.max_payload() == MAX_PAYLOAD
    with pytest.raises(MaxPayloadError):
        await nc.publish("big", b"x" * (MAX_PAYLOAD + 1))
    # Headers count too: the payload alone fits, headers plus payload does not.
    with pytest.raises(MaxPayloadError):
        await nc.publish("big", b"x" * (MAX_PAYLOAD - 10), headers={"Key": "value"})
    with pytest.raises(ValueError):
        await nc.publish("big", b"x" * (MAX_PAYLOAD + 1))
    with pytest.raises(MaxPayloadError):
        await nc.request("big", b"x" * (MAX_PAYLOAD + 1), timeout=1)
    assert len(nc._requests) == 0
    await probe.assert_clean()
    # Exactly max_payload is fine, with or without headers.
    await nc.publish("big", b"y" * MAX_PAYLOAD)
    msg = await probe.spy.next_msg(5)
    assert msg.subject == "big" and len(msg.data) == MAX_PAYLOAD
    block = len(b"NATS/1.0\r\nK: v\r\n\r\n")
    await nc.publish("big", b"z" * (MAX_PAYLOAD - block), headers={"K": "v"})
    msg = await probe.spy.next_msg(5)
    assert msg.subject == "big" and len(msg.data) == MAX_PAYLOAD - block
    await probe.assert_clean()


@pytest.mark.parametrize("payload", ["text", 123, None, ["a"]])
async def test_publish_non_bytes_payload(probe: Probe, payload: object) -> None:
    with pytest.raises(InvalidInputError):
        await probe.nc.publish("ok.subject", payload)  # type: ignore[arg-type]  # deliberately wrong
    await probe.assert_clean()


async def test_bytearray_and_memoryview_payloads_are_fine(probe: Probe) -> None:
    await probe.nc.publish("ok.ba", bytearray(b"ba"))  # type: ignore[arg-type]  # typed as the seed's bytes; accepted at runtime
    await probe.nc.publish("ok.mv", memoryview(b"mv"))  # type: ignore[arg-type]  # same
    assert (await probe.spy.next_msg(5)).data == b"ba"
    assert (await probe.spy.next_msg(5)).data == b"mv"
    await probe.assert_clean()


async def test_wide_memoryview_is_sized_in_bytes(probe: Probe) -> None:
    # A memoryview of 4-byte ints has len() == item count: max_payload is about bytes.
    items = MAX_PAYLOAD // 4 + 1  # fewer items than max_payload, more bytes
    wide = memoryview(array.array("i", [7]) * items)
    assert len(wide) < MAX_PAYLOAD < wide.nbytes
    with pytest.raises(MaxPayloadError):
        await probe.nc.publish("big.mv", wide)  # type: ignore[arg-type]  # accepted at runtime
    await probe.assert_clean()
    small = memoryview(array.array("i", [1, 2, 3]))
    before = probe.nc.stats.out_bytes
    await probe.nc.publish("ok.mv", small)  # type: ignore[arg-type]  # accepted at runtime
    assert (await probe.spy.next_msg(5)).data == small.tobytes()
    assert probe.nc.stats.out_bytes - before == 12


@pytest.mark.parametrize(
    "subject", ["a b", "", "a..b", "a.>.b", "a\r\nb", "a\tb", ".", "a.", "a.\ud800"]
)
async def test_subscribe_bad_subject(probe: Probe, subject: str) -> None:
    with pytest.raises(BadSubjectError):
        await probe.nc.subscribe(subject)
    assert probe.nc._subs == {}
    await probe.assert_clean()


@pytest.mark.parametrize("queue", ["q 1", "q\r\n", "q\tx", "q\nUNSUB 1", "q\udfff"])
async def test_subscribe_bad_queue(probe: Probe, queue: str) -> None:
    with pytest.raises(BadSubjectError):
        await probe.nc.subscribe("ok.subject", queue=queue)
    assert probe.nc._subs == {}
    await probe.assert_clean()


async def test_subscribe_wildcards_in_a_token_are_literal(probe: Probe) -> None:
    # nats-server treats 'a*' and 'b>' as literal tokens: they are valid subjects.
    sub = await probe.nc.subscribe("x.a*.b>")
    await probe.nc.publish("x.a*.b>", b"literal")
    assert (await sub.next_msg(5)).data == b"literal"
    await sub.unsubscribe()
    await probe.nc.flush()
    assert (await probe.spy.next_msg(5)).subject == "x.a*.b>"
    await probe.assert_clean()


async def test_subscribe_bad_arguments(probe: Probe) -> None:
    nc = probe.nc
    with pytest.raises(InvalidCallbackTypeError):
        await nc.subscribe("ok.subject", cb="not callable")  # type: ignore[arg-type]  # deliberately wrong
    with pytest.raises(InvalidCallbackTypeError):
        fut: asyncio.Future[Msg] = asyncio.get_running_loop().create_future()
        await nc.subscribe("ok.subject", cb=lambda m: None, future=fut)
    with pytest.raises(InvalidInputError):
        await nc.subscribe("ok.subject", max_msgs=-1)
    assert nc._subs == {}
    await probe.assert_clean()


async def test_unsubscribe_negative_limit(probe: Probe) -> None:
    sub = await probe.nc.subscribe("ok.unsub")
    with pytest.raises(InvalidInputError):
        await sub.unsubscribe(-1)
    assert not sub.is_closed
    await probe.assert_clean(subscriptions=1)


@pytest.mark.parametrize("timeout", [0, -1, -0.5])
async def test_non_positive_timeouts(probe: Probe, timeout: float) -> None:
    nc = probe.nc
    with pytest.raises(BadTimeoutError):
        await nc.flush(timeout=timeout)
    for old_style in (False, True):
        with pytest.raises(BadTimeoutError):
            await nc.request("ok.subject", b"x", timeout=timeout, old_style=old_style)
    assert len(nc._requests) == 0
    sub = await nc.subscribe("ok.next")
    with pytest.raises(BadTimeoutError):
        await sub.next_msg(timeout=timeout)
    await sub.unsubscribe()
    await probe.assert_clean()


@pytest.mark.parametrize(
    "option", ["connect_timeout", "drain_timeout", "ping_interval", "flush_timeout"]
)
async def test_connect_rejects_non_positive_timeouts(probe: Probe, option: str) -> None:
    connect: Callable[..., Awaitable[NATS]] = nats.connect
    for value in (0, -1):
        with pytest.raises(BadTimeoutError):
            await connect(probe.server.url, **{option: value})
    await probe.assert_clean()


async def test_connect_rejects_non_callable_callbacks(probe: Probe) -> None:
    connect: Callable[..., Awaitable[NATS]] = nats.connect
    for option in ("error_cb", "closed_cb", "disconnected_cb", "reconnected_cb"):
        with pytest.raises(InvalidCallbackTypeError):
            await connect(probe.server.url, **{option: "not callable"})
    with pytest.raises(BadSubjectError):
        await nats.connect(probe.server.url, inbox_prefix="bad prefix")
    await probe.assert_clean()


async def test_request_bad_subject_leaves_nothing_behind(probe: Probe) -> None:
    for old_style in (False, True):
        with pytest.raises(BadSubjectError):
            await probe.nc.request("bad subject", b"x", timeout=1, old_style=old_style)
    assert len(probe.nc._requests) == 0
    # Neither the shared inbox nor an old-style inbox was subscribed.
    assert probe.nc._subs == {}
    await probe.assert_clean()
