"""``RxnatsInstrumentor``: the OpenTelemetry ``BaseInstrumentor`` for rxnats."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

# The module is marked "# type: ignore" upstream, so mypy sees none of its names.
from opentelemetry.instrumentation.instrumentor import (  # type: ignore[attr-defined]
    BaseInstrumentor,
)
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import TracerProvider

from rxnats.otel._patches import Patches
from rxnats.otel._telemetry import Telemetry

__all__ = ["RxnatsInstrumentor"]


class RxnatsInstrumentor(BaseInstrumentor):  # type: ignore[misc]  # Any to mypy (see the import)
    """Traces and metrics for every rxnats client, following OpenTelemetry's conventions.

    ``RxnatsInstrumentor().instrument()`` (or ``opentelemetry-instrument``) replaces a
    few public methods of rxnats' classes with traced ones; ``uninstrument()`` puts the
    originals back. Like every ``BaseInstrumentor`` it is a singleton, and calling
    ``instrument()`` twice only logs a warning.

    Spans, attributes and metrics: see the Observability page of the documentation.
    """

    _patches: Patches | None = None
    _telemetry: Telemetry | None = None

    def instrument(
        self,
        *,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        creation_context_as_parent: bool = True,
        **kwargs: object,
    ) -> None:
        """Trace and meter every rxnats client from now on.

        Args:
            tracer_provider: the tracer provider (default: the global one).
            meter_provider: the meter provider (default: the global one).
            creation_context_as_parent: a callback's or observer's *process* span is a
                child of the message's creation context (the producer's send span), and
                links to it too. With ``False`` it is a child of the context current
                where rxnats delivers the message, and only links to the producer.
            **kwargs: what ``BaseInstrumentor.instrument`` takes (``skip_dep_check``).

        Raises:
            TypeError: a provider is not an OpenTelemetry provider (nothing changed).
        """
        super().instrument(
            tracer_provider=tracer_provider,
            meter_provider=meter_provider,
            creation_context_as_parent=creation_context_as_parent,
            **kwargs,
        )

    def uninstrument(self, **kwargs: object) -> None:
        """Put rxnats' own methods back: no more spans, context or metrics.

        Callbacks subscribed while instrumented keep a wrapper that only calls them.
        """
        super().uninstrument(**kwargs)

    def instrumentation_dependencies(self) -> Collection[str]:
        """The library this instruments (always present: it is rxnats itself)."""
        return ("rxnats",)

    def _instrument(self, **kwargs: Any) -> None:
        tracer_provider = kwargs.get("tracer_provider")
        meter_provider = kwargs.get("meter_provider")
        if tracer_provider is not None and not isinstance(tracer_provider, TracerProvider):
            raise TypeError("tracer_provider must be an opentelemetry TracerProvider")
        if meter_provider is not None and not isinstance(meter_provider, MeterProvider):
            raise TypeError("meter_provider must be an opentelemetry MeterProvider")
        telemetry = Telemetry(
            tracer_provider,
            meter_provider,
            creation_context_as_parent=bool(kwargs.get("creation_context_as_parent", True)),
        )
        patches = Patches(telemetry)
        patches.apply()
        self._telemetry = telemetry
        self._patches = patches

    def _uninstrument(self, **kwargs: Any) -> None:
        if self._patches is not None:
            self._patches.restore()
            self._patches = None
        if self._telemetry is not None:
            self._telemetry.forget_all()
            self._telemetry = None
