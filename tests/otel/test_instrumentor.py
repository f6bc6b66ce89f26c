"""The instrumentor's life: nothing before ``instrument()``, nothing after ``uninstrument()``."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path

import pytest

pytest.importorskip("opentelemetry.sdk", reason="needs rxnats[otel] and opentelemetry-sdk")

import rxnats
from rxnats.client import NATS
from rxnats.jetstream import JetStreamContext
from rxnats.msg import Msg
from rxnats.otel import RxnatsInstrumentor
from rxnats.otel._patches import defining_class
from rxnats.server import NatsServer
from rxnats.subscription import Subscription

from ._helpers import Otel, make_otel

_PATCHED = [
    (NATS, "__init__"),
    (NATS, "publish"),
    (NATS, "request"),
    (NATS, "subscribe"),
    (defining_class(NATS, "observe"), "observe"),
    (Subscription, "__init__"),
    (Subscription, "next_msg"),
    (Subscription, "messages"),
    (defining_class(Subscription, "observe"), "observe"),
    (Msg, "respond"),
    (Msg, "respond_nowait"),
    (Msg, "ack"),
    (Msg, "ack_sync"),
    (Msg, "nak"),
    (Msg, "in_progress"),
    (Msg, "term"),
    (JetStreamContext, "__init__"),
    (JetStreamContext, "publish"),
    (JetStreamContext, "publish_async"),
]


async def _round_trip(url: str) -> list[rxnats.Headers | None]:
    """Publish one message to a callback and an iterator; return the headers they got."""
    producer = await rxnats.connect(url)
    consumer = await rxnats.connect(url)
    got: list[rxnats.Msg] = []
    await consumer.subscribe("plain", cb=got.append)
    sub = await consumer.subscribe("plain")
    await consumer.flush()
    await producer.publish("plain", b"x")
    msg = await sub.next_msg(5)
    await consumer.flush()
    await producer.close()
    await consumer.close()
    return [got[0].headers, msg.headers]


async def test_no_span_or_header_before_instrument_or_after_uninstrument(
    nats_server: NatsServer,
) -> None:
    originals = [owner.__dict__[name] for owner, name in _PATCHED]
    recorded = make_otel()
    assert await _round_trip(nats_server.url) == [None, None]  # never instrumented

    instrumentor = RxnatsInstrumentor()
    instrumentor.instrument(
        tracer_provider=recorded.tracer_provider, meter_provider=recorded.meter_provider
    )
    assert [owner.__dict__[name] for owner, name in _PATCHED] != originals
    assert all(h is not None and "traceparent" in h for h in await _round_trip(nats_server.url))
    count = len(recorded.spans())
    assert count > 0
    instrumentor.uninstrument()

    assert [owner.__dict__[name] for owner, name in _PATCHED] == originals
    assert await _round_trip(nats_server.url) == [None, None]
    assert len(recorded.spans()) == count
    assert recorded.points("rxnats.client.sent.messages") == []


def test_a_second_instrument_call_changes_nothing(otel: Otel) -> None:
    publish = NATS.__dict__["publish"]
    RxnatsInstrumentor().instrument()  # logs a warning, as every BaseInstrumentor does
    assert NATS.__dict__["publish"] is publish


def test_providers_of_the_wrong_type_are_refused() -> None:
    instrumentor = RxnatsInstrumentor()
    publish = NATS.__dict__["publish"]
    with pytest.raises(TypeError, match="tracer_provider"):
        instrumentor.instrument(tracer_provider="console")  # type: ignore[arg-type]  # the bad input
    with pytest.raises(TypeError, match="meter_provider"):
        instrumentor.instrument(meter_provider=object())  # type: ignore[arg-type]  # the bad input
    assert not instrumentor.is_instrumented_by_opentelemetry
    assert NATS.__dict__["publish"] is publish


def test_the_instrumentor_declares_what_it_instruments() -> None:
    assert list(RxnatsInstrumentor().instrumentation_dependencies()) == ["rxnats"]


def test_auto_instrumentation_finds_the_entry_point() -> None:
    found = [ep for ep in entry_points(group="opentelemetry_instrumentor") if ep.name == "rxnats"]
    assert len(found) == 1
    assert found[0].load() is RxnatsInstrumentor


def test_importing_rxnats_otel_without_the_extra_names_the_extra() -> None:
    code = textwrap.dedent(
        """
        import sys
        sys.modules["opentelemetry"] = None  # as if the extra were not installed
        import rxnats  # rxnats itself never needs it
        try:
            import rxnats.otel
        except ImportError as exc:
            print(exc)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'rxnats[otel]'" in out.stdout


def test_rxnats_does_not_import_opentelemetry() -> None:
    code = "import sys, rxnats, rxnats.js; print(any(m.startswith('opentelemetry') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_opentelemetry_instrument_traces_a_program(nats_server: NatsServer, tmp_path: Path) -> None:
    """``opentelemetry-instrument python app.py``: the program sends trace context unchanged."""
    program = tmp_path / "app.py"
    program.write_text(
        textwrap.dedent(
            """
            import asyncio, os, rxnats

            async def main() -> None:
                nc = await rxnats.connect(os.environ["NATS_URL"])
                sub = await nc.subscribe("auto")
                await nc.publish("auto", b"hello")
                msg = await sub.next_msg(5)
                print("traceparent" in (msg.headers or {}))
                await nc.close()

            asyncio.run(main())
            """
        )
    )
    command = Path(sys.executable).parent / "opentelemetry-instrument"
    env = {
        **os.environ,
        "NATS_URL": nats_server.url,
        "OTEL_PYTHON_TRACER_PROVIDER": "sdk_tracer_provider",  # a recording tracer, no exporter
        "OTEL_TRACES_EXPORTER": "none",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
    }
    out = subprocess.run(
        [str(command), sys.executable, str(program)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True", out.stderr


async def test_a_callback_wrapped_while_instrumented_makes_no_span_after_uninstrument(
    nats_server: NatsServer,
) -> None:
    recorded = make_otel()
    instrumentor = RxnatsInstrumentor()
    instrumentor.instrument(
        tracer_provider=recorded.tracer_provider, meter_provider=recorded.meter_provider
    )
    nc = await rxnats.connect(nats_server.url)
    got: list[rxnats.Msg] = []
    await nc.subscribe("kept", cb=got.append)
    sub = await nc.subscribe("kept")
    iterator = sub.messages
    instrumentor.uninstrument()

    await nc.publish("kept", b"x")
    await nc.flush()
    msg = await anext(iterator)
    await nc.close()
    assert [m.headers for m in got] == [None] and msg.headers is None
    assert recorded.spans() == []
