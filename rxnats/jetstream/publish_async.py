"""Asynchronous JetStream publishing: many publishes in flight, each ack a future.

One wildcard inbox subscription ``<inbox>.*`` per context collects the stream's acks;
each publish gets the reply subject ``<inbox>.<n>`` and an ``asyncio.Future[PubAck]``
completed by the ack, by a refusal (the typed :class:`APIError`), by "no responders"
(:class:`NoStreamResponseError`) or by its timeout (:class:`TimeoutError`).

Outstanding acks are bounded (``max_pending``, default 4000): a publish that would
exceed the bound waits until an earlier ack (or failure) frees a place, so a fast
producer slows to the pace of the stream instead of growing memory without limit.

Cost per publish, on purpose: one future, one dict entry, one write. The ack handler
runs inline on the socket reader, pops the entry and completes the future; no callback
is attached to the future and no timer is made per publish. Timeouts are kept by one
timer for all of them (:meth:`AsyncPublisher._sweep`), set for the earliest deadline.
A future the caller cancels keeps its place until its ack arrives or times out: the
stream may still store the message, and the bound counts what the server owes.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, TypeAlias

from rxnats.errors import BadTimeoutError, Error, InvalidInputError, TimeoutError
from rxnats.jetstream.api import decode_json
from rxnats.jetstream.errors import NoStreamResponseError, api_error
from rxnats.jetstream.models import PubAck

if TYPE_CHECKING:
    from rxnats.contract import JetStreamClient, SubscriptionLike
    from rxnats.msg import Msg
    from rxnats.wire.headers import HeadersInput

__all__ = ["DEFAULT_MAX_PENDING", "AsyncPublisher", "decode_pub_ack"]

DEFAULT_MAX_PENDING = 4000
_Entry: TypeAlias = "tuple[asyncio.Future[PubAck], float, str, float]"
_CLOCK_SLACK = 0.001


# The ack a stream sends for almost every publish: {"stream":"<name>","seq":<n>}, with a
# name that needs no JSON unescaping. Anything else (a domain, a duplicate flag, an error,
# a field a newer server adds, escapes, spaces) takes the JSON decoder's path.
_PLAIN_ACK = re.compile(rb'\{"stream":"([^"\\\x00-\x1f]+)","seq":(0|[1-9][0-9]{0,18})\}')


def decode_pub_ack(data: bytes, stream: str | None = None) -> PubAck:
    """The :class:`PubAck` of a stream's reply to a publish.

    Raises:
        APIError: (a subclass chosen by ``err_code``) the stream refused the message.
        ProtocolError: the reply is not a JSON object.
    """
    plain = _PLAIN_ACK.fullmatch(data)
    if plain is not None:
        try:
            name = plain.group(1).decode()
        except UnicodeDecodeError:
            pass  # not UTF-8: the JSON decoder's path says so
        else:
            # As from_response builds it (the wire memo included), one regex instead
            # of a JSON decode and a generic model decode: the publish_async hot path.
            seq = int(plain.group(2))
            ack = PubAck(stream=name, seq=seq)
            ack._wire = {"stream": (name, name), "seq": (seq, seq)}
            return ack
    resp = decode_json(data)
    error = resp.get("error")
    if isinstance(error, Mapping):
        raise api_error(error, stream=stream)
    return PubAck.from_response(resp)


class AsyncPublisher:
    """The in-flight publishes of one JetStream context (``js.publish_async``)."""

    def __init__(self, nc: JetStreamClient, *, max_pending: int, timeout: float) -> None:
        if max_pending < 1:
            raise InvalidInputError(f"max_pending must be at least 1, not {max_pending}")
        self._nc = nc
        self._max_pending = max_pending
        self._timeout = timeout
        self._inbox = ""
        self._sub: SubscriptionLike | None = None
        self._next = 0
        # reply subject -> (future, deadline on the loop's clock, subject, timeout)
        self._pending: dict[str, _Entry] = {}
        self._sweeper: asyncio.TimerHandle | None = None
        self._sweep_at = 0.0
        self._room = asyncio.Event()  # set while fewer than max_pending are outstanding
        self._room.set()
        self._idle = asyncio.Event()  # set while none is outstanding
        self._idle.set()
        self._opening = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop of the subscription

    @property
    def pending(self) -> int:
        """How many publishes wait for their ack."""
        return len(self._pending)

    @property
    def max_pending(self) -> int:
        """The bound on outstanding acks."""
        return self._max_pending

    async def publish(
        self,
        subject: str,
        payload: bytes,
        *,
        headers: HeadersInput | None,
        timeout: float | None,
    ) -> asyncio.Future[PubAck]:
        """Send one message; return the future of its ack.

        Waits first while ``max_pending`` acks are outstanding.

        Raises:
            BadTimeoutError: ``timeout`` is not positive.
            plus what :meth:`NATS.publish` raises (the future is then not created).

        Cancelling it while it waits for room sends nothing.
        """
        wait = self._timeout if timeout is None else timeout
        if wait <= 0:
            raise BadTimeoutError(f"timeout must be positive, not {timeout!r}")
        sub = self._sub
        if sub is None or sub.is_closed:
            await self._subscribe()
        pending = self._pending
        while len(pending) >= self._max_pending:
            self._room.clear()
            await self._room.wait()
        loop = self._loop or asyncio.get_running_loop()
        self._next += 1
        reply = f"{self._inbox}.{self._next}"
        future: asyncio.Future[PubAck] = loop.create_future()
        deadline = loop.time() + wait
        pending[reply] = (future, deadline, subject, wait)
        self._idle.clear()
        if self._sweeper is None or deadline < self._sweep_at:
            self._arm(loop, deadline)
        try:
            await self._nc.publish(subject, payload, reply=reply, headers=headers)
        except BaseException:
            self._drop(reply)
            future.cancel()
            raise
        return future

    async def wait_all(self, timeout: float | None = None) -> None:
        """Wait until no publish waits for its ack (failures included).

        Raises:
            TimeoutError: some are still outstanding after ``timeout`` seconds.

        Cancelling it cancels nothing but the wait.
        """
        try:
            async with asyncio.timeout(timeout):
                while self._pending:
                    self._idle.clear()
                    await self._idle.wait()
        except builtins.TimeoutError as exc:
            raise TimeoutError(f"{len(self._pending)} publish acks still outstanding") from exc

    async def close(self) -> None:
        """Fail the outstanding futures and drop the ack subscription."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        entries = list(self._pending.values())
        self._pending.clear()
        for future, _deadline, _subject, _wait in entries:
            if not future.done():
                future.set_exception(Error("the JetStream context was closed"))
        self._freed()
        sub, self._sub = self._sub, None
        if sub is not None:
            with contextlib.suppress(Error):
                await sub.unsubscribe()

    async def _subscribe(self) -> None:
        async with self._opening:
            if self._sub is None or self._sub.is_closed:
                self._loop = asyncio.get_running_loop()
                self._inbox = self._nc.new_inbox()
                self._sub = await self._nc.subscribe(
                    f"{self._inbox}.*", cb=self._on_ack, pending_msgs_limit=self._max_pending + 64
                )

    def _on_ack(self, msg: Msg) -> None:
        entry = self._pending.pop(msg.subject, None)
        if entry is None:
            return  # timed out already
        self._freed()
        future = entry[0]
        if future.done():
            return  # cancelled by its caller
        if msg.status == 503:
            future.set_exception(NoStreamResponseError(f"no stream answered for {msg.subject!r}"))
            return
        try:
            ack = decode_pub_ack(msg.data)
        except Error as exc:
            future.set_exception(exc)
            return
        future.set_result(ack)

    def _arm(self, loop: asyncio.AbstractEventLoop, when: float) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
        self._sweep_at = when
        self._sweeper = loop.call_at(when, self._sweep)

    def _sweep(self) -> None:
        """Fail the publishes whose deadline passed; set the timer for the next one."""
        self._sweeper = None
        loop = asyncio.get_running_loop()
        # The loop runs a timer up to one clock tick early: count that as on time.
        now = loop.time() + _CLOCK_SLACK
        expired: list[_Entry] = []
        earliest: float | None = None
        for reply, entry in list(self._pending.items()):
            deadline = entry[1]
            if deadline <= now:
                del self._pending[reply]
                expired.append(entry)
            elif earliest is None or deadline < earliest:
                earliest = deadline
        if earliest is not None:
            self._arm(loop, earliest)
        if expired:
            self._freed()
        for future, _deadline, subject, wait in expired:
            if not future.done():
                future.set_exception(
                    TimeoutError(f"no ack for the publish to {subject!r} within {wait} s")
                )

    def _drop(self, reply: str) -> None:
        if self._pending.pop(reply, None) is not None:
            self._freed()

    def _freed(self) -> None:
        n = len(self._pending)
        if n < self._max_pending:
            self._room.set()
        if not n:
            self._idle.set()  # the timer stays: firing on an empty map costs less than a new one
