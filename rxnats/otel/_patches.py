"""The public methods ``instrument()`` replaces, and how ``uninstrument()`` puts them back.

Nothing in rxnats calls into OpenTelemetry: while uninstrumented the classes hold their
own functions and the hot paths run exactly as without the extra. ``instrument()``
replaces a few public methods on the classes (so clients made before and after are
traced alike) with wrappers that start a span, inject or extract the trace context and
call the original; ``uninstrument()`` restores the originals. Callbacks are wrapped when
``subscribe()`` is called: a subscription made while instrumented keeps its wrapped
callback after ``uninstrument()``, which then only calls the callback.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import ParamSpec, TypeVar
from weakref import WeakKeyDictionary

import reactivex
from opentelemetry.trace import SpanKind
from reactivex import Observable, abc
from reactivex.disposable import Disposable

from rxnats.client import NATS
from rxnats.client.port import ClientPort
from rxnats.jetstream import JetStreamContext
from rxnats.jetstream.models import PubAck
from rxnats.msg import Msg
from rxnats.otel._attributes import JS_SEQUENCE, JS_STREAM, SubscriptionInfo, is_async_callable
from rxnats.otel._telemetry import Operation, Telemetry
from rxnats.subscription import MessageCallback, MessageIterator, Subscription
from rxnats.wire.headers import HeadersInput

__all__ = ["Patches"]

P = ParamSpec("P")
T = TypeVar("T")


def _arg(args: tuple[object, ...], kwargs: dict[str, object], index: int, name: str) -> object:
    """A parameter passed by position ``index`` or by ``name`` (``None`` when absent)."""
    return args[index] if len(args) > index else kwargs.get(name)


def _with_arg(
    args: tuple[object, ...], kwargs: dict[str, object], index: int, name: str, value: object
) -> tuple[tuple[object, ...], dict[str, object]]:
    """``args``/``kwargs`` with the parameter at ``index`` (or ``name``) set to ``value``."""
    if len(args) > index:
        return (*args[:index], value, *args[index + 1 :]), kwargs
    return args, {**kwargs, name: value}


def _plain_headers(headers: object) -> bool:
    """Headers the wrappers can read: none, or a mapping (anything else: rxnats raises)."""
    return headers is None or isinstance(headers, Mapping)


def defining_class(cls: type, name: str) -> type:
    """The class of ``cls``'s MRO that defines ``name`` (``observe`` comes from a mixin)."""
    return next(klass for klass in cls.__mro__ if name in klass.__dict__)


class _TracedIterator(MessageIterator):
    """``sub.messages`` while instrumented: each step is a receive span."""

    __slots__ = ("_of", "_tel")

    def __init__(self, sub: Subscription, tel: Telemetry) -> None:
        super().__init__(sub)
        self._of = sub
        self._tel = tel

    def __call__(self) -> _TracedIterator:
        return self

    def __aiter__(self) -> _TracedIterator:
        return self

    async def __anext__(self) -> Msg:
        tel = self._tel
        if not tel.enabled():
            return await super().__anext__()
        start, t0 = time.time_ns(), time.perf_counter()
        try:
            msg = await super().__anext__()
        except (StopAsyncIteration, asyncio.CancelledError):
            raise
        except Exception as exc:
            tel.receive(self._info(), None, exc, start, t0)
            raise
        tel.receive(self._info(), msg, None, start, t0)
        return msg

    def _info(self) -> SubscriptionInfo:
        return self._tel.subscription(self._of)


def _traced_callback(
    tel: Telemetry, info: SubscriptionInfo, cb: MessageCallback
) -> MessageCallback:
    """``cb`` in a process span per message; a plain function stays plain (inline)."""
    if is_async_callable(cb):

        async def traced_async(msg: Msg) -> None:
            op = tel.process(info, msg) if tel.enabled_for_delivery() else None
            try:
                result = cb(msg)
                if result is not None:
                    await result
            except BaseException as exc:
                if op is not None:
                    op.end(exc)
                raise
            if op is not None:
                op.end(None)

        return functools.wraps(cb)(traced_async)

    def traced(msg: Msg) -> Awaitable[None] | None:
        op = tel.process(info, msg) if tel.enabled_for_delivery() else None
        if op is None:
            return cb(msg)
        try:
            result = cb(msg)
        except BaseException as exc:
            op.end(exc)
            raise
        if result is not None and inspect.isawaitable(result):
            # rxnats runs it (and the callbacks after it) in the subscription's task.
            op.leave()
            return op.end_after(result)
        op.end(None)
        return result

    return functools.wraps(cb)(traced)


