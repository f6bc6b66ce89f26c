"""A received message."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rxnats.errors import Error
from rxnats.wire.headers import Headers, HeadersInput, decode_headers

if TYPE_CHECKING:
    from rxnats.client import NATS

__all__ = ["Msg"]


class Msg:
    """A message delivered to a subscription.

    ``headers`` is decoded on first access (a :class:`~rxnats.wire.headers.Headers`
    mapping, ``None`` when the message has none); ``status`` and ``description`` come from
    its ``NATS/1.0`` line, e.g. 503 for "no responders".
    """

    __slots__ = ("_client", "_headers", "_raw_headers", "data", "reply", "sid", "subject")

    def __init__(
        self,
        client: NATS | None = None,
        subject: str = "",
        reply: str = "",
        data: bytes = b"",
        sid: int = 0,
        raw_headers: bytes | None = None,
        *,
        headers: Headers | None = None,
    ) -> None:
        self._client = client
        self.subject = subject
        self.reply = reply
        self.data = data
        self.sid = sid
        self._raw_headers = raw_headers
        self._headers = headers

    @property
    def headers(self) -> Headers | None:
        """The message's headers, or ``None`` when it has none."""
        if self._headers is None and self._raw_headers is not None:
            self._headers = decode_headers(self._raw_headers)
        return self._headers

    @property
    def status(self) -> int | None:
        """The status code of the header line (e.g. 503), or ``None``."""
        headers = self.headers
        return headers.status if headers is not None else None

    @property
    def description(self) -> str:
        """The status description of the header line, or ``""``."""
        headers = self.headers
        return headers.description if headers is not None else ""

    async def respond(self, data: bytes = b"", headers: HeadersInput | None = None) -> None:
        """Publish ``data`` to this message's reply subject.

        Raises:
            Error: the message has no reply subject or no client.
            ConnectionClosedError: the client is closed.
        """
        if not self.reply:
            raise Error("message has no reply subject to respond to")
        if self._client is None:
            raise Error("message is not bound to a client")
        await self._client.publish(self.reply, data, headers=headers)

    def __repr__(self) -> str:
        data = self.data if len(self.data) <= 64 else self.data[:64] + b"..."
        reply = f" reply={self.reply!r}" if self.reply else ""
        return f"<Msg subject={self.subject!r}{reply} data={data!r}>"
