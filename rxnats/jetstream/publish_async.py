"""Asynchronous JetStream publishing: many publishes in flight, each ack a future.

One wildcard inbox subscription ``<inbox>.*`` per context collects the stream's acks;
each publish gets the reply subject ``<inbox>.<n>`` and an ``asyncio.Future[PubAck]``
completed by the ack, by a refusal (the typed :class:`APIError`), by "no responders"
(:class:`NoStreamResponseError`) or by its timeout (:class:`TimeoutError`).

Outstanding acks are bounded (``max_pending``, default 4000): a publish that would
exceed the bound waits until an earlier ack (or failure) frees a place, so a fast
producer slows to the pace of the stream instead of growing memory without limit.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
from collections.abc import Mapping
from typing import TYPE_CHECKING

from rxnats.errors import BadTimeoutError, Error, InvalidInputError, TimeoutError
from rxnats.jetstream.api import decode_json
from rxnats.jetstream.errors import NoStreamResponseError, api_error
from rxnats.jetstream.models import PubAck

if TYPE_CHECKING:
    from rxnats.contract import JetStreamClient, SubscriptionLike
    from rxnats.msg import Msg
    from rxnats.wire.headers import HeadersInput

__all__ = ["DEFAULT_MAX_PENDING", "AsyncPublisher"]

DEFAULT_MAX_PENDING = 4000


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
        self._pending: dict[str, tuple[asyncio.Future[PubAck], asyncio.TimerHandle]] = {}
        self._room = asyncio.Event()  # set while fewer than max_pending are outstanding
        self._room.set()
        self._idle = asyncio.Event()  # set while none is outstanding
        self._idle.set()
        self._opening = asyncio.Lock()

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
        await self._ensure_subscribed()
        while len(self._pending) >= self._max_pending:
            self._room.clear()
            await self._room.wait()
        loop = asyncio.get_running_loop()
        self._next += 1
        reply = f"{self._inbox}.{self._next}"
        future: asyncio.Future[PubAck] = loop.create_future()
        timer = loop.call_later(wait, self._expire, reply, subject, wait)
        self._pending[reply] = (future, timer)
        self._idle.clear()
        future.add_done_callback(lambda _f: self._forget(reply))
        try:
            await self._nc.publish(subject, payload, reply=reply, headers=headers)
        except BaseException:
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
        for future, timer in list(self._pending.values()):
            timer.cancel()
            if not future.done():
                future.set_exception(Error("the JetStream context was closed"))
        sub, self._sub = self._sub, None
        if sub is not None:
            with contextlib.suppress(Error):
                await sub.unsubscribe()

    async def _ensure_subscribed(self) -> None:
        if self._sub is not None and not self._sub.is_closed:
            return
        async with self._opening:
            if self._sub is None or self._sub.is_closed:
                self._inbox = self._nc.new_inbox()
                self._sub = await self._nc.subscribe(
                    f"{self._inbox}.*", cb=self._on_ack, pending_msgs_limit=self._max_pending + 64
                )

    def _on_ack(self, msg: Msg) -> None:
        entry = self._pending.get(msg.subject)
        if entry is None:
            return  # timed out already
        future, _timer = entry
        if future.done():
            return
        if msg.status == 503:
            future.set_exception(NoStreamResponseError(f"no stream answered for {msg.subject!r}"))
            return
        try:
            resp = decode_json(msg.data)
        except Error as exc:
            future.set_exception(exc)
            return
        error = resp.get("error")
        if isinstance(error, Mapping):
            future.set_exception(api_error(error))
        else:
            future.set_result(PubAck.from_response(resp))

    def _expire(self, reply: str, subject: str, wait: float) -> None:
        entry = self._pending.get(reply)
        if entry is not None and not entry[0].done():
            entry[0].set_exception(
                TimeoutError(f"no ack for the publish to {subject!r} within {wait} s")
            )

    def _forget(self, reply: str) -> None:
        entry = self._pending.pop(reply, None)
        if entry is not None:
            entry[1].cancel()
        if len(self._pending) < self._max_pending:
            self._room.set()
        if not self._pending:
            self._idle.set()
