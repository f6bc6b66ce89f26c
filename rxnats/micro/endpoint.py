"""One endpoint: its subscription, its statistics, and where its requests go.

Theory of operation. An endpoint is one core subscription (a queue subscription in
its queue group, or a plain one when queue groups are disabled) made with the public
``NATS.subscribe``. Requests go one of two ways:

- **to a handler**: a coroutine function runs in the subscription's task, one request
  at a time, behind the pending limits; a plain function is called by the reader as
  each request arrives (returning an awaitable moves it to the task, as for any
  subscription callback). The processing time is the handler's run time, as in the
  other clients.
- **to observers** (no handler): ``sub.observe()`` relays each request, through the
  subscription's bounded buffer and overflow policy, to an internal observer that
  hands it to every observer of :meth:`Endpoint.observe`. The processing time runs
  from that hand-over to the first answer. A request that arrives while nobody
  observes is answered ``503`` at once, so the requester does not wait for a timeout.

Either way a failure answers the request instead of killing the endpoint: a handler
(or observer) that raises answers ``500`` with the exception's text (a
:class:`~rxnats.micro.ServiceError` answers with its own code), unless it already
answered; an observer whose pipeline ends while handling a request, without
answering it, answers ``500`` too. Both count as errors in the statistics.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Mapping
from types import MappingProxyType

import reactivex
from reactivex import Observable, abc
from reactivex.disposable import Disposable

from rxnats.client import NATS
from rxnats.errors import Error, InvalidInputError
from rxnats.micro.models import EndpointInfo, EndpointStats
from rxnats.micro.request import (
    Counters,
    Handler,
    Request,
    ServiceError,
    exception_text,
)
from rxnats.msg import Msg
from rxnats.subscription import Overflow, Subscription

__all__ = ["Endpoint"]

log: logging.Logger = logging.getLogger("rxnats.micro")


def _is_async_callable(fn: object) -> bool:
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004 - the method itself is inspected
    )


class Endpoint:
    """An endpoint of a service (returned by ``add_endpoint``).

    Its name, subject, queue group and metadata are fixed; :meth:`stats` and
    :meth:`info` describe it as the discovery responses do, and :meth:`observe` gives
    its requests as an observable when it was added without a handler.
    """

    def __init__(
        self,
        *,
        name: str,
        subject: str,
        queue_group: str | None,
        handler: Handler | None,
        metadata: Mapping[str, str] | None,
    ) -> None:
        self._name = name
        self._subject = subject
        self._queue_group = queue_group
        self._handler = handler
        self._metadata: Mapping[str, str] = MappingProxyType(dict(metadata or {}))
        self._counters = Counters()
        self._sub: Subscription | None = None
        self._requests: _RequestRelay | None = None
        self._rx: abc.DisposableBase | None = None

    # -- what it is ---------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The endpoint's name."""
        return self._name

    @property
    def subject(self) -> str:
        """The subject it listens on (group prefix included)."""
        return self._subject

    @property
    def queue_group(self) -> str | None:
        """Its queue group, or ``None`` when it listens with a plain subscription."""
        return self._queue_group

    @property
    def metadata(self) -> Mapping[str, str]:
        """Its metadata (read-only)."""
        return self._metadata

    @property
    def handler(self) -> Handler | None:
        """Its handler, or ``None`` when its requests are observed."""
        return self._handler

    @property
    def subscription(self) -> Subscription | None:
        """The subscription it listens with (``None`` before it started)."""
        return self._sub

    def info(self) -> EndpointInfo:
        """The endpoint as ``$SRV.INFO`` describes it."""
        return EndpointInfo(
            name=self._name,
            subject=self._subject,
            queue_group=self._queue_group or "",
            metadata=dict(self._metadata),
        )

    def stats(self) -> EndpointStats:
        """The endpoint's statistics now (``data`` is filled in by the service)."""
        c = self._counters
        return EndpointStats(
            name=self._name,
            subject=self._subject,
            queue_group=self._queue_group or "",
            num_requests=c.num_requests,
            num_errors=c.num_errors,
            processing_time=c.processing_time,
            average_processing_time=c.average_processing_time,
            last_error=c.last_error or None,
        )

    def reset(self) -> None:
        """Set the statistics back to zero."""
        self._counters.reset()

    def observe(self) -> Observable[Request]:
        """The endpoint's requests, for an endpoint added without a handler.

        Hot: an observer gets the requests that arrive while it is subscribed; several
        observers all get each request (answer it once). Requests pass through the
        endpoint's pending limits and overflow policy like a subscription's messages.
        The stream completes when the service stops (after the requests already
        received) or the client closes, and errors when the subscription ends with an
        error (``Overflow.ERROR``, a permissions violation).

        Raises:
            InvalidInputError: the endpoint has a handler (its requests go there).
        """
        if self._requests is None:
            raise InvalidInputError(
                f"endpoint {self._name!r} has a handler; add it without one to observe its requests"
            )
        return self._requests.observable

    def __repr__(self) -> str:
        queue = f" queue_group={self._queue_group!r}" if self._queue_group else ""
        return f"<Endpoint name={self._name!r} subject={self._subject!r}{queue}>"

    # -- driven by the service ------------------------------------------------------------
    async def _start(
        self,
        nc: NATS,
        *,
        pending_msgs_limit: int,
        pending_bytes_limit: int,
        overflow: Overflow,
    ) -> None:
        """Subscribe (the SUB is sent with the next write).

        Raises:
            Error: what :meth:`rxnats.NATS.subscribe` raises.
        """
        queue = self._queue_group or ""
        handler = self._handler
        if handler is None:
            sub = await nc.subscribe(
                self._subject,
                queue,
                pending_msgs_limit=pending_msgs_limit,
                pending_bytes_limit=pending_bytes_limit,
                overflow=overflow,
            )
            relay = _RequestRelay(self)
            self._requests = relay
            self._rx = sub.observe().subscribe(relay)
        else:
            sub = await nc.subscribe(
                self._subject,
                queue,
                cb=self._on_msg_async if _is_async_callable(handler) else self._on_msg,
                pending_msgs_limit=pending_msgs_limit,
                pending_bytes_limit=pending_bytes_limit,
                overflow=overflow,
            )
        self._sub = sub

    async def _stop(self) -> None:
        """Drain the subscription: no new requests; those received are still handled.

        Never raises for a subscription or client that already ended.
        """
        sub = self._sub
        if sub is not None and not sub.is_closed:
            try:
                await sub.drain()
            except Error as exc:  # the client closed or broke meanwhile: nothing to drain
                log.debug("rxnats.micro: draining endpoint %r: %s", self._name, exc)
        if self._requests is not None:
            await self._requests.done.wait()
        if self._rx is not None:
            self._rx.dispose()
            self._rx = None

    # -- requests -----------------------------------------------------------------------
    def _accept(self, msg: Msg, *, timed: bool) -> Request:
        """Count an arriving request and wrap it."""
        self._counters.num_requests += 1
        return Request._tracked(msg, self._counters, timed=timed)

    def _on_msg(self, msg: Msg) -> Awaitable[None] | None:
        """The subscription callback for a plain-function handler."""
        request = self._accept(msg, timed=False)
        handler = self._handler
        assert handler is not None
        start = time.perf_counter_ns()
        try:
            result = handler(request)
        except Exception as exc:
            self._counters.processing_time += time.perf_counter_ns() - start
            self._failed(request, exc)
            return None
        if result is not None and inspect.isawaitable(result):
            return self._finish(request, result, start)
        self._counters.processing_time += time.perf_counter_ns() - start
        return None

    async def _finish(self, request: Request, result: Awaitable[None], start: int) -> None:
        try:
            await result
        except Exception as exc:
            self._counters.processing_time += time.perf_counter_ns() - start
            self._failed(request, exc)
            return
        self._counters.processing_time += time.perf_counter_ns() - start

    async def _on_msg_async(self, msg: Msg) -> None:
        """The subscription callback for a coroutine-function handler."""
        request = self._accept(msg, timed=False)
        handler = self._handler
        assert handler is not None
        start = time.perf_counter_ns()
        try:
            result = handler(request)
            if result is not None:
                await result
        except Exception as exc:
            self._counters.processing_time += time.perf_counter_ns() - start
            self._failed(request, exc)
            return
        self._counters.processing_time += time.perf_counter_ns() - start

    def _failed(self, request: Request, exc: Exception) -> None:
        """A handler or observer raised ``exc`` while handling ``request``: answer
        with an error unless it was answered, and count the error.

        Raises:
            Error: sending the error answer failed (the client closed); the
                subscription reports it to ``error_cb``.
        """
        if isinstance(exc, ServiceError):
            code, description = exc.code, exc.description
        else:
            code, description = "500", exception_text(exc)
            log.warning(
                "rxnats.micro: endpoint %r: handling a request on %r raised",
                self._name,
                request.subject,
                exc_info=exc,
                extra={
                    "rxnats_error": type(exc).__name__,
                    "rxnats_subject": request.subject,
                    "rxnats_endpoint": self._name,
                },
            )
        if request.responded or not request.reply:
            request._note_error(f"{code}:{description}")
            return
        try:
            request.respond_error_nowait(code, description)
        except InvalidInputError:  # a ServiceError with a code or description ADR-32 forbids
            request.respond_error_nowait("500", exception_text(exc))

    def _refuse(self, request: Request) -> None:
        """Answer ``503``: the endpoint has no observer to hand the request to."""
        if request.reply:
            request.respond_error_nowait(
                503, f"endpoint {self._name!r} has no observer taking requests"
            )
        else:
            request._note_error(f"503:endpoint {self._name!r} has no observer taking requests")


