"""Requests as observables: one reply (``observe_request``) or many (``observe_request_many``).

Both are cold: nothing is sent until an observer subscribes, and each observer makes
its own request. Disposing early forgets the request (a late reply is dropped).

``observe_request_many`` follows ADR-47 (request many): it publishes once to a fresh
inbox and emits replies until the first of these ends it normally: the overall
``timeout``; ``stall`` seconds without a reply once one arrived; ``max_count`` replies;
or, with ``sentinel=True``, a reply with an empty payload and no status (the sentinel
is not emitted). A "no responders" status as the first reply is an error.
"""

from __future__ import annotations

import asyncio

import reactivex
from reactivex import Observable, abc
from reactivex import operators as ops
from reactivex.disposable import Disposable

from rxnats.contract import ObservedSubscription, RxHost
from rxnats.errors import BadTimeoutError, InvalidInputError, NoRespondersError
from rxnats.msg import Msg
from rxnats.pending import DEFAULT_PENDING_MSGS_LIMIT, Overflow, PendingLimits
from rxnats.rx.messages import SharedSubscription, unsubscribe
from rxnats.rx.scheduling import loop_scheduler
from rxnats.wire.headers import HeadersInput

__all__ = ["observe_request", "observe_request_many"]

_REPLY_BUFFER = DEFAULT_PENDING_MSGS_LIMIT  # replies buffered between the reader and the observer


def observe_request(
    client: RxHost,
    subject: str,
    payload: bytes,
    *,
    timeout: float,
    headers: HeadersInput | None,
) -> Observable[Msg]:
    """Build ``nc.observe_request(...)``: one reply then completion, or an error.

    Raises:
        BadTimeoutError: ``timeout`` is not positive.
    """
    if timeout <= 0:
        raise BadTimeoutError(f"request timeout must be positive, not {timeout!r}")

    def subscribe(
        observer: abc.ObserverBase[Msg], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        task = asyncio.get_running_loop().create_task(
            client.request(subject, payload, timeout=timeout, headers=headers),
            name="rxnats-observe-request",
        )

        def finished(task: asyncio.Task[Msg]) -> None:
            if task.cancelled():
                return
            error = task.exception()
            try:
                if isinstance(error, Exception):
                    observer.on_error(error)
                elif error is None:
                    observer.on_next(task.result())
                    observer.on_completed()
            except Exception as exc:  # an observer's failure is reported, not raised here
                client.report_error(exc)

        task.add_done_callback(finished)

        def cancel() -> None:
            task.cancel()

        return Disposable(cancel)

    return reactivex.create(subscribe)


def _is_not_sentinel(msg: Msg) -> bool:
    return bool(msg.data) or msg.status is not None


def _no_responders(msg: Msg) -> Msg:
    if not msg.data and msg.status == 503:
        raise NoRespondersError(f"no responders on {msg.subject!r}")
    return msg


def observe_request_many(
    client: RxHost,
    subject: str,
    payload: bytes,
    *,
    timeout: float,
    stall: float | None,
    max_count: int,
    sentinel: bool,
    headers: HeadersInput | None,
    scheduler: abc.SchedulerBase | None = None,
) -> Observable[Msg]:
    """Build ``nc.observe_request_many(...)`` (see the module docstring).

    Raises:
        BadTimeoutError: ``timeout`` or ``stall`` is not positive.
        InvalidInputError: ``max_count`` is negative.
    """
    if timeout <= 0:
        raise BadTimeoutError(f"request timeout must be positive, not {timeout!r}")
    if stall is not None and stall <= 0:
        raise BadTimeoutError(f"stall must be positive or None, not {stall!r}")
    if max_count < 0:
        raise InvalidInputError(f"max_count must be >= 0 (0: no limit), not {max_count}")

    def build(_scheduler: abc.SchedulerBase | None) -> Observable[Msg]:
        timers = scheduler or loop_scheduler(client.event_loop)
        inbox = client.new_inbox()

        def open_() -> ObservedSubscription:
            sub = client.subscribe_now(inbox)
            try:
                client.publish_nowait(subject, payload, inbox, headers)
            except BaseException:
                unsubscribe(sub)
                raise
            return sub

        replies = SharedSubscription(
            client,
            open_=open_,
            close=unsubscribe,
            limits=PendingLimits(_REPLY_BUFFER, 0, Overflow.DROP_NEWEST),
            scheduler=scheduler,
        ).observable.pipe(ops.map(_no_responders))
        if sentinel:
            replies = replies.pipe(ops.take_while(_is_not_sentinel))
        if max_count:
            replies = replies.pipe(ops.take(max_count))
        if stall is not None:
            stall_after = stall
            replies = replies.pipe(
                ops.timeout_with_mapper(
                    reactivex.never(),
                    lambda _msg: reactivex.timer(stall_after, scheduler=timers),
                    reactivex.empty(),
                )
            )
        return replies.pipe(ops.take_until(reactivex.timer(timeout, scheduler=timers)))

    return reactivex.defer(build)
