"""JetStreamManager: administration of streams, consumers and stored messages.

Every method is one (or, for listings, a few paged) JetStream API request(s). Methods
that take a configuration accept a config object, keyword fields, or both (keywords
override the object's fields), as nats-py does:
``await jsm.add_stream(name="ORDERS", subjects=["orders.*"])``.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal, TypeVar

from rxnats.errors import InvalidInputError, NoRespondersError
from rxnats.jetstream.api import JSApi, api_prefix, encode_json
from rxnats.jetstream.base import format_time, parse_time_or_none
from rxnats.jetstream.errors import APIError, MessageNotFoundError, NotFoundError
from rxnats.jetstream.models import (
    AccountInfo,
    ConsumerConfig,
    ConsumerInfo,
    ConsumerPause,
    ConsumerReset,
    RawStreamMsg,
    StreamConfig,
    StreamInfo,
    StreamsListIterator,
)
from rxnats.wire.headers import decode_headers
from rxnats.wire.subjects import is_valid_publish_subject

if TYPE_CHECKING:
    from rxnats.contract import JetStreamClient
    from rxnats.msg import Msg

__all__ = ["JetStreamManager"]


C = TypeVar("C", StreamConfig, ConsumerConfig)


def _merge(
    cls: type[C], config: C | None, params: Mapping[str, object]
) -> C:
    if config is None:
        config = cls()
    try:
        return config.evolve(**params)
    except TypeError as exc:
        raise InvalidInputError(f"unknown {cls.__name__} field: {exc}") from None


_BAD_NAME_CHARS = frozenset(".*> \t\r\n")


def _check_name(kind: str, name: str | None) -> str:
    if not name or not _BAD_NAME_CHARS.isdisjoint(name):
        raise InvalidInputError(f"invalid {kind} name {name!r}")
    return name


class JetStreamManager:
    """JetStream administration (``nc.jsm()``).

    Args:
        nc: the connected client.
        prefix: the API prefix (``$JS.API``), for imported APIs.
        domain: a JetStream domain; it makes the prefix ``$JS.<domain>.API``.
        timeout: the default time to wait for each API reply, in seconds.
    """

    def __init__(
        self,
        nc: JetStreamClient,
        *,
        prefix: str = "$JS.API",
        domain: str | None = None,
        timeout: float = 5.0,
    ) -> None:
        self._nc = nc
        self._prefix = api_prefix(prefix, domain)
        self._timeout = timeout
        self._api = JSApi(nc, self._prefix, timeout)

    # -------------------------------------------------------------- account
    async def account_info(self) -> AccountInfo:
        """The account's JetStream usage and limits.

        Raises:
            ServiceUnavailableError: JetStream is not enabled; plus :meth:`JSApi.request`'s.
        """
        return AccountInfo.from_response(await self._api.request("INFO"))

    # -------------------------------------------------------------- streams
    async def add_stream(
        self, config: StreamConfig | None = None, **params: object
    ) -> StreamInfo:
        """Create a stream from ``config`` and/or keyword fields; return its info.

        Creating a stream that exists with the same configuration succeeds.

        Raises:
            InvalidInputError: no valid name, or an unknown keyword.
            StreamNameAlreadyInUseError: it exists with another configuration.
            APIError: the server refused the configuration.
        """
        config = _merge(StreamConfig, config, params)
        name = _check_name("stream", config.name)
        resp = await self._api.request(f"STREAM.CREATE.{name}", config.as_request(), stream=name)
        return StreamInfo.from_response(resp)

    async def update_stream(
        self, config: StreamConfig | None = None, **params: object
    ) -> StreamInfo:
        """Change an existing stream's configuration; return its info.

        Raises:
            StreamNotFoundError: no such stream.
            APIError: the change is not allowed.
        """
        config = _merge(StreamConfig, config, params)
        name = _check_name("stream", config.name)
        resp = await self._api.request(f"STREAM.UPDATE.{name}", config.as_request(), stream=name)
        return StreamInfo.from_response(resp)

    async def delete_stream(self, name: str) -> bool:
        """Delete a stream and everything in it; return ``True`` on success.

        Raises:
            StreamNotFoundError: no such stream.
        """
        name = _check_name("stream", name)
        resp = await self._api.request(f"STREAM.DELETE.{name}", stream=name)
        return resp.get("success") is True

    async def stream_info(self, name: str, subjects_filter: str | None = None) -> StreamInfo:
        """A stream's configuration and state (with per-subject counts for ``subjects_filter``).

        Raises:
            StreamNotFoundError: no such stream.
        """
        name = _check_name("stream", name)
        payload = {"subjects_filter": subjects_filter} if subjects_filter else None
        resp = await self._api.request(f"STREAM.INFO.{name}", payload, stream=name)
        return StreamInfo.from_response(resp)

    async def streams_info(self, offset: int = 0) -> list[StreamInfo]:
        """Every stream's info, from ``offset`` (all pages are fetched)."""
        infos: list[StreamInfo] = []
        while True:
            resp = await self._api.request("STREAM.LIST", {"offset": offset + len(infos)})
            page = resp.get("streams")
            items = [StreamInfo.from_response(s) for s in page or () if isinstance(s, Mapping)] if isinstance(page, list) else []
            infos.extend(items)
            total = resp.get("total")
            if not items or not isinstance(total, int) or offset + len(infos) >= total:
                return infos

    async def streams_info_iterator(self, offset: int = 0) -> StreamsListIterator:
        """One page of stream infos from ``offset``, as an iterator (nats-py's)."""
        resp = await self._api.request("STREAM.LIST", {"offset": offset})
        page = resp.get("streams")
        items = [s for s in page if isinstance(s, Mapping)] if isinstance(page, list) else []
        total = resp.get("total")
        start = resp.get("offset")
        return StreamsListIterator(
            start if isinstance(start, int) else offset,
            total if isinstance(total, int) else len(items),
            items,
        )

    async def stream_names(self, subject: str | None = None) -> list[str]:
        """The names of every stream (only those capturing ``subject`` when given)."""
        names: list[str] = []
        while True:
            payload: dict[str, object] = {"offset": len(names)}
            if subject:
                payload["subject"] = subject
            resp = await self._api.request("STREAM.NAMES", payload)
            page = resp.get("streams")
            items = [s for s in page if isinstance(s, str)] if isinstance(page, list) else []
            names.extend(items)
            total = resp.get("total")
            if not items or not isinstance(total, int) or len(names) >= total:
                return names

    async def find_stream_name_by_subject(self, subject: str) -> str:
        """The name of the stream that captures ``subject``.

        Raises:
            NotFoundError: no stream captures it.
        """
        names = await self.stream_names(subject)
        if not names:
            raise NotFoundError(f"no stream captures subject {subject!r}", code=404)
        return names[0]

    async def purge_stream(
        self,
        name: str,
        seq: int | None = None,
        subject: str | None = None,
        keep: int | None = None,
    ) -> bool:
        """Remove messages from a stream; return ``True`` on success.

        Without options everything goes; ``subject`` limits it to one subject (wildcards
        allowed), ``seq`` removes everything below that sequence, ``keep`` keeps that many
        of the newest messages.

        Raises:
            StreamNotFoundError: no such stream.
        """
        name = _check_name("stream", name)
        payload: dict[str, object] = {}
        if seq is not None:
            payload["seq"] = seq
        if subject is not None:
            payload["filter"] = subject
        if keep is not None:
            payload["keep"] = keep
        resp = await self._api.request(f"STREAM.PURGE.{name}", payload or None, stream=name)
        return resp.get("success") is True

    # -------------------------------------------------------------- consumers
    async def add_consumer(
        self,
        stream: str,
        config: ConsumerConfig | None = None,
        timeout: float | None = None,
        **params: object,
    ) -> ConsumerInfo:
        """Create a consumer on ``stream``, or update it if it exists; return its info.

        Uses the ``CONSUMER.CREATE.<stream>.<name>[.<filter>]`` API of server 2.9+; a
        consumer with neither ``name`` nor ``durable_name`` is ephemeral and gets a
        server-chosen name. (The simplified API's ``create_consumer`` refuses to change
        an existing consumer, and its ``update_consumer`` to create one.)

        Raises:
            InvalidInputError: bad stream or consumer name, or an unknown keyword.
            StreamNotFoundError: no such stream.
            APIError: the server refused the configuration.
        """
        config = _merge(ConsumerConfig, config, params)
        return await self._create_consumer(stream, config, None, timeout)

    async def _create_consumer(
        self,
        stream: str,
        config: ConsumerConfig,
        action: Literal["create", "update"] | None,
        timeout: float | None,
    ) -> ConsumerInfo:
        """``CONSUMER.CREATE`` with ADR-37's ``action``: create only, update only, or both."""
        if action == "update" and not (config.name or config.durable_name):
            raise InvalidInputError("updating a consumer needs its name")
        stream = _check_name("stream", stream)
        name = config.name or config.durable_name
        if config.name and config.durable_name and config.name != config.durable_name:
            raise InvalidInputError("name and durable_name differ")
        request: dict[str, object] = {"stream_name": stream, "config": config.as_request()}
        if action is not None:
            request["action"] = action
        if name:
            _check_name("consumer", name)
            suffix = f"CONSUMER.CREATE.{stream}.{name}"
            # The filter may be appended to the API subject (server 2.9+), but only a
            # literal one: the request subject itself must be a valid publish subject.
            # A wildcard filter travels in the config alone, which the server accepts.
            literal = is_valid_publish_subject(config.filter_subject or "")
            if config.filter_subject and not config.filter_subjects and literal:
                suffix += f".{config.filter_subject}"
        else:
            suffix = f"CONSUMER.CREATE.{stream}"
        resp = await self._api.request(suffix, request, timeout=timeout, stream=stream)
        return ConsumerInfo.from_response(resp)

    async def delete_consumer(self, stream: str, consumer: str) -> bool:
        """Delete a consumer; return ``True`` on success.

        Raises:
            ConsumerNotFoundError / StreamNotFoundError: no such consumer or stream.
        """
        stream = _check_name("stream", stream)
        consumer = _check_name("consumer", consumer)
        resp = await self._api.request(f"CONSUMER.DELETE.{stream}.{consumer}", stream=stream)
        return resp.get("success") is True

    async def consumer_info(
        self, stream: str, consumer: str, timeout: float | None = None
    ) -> ConsumerInfo:
        """A consumer's configuration and progress.

        Raises:
            ConsumerNotFoundError / StreamNotFoundError: no such consumer or stream.
        """
        stream = _check_name("stream", stream)
        consumer = _check_name("consumer", consumer)
        resp = await self._api.request(
            f"CONSUMER.INFO.{stream}.{consumer}", timeout=timeout, stream=stream
        )
        return ConsumerInfo.from_response(resp)

    async def consumers_info(self, stream: str, offset: int | None = None) -> list[ConsumerInfo]:
        """Every consumer's info on ``stream`` (all pages are fetched).

        Raises:
            StreamNotFoundError: no such stream.
        """
        stream = _check_name("stream", stream)
        start = offset or 0
        infos: list[ConsumerInfo] = []
        while True:
            resp = await self._api.request(
                f"CONSUMER.LIST.{stream}", {"offset": start + len(infos)}, stream=stream
            )
            page = resp.get("consumers")
            items = [ConsumerInfo.from_response(c) for c in page if isinstance(c, Mapping)] if isinstance(page, list) else []
            infos.extend(items)
            total = resp.get("total")
            if not items or not isinstance(total, int) or start + len(infos) >= total:
                return infos

    async def consumer_names(self, stream: str) -> list[str]:
        """The names of every consumer of ``stream`` (all pages are fetched).

        Raises:
            StreamNotFoundError: no such stream.
        """
        stream = _check_name("stream", stream)
        names: list[str] = []
        while True:
            resp = await self._api.request(
                f"CONSUMER.NAMES.{stream}", {"offset": len(names)}, stream=stream
            )
            page = resp.get("consumers")
            items = [c for c in page if isinstance(c, str)] if isinstance(page, list) else []
            names.extend(items)
            total = resp.get("total")
            if not items or not isinstance(total, int) or len(names) >= total:
                return names

    async def pause_consumer(
        self,
        stream: str,
        consumer: str,
        pause_until: dt.datetime | str,
        timeout: float | None = None,
    ) -> ConsumerPause:
        """Stop deliveries of a consumer until ``pause_until`` (server 2.11+).

        ``pause_until`` is an aware ``datetime`` (a naive one is taken as UTC) or RFC 3339
        text, as nats-py takes it. Pull requests wait meanwhile; the consumer resumes by
        itself at that time, or with :meth:`resume_consumer`.

        Raises:
            ConsumerNotFoundError / StreamNotFoundError: no such consumer or stream.
        """
        stream = _check_name("stream", stream)
        consumer = _check_name("consumer", consumer)
        resp = await self._api.request(
            f"CONSUMER.PAUSE.{stream}.{consumer}",
            {"pause_until": format_time(pause_until)},
            timeout=timeout,
            stream=stream,
        )
        return ConsumerPause.from_response(resp)

    async def resume_consumer(
        self, stream: str, consumer: str, timeout: float | None = None
    ) -> ConsumerPause:
        """Resume a paused consumer now (server 2.11+).

        Raises:
            ConsumerNotFoundError / StreamNotFoundError: no such consumer or stream.
        """
        stream = _check_name("stream", stream)
        consumer = _check_name("consumer", consumer)
        resp = await self._api.request(
            f"CONSUMER.PAUSE.{stream}.{consumer}", None, timeout=timeout, stream=stream
        )
        return ConsumerPause.from_response(resp)

    async def reset_consumer(
        self,
        stream: str,
        consumer: str,
        seq: int | None = None,
        timeout: float | None = None,
    ) -> ConsumerReset:
        """Reset a consumer's delivery state (ADR-60, server 2.14+).

        Pending and redelivered counts are cleared; with ``seq`` the next message
        delivered is at or after stream sequence ``seq``, else redelivery resumes after
        the ack floor.

        Raises:
            ConsumerInvalidResetError: ``seq`` is outside what the deliver policy allows.
            ConsumerNotFoundError / StreamNotFoundError: no such consumer or stream.
        """
        stream = _check_name("stream", stream)
        consumer = _check_name("consumer", consumer)
        resp = await self._api.request(
            f"CONSUMER.RESET.{stream}.{consumer}",
            {"seq": seq} if seq else None,
            timeout=timeout,
            stream=stream,
        )
        return ConsumerReset.from_response(resp)

    async def unpin_consumer(
        self, stream: str, consumer: str, group: str, timeout: float | None = None
    ) -> bool:
        """Unpin the pinned client of priority group ``group`` (ADR-42, server 2.11+).

        The server then pins the next client that pulls; the old one gets a ``423``
        status on its next pull.

        Raises:
            ConsumerNotFoundError / StreamNotFoundError: no such consumer or stream.
            BadRequestError: the consumer has no such group.
        """
        stream = _check_name("stream", stream)
        consumer = _check_name("consumer", consumer)
        resp = await self._api.request(
            f"CONSUMER.UNPIN.{stream}.{consumer}",
            {"group": group},
            timeout=timeout,
            stream=stream,
        )
        return "error" not in resp

    # -------------------------------------------------------------- messages
    async def get_msg(
        self,
        stream_name: str,
        seq: int | None = None,
        subject: str | None = None,
        next: bool = False,  # nats-py names it so
        direct: bool = False,
    ) -> RawStreamMsg:
        """Read one stored message.

        By ``seq``; by ``subject`` alone (its last message); or with ``next=True`` the first
        message at or after ``seq`` on ``subject``. ``direct`` reads through the
        ``DIRECT.GET`` API (any replica answers; the stream needs ``allow_direct``).

        Raises:
            MessageNotFoundError: no such message.
            StreamNotFoundError: no such stream.
            InvalidInputError: neither ``seq`` nor ``subject``.
        """
        stream_name = _check_name("stream", stream_name)
        payload: dict[str, object] = {}
        if next:
            payload["seq"] = seq or 1
            if subject:
                payload["next_by_subj"] = subject
        elif seq is not None:
            payload["seq"] = seq
        elif subject:
            payload["last_by_subj"] = subject
        else:
            raise InvalidInputError("get_msg needs seq or subject")
        if direct:
            try:
                return await self._direct_get(stream_name, payload)
            except NoRespondersError:
                pass  # nobody serves direct gets: the regular API says why (e.g. no stream)
        resp = await self._api.request(f"STREAM.MSG.GET.{stream_name}", payload, stream=stream_name)
        raw = resp.get("message")
        if not isinstance(raw, Mapping):
            raise MessageNotFoundError(code=404, stream=stream_name)
        msg = RawStreamMsg.from_response(raw)
        msg.stream = stream_name
        data = raw.get("data")
        msg.data = base64.b64decode(data) if isinstance(data, str) else b""
        hdrs = raw.get("hdrs")
        if isinstance(hdrs, str) and hdrs:
            msg.hdrs = base64.b64decode(hdrs)
            msg.headers = dict(decode_headers(msg.hdrs))
        else:
            msg.hdrs = None
        return msg

    async def _direct_get(self, stream: str, payload: Mapping[str, object]) -> RawStreamMsg:
        last_by_subject = payload.get("last_by_subj")
        if len(payload) == 1 and isinstance(last_by_subject, str) and _literal(last_by_subject):
            # ADR-31: the last message of a literal subject is asked in the request's
            # subject, with no body for the client to encode and the server to decode
            # (a key-value get is one).
            api_subject = self._api.subject(f"DIRECT.GET.{stream}.{last_by_subject}")
            body = b""
        else:
            api_subject = self._api.subject(f"DIRECT.GET.{stream}")
            body = encode_json(payload)
        reply: Msg = await self._nc.request(api_subject, body, timeout=self._timeout)
        return raw_from_direct(reply, stream)

    async def get_last_msg(
        self, stream_name: str, subject: str, direct: bool = False
    ) -> RawStreamMsg:
        """The last message stored on ``subject``.

        Raises:
            MessageNotFoundError: none.
        """
        return await self.get_msg(stream_name, subject=subject, direct=direct)

    async def delete_msg(self, stream_name: str, seq: int) -> bool:
        """Delete the message at ``seq``; return ``True`` on success.

        Raises:
            MessageNotFoundError: no message at ``seq``.
        """
        stream_name = _check_name("stream", stream_name)
        resp = await self._api.request(
            f"STREAM.MSG.DELETE.{stream_name}", {"seq": seq}, stream=stream_name
        )
        return resp.get("success") is True


