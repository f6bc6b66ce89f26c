"""The engine behind ADR-37 ``fetch`` / ``next`` / ``consume`` / ``messages``.

Theory of operation. A :class:`MessageStream` owns one wildcard inbox subscription
``<inbox>.*``; every pull request (``CONSUMER.MSG.NEXT``) gets its own reply subject
``<inbox>.<n>``. The socket reader hands each arriving message to :meth:`_on_msg`, which
never blocks: user messages go to a buffer, status messages adjust the bookkeeping. One
control task per stream issues the pull requests and watches the idle heartbeats; the
user takes messages with ``await stream.next()`` / ``async for``.

Bookkeeping (ADR-37 "Buffering messages"): ``requested`` counts messages (and bytes)
asked of the server and not yet received; ``buffered`` counts those received and not
yet taken. When ``requested + buffered`` falls to the threshold, the control task asks
for enough to fill the buffer to ``max_messages`` again, so the buffer is bounded by
``max_messages`` (or ``max_bytes``) plus at most one message. A status that ends a
request (408 Request Timeout, 409 Message Size Exceeds MaxBytes / Batch Completed /
Leadership Change) carries ``Nats-Pending-Messages`` / ``Nats-Pending-Bytes``: what
that request will no longer deliver is subtracted from ``requested``.

Statuses, as ADR-37 classifies them:

- ``100`` heartbeat, ``404``, ``408``, the benign ``409`` texts: silent (a refill follows);
- ``423`` (ADR-42: this client's pin of a priority group is stale): the pin is dropped
  and pulls go on without it, as a standby;
- ``400`` and ``409`` "Consumer Deleted" / "Consumer is push based": terminal, the
  stream ends with :class:`~rxnats.jetstream.errors.FetchStatusError` /
  :class:`~rxnats.jetstream.errors.ConsumerDeletedError` after the buffered messages
  (an ordered consumer recreates its consumer instead);
- other ``409`` (``Exceeded MaxRequestBatch``, ``MaxWaiting``, ...) and ``503`` (no
  responders: the consumer is missing or JetStream is not up yet): warnings passed to
  ``error_cb``; the request is retried after one heartbeat interval, not in a hot loop.
  (``fetch``/``next`` raise them instead.)

Idle heartbeats: every message (user, status, heartbeat) proves the request is alive.
After ``2 * idle_heartbeat`` of silence a :class:`MissedHeartbeatsError` warning goes to
``error_cb`` and the bookkeeping is reset so a fresh pull goes out (an ordered consumer
recreates its consumer). While the client is disconnected the heartbeat clock is paused
and no pull is sent; after ``Reconnected`` the in-flight requests are forgotten (the
server dropped them with the old connection) and a new one is sent at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

from rxnats import events as ev
from rxnats.errors import BadTimeoutError, ConnectionClosedError, Error, InvalidInputError
from rxnats.errors import TimeoutError as NatsTimeoutError
from rxnats.jetstream.api import encode_json
from rxnats.jetstream.errors import ConsumerDeletedError, FetchStatusError, JetStreamError
from rxnats.jetstream.models import NANOSECONDS

if TYPE_CHECKING:
    from rxnats.contract import JetStreamClient, SubscriptionLike
    from rxnats.msg import Msg

__all__ = [
    "ConsumeContext",
    "ErrorCallback",
    "MessageStream",
    "MissedHeartbeatsError",
    "PriorityPull",
    "PullTarget",
    "fetch_batch",
    "msg_size",
]

ErrorCallback = Callable[[Exception], None]

DEFAULT_MAX_MESSAGES = 500
DEFAULT_EXPIRES = 30.0
MIN_EXPIRES = 1.0
_BYTES_MODE_BATCH = 1_000_000  # ADR-37: a large batch when only max_bytes limits a pull
_STATUS_HEARTBEAT = 100
_SILENT_409 = ("message size exceeds maxbytes", "batch completed", "leadership change")
_TERMINAL_409 = ("consumer deleted", "consumer is push based")
PENDING_MSGS = "Nats-Pending-Messages"
PIN_ID = "Nats-Pin-Id"
_STATUS_UNPINNED = 423
PENDING_BYTES = "Nats-Pending-Bytes"


class MissedHeartbeatsError(JetStreamError, NatsTimeoutError):
    """Two idle heartbeats in a row did not arrive: a warning, the consumption goes on."""

    description = "missed idle heartbeats"


class PullTarget(Protocol):
    """The consumer a :class:`MessageStream` pulls from (plain or ordered)."""

    @property
    def stream_name(self) -> str:
        """The stream's name."""
        ...

    @property
    def consumer_name(self) -> str:
        """The current consumer's name (an ordered consumer's changes on each reset)."""
        ...

    @property
    def resettable(self) -> bool:
        """Whether :meth:`reset` can recreate the consumer (ordered consumers)."""
        ...

    def accept(self, msg: Msg) -> bool:
        """Whether ``msg`` may be delivered; ``False`` asks for a :meth:`reset`."""
        ...

    async def reset(self) -> None:
        """Recreate the consumer so that delivery resumes after the last accepted message."""
        ...


