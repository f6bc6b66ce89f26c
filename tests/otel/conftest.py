"""Fixtures for the OpenTelemetry tests.

Each test module skips itself when the ``otel`` extra or the SDK (in ``dev``) is absent,
so this module imports them only when a fixture runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ._helpers import Otel


@pytest.fixture
def otel() -> Iterator[Otel]:
    """rxnats instrumented with in-memory providers for the test; uninstrumented after."""
    from rxnats.otel import RxnatsInstrumentor

    from ._helpers import make_otel

    recorded = make_otel()
    instrumentor = RxnatsInstrumentor()
    instrumentor.instrument(
        tracer_provider=recorded.tracer_provider, meter_provider=recorded.meter_provider
    )
    try:
        yield recorded
    finally:
        instrumentor.uninstrument()