class _RequestRelay(abc.ObserverBase[Msg]):
    """Observes the endpoint subscription and hands each request to the endpoint's observers."""

    __slots__ = ("_ended", "_endpoint", "_error", "_observers", "done", "observable")

    def __init__(self, endpoint: Endpoint) -> None:
        self._endpoint = endpoint
        self._observers: list[abc.ObserverBase[Request]] = []
        self._ended = False
        self._error: Exception | None = None
        self.done = asyncio.Event()
        self.observable: Observable[Request] = reactivex.create(self._subscribe)

    def _subscribe(
        self, observer: abc.ObserverBase[Request], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        if self._ended:
            if self._error is not None:
                observer.on_error(self._error)
            else:
                observer.on_completed()
            return Disposable()
        self._observers.append(observer)

        def leave() -> None:
            if observer in self._observers:
                self._observers.remove(observer)

        return Disposable(leave)

    def on_next(self, value: Msg) -> None:
        endpoint = self._endpoint
        request = endpoint._accept(value, timed=True)
        observers = tuple(self._observers)
        if not observers:
            endpoint._refuse(request)
            return
        failure: Exception | None = None
        for observer in observers:
            try:
                observer.on_next(request)
            except Exception as exc:  # one observer must not keep the others from the request
                failure = failure or exc
        if failure is not None:
            endpoint._failed(request, failure)
        elif not request.responded and any(o not in self._observers for o in observers):
            # The observer's pipeline ended (an operator raised) on this request and
            # left it unanswered: answer it rather than let the requester time out.
            endpoint._failed(
                request, RuntimeError("the endpoint's observer ended without answering")
            )

    def on_error(self, error: Exception) -> None:
        self._end(error)

    def on_completed(self) -> None:
        self._end(None)

    def _end(self, error: Exception | None) -> None:
        if self._ended:
            return
        self._ended = True
        self._error = error
        observers = tuple(self._observers)
        self._observers.clear()
        try:
            for observer in observers:
                try:
                    if error is None:
                        observer.on_completed()
                    else:
                        observer.on_error(error)
                except Exception:  # an observer's failure must not stop the others
                    log.exception("rxnats.micro: an endpoint observer raised on its end")
        finally:
            self.done.set()