class PriorityPull:
    """The ADR-42 priority-group fields of a reader's pull requests, and its pin.

    ``pins`` (group -> pin id) belongs to the consumer handle, so a pin the server gave
    survives from one ``fetch`` to the next. The first message of a newly pinned client
    carries ``Nats-Pin-Id``; every later pull names that id; a ``423`` status says the
    pin moved elsewhere, and the id is forgotten.
    """

    __slots__ = ("group", "min_ack_pending", "min_pending", "pins", "priority")

    def __init__(
        self,
        group: str,
        pins: dict[str, str],
        *,
        min_pending: int | None = None,
        min_ack_pending: int | None = None,
        priority: int | None = None,
    ) -> None:
        if not group:
            raise InvalidInputError("a priority group name is required")
        if priority is not None and not 0 <= priority <= 9:
            raise InvalidInputError(f"priority must be in 0..9, not {priority}")
        self.group: str = group
        self.pins: dict[str, str] = pins
        self.min_pending: int | None = min_pending
        self.min_ack_pending: int | None = min_ack_pending
        self.priority: int | None = priority

    def fields(self) -> dict[str, object]:
        """The pull request fields: ``group``, the pin ``id`` held, the thresholds."""
        out: dict[str, object] = {"group": self.group}
        pin = self.pins.get(self.group)
        if pin:
            out["id"] = pin
        if self.min_pending is not None:
            out["min_pending"] = self.min_pending
        if self.min_ack_pending is not None:
            out["min_ack_pending"] = self.min_ack_pending
        if self.priority is not None:
            out["priority"] = self.priority
        return out

    def note(self, msg: Msg) -> None:
        """Remember the pin id a delivered message carries, if any."""
        headers = msg.headers
        pin = headers.get(PIN_ID) if headers is not None else None
        if pin:
            self.pins[self.group] = pin

    def unpinned(self) -> None:
        """Forget the pin (a ``423`` said it is not ours any more)."""
        self.pins.pop(self.group, None)


def msg_size(msg: Msg) -> int:
    """A message's size as the server counts it against ``max_bytes`` (ADR-37)."""
    raw = msg._raw_headers
    return len(msg.subject) + len(msg.reply) + len(msg.data) + (len(raw) if raw else 0)


def classify(status: int, text: str) -> str:
    """``"heartbeat"``, ``"end"`` (a request is over), ``"unpinned"`` (423, a stale pin),
    ``"terminal"`` or ``"warning"``."""
    lowered = text.lower()
    if status == _STATUS_HEARTBEAT:
        return "heartbeat"
    if status == _STATUS_UNPINNED:
        return "unpinned"
    if status in (404, 408) or (status == 409 and lowered.startswith(_SILENT_409)):
        return "end"
    if status == 400 or (status == 409 and lowered.startswith(_TERMINAL_409)):
        return "terminal"
    return "warning"


