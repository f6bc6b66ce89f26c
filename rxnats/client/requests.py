"""The request multiplexer: every new-style request of a client shares one inbox subscription.

A request publishes with a reply subject ``<inbox prefix>.<random>.<token>`` and waits for
the future registered under ``token``. The wildcard subscription ``<inbox prefix>.<random>.*``
is made on the first request (and again if it ended); each reply that arrives resolves
the future of its token, once: a late or unknown reply is dropped. A reply with an
empty payload and a 503 status is "no responders"; one whose header block is malformed
fails only its own request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from rxnats.contract import ObservedSubscription
from rxnats.errors import MalformedHeadersError, NoRespondersError
from rxnats.msg import Msg
from rxnats.nuid import TextNUID
from rxnats.wire.headers import HeadersInput

__all__ = ["RequestMux"]

#: Subscribes ``subject`` with a handler the reader calls for each message.
DirectSubscribe = Callable[[str, Callable[[Msg], None]], ObservedSubscription]
#: Validates and encodes a PUB/HPUB: ``(subject, payload, reply, headers) -> bytes``.
Encode = Callable[[str, bytes, str, HeadersInput | None], bytes]


class RequestMux:
    """The futures of a client's outstanding new-style requests (see the module docstring)."""

    __slots__ = ("_encode", "_futures", "_new_inbox", "_nuid", "_prefix", "_sub", "_subscribe")

    def __init__(
        self,
        *,
        new_inbox: Callable[[], str],
        nuid: TextNUID,
        subscribe: DirectSubscribe,
        encode: Encode,
    ) -> None:
        self._new_inbox = new_inbox
        self._nuid = nuid
        self._subscribe = subscribe
        self._encode = encode
        self._sub: ObservedSubscription | None = None
        self._prefix = ""
        self._futures: dict[str, asyncio.Future[Msg]] = {}

    def __len__(self) -> int:
        """The requests waiting for their reply."""
        return len(self._futures)

    @property
    def subscription(self) -> ObservedSubscription | None:
        """The inbox subscription replies arrive on (None before the first request)."""
        return self._sub

    def start(
        self, subject: str, payload: bytes, headers: HeadersInput | None
    ) -> tuple[bytes, str, asyncio.Future[Msg]]:
        """Begin a request: encode its PUB (with the reply subject); return it, its token
        and the future its reply resolves.

        The PUB is encoded (validated) before anything is subscribed or registered, so a
        request the encoder refuses (it raises) leaves nothing behind. The caller sends
        the PUB, awaits the future and calls :meth:`forget` with the token whatever
        happens.
        """
        sub = self._sub
        need_sub = sub is None or sub.is_closed
        prefix = f"{self._new_inbox()}." if need_sub else self._prefix
        token = self._nuid.next()
        data = self._encode(subject, payload, prefix + token, headers)
        if need_sub:
            self._prefix = prefix
            self._sub = self._subscribe(f"{prefix}*", self._on_response)
        fut: asyncio.Future[Msg] = asyncio.get_running_loop().create_future()
        self._futures[token] = fut
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
