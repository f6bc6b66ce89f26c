"""A request received by an endpoint, how it is answered, and how errors are reported.

ADR-32's error convention: an error response carries the headers
``Nats-Service-Error`` (a description a user may see) and ``Nats-Service-Error-Code``
(a code that is always safe to parse as a number). :meth:`Request.respond_error` sets
both; :meth:`ServiceError.from_msg` reads them back on the requesting side. A handler
may also raise :class:`ServiceError` to answer with its code and description.

Every answer goes through the request, so the endpoint's statistics stay right: an
error response counts one error (at most one per request) and becomes ``last_error``
as ``"<code>:<description>"``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from rxnats.errors import Error, InvalidInputError
from rxnats.msg import Msg
from rxnats.wire.headers import Headers, HeadersInput

__all__ = [
    "ERROR_CODE_HEADER",
    "ERROR_HEADER",
    "Handler",
    "Reply",
    "Request",
    "ServiceError",
]

ERROR_HEADER = "Nats-Service-Error"
"""The header holding an error response's description."""

ERROR_CODE_HEADER = "Nats-Service-Error-Code"
"""The header holding an error response's numeric code."""

_CODE = re.compile(r"-?[0-9]+")
_MAX_ERROR_TEXT = 1024  # an exception's text sent as a header value is cut to this length


class ServiceError(Error):
    """An error a service answers with: a numeric ``code`` and a ``description``.

    Raise it in a handler to answer with that code and description (any other
    exception answers ``500`` with the exception's text). On the requesting side,
    :meth:`from_msg` turns an error response back into one.
    """

    def __init__(self, code: str | int, description: str) -> None:
        self.code: str = str(code)
        self.description = description
        super().__init__(f"{self.code}:{description}")

    def __repr__(self) -> str:
        return f"{self.code}:{self.description}"

    def to_dict(self) -> dict[str, str]:
        """``{"code": ..., "description": ...}``."""
        return {"code": self.code, "description": self.description}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> ServiceError:
        """Read ``{"code": ..., "description": ...}`` (missing fields are ``""``)."""
        return cls(code=str(data.get("code", "")), description=str(data.get("description", "")))

    @classmethod
    def from_msg(cls, msg: Msg) -> ServiceError | None:
        """The error a response carries in its ADR-32 headers, or ``None`` for a success."""
        headers = msg.headers
        if headers is None:
            return None
        code = headers.get(ERROR_CODE_HEADER)
        description = headers.get(ERROR_HEADER)
        if code is None and description is None:
            return None
        return cls(code or "", description or "")


def check_error_code(code: object) -> str:
    """``code`` as the header's text.

    Raises:
        InvalidInputError: it is not an int or a string of digits (ADR-32: "always safe
            to parse as a number").
    """
    if isinstance(code, int) and not isinstance(code, bool):
        return str(code)
    if isinstance(code, str) and _CODE.fullmatch(code) is not None:
        return code
    raise InvalidInputError(f"a service error code must be a number (an int or digits), not {code!r}")


def check_description(description: object) -> str:
    """Raises :class:`InvalidInputError` unless ``description`` fits in a header value."""
    if not isinstance(description, str) or not description.strip():
        raise InvalidInputError(f"a service error needs a non-empty description, not {description!r}")
    if "\r" in description or "\n" in description:
        raise InvalidInputError("a service error description cannot contain CR or LF")
    return description


def exception_text(exc: BaseException) -> str:
    """An exception's text as a header value: one line, at most 1024 characters."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:_MAX_ERROR_TEXT]


def _error_headers(
    headers: HeadersInput | None, code: str, description: str
) -> dict[str, str | Sequence[str]]:
    merged: dict[str, str | Sequence[str]] = {}
    reserved = (ERROR_HEADER.lower(), ERROR_CODE_HEADER.lower())
    if headers is not None:
        for key, value in headers.items():
            if key.lower() not in reserved:
                merged[key] = value
    merged[ERROR_HEADER] = description
    merged[ERROR_CODE_HEADER] = code
    return merged


class Counters:
    """An endpoint's statistics while it runs (nanoseconds for times)."""

    __slots__ = ("last_error", "num_errors", "num_requests", "processing_time")

    def __init__(self) -> None:
        self.num_requests: int = 0
        self.num_errors: int = 0
        self.processing_time: int = 0
        self.last_error: str = ""

    def reset(self) -> None:
        self.num_requests = 0
        self.num_errors = 0
        self.processing_time = 0
        self.last_error = ""

    @property
    def average_processing_time(self) -> int:
        return self.processing_time // self.num_requests if self.num_requests else 0