def status_error(status: int, text: str) -> FetchStatusError:
    """The error for a terminal or warning status.

    ``503`` (no responders) means nobody serves the pull: the consumer does not exist
    (or JetStream is not up yet, as after a restart): a warning for ``consume``.
    """
    if status == 503 and not text:
        text = "No Responders: no such consumer, or JetStream not available"
    if status == 409 and "consumer deleted" in text.lower():
        return ConsumerDeletedError(status, text)
    return FetchStatusError(status, text)


def _header_int(msg: Msg, name: str) -> int | None:
    headers = msg.headers
    value = headers.get(name) if headers is not None else None
    return int(value) if value is not None and value.isdigit() else None


def pull_request(
    batch: int,
    *,
    expires: float | None,
    heartbeat: float | None,
    max_bytes: int | None,
    no_wait: bool = False,
    priority: PriorityPull | None = None,
) -> bytes:
    """The body of a ``CONSUMER.MSG.NEXT`` request (durations in seconds)."""
    request: dict[str, object] = {"batch": batch}
    if expires is not None:
        request["expires"] = int(expires * NANOSECONDS)
    if heartbeat is not None:
        request["idle_heartbeat"] = int(heartbeat * NANOSECONDS)
    if max_bytes is not None:
        request["max_bytes"] = max_bytes
    if no_wait:
        request["no_wait"] = True
    if priority is not None:
        request.update(priority.fields())
    return encode_json(request)


def _default_heartbeat(expires: float) -> float:
    return min(max(expires / 2, 0.5), 30.0)


async def fetch_batch(
    nc: JetStreamClient,
    api_subject: str,
    target: PullTarget,
    max_messages: int,
    *,
    max_wait: float,
    max_bytes: int | None,
    heartbeat: float | None,
    on_msg: Callable[[Msg], None],
    no_wait: bool = False,
    priority: PriorityPull | None = None,
) -> int:
    """One pull request: up to ``max_messages`` (and ``max_bytes``) within ``max_wait``.

    ``api_subject`` is the ``CONSUMER.MSG.NEXT`` subject of the target's consumer; each
    message is handed to ``on_msg`` as it arrives. With ``no_wait`` the server answers
    at once with what it has (``max_wait`` then only bounds the client's wait).

    Returns:
        How many messages (possibly none) arrived before the request ended.

    Raises:
        FetchStatusError / ConsumerDeletedError: a terminal or warning status ended the
            request before any message arrived.
        MissedHeartbeatsError: ``heartbeat`` was given and two went missing.

    Cancelling it abandons the request; its messages are redelivered after ``ack_wait``.
    """
    if max_messages < 1:
        raise InvalidInputError(f"max_messages must be at least 1, not {max_messages}")
    if max_wait <= 0:
        raise BadTimeoutError(f"max_wait must be positive, not {max_wait!r}")
    if heartbeat is not None and (heartbeat <= 0 or heartbeat * 2 >= max_wait):
        raise InvalidInputError("heartbeat must be positive and less than half of max_wait")
    inbox = nc.new_inbox()
    sub = await nc.subscribe(inbox, pending_msgs_limit=max_messages + 16)
    loop = asyncio.get_running_loop()
    # ADR-37: the client's own deadline is a little later than the server's expiry.
    deadline = loop.time() + max_wait + min(1.0, max_wait / 2)
    count = 0
    try:
        body = pull_request(
            max_messages,
            expires=None if no_wait else max_wait,
            heartbeat=None if no_wait else heartbeat,
            max_bytes=max_bytes,
            no_wait=no_wait,
            priority=priority,
        )
        await nc.publish(api_subject, body, reply=inbox)
        while count < max_messages:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            wait = min(remaining, 2 * heartbeat) if heartbeat else remaining
            try:
                msg = await sub.next_msg(timeout=wait)
            except NatsTimeoutError:
                if heartbeat and loop.time() < deadline:
                    if count:
                        break
                    raise MissedHeartbeatsError(
                        f"consumer {target.consumer_name!r} missed two idle heartbeats"
                    ) from None
                break
            status = msg.status
            if status is None:
                if not target.accept(msg):
                    break  # an ordered consumer's gap: the next call starts afresh
                if priority is not None:
                    priority.note(msg)
                count += 1
                on_msg(msg)
                continue
            kind = classify(status, msg.description)
            if kind == "heartbeat":
                continue
            if kind == "unpinned":
                if priority is not None:
                    priority.unpinned()
                break
            if kind == "end" or count:
                break
            raise status_error(status, msg.description)
    finally:
        with contextlib.suppress(Error):
            await sub.unsubscribe()
    return count


