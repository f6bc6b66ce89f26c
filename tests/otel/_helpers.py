"""SDK providers with in-memory exporters, and ways to read what they recorded."""

from __future__ import annotations

from dataclasses import dataclass

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    HistogramDataPoint,
    InMemoryMetricReader,
    NumberDataPoint,
)
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

Point = tuple[dict[str, object], float]


@dataclass
class Otel:
    """The providers one test instruments rxnats with, and what they recorded."""

    exporter: InMemorySpanExporter
    reader: InMemoryMetricReader
    tracer_provider: TracerProvider
    meter_provider: MeterProvider

    def spans(self, name: str | None = None) -> list[ReadableSpan]:
        """Finished spans (named ``name``, when given), oldest first."""
        spans = list(self.exporter.get_finished_spans())
        return [s for s in spans if name is None or s.name == name]

    def span(self, name: str) -> ReadableSpan:
        """The one finished span named ``name``."""
        found = self.spans(name)
        assert len(found) == 1, (
            f"{len(found)} spans named {name!r}: {[s.name for s in self.spans()]}"
        )
        return found[0]

    def points(self, metric: str) -> list[Point]:
        """``(attributes, value)`` of each data point of ``metric`` (histograms: the count)."""
        data = self.reader.get_metrics_data()
        points: list[Point] = []
        if data is None:
            return points
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                for m in scope.metrics:
                    if m.name != metric:
                        continue
                    for p in m.data.data_points:
                        if isinstance(p, NumberDataPoint):
                            points.append((dict(p.attributes or {}), p.value))
                        elif isinstance(p, HistogramDataPoint):
                            points.append((dict(p.attributes or {}), p.count))
        return points

    def total(self, metric: str, **where: object) -> float:
        """The sum of ``metric``'s points whose attributes include ``where``."""
        wanted = {k.replace("__", "."): v for k, v in where.items()}
        return sum(
            value
            for attrs, value in self.points(metric)
            if all(attrs.get(k) == v for k, v in wanted.items())
        )


def make_otel() -> Otel:
    """Fresh SDK providers recording in memory (not instrumented yet)."""
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    return Otel(exporter, reader, tracer_provider, MeterProvider(metric_readers=[reader]))