class Request:
    """A request to an endpoint: its subject, headers and data, and how to answer it.

    ``respond``/``respond_error`` wait only while the socket is full (as
    :meth:`rxnats.Msg.respond`); the ``_nowait`` forms never wait, for plain-function
    handlers and Rx observers. Answering twice sends two replies (the requester keeps
    the first); :attr:`responded` tells whether an answer went out.
    """

    __slots__ = ("_counters", "_error_noted", "_msg", "_responded", "_since")

    def __init__(self, msg: Msg) -> None:
        self._msg = msg
        self._counters: Counters | None = None
        self._since: int | None = None
        self._responded = False
        self._error_noted = False

    @classmethod
    def _tracked(cls, msg: Msg, counters: Counters, *, timed: bool) -> Request:
        """A request that counts in ``counters``; ``timed``: its processing time runs
        from now until the first answer (for requests handed to observers)."""
        request = cls(msg)
        request._counters = counters
        request._since = time.perf_counter_ns() if timed else None
        return request

    @property
    def subject(self) -> str:
        """The subject the request was sent to."""
        return self._msg.subject

    @property
    def reply(self) -> str:
        """The subject the answer goes to (``""`` when the sender expects none)."""
        return self._msg.reply

    @property
    def headers(self) -> Headers | None:
        """The request's headers, or ``None``."""
        return self._msg.headers

    @property
    def data(self) -> bytes:
        """The request's payload."""
        return self._msg.data

    @property
    def msg(self) -> Msg:
        """The underlying message."""
        return self._msg

    @property
    def responded(self) -> bool:
        """Whether an answer (success or error) was sent."""
        return self._responded

    async def respond(self, data: bytes = b"", headers: HeadersInput | None = None) -> None:
        """Send ``data`` (and ``headers``) as the answer.

        Raises:
            InvalidInputError: the request has no reply subject.
            plus what :meth:`rxnats.Msg.respond` raises (a closed client, bad headers).

        Cancelling it while the socket is full leaves the answer buffered.
        """
        self._check_reply()
        await self._msg.respond(data, headers)
        self._answered()

    def respond_nowait(self, data: bytes = b"", headers: HeadersInput | None = None) -> None:
        """Send ``data`` (and ``headers``) as the answer without awaiting anything.

        Raises:
            InvalidInputError: the request has no reply subject.
            plus what :meth:`rxnats.Msg.respond_nowait` raises.
        """
        self._check_reply()
        self._msg.respond_nowait(data, headers)
        self._answered()

    async def respond_error(
        self,
        code: str | int,
        description: str,
        data: bytes = b"",
        headers: HeadersInput | None = None,
    ) -> None:
        """Answer with an ADR-32 error: ``Nats-Service-Error: description`` and
        ``Nats-Service-Error-Code: code`` added to ``headers``; counts as an error.

        Raises:
            InvalidInputError: ``code`` is not a number, ``description`` is empty or has
                CR/LF, or the request has no reply subject.
            plus what :meth:`rxnats.Msg.respond` raises.

        Cancelling it while the socket is full leaves the answer buffered.
        """
        code_text, merged = self._error_reply(code, description, headers)
        await self._msg.respond(data, merged)
        self._answered()
        self._note_error(f"{code_text}:{description}")

    def respond_error_nowait(
        self,
        code: str | int,
        description: str,
        data: bytes = b"",
        headers: HeadersInput | None = None,
    ) -> None:
        """:meth:`respond_error` without awaiting anything.

        Raises:
            InvalidInputError: as :meth:`respond_error`.
            plus what :meth:`rxnats.Msg.respond_nowait` raises.
        """
        code_text, merged = self._error_reply(code, description, headers)
        self._msg.respond_nowait(data, merged)
        self._answered()
        self._note_error(f"{code_text}:{description}")

    def _note_error(self, text: str) -> None:
        """Record ``text`` as the endpoint's last error; count one error per request."""
        counters = self._counters
        if counters is None:
            return
        counters.last_error = text
        if not self._error_noted:
            self._error_noted = True
            counters.num_errors += 1

    def _error_reply(
        self, code: str | int, description: str, headers: HeadersInput | None
    ) -> tuple[str, dict[str, str | Sequence[str]]]:
        code_text = check_error_code(code)
        check_description(description)
        self._check_reply()
        return code_text, _error_headers(headers, code_text, description)

    def _check_reply(self) -> None:
        if not self._msg.reply:
            raise InvalidInputError(
                f"the request on {self._msg.subject!r} has no reply subject: it cannot be answered"
            )

    def _answered(self) -> None:
        if self._responded:
            return
        self._responded = True
        since = self._since
        if since is not None and self._counters is not None:
            self._counters.processing_time += time.perf_counter_ns() - since

    def __repr__(self) -> str:
        return f"<Request subject={self.subject!r} data={self.data[:64]!r}>"


Handler: TypeAlias = Callable[[Request], Awaitable[None] | None]
"""An endpoint's request handler: a plain function or a coroutine function."""


@dataclass(frozen=True, slots=True)
class Reply:
    """An answer to a request, as a value: what an Rx pipeline maps requests to.

    ``Reply(request, data)`` answers with ``data``; ``Reply(request,
    error=ServiceError(404, "not found"))`` answers with an ADR-32 error. :meth:`send`
    sends it (``subscribe(Reply.send)`` at the end of a pipeline).
    """

    request: Request
    data: bytes = b""
    headers: HeadersInput | None = None
    error: ServiceError | None = None

    def send(self) -> None:
        """Send the answer now (never waits).

        Raises:
            InvalidInputError: what :meth:`Request.respond_nowait` and
                :meth:`Request.respond_error_nowait` raise, and the errors of a closed client.
        """
        if self.error is None:
            self.request.respond_nowait(self.data, self.headers)
        else:
            self.request.respond_error_nowait(
                self.error.code, self.error.description, self.data, self.headers
            )
