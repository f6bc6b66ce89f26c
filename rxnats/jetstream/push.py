"""Push subscriptions: a consumer that delivers to a subject this client subscribes to.

The server sends messages to the consumer's ``deliver_subject`` as they are stored.
Status messages on that subject are handled here and never reach the user: ``100 Idle
Heartbeat`` is ignored, ``100 FlowControl Request`` is answered (by publishing to its
reply subject) when the message before it has been taken, so a slow reader holds the
server back instead of filling an unbounded buffer.

With a callback, each message is acknowledged after the callback returns unless
``manual_ack`` is set (or the callback acked it itself, or the consumer takes no acks).
"""

from __future__ import annotations

import asyncio
import builtins
import inspect
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from rxnats.errors import TimeoutError
from rxnats.jetstream.errors import JetStreamError
from rxnats.jetstream.models import AckPolicy, ConsumerInfo

if TYPE_CHECKING:
    from rxnats.contract import JetStreamClient, MessageCallback, SubscriptionLike
    from rxnats.jetstream.context import JetStreamContext
    from rxnats.msg import Msg

__all__ = ["PushSubscription", "status_handler"]


async def _answer_status(nc: JetStreamClient, msg: Msg) -> None:
    if msg.status == 100 and msg.reply:  # flow control: the reply says "keep going"
        await nc.publish(msg.reply, b"")


def status_handler(
    nc: JetStreamClient, cb: MessageCallback, *, auto_ack: bool
) -> MessageCallback:
    """Wrap ``cb``: statuses are handled, not passed on; acks follow when ``auto_ack``."""

    async def handle(msg: Msg) -> None:
        if msg.status is not None:
            await _answer_status(nc, msg)
            return
        result = cb(msg)
        if result is not None and inspect.isawaitable(result):
            await result
        if auto_ack and not msg.is_acked:
            await msg.ack()

    return handle


class PushSubscription(AsyncIterator["Msg"]):
    """A subscription to a push consumer (``await js.subscribe(...)``)."""

    def __init__(
        self, js: JetStreamContext, sub: SubscriptionLike, stream: str, consumer: str, *, delete_on_unsubscribe: bool
    ) -> None:
        self._js = js
        self._sub = sub
        self._stream = stream
        self._consumer = consumer
        self._delete = delete_on_unsubscribe

    @property
    def stream(self) -> str:
        """The stream the consumer reads."""
        return self._stream

    @property
    def consumer(self) -> str:
        """The consumer's name."""
        return self._consumer

    @property
    def subscription(self) -> SubscriptionLike:
        """The core subscription on the deliver subject."""
        return self._sub

    @property
    def subject(self) -> str:
        """The deliver subject this subscription receives on."""
        return self._sub.subject

    @property
    def queue(self) -> str:
        """The deliver group (``""`` when the consumer has none)."""
        return self._sub.queue

    @property
    def pending_msgs(self) -> int:
        """Messages (statuses included) received and not yet taken."""
        return self._sub.pending_msgs

    @property
    def pending_bytes(self) -> int:
        """Payload bytes of :attr:`pending_msgs`."""
        return self._sub.pending_bytes

    @property
    def delivered(self) -> int:
        """Messages (statuses included) handed on so far."""
        return self._sub.delivered

    async def consumer_info(self) -> ConsumerInfo:
        """The consumer's current info."""
        return await self._js.consumer_info(self._stream, self._consumer)

    async def next_msg(self, timeout: float | None = 1.0) -> Msg:
        """The next message (status messages are handled and skipped).

        Raises:
            TimeoutError: none within ``timeout`` (``None``: wait forever).
            BadSubscriptionError: the subscription ended or has a callback.

        Cancelling it loses no message.
        """
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            remaining = None if deadline is None else max(deadline - loop.time(), 0.0)
            if remaining == 0.0 and not self._sub.pending_msgs:
                raise TimeoutError(f"no message on consumer {self._consumer!r} within {timeout} s")
            try:
                msg = await self._sub.next_msg(timeout=remaining)
            except builtins.TimeoutError:
                raise TimeoutError(
                    f"no message on consumer {self._consumer!r} within {timeout} s"
                ) from None
            if msg.status is None:
                return msg
            await _answer_status(self._js._nc, msg)

    def __aiter__(self) -> PushSubscription:
        return self

    async def __anext__(self) -> Msg:
        from rxnats.errors import BadSubscriptionError

        try:
            return await self.next_msg(timeout=None)
        except BadSubscriptionError:
            raise StopAsyncIteration from None

    @property
    def messages(self) -> PushSubscription:
        """``async for msg in psub.messages`` (the subscription itself iterates too)."""
        return self

    async def unsubscribe(self, limit: int = 0) -> None:
        """Stop receiving; an ephemeral consumer this subscription created is deleted.

        With ``limit``, stop after that many messages in all (statuses included), as a
        core subscription does; the consumer is then left to expire.

        Raises:
            BadSubscriptionError: already unsubscribed.
        """
        await self._sub.unsubscribe(limit)
        if limit:
            return
        if self._delete:
            try:
                await self._js.delete_consumer(self._stream, self._consumer)
            except JetStreamError:
                pass  # already gone (e.g. an inactive ephemeral the server removed)

    async def drain(self) -> None:
        """Stop receiving after the messages already received are handled."""
        await self._sub.drain()


def needs_ack(info: ConsumerInfo) -> bool:
    """Whether messages of this consumer expect acknowledgements."""
    return info.config.ack_policy not in (AckPolicy.NONE, None)
