"""The JSON codec under every JetStream model: typed fields that lose nothing on the way back.

A model is a dataclass deriving from :class:`Base`. :meth:`Base.from_response` builds it
from the server's JSON and :meth:`Base.as_request` turns it back into JSON for a request.
The round trip is lossless, which is what makes ``info = await js.stream_info(name);
await js.update_stream(info.config.evolve(description="x"))`` safe on any server:

- **Unknown keys are kept.** A key the model has no field for (a newer server's feature)
  goes into :attr:`Base.extra_fields` and is sent back unchanged.
- **Unchanged fields are sent back as they came.** Each decoded field remembers its wire
  value; while the field still holds what was decoded, that exact value is sent. So a
  timestamp keeps its nanoseconds (Python's ``datetime`` has microseconds), a duration its
  exact nanosecond count, an unknown enum string its spelling, and a ``null`` stays
  ``null``. A field the user changed is encoded afresh.
- **Absent stays absent.** A field the server left out is not added on the way back while
  it still holds its default, so ``false`` flags and default enums are not invented.

Conversions, as in nats-py: durations are seconds (``float``) in Python and nanoseconds on
the wire (fields made with :func:`duration`); timestamps are aware UTC ``datetime`` values
and RFC 3339 text on the wire; enums are their string values; nested models are objects.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Self

__all__ = [
    "NANOSECONDS",
    "Base",
    "duration",
    "format_time",
    "parse_time",
    "parse_time_or_none",
    "wire_name",
]

NANOSECONDS = 1_000_000_000

JSONValue = object


def duration(default: float | None = None) -> Any:
    """A field holding seconds in Python and integer nanoseconds on the wire."""
    return field(default=default, metadata={"ns": True})


def wire_name(name: str, default: object = None) -> Any:
    """A field whose JSON key differs from its Python name (``batch_id`` <-> ``batch``)."""
    return field(default=default, metadata={"json": name})


_RFC3339 = re.compile(
    r"^(\d{4}-\d\d-\d\d)[Tt ](\d\d:\d\d:\d\d)(?:\.(\d+))?([Zz]|[+-]\d\d:?\d\d)?$"
)

# What the server writes: UTC with "Z", up to nanoseconds.
_SERVER_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?Z"
)


def parse_time(text: str) -> dt.datetime:
    """Parse the server's RFC 3339 time (nanoseconds allowed) into an aware UTC ``datetime``.

    Digits past the sixth fractional one are dropped (Python keeps microseconds); a time
    without an offset is taken as UTC.

    Raises:
        ValueError: ``text`` is not an RFC 3339 time.
    """
    if _SERVER_TIME.fullmatch(text) is not None:
        # The server's own form, read in C: Python 3.11+ takes the "Z" and drops the
        # digits past the sixth, as the general path below does.
        return dt.datetime.fromisoformat(text)
    match = _RFC3339.match(text)
    if match is None:
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    day, clock, fraction, offset = match.groups()
    micros = (fraction or "")[:6].ljust(6, "0")
    zone = "+00:00" if offset is None or offset in ("Z", "z") else offset
    if len(zone) == 5:  # +hhmm
        zone = f"{zone[:3]}:{zone[3:]}"
    value = dt.datetime.fromisoformat(f"{day}T{clock}.{micros}{zone}")
    return value.astimezone(dt.UTC)


def parse_time_or_none(text: str | None) -> dt.datetime | None:
    """:func:`parse_time`, or ``None`` for no text or text that is not a time."""
    if not text:
        return None
    try:
        return parse_time(text.strip())
    except ValueError:
        return None


def format_time(value: dt.datetime | str) -> str:
    """RFC 3339 text for the server (UTC, ``Z``); a naive ``datetime`` is taken as UTC.

    A string is passed through unchanged, as nats-py does.
    """
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    value = value.astimezone(dt.UTC)
    if value.microsecond:
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------ field specs
_NS, _NS_LIST, _TIME, _ENUM, _MODEL, _MODEL_LIST, _MODEL_DICT, _PLAIN = range(8)


@dataclass(frozen=True, slots=True)
class _Spec:
    name: str  # the Python attribute
    key: str  # the JSON key
    kind: int
    enum: type[Enum] | None  # for _ENUM
    model: type[Base] | None  # for _MODEL, _MODEL_LIST, _MODEL_DICT
    default: object  # the dataclass default (dataclasses.MISSING when none)


def _strip_optional(tp: object) -> object:
    args = typing.get_args(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return tp


def _kind(tp: object, ns: bool) -> tuple[int, type[Enum] | None, type[Base] | None]:
    tp = _strip_optional(tp)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if ns:
        return (_NS_LIST if origin is list else _NS), None, None
    if isinstance(tp, type):
        if issubclass(tp, dt.datetime):
            return _TIME, None, None
        if issubclass(tp, Enum):
            return _ENUM, tp, None
        if issubclass(tp, Base):
            return _MODEL, None, tp
    if origin is list and args and isinstance(args[0], type) and issubclass(args[0], Base):
        return _MODEL_LIST, None, args[0]
    if (
        origin is dict
        and len(args) == 2
        and isinstance(args[1], type)
        and issubclass(args[1], Base)
    ):
        return _MODEL_DICT, None, args[1]
    return _PLAIN, None, None


_SPECS: dict[type, tuple[_Spec, ...]] = {}
_BY_KEY: dict[type, dict[str, _Spec]] = {}
_HIDDEN = frozenset({"extra_fields", "_wire"})
# JSON values that decode to themselves in a plain field and need no snapshot copy.
_SCALARS = frozenset({str, int, float, bool, type(None)})


def _by_key(cls: type[Base]) -> dict[str, _Spec]:
    by_key = _BY_KEY.get(cls)
    if by_key is None:
        by_key = _BY_KEY[cls] = {spec.key: spec for spec in _specs(cls)}
    return by_key


def _specs(cls: type[Base]) -> tuple[_Spec, ...]:
    specs = _SPECS.get(cls)
    if specs is None:
        hints = typing.get_type_hints(cls)
        out = []
        for f in dataclasses.fields(cls):
            if f.name in _HIDDEN or not f.init:
                continue
            kind, enum, model = _kind(hints[f.name], bool(f.metadata.get("ns")))
            if f.default is not dataclasses.MISSING:
                default: object = f.default
            elif f.default_factory is not dataclasses.MISSING:
                default = f.default_factory()
            else:
                default = dataclasses.MISSING
            key = f.metadata.get("json", f.name)
            out.append(_Spec(f.name, key, kind, enum, model, default))
        specs = _SPECS[cls] = tuple(out)
    return specs


def _seconds(value: object) -> object:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value / NANOSECONDS
    return value


def _nanos(value: object) -> object:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return round(value * NANOSECONDS)
    return value


def _decode(spec: _Spec, value: object) -> object:
    """The Python value of a wire value; anything unexpected is kept as it came."""
    if value is None:
        return None
    kind = spec.kind
    if kind == _NS:
        return _seconds(value)
    if kind == _NS_LIST:
        return [_seconds(v) for v in value] if isinstance(value, list) else value
    if kind == _TIME:
        if isinstance(value, str):
            try:
                return parse_time(value)
            except ValueError:
                return value
        return value
    if spec.enum is not None:
        try:
            return spec.enum(value)
        except ValueError:
            return value  # a value this client does not know yet
    model = spec.model
    if model is None:
        return value
    if kind == _MODEL:
        return model.from_response(value) if isinstance(value, Mapping) else value
    if kind == _MODEL_LIST:
        if not isinstance(value, list):
            return value
        return [model.from_response(v) if isinstance(v, Mapping) else v for v in value]
    if not isinstance(value, Mapping):
        return value
    return {k: model.from_response(v) if isinstance(v, Mapping) else v for k, v in value.items()}


def _encode(spec: _Spec, value: object) -> object:
    kind = spec.kind
    if isinstance(value, Base):
        return value.as_request()
    if kind == _NS:
        return _nanos(value)
    if kind == _NS_LIST and isinstance(value, list):
        return [_nanos(v) for v in value]
    if kind == _TIME and isinstance(value, dt.datetime):
        return format_time(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [v.as_request() if isinstance(v, Base) else v for v in value]
    if isinstance(value, dict) and kind == _MODEL_DICT:
        return {k: v.as_request() if isinstance(v, Base) else v for k, v in value.items()}
    return value


def _snapshot(value: object) -> object:
    """What a decoded value is compared with later to tell whether the user changed it."""
    if isinstance(value, list | dict):
        return copy.deepcopy(value)
    return value


def _unchanged(current: object, decoded: object) -> bool:
    if current is decoded:
        return not isinstance(current, list | dict)  # a container may have been mutated
    return type(current) is type(decoded) and current == decoded


@dataclass
class Base:
    """Conversion between a model and the server's JSON (see the module docs).

    Attributes:
        extra_fields: the JSON keys this model has no field for, with their values as
            the server sent them; they go back unchanged in :meth:`as_request`.
    """

    extra_fields: dict[str, object] = field(
        default_factory=dict, kw_only=True, repr=False
    )
    # field name -> (the value as decoded, the wire value it came from); None when the
    # model was built in Python rather than decoded.
    _wire: dict[str, tuple[object, object]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @classmethod
    def from_response(cls, resp: Mapping[str, object]) -> Self:
        """Build the model from a decoded JSON object; unknown keys go to ``extra_fields``.

        The mapping is not modified.
        """
        # One pass over the reply (not over the model's fields): acks and KV entries
        # are decoded once per message, so this is on the JetStream hot paths.
        by_key = _BY_KEY.get(cls) or _by_key(cls)
        kwargs: dict[str, object] = {}
        wire: dict[str, tuple[object, object]] = {}
        extra: dict[str, object] = {}
        for key, raw in resp.items():
            spec = by_key.get(key)
            if spec is None:
                extra[key] = raw if type(raw) in _SCALARS else copy.deepcopy(raw)
                continue
            name = spec.name
            if spec.kind == _PLAIN and type(raw) in _SCALARS:
                kwargs[name] = raw
                wire[name] = (raw, raw)
                continue
            value = _decode(spec, raw)
            kwargs[name] = value
            if spec.kind not in (_MODEL, _MODEL_LIST, _MODEL_DICT) or raw is None:
                wire[name] = (_snapshot(value), raw)
            else:
                wire[name] = (_MODEL_MARK, raw)
        model = cls(**kwargs, extra_fields=extra)
        model._wire = wire
        return model

    def as_request(self) -> dict[str, object]:
        """The model as a JSON-ready dict (see the module docs for what is left out)."""
        out: dict[str, object] = {}
        wire = self._wire
        for spec in _specs(type(self)):
            value = getattr(self, spec.name)
            memo = wire.get(spec.name) if wire is not None else None
            if memo is not None:
                decoded, raw = memo
                if decoded is not _MODEL_MARK and _unchanged(value, decoded):
                    out[spec.key] = copy.deepcopy(raw)
                    continue
            if value is None:
                continue
            if memo is None:
                if value is False:
                    continue  # the server reads an absent flag as false
                if wire is not None and _unchanged(value, spec.default):
                    continue  # absent on the wire and still the default
            out[spec.key] = _encode(spec, value)
        for key, value in self.extra_fields.items():
            out.setdefault(key, copy.deepcopy(value))
        return out

    def as_dict(self) -> dict[str, object]:
        """nats-py's name for :meth:`as_request`."""
        return self.as_request()

    def evolve(self, **params: object) -> Self:
        """A copy with ``params`` replacing fields (nats-py's ``evolve``).

        Fields not replaced, unknown keys included, are sent back as they came.

        Raises:
            TypeError: a parameter is not a field of the model.
        """
        new = dataclasses.replace(self, **params)  # type: ignore[arg-type]  # checked at run time
        new.extra_fields = copy.deepcopy(self.extra_fields)
        new._wire = dict(self._wire) if self._wire is not None else None
        return new


class _ModelMark:
    """Stands for a nested model in the wire memo: nested models encode themselves."""

    def __repr__(self) -> str:
        return "<nested model>"


_MODEL_MARK = _ModelMark()