def _traced_observable(
    tel: Telemetry, info: SubscriptionInfo, source: Observable[Msg]
) -> Observable[Msg]:
    """``source`` with a process span around each ``on_next`` of each observer."""

    def subscribe(
        observer: abc.ObserverBase[Msg], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        def on_next(msg: Msg) -> None:
            op = tel.process(info, msg) if tel.enabled_for_delivery() else None
            if op is None:
                observer.on_next(msg)
                return
            try:
                observer.on_next(msg)
            except BaseException as exc:
                op.end(exc)
                raise
            op.end(None)

        subscription = source.subscribe(
            on_next, observer.on_error, observer.on_completed, scheduler=scheduler
        )
        return Disposable(subscription.dispose)

    return reactivex.create(subscribe)


class Patches:
    """Replaces the public methods (see the module docstring); :meth:`restore` undoes it."""

    def __init__(self, tel: Telemetry) -> None:
        self._tel = tel
        self._replaced: list[tuple[type, str, object]] = []

    def _replace(self, owner: type, name: str, new: object) -> None:
        original = owner.__dict__[name]
        setattr(owner, name, new)
        self._replaced.append((owner, name, original))

    def restore(self) -> None:
        """Put every original back, last replaced first."""
        for owner, name, original in reversed(self._replaced):
            setattr(owner, name, original)
        self._replaced.clear()

    def apply(self) -> None:
        """Replace everything."""
        self._client()
        self._subscriptions()
        self._messages()
        self._jetstream()

    # ------------------------------------------------------------------ NATS
    def _client(self) -> None:
        tel = self._tel
        init = NATS.__init__
        publish = NATS.publish
        request = NATS.request
        subscribe = NATS.subscribe
        observe_owner = defining_class(NATS, "observe")
        observe = NATS.observe

        @functools.wraps(init)
        def traced_init(self: NATS) -> None:
            init(self)
            tel.register(self)

        @functools.wraps(publish)
        async def traced_publish(
            self: NATS,
            subject: str,
            payload: bytes = b"",
            reply: str = "",
            headers: HeadersInput | None = None,
        ) -> None:
            if not tel.enabled() or not _plain_headers(headers):
                return await publish(self, subject, payload, reply, headers)
            op, sent = tel.send(tel.client(self), "publish", subject, payload, headers)
            try:
                await publish(self, subject, payload, reply, sent)
            except BaseException as exc:
                op.end(exc)
                raise
            op.end(None)

        @functools.wraps(request)
        async def traced_request(
            self: NATS,
            subject: str,
            payload: bytes = b"",
            timeout: float = 0.5,
            old_style: bool = False,
            headers: HeadersInput | None = None,
        ) -> Msg:
            if not tel.enabled() or not _plain_headers(headers):
                return await request(self, subject, payload, timeout, old_style, headers)
            op, sent = tel.send(
                tel.client(self), "request", subject, payload, headers, kind=SpanKind.CLIENT
            )
            try:
                reply = await request(self, subject, payload, timeout, old_style, sent)
            except BaseException as exc:
                op.end(exc)
                raise
            op.end(None)
            return reply

        @functools.wraps(subscribe)
        async def traced_subscribe(self: NATS, *args: object, **kwargs: object) -> Subscription:
            subject, queue, cb = (
                _arg(args, kwargs, 0, "subject"),
                _arg(args, kwargs, 1, "queue"),
                _arg(args, kwargs, 2, "cb"),
            )
            if cb is not None and callable(cb) and isinstance(subject, str) and tel.enabled():
                info = SubscriptionInfo(
                    tel.client(self), subject, queue if isinstance(queue, str) else ""
                )
                args, kwargs = _with_arg(args, kwargs, 2, "cb", _traced_callback(tel, info, cb))
            return await subscribe(self, *args, **kwargs)  # type: ignore[arg-type]  # forwarded as given

        @functools.wraps(observe)
        def traced_observe(self: NATS, *args: object, **kwargs: object) -> Observable[Msg]:
            source = observe(self, *args, **kwargs)  # type: ignore[arg-type]  # forwarded as given
            subject, queue = _arg(args, kwargs, 0, "subject"), _arg(args, kwargs, 1, "queue")
            if not isinstance(subject, str):
                return source  # (rxnats raised already, or will on subscribing)
            info = SubscriptionInfo(
                tel.client(self), subject, queue if isinstance(queue, str) else ""
            )
            return _traced_observable(tel, info, source)

        self._replace(NATS, "__init__", traced_init)
        self._replace(NATS, "publish", traced_publish)
        self._replace(NATS, "request", traced_request)
        self._replace(NATS, "subscribe", traced_subscribe)
        self._replace(observe_owner, "observe", traced_observe)

    # ------------------------------------------------------------------ subscriptions
    def _subscriptions(self) -> None:
        tel = self._tel
        init = Subscription.__init__
        next_msg = Subscription.next_msg
        messages: property = Subscription.__dict__["messages"]
        get_messages = messages.fget
        assert get_messages is not None
        observe_owner = defining_class(Subscription, "observe")
        observe = Subscription.observe
        iterators: WeakKeyDictionary[Subscription, _TracedIterator] = WeakKeyDictionary()

        @functools.wraps(init)
        def traced_init(self: Subscription, *args: object, **kwargs: object) -> None:
            init(self, *args, **kwargs)  # type: ignore[arg-type]  # forwarded as given
            # A subscription holds its client's port (the client as subscriptions see it).
            port = _arg(args, kwargs, 0, "client")
            client = port.client if isinstance(port, ClientPort) else port
            if isinstance(client, NATS) and tel.active:
                tel.track_subscription(self, client)

        @functools.wraps(next_msg)
        async def traced_next_msg(self: Subscription, timeout: float | None = 1.0) -> Msg:
            if not tel.enabled():
                return await next_msg(self, timeout)
            start, t0 = time.time_ns(), time.perf_counter()
            try:
                msg = await next_msg(self, timeout)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                tel.receive(tel.subscription(self), None, exc, start, t0)
                raise
            tel.receive(tel.subscription(self), msg, None, start, t0)
            return msg

        def traced_messages(self: Subscription) -> MessageIterator:
            get_messages(self)  # raises for a subscription with a callback
            iterator = iterators.get(self)
            if iterator is None:
                iterator = iterators[self] = _TracedIterator(self, tel)
            return iterator

        @functools.wraps(observe)
        def traced_sub_observe(self: Subscription) -> Observable[Msg]:
            source = observe(self)
            return _traced_observable(tel, tel.subscription(self), source)

        self._replace(Subscription, "__init__", traced_init)
        self._replace(Subscription, "next_msg", traced_next_msg)
        self._replace(Subscription, "messages", property(traced_messages, doc=messages.__doc__))
        self._replace(observe_owner, "observe", traced_sub_observe)

    # ------------------------------------------------------------------ messages
    def _messages(self) -> None:
        tel = self._tel
        respond = Msg.respond
        respond_nowait = Msg.respond_nowait

        def reply_op(
            msg: Msg, data: object, headers: HeadersInput | None
        ) -> tuple[Operation, HeadersInput] | None:
            if not msg.reply:
                return None  # rxnats raises
            # The client is known inside the process span of the request (its callback).
            return tel.send(
                tel.delivering_client(), "respond", msg.reply, data, headers, temporary=True
            )

        @functools.wraps(respond)
        async def traced_respond(
            self: Msg, data: bytes = b"", headers: HeadersInput | None = None
        ) -> None:
            started = (
                reply_op(self, data, headers) if tel.enabled() and _plain_headers(headers) else None
            )
            if started is None:
                return await respond(self, data, headers)
            op, sent = started
            try:
                await respond(self, data, sent)
            except BaseException as exc:
                op.end(exc)
                raise
            op.end(None)

        @functools.wraps(respond_nowait)
        def traced_respond_nowait(
            self: Msg, data: bytes = b"", headers: HeadersInput | None = None
        ) -> None:
            started = (
                reply_op(self, data, headers) if tel.enabled() and _plain_headers(headers) else None
            )
            if started is None:
                return respond_nowait(self, data, headers)
            op, sent = started
            try:
                respond_nowait(self, data, sent)
            except BaseException as exc:
                op.end(exc)
                raise
            op.end(None)

        self._replace(Msg, "respond", traced_respond)
        self._replace(Msg, "respond_nowait", traced_respond_nowait)
        for name, operation in (
            ("ack", "ack"),
            ("ack_sync", "ack"),
            ("nak", "nak"),
            ("in_progress", "in_progress"),
            ("term", "term"),
        ):
            self._replace(Msg, name, _traced_settle(tel, Msg.__dict__[name], operation))

    # ------------------------------------------------------------------ JetStream
    def _jetstream(self) -> None:
        tel = self._tel
        init = JetStreamContext.__init__
        publish = JetStreamContext.publish
        publish_async = JetStreamContext.publish_async
        clients: WeakKeyDictionary[JetStreamContext, NATS] = WeakKeyDictionary()

        @functools.wraps(init)
        def traced_init(self: JetStreamContext, nc: NATS, **kwargs: object) -> None:
            init(self, nc, **kwargs)  # type: ignore[arg-type]  # forwarded as given
            clients[self] = nc

        def start(
            self: JetStreamContext, args: tuple[object, ...], kwargs: dict[str, object]
        ) -> tuple[Operation, tuple[object, ...], dict[str, object]] | None:
            nc = clients.get(self)
            subject, payload, headers = (
                _arg(args, kwargs, 0, "subject"),
                _arg(args, kwargs, 1, "payload"),
                _arg(args, kwargs, 4, "headers"),
            )
            if (
                nc is None
                or not isinstance(subject, str)
                or not _plain_headers(headers)
                or not tel.enabled()
            ):
                return None
            msg_id = kwargs.get("msg_id")
            op, sent = tel.send(
                tel.client(nc),
                "jetstream.publish",
                subject,
                payload if payload is not None else b"",
                headers,  # type: ignore[arg-type]  # a mapping (checked above) or None
                message_id=msg_id if isinstance(msg_id, str) else None,
            )
            args, kwargs = _with_arg(args, kwargs, 4, "headers", sent)
            return op, args, kwargs

        def acked(op: Operation, ack: PubAck) -> None:
            if op.span.is_recording():
                op.span.set_attribute(JS_STREAM, ack.stream)
                op.span.set_attribute(JS_SEQUENCE, ack.seq)

        @functools.wraps(publish)
        async def traced_publish(self: JetStreamContext, *args: object, **kwargs: object) -> PubAck:
            started = start(self, args, kwargs)
            if started is None:
                return await publish(self, *args, **kwargs)  # type: ignore[arg-type]  # forwarded as given
            op, args, kwargs = started
            try:
                ack = await publish(self, *args, **kwargs)  # type: ignore[arg-type]  # forwarded as given
            except BaseException as exc:
                op.end(exc)
                raise
            acked(op, ack)
            op.end(None)
            return ack

        @functools.wraps(publish_async)
        async def traced_publish_async(
            self: JetStreamContext, *args: object, **kwargs: object
        ) -> asyncio.Future[PubAck]:
            started = start(self, args, kwargs)
            if started is None:
                return await publish_async(self, *args, **kwargs)  # type: ignore[arg-type]  # forwarded as given
            op, args, kwargs = started
            try:
                future = await publish_async(self, *args, **kwargs)  # type: ignore[arg-type]  # forwarded as given
            except BaseException as exc:
                op.end(exc)
                raise
            op.leave()  # the span ends with the ack, later

            def done(future: asyncio.Future[PubAck]) -> None:
                if future.cancelled():
                    op.end(asyncio.CancelledError())
                elif (error := future.exception()) is not None:
                    op.end(error)
                else:
                    acked(op, future.result())
                    op.end(None)

            future.add_done_callback(done)
            return future

        self._replace(JetStreamContext, "__init__", traced_init)
        self._replace(JetStreamContext, "publish", traced_publish)
        self._replace(JetStreamContext, "publish_async", traced_publish_async)


def _traced_settle(
    tel: Telemetry, original: Callable[P, Awaitable[T]], operation: str
) -> Callable[P, Awaitable[T]]:
    """A JetStream acknowledgement method in a settle span."""

    @functools.wraps(original)
    async def settle(*args: P.args, **kwargs: P.kwargs) -> T:
        msg = args[0]
        if not isinstance(msg, Msg) or not tel.enabled():
            return await original(*args, **kwargs)
        op = tel.settle(msg, operation)
        try:
            result = await original(*args, **kwargs)
        except BaseException as exc:
            op.end(exc)
            raise
        op.end(None)
        return result

    return settle