def _literal(subject: str) -> bool:
    """Whether ``subject`` has no wildcard token (``*`` or ``>``)."""
    return "*" not in subject and ">" not in subject


def raw_from_direct(reply: Msg, stream: str) -> RawStreamMsg:
    """Turn a ``DIRECT.GET`` reply into a :class:`RawStreamMsg`.

    Raises:
        MessageNotFoundError: the reply is a 404 status.
        APIError: another status (e.g. 408 or 400).
    """
    headers = reply.headers
    status = reply.status
    if status == 404:
        raise MessageNotFoundError(reply.description or "", code=404, stream=stream)
    if status is not None and status >= 300:
        raise APIError(reply.description or "", code=status, stream=stream)
    values: dict[str, str] = {}
    if headers is not None:
        for key, value in headers.multi_items():  # as dict(headers): a key's first value
            values.setdefault(key, value)
    seq_text = values.pop("Nats-Sequence", "0")
    subject = values.pop("Nats-Subject", "")
    ts = values.pop("Nats-Time-Stamp", None)
    values.pop("Nats-Stream", None)
    values.pop("Nats-Last-Sequence", None)
    values.pop("Nats-Num-Pending", None)
    return RawStreamMsg(
        subject=subject,
        seq=int(seq_text) if seq_text.isdigit() else 0,
        data=reply.data,
        headers=values or None,
        time=parse_time_or_none(ts),
        stream=stream,
    )

