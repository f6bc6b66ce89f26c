"""Finding services: ``$SRV.PING``, ``$SRV.INFO`` and ``$SRV.STATS`` from the requesting side.

A discovery request goes to every service instance that listens (ADR-32): all of
them, those of one name, or the one instance with a given id. Each instance answers
once, so the answers are collected until ``timeout`` (an instance that is addressed by
its id ends the wait at its answer). :class:`ServiceClient` gives them as an
observable that completes after the timeout (``observe_ping`` and friends, built on
:meth:`rxnats.NATS.observe_request_many`) or as a list (``await ping()``).

No service listening is an empty result, not an error. An answer that is not a valid
response (not JSON, a wrong ``type``, an ADR-32 error answer) is skipped and logged on
the ``rxnats.micro`` logger, so one broken instance does not hide the others.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from typing import TypeVar

import reactivex
from reactivex import Observable
from reactivex import operators as ops

from rxnats.client import NATS
from rxnats.errors import BadTimeoutError, InvalidInputError, NoRespondersError
from rxnats.micro.config import DEFAULT_PREFIX, ServiceVerb, control_subject
from rxnats.micro.models import ServiceInfo, ServicePing, ServiceStats
from rxnats.micro.request import ServiceError
from rxnats.msg import Msg
from rxnats.wire.subjects import is_valid_publish_subject

__all__ = ["DEFAULT_DISCOVERY_TIMEOUT", "ServiceClient"]

log: logging.Logger = logging.getLogger("rxnats.micro")

DEFAULT_DISCOVERY_TIMEOUT = 1.0
"""Seconds a discovery request collects answers, unless told otherwise."""

T = TypeVar("T")


class ServiceClient:
    """Discovers services on ``nc``: who is there (PING), what they offer (INFO), how
    they are doing (STATS).

    ``name`` narrows a request to the services of that name, ``name`` and ``id`` to
    one instance. ``timeout`` is how long answers are collected.
    """

    def __init__(
        self,
        nc: NATS,
        *,
        timeout: float = DEFAULT_DISCOVERY_TIMEOUT,
        prefix: str = DEFAULT_PREFIX,
    ) -> None:
        """Raises:
        BadTimeoutError: ``timeout`` is not positive.
        InvalidInputError: ``prefix`` is not a literal subject.
        """
        _check_timeout(timeout)
        if not isinstance(prefix, str) or not is_valid_publish_subject(prefix):
            raise InvalidInputError(f"invalid discovery prefix {prefix!r}")
        self._nc = nc
        self._timeout = timeout
        self._prefix = prefix

    # -- observables ---------------------------------------------------------------------
    def observe_ping(
        self, name: str | None = None, id: str | None = None, *, timeout: float | None = None
    ) -> Observable[ServicePing]:
        """Each instance's PING answer as it arrives; completes after ``timeout``.

        Cold: the request is sent when an observer subscribes (each observer sends its
        own).

        Raises:
            InvalidInputError: ``id`` without ``name``, or a name or id that is not a
                subject token.
            BadTimeoutError: ``timeout`` is not positive.
        """
        return self._observe(ServiceVerb.PING, name, id, timeout, ServicePing.from_dict)

    def observe_info(
        self, name: str | None = None, id: str | None = None, *, timeout: float | None = None
    ) -> Observable[ServiceInfo]:
        """Each instance's INFO answer as it arrives; completes after ``timeout``.

        Raises:
            InvalidInputError, BadTimeoutError: as :meth:`observe_ping`.
        """
        return self._observe(ServiceVerb.INFO, name, id, timeout, ServiceInfo.from_dict)

    def observe_stats(
        self, name: str | None = None, id: str | None = None, *, timeout: float | None = None
    ) -> Observable[ServiceStats]:
        """Each instance's STATS answer as it arrives; completes after ``timeout``.

        Raises:
            InvalidInputError, BadTimeoutError: as :meth:`observe_ping`.
        """
        return self._observe(ServiceVerb.STATS, name, id, timeout, ServiceStats.from_dict)

    # -- lists ---------------------------------------------------------------------------
    async def ping(
        self, name: str | None = None, id: str | None = None, *, timeout: float | None = None
    ) -> list[ServicePing]:
        """Every PING answer that arrived within ``timeout``, in arrival order.

        Raises:
            InvalidInputError, BadTimeoutError: as :meth:`observe_ping`.
            ConnectionClosedError: the client is closed.

        Cancelling it forgets the request.
        """
        return await _collect(self.observe_ping(name, id, timeout=timeout))

    async def info(
        self, name: str | None = None, id: str | None = None, *, timeout: float | None = None
    ) -> list[ServiceInfo]:
        """Every INFO answer that arrived within ``timeout``, in arrival order.

        Raises:
            InvalidInputError, BadTimeoutError, ConnectionClosedError: as :meth:`ping`.
        """
        return await _collect(self.observe_info(name, id, timeout=timeout))

    async def stats(
        self, name: str | None = None, id: str | None = None, *, timeout: float | None = None
    ) -> list[ServiceStats]:
        """Every STATS answer that arrived within ``timeout``, in arrival order.

        Raises:
            InvalidInputError, BadTimeoutError, ConnectionClosedError: as :meth:`ping`.
        """
        return await _collect(self.observe_stats(name, id, timeout=timeout))

    # -- the one implementation ------------------------------------------------------------
    def _observe(
        self,
        verb: ServiceVerb,
        name: str | None,
        id_: str | None,
        timeout: float | None,
        parse: Callable[[Mapping[str, object]], T],
    ) -> Observable[T]:
        wait = self._timeout if timeout is None else timeout
        _check_timeout(wait)
        subject = control_subject(verb, name, id_, prefix=self._prefix)

        def decode(msg: Msg) -> Observable[T]:
            error = ServiceError.from_msg(msg)
            if error is not None:
                log.warning(
                    "rxnats.micro: %s answered with an error: %r",
                    subject,
                    error,
                    extra={"rxnats_error": type(error).__name__, "rxnats_subject": subject},
                )
                return reactivex.empty()
            try:
                data = json.loads(msg.data)
                if not isinstance(data, Mapping):
                    raise InvalidInputError("not a JSON object")
                return reactivex.just(parse(data))
            except (ValueError, InvalidInputError) as exc:
                log.warning(
                    "rxnats.micro: skipping an invalid answer on %s: %s",
                    subject,
                    exc,
                    extra={"rxnats_error": type(exc).__name__, "rxnats_subject": subject},
                )
                return reactivex.empty()

        def no_one(error: Exception, _source: Observable[T]) -> Observable[T]:
            if isinstance(error, NoRespondersError):
                return reactivex.empty()
            return reactivex.throw(error)

        answers = self._nc.observe_request_many(
            subject, b"", timeout=wait, max_count=1 if id_ else 0
        )
        return answers.pipe(ops.concat_map(decode), ops.catch(no_one))

    def __repr__(self) -> str:
        return f"<ServiceClient prefix={self._prefix!r} timeout={self._timeout}>"


def _check_timeout(timeout: object) -> None:
    if (
        not isinstance(timeout, int | float)
        or isinstance(timeout, bool)
        or not timeout > 0
    ):
        raise BadTimeoutError(f"discovery timeout must be positive, not {timeout!r}")


async def _collect(source: Observable[T]) -> list[T]:
    """Subscribe to ``source`` and return its items once it completes; cancelling disposes it."""
    done: asyncio.Future[list[T]] = asyncio.get_running_loop().create_future()
    items: list[T] = []

    def on_error(error: Exception) -> None:
        if not done.done():
            done.set_exception(error)

    def on_completed() -> None:
        if not done.done():
            done.set_result(items)

    subscription = source.subscribe(items.append, on_error, on_completed)
    try:
        return await done
    finally:
        subscription.dispose()
