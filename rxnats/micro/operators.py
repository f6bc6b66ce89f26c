"""Answering an endpoint's requests from an Rx pipeline.

:func:`reply_with` maps each :class:`~rxnats.micro.Request` to a
:class:`~rxnats.micro.Reply` with a plain or ``async`` function; ``subscribe(Reply.send)``
sends them::

    endpoint.observe().pipe(
        reply_with(lambda req: str(2 * int(req.data)).encode()),
    ).subscribe(Reply.send)

What the function raises becomes an error reply instead of an ``on_error`` that would
end the pipeline: a :class:`~rxnats.micro.ServiceError` with its own code and
description, anything else as ``500`` with the exception's text. So one bad request
costs one error answer (counted in the endpoint's statistics), never the pipeline.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import TypeAlias

import reactivex
from reactivex import Observable
from reactivex import operators as ops

from rxnats.errors import InvalidInputError
from rxnats.micro.request import (
    Reply,
    Request,
    ServiceError,
    check_description,
    check_error_code,
    exception_text,
)

__all__ = ["ReplyFunction", "reply_with"]

log: logging.Logger = logging.getLogger("rxnats.micro")

ReplyFunction: TypeAlias = Callable[[Request], bytes | Reply | Awaitable[bytes | Reply]]
"""What :func:`reply_with` takes: a request to its answer (payload bytes or a Reply)."""


def reply_with(
    fn: ReplyFunction,
) -> Callable[[Observable[Request]], Observable[Reply]]:
    """An operator answering each request with ``fn(request)`` (``bytes`` or a :class:`Reply`).

    A coroutine's answer is emitted when it is done (answers may then come out of
    order); disposing the pipeline cancels the coroutines still running. Exceptions
    become error replies (see the module docstring).
    """

    def answer(request: Request) -> Observable[Reply]:
        try:
            result = fn(request)
        except Exception as exc:
            return reactivex.just(_failure(request, exc))
        if inspect.isawaitable(result):
            return reactivex.from_future(asyncio.ensure_future(_settle(request, result)))
        return reactivex.just(_as_reply(request, result))

    return ops.flat_map(answer)


async def _settle(request: Request, result: Awaitable[bytes | Reply]) -> Reply:
    try:
        value = await result
    except Exception as exc:
        return _failure(request, exc)
    return _as_reply(request, value)


def _as_reply(request: Request, value: object) -> Reply:
    if isinstance(value, Reply):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return Reply(request, bytes(value))
    return _failure(
        request,
        TypeError(f"a reply function must return bytes or a Reply, not {type(value).__name__}"),
    )


def _failure(request: Request, exc: Exception) -> Reply:
    if isinstance(exc, ServiceError):
        try:
            check_error_code(exc.code)
            check_description(exc.description)
            return Reply(request, error=exc)
        except InvalidInputError:
            pass
    else:
        log.warning(
            "rxnats.micro: answering a request on %r raised",
            request.subject,
            exc_info=exc,
            extra={"rxnats_error": type(exc).__name__, "rxnats_subject": request.subject},
        )
    return Reply(request, error=ServiceError(500, exception_text(exc)))
