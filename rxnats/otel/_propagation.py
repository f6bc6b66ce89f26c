"""Trace context in NATS headers: inject into a copy of the user's headers, extract on receipt.

The configured (global) propagator decides the fields: W3C ``traceparent`` and
``tracestate`` by default, plus ``baggage``. Injection never mutates the mapping the user
passed, and never overwrites a field the user set: a ``traceparent`` already in the
headers is the user's own creation context, kept as it is (the send span links to it).
"""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry import propagate
from opentelemetry.context import Context
from opentelemetry.propagators.textmap import Getter, Setter
from opentelemetry.trace import Link, get_current_span

from rxnats.wire.headers import Headers, HeadersInput

__all__ = ["creation_link", "extract", "inject"]

_OutHeaders = dict[str, str | Sequence[str]]


class _HeadersGetter(Getter[Headers]):
    """Reads received :class:`Headers`; a field is found whatever the case of its key."""

    def get(self, carrier: Headers, key: str) -> list[str] | None:
        values = carrier.get_all(key)
        if values:
            return values
        wanted = key.lower()
        for name in carrier:
            if name.lower() == wanted:
                return carrier.get_all(name)
        return None

    def keys(self, carrier: Headers) -> list[str]:
        return list(carrier)


class _DictSetter(Setter[dict[str, str]]):
    def set(self, carrier: dict[str, str], key: str, value: str) -> None:
        carrier[key] = value


_GETTER = _HeadersGetter()
_SETTER = _DictSetter()


def inject(headers: HeadersInput | None, context: Context) -> _OutHeaders:
    """Return a new header dict: ``headers`` plus the propagator's fields for ``context``.

    Fields the user already set (compared without case) are left as they are.
    """
    fields: dict[str, str] = {}
    propagate.inject(fields, context=context, setter=_SETTER)
    if not headers:
        return dict(fields)
    out: _OutHeaders = dict(headers.items())
    present = {key.lower() for key in out if isinstance(key, str)}
    for key, value in fields.items():
        if key.lower() not in present:
            out[key] = value
    return out


def _user_context(headers: HeadersInput) -> Context | None:
    """The creation context the user put in ``headers`` themselves, if any."""
    # Read defensively: rxnats validates the headers (and raises) after this.
    flat: dict[str, str] = {}
    for key, value in headers.items():
        if not isinstance(key, str):
            continue
        if isinstance(value, str):
            flat[key.lower()] = value
        elif isinstance(value, list | tuple) and value and isinstance(value[0], str):
            flat[key.lower()] = value[0]
    if "traceparent" not in flat:
        return None
    return propagate.extract(flat, context=Context())


def creation_link(headers: HeadersInput | None) -> list[Link]:
    """A link to the user's own creation context in ``headers`` (empty when there is none)."""
    if not headers:
        return []
    context = _user_context(headers)
    if context is None:
        return []
    span_context = get_current_span(context).get_span_context()
    return [Link(span_context)] if span_context.is_valid else []


def extract(headers: Headers | None) -> Context | None:
    """The context the producer propagated in ``headers``, or ``None`` when it sent none.

    It starts from an empty context: what is current where the message is handled (the
    reader's, a subscription task's) has nothing to do with the message.
    """
    if not headers:
        return None
    context = propagate.extract(headers, context=Context(), getter=_GETTER)
    if not get_current_span(context).get_span_context().is_valid:
        return None
    return context
