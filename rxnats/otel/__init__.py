"""OpenTelemetry traces and metrics for rxnats: ``RxnatsInstrumentor().instrument()``.

Needs the ``otel`` extra (``pip install 'rxnats[otel]'``: opentelemetry-api and
opentelemetry-instrumentation). Nothing in rxnats imports this package: without it, or
before ``instrument()`` and after ``uninstrument()``, rxnats runs exactly as it does
without OpenTelemetry installed. ``opentelemetry-instrument`` finds the instrumentor
through its ``opentelemetry_instrumentor`` entry point (named ``rxnats``).

See the Observability page of the documentation for the spans, attributes and metrics.
"""

from __future__ import annotations

try:
    import opentelemetry.instrumentation.instrumentor
    import opentelemetry.trace  # noqa: F401
except ImportError as _missing:  # pragma: no cover - tested in a subprocess without the extra
    raise ImportError(
        "rxnats.otel needs the 'otel' extra: pip install 'rxnats[otel]' "
        "(opentelemetry-api and opentelemetry-instrumentation)"
    ) from _missing

from rxnats.otel._instrumentor import RxnatsInstrumentor

__all__ = ["RxnatsInstrumentor"]