class MessageStream(AsyncIterator["Msg"]):
    """Messages of a consumer, kept buffered by pull requests (``consumer.messages()``).

    ``async for msg in stream`` (or ``await stream.next()``) takes them; :meth:`stop`
    ends it at once, :meth:`drain` after the buffered messages. Also an async context
    manager that stops on exit.
    """

    def __init__(
        self,
        nc: JetStreamClient,
        api_prefix: str,
        target: PullTarget,
        *,
        max_messages: int | None = None,
        max_bytes: int | None = None,
        threshold_messages: int | None = None,
        threshold_bytes: int | None = None,
        expires: float = DEFAULT_EXPIRES,
        idle_heartbeat: float | None = None,
        error_cb: ErrorCallback | None = None,
        priority: PriorityPull | None = None,
    ) -> None:
        if max_messages is not None and max_bytes is not None:
            raise InvalidInputError("give max_messages or max_bytes, not both")
        if expires < MIN_EXPIRES:
            raise BadTimeoutError(f"expires must be at least {MIN_EXPIRES} s, not {expires!r}")
        heartbeat = _default_heartbeat(expires) if idle_heartbeat is None else idle_heartbeat
        if not 0 < heartbeat <= expires / 2:
            raise InvalidInputError("idle_heartbeat must be positive and at most expires / 2")
        if max_bytes is not None:
            if max_bytes < 1:
                raise InvalidInputError("max_bytes must be positive")
            self._max_msgs = _BYTES_MODE_BATCH
            self._max_bytes: int | None = max_bytes
            limit_bytes = threshold_bytes if threshold_bytes is not None else max_bytes // 2
            if not 0 <= limit_bytes < max_bytes:
                raise InvalidInputError("threshold_bytes must be in 0..max_bytes-1")
            self._threshold_bytes = limit_bytes
            self._threshold_msgs = _BYTES_MODE_BATCH // 2
        else:
            self._max_msgs = DEFAULT_MAX_MESSAGES if max_messages is None else max_messages
            if self._max_msgs < 1:
                raise InvalidInputError("max_messages must be at least 1")
            self._max_bytes = None
            limit = self._max_msgs // 2 if threshold_messages is None else threshold_messages
            if not 0 <= limit < self._max_msgs:
                raise InvalidInputError("threshold_messages must be in 0..max_messages-1")
            self._threshold_msgs = limit
            self._threshold_bytes = 0
        self._nc = nc
        self._api_prefix = api_prefix
        self._target = target
        self._expires = expires
        self._heartbeat = heartbeat
        self._error_cb = error_cb
        self._priority = priority
        self._buffer: deque[Msg] = deque()
        self._buffered_bytes = 0
        self._requested_msgs = 0
        self._requested_bytes = 0
        self._live: dict[str, int] = {}  # reply subject -> batch of requests still open
        self._inbox = ""
        self._next_request = 0
        self._sub: SubscriptionLike | None = None
        self._remove_sub_listener: Callable[[], None] | None = None
        self._remove_event_listener: Callable[[], None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._readable = asyncio.Event()
        self._last_seen = 0.0
        self._paused = False
        self._retry_at = 0.0
        self._reset_wanted = False
        self._pulling = True  # False once draining/stopped: no more pull requests
        self._ended = False  # no more messages will be buffered
        self._error: Exception | None = None
        self._loop = asyncio.get_running_loop()

    # ---------------------------------------------------------------- lifecycle
    async def start(self) -> MessageStream:
        """Subscribe and send the first pull request; return ``self``.

        Raises:
            ConnectionClosedError: the client is closed.
        """
        await self._subscribe()
        self._remove_event_listener = self._nc.add_event_listener(self._on_event)
        self._last_seen = asyncio.get_running_loop().time()
        self._task = asyncio.get_running_loop().create_task(
            self._control(), name=f"rxnats-consume-{self._target.consumer_name}"
        )
        return self

    @property
    def error(self) -> Exception | None:
        """The terminal error that ended the stream, if any."""
        return self._error

    @property
    def pending(self) -> tuple[int, int]:
        """``(messages, bytes)`` asked of the server and not yet received."""
        return self._requested_msgs, self._requested_bytes

    @property
    def buffered(self) -> int:
        """Messages received and not yet taken."""
        return len(self._buffer)

    async def stop(self) -> None:
        """End now; buffered messages are dropped (the server redelivers unacked ones).

        Calling it again does nothing.
        """
        self._buffer.clear()
        self._buffered_bytes = 0
        await self._shutdown()

    async def drain(self) -> None:
        """Send no more pull requests; the iteration ends after the buffered messages."""
        await self._shutdown()

    async def _shutdown(self) -> None:
        self._pulling = False
        self._end(None)
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._release()

    async def _release(self) -> None:
        if self._remove_event_listener is not None:
            self._remove_event_listener()
            self._remove_event_listener = None
        await self._drop_subscription()

    async def _drop_subscription(self) -> None:
        if self._remove_sub_listener is not None:
            self._remove_sub_listener()
            self._remove_sub_listener = None
        sub, self._sub = self._sub, None
        if sub is not None and not sub.is_closed:
            with contextlib.suppress(Error):
                await sub.unsubscribe()

    async def _subscribe(self) -> None:
        self._inbox = self._nc.new_inbox()
        sub = await self._nc.subscribe(f"{self._inbox}.*")
        self._sub = sub
        self._remove_sub_listener = sub.add_listener(self._on_msg, self._on_sub_end)

    def _end(self, error: Exception | None) -> None:
        if not self._ended:
            self._ended = True
            self._error = error
        self._readable.set()
        self._wake.set()

    # ---------------------------------------------------------------- reading
    async def next(self, timeout: float | None = None) -> Msg:
        """The next message.

        Raises:
            StopAsyncIteration: the stream ended (stopped, drained, or the client closed).
            FetchStatusError / ConsumerDeletedError: it ended with a terminal status.
            TimeoutError: none within ``timeout`` (``None``: wait as long as it takes).

        Cancelling it loses no message.
        """
        while not self._buffer:
            if self._ended:
                if self._error is not None:
                    raise self._error
                raise StopAsyncIteration
            self._readable.clear()
            try:
                async with asyncio.timeout(timeout):
                    await self._readable.wait()
            except TimeoutError:
                raise NatsTimeoutError(f"no message within {timeout} s") from None
        return self._take()

    def _take(self) -> Msg:
        msg = self._buffer.popleft()
        self._buffered_bytes -= msg_size(msg)
        if self._wants_pull():
            # Only then: waking the control task for every message taken would cost a
            # task step and a timer each time, for nothing to do.
            self._wake.set()
        return msg

    def _wants_pull(self) -> bool:
        """Whether what is asked for plus what is buffered has fallen to the threshold."""
        if self._max_bytes is not None:
            return self._requested_bytes + self._buffered_bytes <= self._threshold_bytes
        return self._requested_msgs + len(self._buffer) <= self._threshold_msgs

    def __aiter__(self) -> MessageStream:
        return self

    async def __anext__(self) -> Msg:
        if self._buffer:
            return self._take()  # what next() does when a message is there, one call less
        return await self.next()

    async def __aenter__(self) -> MessageStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ---------------------------------------------------------------- driven by the reader
    def _on_msg(self, msg: Msg) -> None:
        self._last_seen = self._loop.time()
        status = msg.status
        if status is None:
            self._requested_msgs = max(self._requested_msgs - 1, 0)
            size = msg_size(msg)
            self._requested_bytes = max(self._requested_bytes - size, 0)
            if self._ended or self._reset_wanted:
                return
            if not self._target.accept(msg):
                self._want_reset()
                return
            if self._priority is not None:
                self._priority.note(msg)
            self._buffer.append(msg)
            self._buffered_bytes += size
            self._readable.set()
            return
        kind = classify(status, msg.description)
        if kind == "heartbeat":
            return
        batch = self._live.pop(msg.subject, None)
        if kind == "unpinned":
            if self._priority is not None:
                self._priority.unpinned()
            if batch is not None:  # the request is over: pull again, as a standby
                self._requested_msgs = max(self._requested_msgs - batch, 0)
                if self._max_bytes is not None:
                    self._requested_bytes = 0
            self._wake.set()
            return
        if kind == "end":
            left = _header_int(msg, PENDING_MSGS)
            if left is None:  # an older server: forget the whole request
                left = batch if batch is not None else self._requested_msgs
            self._requested_msgs = max(self._requested_msgs - left, 0)
            left_bytes = _header_int(msg, PENDING_BYTES)
            if left_bytes is not None:
                self._requested_bytes = max(self._requested_bytes - left_bytes, 0)
            elif self._max_bytes is not None and batch is not None:
                self._requested_bytes = 0
            self._wake.set()
            return
        error = status_error(status, msg.description)
        if self._target.resettable and (status == 503 or isinstance(error, ConsumerDeletedError)):
            self._want_reset()  # an ordered consumer's consumer is gone: make a new one
            return
        if kind == "terminal":
            self._pulling = False
            self._end(error)
            return
        # A warning: this request was refused; retry after a heartbeat interval.
        if batch is not None:
            self._requested_msgs = max(self._requested_msgs - batch, 0)
            if self._max_bytes is not None:
                self._requested_bytes = 0
        self._retry_at = self._last_seen + self._heartbeat
        self._warn(error)
        self._wake.set()

    def _on_sub_end(self, error: BaseException | None) -> None:
        if self._remove_sub_listener is None:
            return  # we dropped it ourselves (reset or stop)
        self._pulling = False
        self._end(error if isinstance(error, Exception) else None)

    def _on_event(self, event: ev.ConnectionEvent) -> None:
        match event:
            case ev.Disconnected():
                self._paused = True
            case ev.Reconnected():
                self._paused = False
                self._forget_requests()
                self._last_seen = asyncio.get_running_loop().time()
                self._wake.set()
            case ev.Closed():
                self._pulling = False
                self._end(None)
            case _:
                pass

    def _want_reset(self) -> None:
        self._reset_wanted = True
        self._wake.set()

    def _forget_requests(self) -> None:
        self._requested_msgs = 0
        self._requested_bytes = 0
        self._live.clear()

    def _warn(self, error: Exception) -> None:
        cb = self._error_cb
        if cb is None:
            self._nc.report_error(error)
            return
        try:
            cb(error)
        except Exception as exc:  # the user's callback must not stop the consumption
            self._nc.report_error(exc)

    # ---------------------------------------------------------------- control task
    async def _control(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while not self._ended:
                self._wake.clear()
                if self._reset_wanted and not self._paused and loop.time() >= self._retry_at:
                    try:
                        await self._reset()
                    except (JetStreamError, NatsTimeoutError) as exc:
                        # JetStream may be coming back (a restart): warn and try again
                        self._reset_wanted = True
                        self._retry_at = loop.time() + self._heartbeat
                        self._warn(exc)
                if self._pulling and not self._paused and loop.time() >= self._retry_at:
                    await self._maybe_pull()
                timeout: float | None = None
                if not self._paused:
                    hb_deadline = self._last_seen + 2 * self._heartbeat
                    wake_at = hb_deadline
                    if self._retry_at > loop.time():
                        wake_at = min(hb_deadline, self._retry_at)
                    timeout = max(wake_at - loop.time(), 0.0)
                try:
                    async with asyncio.timeout(timeout):
                        await self._wake.wait()
                except TimeoutError:
                    now = loop.time()
                    if not self._paused and now >= self._last_seen + 2 * self._heartbeat:
                        self._last_seen = now
                        self._warn(
                            MissedHeartbeatsError(
                                f"consumer {self._target.consumer_name!r} missed idle heartbeats"
                            )
                        )
                        if self._target.resettable:
                            self._reset_wanted = True
                        else:
                            self._forget_requests()
        except asyncio.CancelledError:
            raise
        except ConnectionClosedError:
            self._end(None)
        except Exception as exc:
            self._end(exc)
        if self._task is asyncio.current_task():
            self._task = None
            await self._release()

    async def _reset(self) -> None:
        self._reset_wanted = False
        await self._drop_subscription()
        self._forget_requests()
        await self._target.reset()
        await self._subscribe()
        self._last_seen = asyncio.get_running_loop().time()

    async def _maybe_pull(self) -> None:
        if not self._wants_pull():
            return
        if self._max_bytes is not None:
            outstanding_bytes = self._requested_bytes + self._buffered_bytes
            batch, max_bytes = self._max_msgs, self._max_bytes - outstanding_bytes
        else:
            batch = self._max_msgs - self._requested_msgs - len(self._buffer)
            max_bytes = 0
        if batch <= 0:
            return
        self._next_request += 1
        reply = f"{self._inbox}.{self._next_request}"
        self._live[reply] = batch
        self._requested_msgs += batch
        self._requested_bytes += max_bytes
        body = pull_request(
            batch,
            expires=self._expires,
            heartbeat=self._heartbeat,
            max_bytes=max_bytes or None,
            priority=self._priority,
        )
        subject = (
            f"{self._api_prefix}.CONSUMER.MSG.NEXT."
            f"{self._target.stream_name}.{self._target.consumer_name}"
        )
        await self._nc.publish(subject, body, reply=reply)


MessageHandler = Callable[["Msg"], Awaitable[None] | None]


class ConsumeContext:
    """A running ``consumer.consume(cb)``: stop it, drain it, or wait for its end."""

    def __init__(self, stream: MessageStream, cb: MessageHandler, report: ErrorCallback) -> None:
        self._stream = stream
        self._cb = cb
        self._report = report
        self._task = asyncio.get_running_loop().create_task(self._run(), name="rxnats-consume-cb")

    async def _run(self) -> None:
        while True:
            try:
                msg = await self._stream.next()
            except StopAsyncIteration:
                return
            except Exception:
                return  # the terminal error stays on the stream: wait() raises it
            try:
                result = self._cb(msg)
                if result is not None and inspect.isawaitable(result):
                    await result
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a failing handler must not stop the consumption
                self._report(exc)

    @property
    def error(self) -> Exception | None:
        """The terminal error that ended the consumption, if any."""
        return self._stream.error

    @property
    def done(self) -> bool:
        """Whether the consumption has ended."""
        return self._task.done()

    async def stop(self) -> None:
        """Stop at once; messages buffered but not handled are redelivered later."""
        await self._stream.stop()
        if not self._task.done():
            self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task

    async def drain(self) -> None:
        """Send no more pull requests, hand the buffered messages to the callback, end."""
        await self._stream.drain()
        await self._task

    async def wait(self) -> None:
        """Wait until the consumption ends.

        Raises:
            FetchStatusError / ConsumerDeletedError: it ended with a terminal status.

        Cancelling it does not stop the consumption.
        """
        await asyncio.shield(self._task)
        if self._stream.error is not None:
            raise self._stream.error
