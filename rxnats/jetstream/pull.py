"""Pull subscriptions: ``fetch`` batches of messages from a pull consumer.

A :class:`PullSubscription` owns one wildcard inbox subscription ``<inbox>.*``; every pull
request gets its own reply subject ``<inbox>.<n>``, so a status that ends an old request
(the server's 408 for a request this client stopped waiting for) can never end a newer
one. Messages are returned whichever request they answer: they are valid deliveries.

Status messages (ADR-37) are never handed to the user:

- ``100`` idle heartbeat: proof of life, ignored (a fetch with ``heartbeat`` fails when
  two are missed);
- ``404`` no messages / ``408`` request expired: the request is over;
- ``409`` "Message Size Exceeds MaxBytes" / "Leadership Change" / "Batch Completed": the
  request is over;
- ``409`` "Exceeded MaxWaiting": temporary, as in nats-py: the fetch returns what it has
  or sends the request again until its timeout;
- any other ``409`` (consumer deleted, exceeded limits, push-based consumer): an error,
  :class:`FetchStatusError` (or :class:`ConsumerDeletedError`), unless the fetch already
  holds messages, which are returned first.

Statuses carry no numeric sub-code, so the 409 variants are told apart by their text, as
ADR-37 specifies; API replies, in contrast, are only ever classified by ``err_code``.
"""

from __future__ import annotations

import asyncio
import builtins
from typing import TYPE_CHECKING

from rxnats.errors import BadTimeoutError, InvalidInputError
from rxnats.jetstream.api import encode_json
from rxnats.jetstream.errors import ConsumerDeletedError, FetchStatusError, FetchTimeoutError
from rxnats.jetstream.models import NANOSECONDS, ConsumerInfo

if TYPE_CHECKING:
    from rxnats.contract import SubscriptionLike
    from rxnats.jetstream.context import JetStreamContext
    from rxnats.msg import Msg

__all__ = ["PullSubscription"]

_STATUS_HEARTBEAT = 100
_BENIGN_409 = ("message size exceeds maxbytes", "leadership change", "batch completed")
_TEMPORARY_409 = ("exceeded maxwaiting",)
# The server's expiry is set a little before the client's deadline so that its 408 (and
# not the client's clock) usually ends a request.
_EXPIRY_MARGIN = 0.1
_RETRY_MIN = 0.05
_RETRY_MAX = 1.0
_FULL, _EMPTY, _EXPIRED, _TEMPORARY, _OVER = "full", "empty", "expired", "temporary", "over"


