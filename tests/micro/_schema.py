"""ADR-32's discovery responses, checked field by field.

The rules are those of the micro v1 JSON schemas (``io.nats.micro.v1.ping_response``,
``info_response``, ``stats_response``, published with the NATS tooling) plus the fields
ADR-32's text gives every response. ``violations(kind, doc)`` lists every rule a
decoded response breaks, so a test can assert there are none (rxnats) or exactly the
known ones (a peer).

- every response: ``type`` (the constant of its kind), ``name`` (``^[a-zA-Z0-9_-]+$``),
  ``id`` (non-empty), ``version`` (semver, at least 5 characters) required; ``metadata``
  an object of strings or null.
- INFO: ``description`` (a string) required; ``endpoints`` an array of objects with
  ``name`` (the name pattern) and ``subject`` (non-empty) required, ``queue_group`` a
  string, ``metadata`` an object of strings or null.
- STATS: ``started`` (an RFC 3339 date-time) and ``endpoints`` required; each endpoint
  has ``name``, ``subject``, ``num_requests``, ``num_errors``, ``last_error`` (a string),
  ``processing_time`` and ``average_processing_time`` (64-bit integers, nanoseconds);
  ``queue_group`` a string; ``data`` anything.

``strict=True`` adds what ADR-32's text lists and rxnats always writes: ``metadata`` in
every response, ``queue_group`` and ``metadata`` in every INFO endpoint,
``queue_group`` in every STATS endpoint, and no field beyond those.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

TYPES = {
    "ping": "io.nats.micro.v1.ping_response",
    "info": "io.nats.micro.v1.info_response",
    "stats": "io.nats.micro.v1.stats_response",
}

_NAME = re.compile(r"^[a-zA-Z0-9_-]+$")
_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$"
)
_INT64 = 2**63 - 1

_IDENTITY = ("type", "name", "id", "version", "metadata")
_KEYS = {
    "ping": set(_IDENTITY),
    "info": {*_IDENTITY, "description", "endpoints"},
    "stats": {*_IDENTITY, "started", "endpoints"},
}
_INFO_ENDPOINT_KEYS = {"name", "subject", "queue_group", "metadata"}
_STATS_ENDPOINT_KEYS = {
    "name",
    "subject",
    "queue_group",
    "num_requests",
    "num_errors",
    "last_error",
    "processing_time",
    "average_processing_time",
    "data",
}


class _Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, where: str, what: str) -> None:
        self.problems.append(f"{where}: {what}")

    def required(self, doc: Mapping[str, object], where: str, keys: tuple[str, ...]) -> None:
        for key in keys:
            if key not in doc:
                self.fail(f"{where}.{key}", "missing")

    def string(
        self, doc: Mapping[str, object], where: str, key: str, *, min_length: int = 0,
        pattern: re.Pattern[str] | None = None,
    ) -> None:
        if key not in doc:
            return
        value = doc[key]
        if not isinstance(value, str):
            self.fail(f"{where}.{key}", f"{value!r} is not a string")
            return
        if len(value) < min_length:
            self.fail(f"{where}.{key}", f"{value!r} is shorter than {min_length}")
        if pattern is not None and pattern.match(value) is None:
            self.fail(f"{where}.{key}", f"{value!r} does not match {pattern.pattern}")

    def integer(self, doc: Mapping[str, object], where: str, key: str) -> None:
        if key not in doc:
            return
        value = doc[key]
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail(f"{where}.{key}", f"{value!r} is not an integer")
        elif not -_INT64 <= value <= _INT64:
            self.fail(f"{where}.{key}", f"{value!r} is outside a 64-bit integer")

    def metadata(self, doc: Mapping[str, object], where: str) -> None:
        if "metadata" not in doc or doc["metadata"] is None:
            return
        value = doc["metadata"]
        if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            self.fail(f"{where}.metadata", f"{value!r} is not an object of strings")

    def extra(self, doc: Mapping[str, object], where: str, allowed: set[str]) -> None:
        for key in sorted(set(doc) - allowed):
            self.fail(f"{where}.{key}", "is not an ADR-32 field")


def violations(kind: str, doc: object, *, strict: bool = False) -> list[str]:
    """Every rule of ADR-32 / the micro v1 schema of ``kind`` that ``doc`` breaks."""
    c = _Checker()
    if not isinstance(doc, Mapping):
        return [f"{kind}: {doc!r} is not an object"]
    c.required(doc, kind, ("type", "name", "id", "version"))
    if doc.get("type") != TYPES[kind]:
        c.fail(f"{kind}.type", f"{doc.get('type')!r} is not {TYPES[kind]!r}")
    c.string(doc, kind, "name", min_length=1, pattern=_NAME)
    c.string(doc, kind, "id", min_length=1)
    c.string(doc, kind, "version", min_length=5, pattern=_SEMVER)
    c.metadata(doc, kind)
    if strict:
        c.required(doc, kind, ("metadata",))
        if doc.get("metadata") is None and "metadata" in doc:
            c.fail(f"{kind}.metadata", "is null")
        c.extra(doc, kind, _KEYS[kind])
    if kind == "info":
        c.required(doc, kind, ("description",))
        c.string(doc, kind, "description")
        _endpoints(c, doc, kind, stats=False, strict=strict)
    elif kind == "stats":
        c.required(doc, kind, ("started", "endpoints"))
        c.string(doc, kind, "started", pattern=_RFC3339)
        _endpoints(c, doc, kind, stats=True, strict=strict)
    return c.problems


def _endpoints(c: _Checker, doc: Mapping[str, object], kind: str, *, stats: bool, strict: bool) -> None:
    if "endpoints" not in doc:
        return
    endpoints = doc["endpoints"]
    if not isinstance(endpoints, list):
        c.fail(f"{kind}.endpoints", f"{endpoints!r} is not an array")
        return
    for i, endpoint in enumerate(endpoints):
        where = f"{kind}.endpoints[{i}]"
        if not isinstance(endpoint, Mapping):
            c.fail(where, f"{endpoint!r} is not an object")
            continue
        c.required(endpoint, where, ("name", "subject"))
        c.string(endpoint, where, "name", min_length=1, pattern=_NAME)
        c.string(endpoint, where, "subject", min_length=1)
        c.string(endpoint, where, "queue_group")
        if stats:
            c.required(
                endpoint,
                where,
                (
                    "num_requests",
                    "num_errors",
                    "last_error",
                    "processing_time",
                    "average_processing_time",
                ),
            )
            for key in ("num_requests", "num_errors", "processing_time", "average_processing_time"):
                c.integer(endpoint, where, key)
            c.string(endpoint, where, "last_error")
            if strict:
                c.required(endpoint, where, ("queue_group",))
                c.extra(endpoint, where, _STATS_ENDPOINT_KEYS)
        else:
            c.metadata(endpoint, where)
            if strict:
                c.required(endpoint, where, ("queue_group", "metadata"))
                c.extra(endpoint, where, _INFO_ENDPOINT_KEYS)
