"""The JetStream API request helper: JSON over request/reply on ``$JS.API.>``.

One :class:`JSApi` per context/manager knows the API prefix (``$JS.API``, or
``$JS.<domain>.API`` for a domain) and the default timeout, sends a JSON request and
returns the decoded reply, raising the typed :class:`~rxnats.jetstream.errors.APIError`
the reply's ``error`` object names.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

from rxnats.errors import BadTimeoutError, NoRespondersError, ProtocolError
from rxnats.jetstream.errors import ServiceUnavailableError, api_error

if TYPE_CHECKING:
    from rxnats.contract import JetStreamClient

__all__ = ["DEFAULT_PREFIX", "JSApi", "api_prefix"]

DEFAULT_PREFIX = "$JS.API"

JSON = dict[str, object]
_DECODER = json.JSONDecoder()


def api_prefix(prefix: str = DEFAULT_PREFIX, domain: str | None = None) -> str:
    """The API subject prefix: ``$JS.<domain>.API`` when a domain is given, else ``prefix``."""
    if domain:
        return f"$JS.{domain}.API"
    return prefix.rstrip(".")


def decode_json(data: bytes) -> JSON:
    """Decode an API reply body.

    Raises:
        ProtocolError: the body is not a JSON object.
    """
    try:
        # UTF-8 is all the server sends: decoding it first spares json.loads its guess
        # at the encoding (a UnicodeDecodeError is a ValueError too).
        value = _DECODER.decode(data.decode())
    except ValueError as exc:
        raise ProtocolError(f"JetStream API reply is not JSON: {data[:64]!r}") from exc
    if not isinstance(value, dict):
        raise ProtocolError(f"JetStream API reply is not a JSON object: {data[:64]!r}")
    return value


def encode_json(payload: Mapping[str, object] | None) -> bytes:
    """Encode a request body (empty when ``payload`` is ``None``)."""
    if payload is None:
        return b""
    return json.dumps(payload, separators=(",", ":")).encode()


class JSApi:
    """Sends JetStream API requests for one client, prefix and default timeout."""

    __slots__ = ("nc", "prefix", "timeout")

    def __init__(self, nc: JetStreamClient, prefix: str, timeout: float) -> None:
        if timeout <= 0:
            raise BadTimeoutError(f"JetStream timeout must be positive, not {timeout!r}")
        self.nc: JetStreamClient = nc
        self.prefix: str = prefix
        self.timeout: float = timeout

    def subject(self, suffix: str) -> str:
        """The full API subject for ``suffix`` (e.g. ``STREAM.INFO.ORDERS``)."""
        return f"{self.prefix}.{suffix}"

    async def request(
        self,
        suffix: str,
        payload: Mapping[str, object] | None = None,
        *,
        timeout: float | None = None,
        stream: str | None = None,
    ) -> JSON:
        """Send an API request and return its decoded reply.

        Raises:
            APIError: (a subclass chosen by ``err_code``) the server refused.
            ServiceUnavailableError: nobody answers the API (JetStream not enabled).
            TimeoutError: no reply within ``timeout`` (default: the context's).
            ProtocolError: the reply is not a JSON object.

        Cancelling it abandons the request; the server may still act on it.
        """
        try:
            msg = await self.nc.request(
                self.subject(suffix), encode_json(payload), timeout=timeout or self.timeout
            )
        except NoRespondersError as exc:
            raise ServiceUnavailableError(
                f"no JetStream responders on {self.subject(suffix)!r}", code=503
            ) from exc
        reply = decode_json(msg.data)
        error = reply.get("error")
        if isinstance(error, Mapping):
            raise api_error(error, stream=stream)
        return reply