class PullSubscription:
    """A subscription to a pull consumer (``js.pull_subscribe(...)``)."""

    def __init__(
        self,
        js: JetStreamContext,
        sub: SubscriptionLike,
        inbox: str,
        stream: str,
        consumer: str,
    ) -> None:
        self._js = js
        self._sub = sub
        self._inbox = inbox
        self._stream = stream
        self._consumer = consumer
        self._next_request = 0

    @property
    def stream(self) -> str:
        """The stream the consumer reads."""
        return self._stream

    @property
    def consumer(self) -> str:
        """The consumer's name (the durable name for durables)."""
        return self._consumer

    @property
    def pending_msgs(self) -> int:
        """Messages received and not yet returned by :meth:`fetch`."""
        return self._sub.pending_msgs

    @property
    def pending_bytes(self) -> int:
        """Payload bytes of :attr:`pending_msgs`."""
        return self._sub.pending_bytes

    @property
    def delivered(self) -> int:
        """Messages (status messages included) taken from the inbox so far."""
        return self._sub.delivered

    async def consumer_info(self) -> ConsumerInfo:
        """The consumer's current info.

        Raises:
            ConsumerNotFoundError: the consumer is gone.
        """
        return await self._js.consumer_info(self._stream, self._consumer)

    async def unsubscribe(self) -> None:
        """Stop receiving; the consumer itself is kept (durables) or expires (ephemerals).

        Raises:
            BadSubscriptionError: already unsubscribed.
        """
        await self._sub.unsubscribe()

    async def fetch(
        self,
        batch: int = 1,
        timeout: float | None = 5.0,
        heartbeat: float | None = None,
        max_bytes: int | None = None,
    ) -> list[Msg]:
        """Fetch up to ``batch`` messages, waiting at most ``timeout`` seconds for the first.

        It returns as soon as messages are there: one pull request with ``no_wait`` and
        ``expires`` (as nats-py and nats.go send it) waits on the server until the first
        message arrives, then brings what is available, up to ``batch``, at once.
        ``max_bytes`` bounds the batch's size; ``heartbeat`` asks for idle heartbeats and
        fails the fetch when two are missed. A ``409 Exceeded MaxWaiting`` (too many pull
        requests waiting on the consumer) is temporary: the request is sent again until
        ``timeout``.

        Returns:
            One or more messages (never status messages).

        Raises:
            FetchTimeoutError: no message arrived within ``timeout`` (it is also
                ``rxnats.errors.TimeoutError`` and the builtin ``TimeoutError``).
            FetchStatusError / ConsumerDeletedError: the server ended the pull with an
                error status and no message had arrived.
            InvalidInputError / BadTimeoutError: bad ``batch``, ``timeout`` or
                ``heartbeat``.

        Cancelling it stops waiting; messages arriving later are returned by the next
        fetch.
        """
        if batch < 1:
            raise InvalidInputError(f"batch must be at least 1, not {batch}")
        wait = 5.0 if timeout is None else timeout
        if wait <= 0:
            raise BadTimeoutError(f"fetch timeout must be positive, not {timeout!r}")
        if heartbeat is not None and (heartbeat <= 0 or heartbeat * 2 >= wait):
            raise InvalidInputError("heartbeat must be positive and less than half the timeout")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        msgs: list[Msg] = []
        while self._sub.pending_msgs and len(msgs) < batch:
            msg = await self._sub.next_msg(timeout=None)
            if msg.status is None:
                msgs.append(msg)
        if len(msgs) >= batch:
            return msgs
        if msgs:
            # Some were waiting already: take what else is there now, without waiting.
            reply = await self._pull(batch - len(msgs), max_bytes=max_bytes, no_wait=True)
            await self._collect(reply, batch, msgs, deadline, None)
            return msgs
        retry = _RETRY_MIN
        while True:
            remaining = deadline - loop.time()
            if remaining <= _EXPIRY_MARGIN:
                break
            expires = max(remaining - _EXPIRY_MARGIN, remaining / 2)
            reply = await self._pull(
                batch, max_bytes=max_bytes, no_wait=True, expires=expires, heartbeat=heartbeat
            )
            outcome = await self._collect(reply, batch, msgs, deadline, heartbeat)
            if msgs:
                return msgs
            if outcome == _TEMPORARY:
                # The consumer has too many waiting pulls: try again a little later.
                await asyncio.sleep(min(retry, max(deadline - loop.time(), 0.0)))
                retry = min(retry * 2, _RETRY_MAX)
                continue
            if outcome == _EMPTY:
                continue  # an early "no messages": wait again while time is left
            break
        raise FetchTimeoutError(f"no message from consumer {self._consumer!r} within {wait} s")

    async def _pull(
        self,
        batch: int,
        *,
        max_bytes: int | None,
        no_wait: bool = False,
        expires: float | None = None,
        heartbeat: float | None = None,
    ) -> str:
        self._next_request += 1
        reply = f"{self._inbox}.{self._next_request}"
        request: dict[str, object] = {"batch": batch}
        if no_wait:
            request["no_wait"] = True
        if expires is not None:
            request["expires"] = int(expires * NANOSECONDS)
        if heartbeat is not None:
            request["idle_heartbeat"] = int(heartbeat * NANOSECONDS)
        if max_bytes is not None:
            request["max_bytes"] = max_bytes
        subject = self._js._api.subject(f"CONSUMER.MSG.NEXT.{self._stream}.{self._consumer}")
        await self._js._nc.publish(subject, encode_json(request), reply=reply)
        return reply

    async def _collect(
        self,
        reply: str,
        batch: int,
        msgs: list[Msg],
        deadline: float,
        heartbeat: float | None,
    ) -> str:
        """Add messages to ``msgs`` until ``batch``, the request's end, or ``deadline``.

        Returns how the request ended: ``"full"``, ``"empty"`` (404 no messages),
        ``"expired"`` (408 or the deadline), ``"temporary"`` (409 Exceeded MaxWaiting) or
        ``"over"`` (another status that ends a request).
        """
        loop = asyncio.get_running_loop()
        while len(msgs) < batch:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return _EXPIRED
            wait = min(remaining, 2 * heartbeat) if heartbeat else remaining
            try:
                msg = await self._sub.next_msg(timeout=wait)
            except builtins.TimeoutError:
                if heartbeat and loop.time() < deadline and not msgs:
                    raise FetchTimeoutError(
                        f"consumer {self._consumer!r} missed two idle heartbeats"
                    ) from None
                return _EXPIRED
            status = msg.status
            if status is None:
                msgs.append(msg)
                continue
            if status == _STATUS_HEARTBEAT or msg.subject != reply:
                continue  # proof of life, or the end of an older request
            if status == 404:
                return _EMPTY
            if status == 408:
                return _EXPIRED
            text = msg.description.lower()
            if status == 409 and text.startswith(_BENIGN_409):
                return _OVER
            if status == 409 and text.startswith(_TEMPORARY_409):
                return _TEMPORARY
            if msgs:
                return _OVER
            if status == 409 and "deleted" in text:
                raise ConsumerDeletedError(status, msg.description)
            raise FetchStatusError(status, msg.description)
        return _FULL
