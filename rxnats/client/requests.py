"""The request multiplexer: every new-style request of a client shares one inbox subscription.

A request publishes with a reply subject ``<inbox prefix>.<random>.<token>`` and waits for
the future registered under ``token``. The wildcard subscription ``<inbox prefix>.<random>.*``
is made on the first request (and again if it ended); each reply that arrives resolves
the future of its token, once: a late or unknown reply is dropped. A reply with an
empty payload and a 503 status is "no responders"; one whose header block is malformed
fails only its own request.

Timeouts are the multiplexer's too: one timer for all the requests, at the earliest
deadline, rather than one per request (asyncio keeps its timers in a heap whose entries
compare in Python: with many requests in flight that heap was a good part of a round
trip). Deadlines wait in a heap of ``(deadline, token)`` tuples; an answered request's
entry is dropped when it reaches the top, and the heap is rebuilt from the live ones
whenever it holds more than twice as many entries as requests are waiting, so its size
stays proportional to the requests in flight. An expired request's future fails with a
builtin :class:`TimeoutError` (the client words the error the caller sees).

Tokens are a sequence with a random start and a random step, in hex: as unique and as
(un)guessable as NUID sequences, the random part being the inbox's.
"""

from __future__ import annotations

import asyncio
import builtins
import secrets
from collections.abc import Callable
from heapq import heapify, heappop, heappush

from rxnats.contract import ObservedSubscription
from rxnats.errors import MalformedHeadersError, NoRespondersError
from rxnats.msg import Msg
from rxnats.wire.headers import HeadersInput

__all__ = ["RequestMux"]

#: Subscribes ``subject`` with a handler the reader calls for each message.
DirectSubscribe = Callable[[str, Callable[[Msg], None]], ObservedSubscription]
#: Validates and encodes a PUB/HPUB: ``(subject, payload, reply, headers) -> bytes``.
Encode = Callable[[str, bytes, str, HeadersInput | None], bytes]

_MAX_STEP = 333
_SLACK = 64  # heap entries tolerated beyond twice the requests waiting


class RequestMux:
    """The futures of a client's outstanding new-style requests (see the module docstring)."""

    __slots__ = (
        "_deadlines",
        "_encode",
        "_futures",
        "_new_inbox",
        "_prefix",
        "_seq",
        "_step",
        "_sub",
        "_subscribe",
        "_timer",
        "_timer_at",
    )

    def __init__(
        self,
        *,
        new_inbox: Callable[[], str],
        subscribe: DirectSubscribe,
        encode: Encode,
    ) -> None:
        self._new_inbox = new_inbox
        self._subscribe = subscribe
        self._encode = encode
        self._sub: ObservedSubscription | None = None
        self._prefix = ""
        self._futures: dict[str, asyncio.Future[Msg]] = {}
        self._seq = secrets.randbelow(1 << 48)
        self._step = 1 + secrets.randbelow(_MAX_STEP)
        self._deadlines: list[tuple[float, str]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0

    def __len__(self) -> int:
        """The requests waiting for their reply."""
        return len(self._futures)

    @property
    def subscription(self) -> ObservedSubscription | None:
        """The inbox subscription replies arrive on (None before the first request)."""
        return self._sub

    def start(
        self, subject: str, payload: bytes, headers: HeadersInput | None, timeout: float
    ) -> tuple[bytes, str, asyncio.Future[Msg]]:
        """Begin a request: encode its PUB (with the reply subject); return it, its token
        and the future its reply resolves, or that fails with a builtin
        :class:`TimeoutError` ``timeout`` seconds from now.

        The PUB is encoded (validated) before anything is subscribed or registered, so a
        request the encoder refuses (it raises) leaves nothing behind. The caller sends
        the PUB, awaits the future and calls :meth:`forget` with the token whatever
        happens.
        """
        sub = self._sub
        need_sub = sub is None or sub.is_closed
        prefix = f"{self._new_inbox()}." if need_sub else self._prefix
        self._seq = seq = self._seq + self._step
        token = f"{seq:x}"
        data = self._encode(subject, payload, prefix + token, headers)
        if need_sub:
            self._prefix = prefix
            self._sub = self._subscribe(f"{prefix}*", self._on_response)
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Msg] = loop.create_future()
        futures = self._futures
        futures[token] = fut
        deadline = loop.time() + timeout
        heap = self._deadlines
        heappush(heap, (deadline, token))
        if len(heap) > 2 * len(futures) + _SLACK:
            heap[:] = [entry for entry in heap if entry[1] in futures]
            heapify(heap)
        if self._timer is None or deadline < self._timer_at:
            self._arm(loop, deadline)
        return data, token, fut

    def forget(self, token: str) -> None:
        """The request is over (answered, timed out or cancelled): drop its future."""
        self._futures.pop(token, None)

    def fail_all(self, error: Exception) -> None:
        """Fail every waiting request with ``error`` (the client closed)."""
        for fut in self._futures.values():
            if not fut.done():
                fut.set_exception(error)
        self._futures.clear()
        self._deadlines.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _arm(self, loop: asyncio.AbstractEventLoop, deadline: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = loop.call_at(deadline, self._expire, loop, deadline)
        self._timer_at = deadline

    def _expire(self, loop: asyncio.AbstractEventLoop, due: float) -> None:
        self._timer = None
        heap = self._deadlines
        futures = self._futures
        # The timer for ``due`` fired: that deadline counts as reached even if the loop's
        # clock reads a hair earlier (uvloop's is in milliseconds), as asyncio.timeout's
        # own callback would.
        now = max(loop.time(), due)
        while heap:
            deadline, token = heap[0]
            fut = futures.get(token)
            if fut is not None and not fut.done():
                if deadline > now:
                    self._arm(loop, deadline)
                    return
                fut.set_exception(builtins.TimeoutError())
            heappop(heap)  # expired, answered or forgotten

    def _on_response(self, msg: Msg) -> None:
        fut = self._futures.pop(msg.subject[len(self._prefix) :], None)
        if fut is None or fut.done():
            return
        if not msg.data:
            # A status reply (503: no responders). Its block came from whoever answered:
            # a malformed one fails this request alone.
            try:
                status = msg.status
            except MalformedHeadersError as exc:
                fut.set_exception(exc)
                return
            if status == 503:
                fut.set_exception(NoRespondersError())
                return
        fut.set_result(msg)
