"""``rxnats events``: a connection's status and events, live, while its server restarts."""

from __future__ import annotations

import datetime as dt
import json
import signal

from cli_helpers import cli  # tests/ is on sys.path

from rxnats.server import NatsServer
from rxnats.testing.plugin import NatsServerFactory


def _kind(record: dict[str, object]) -> str:
    return f"Status {record['status']}" if record["type"] == "Status" else str(record["type"])


async def test_events_follow_a_server_restart_as_json_lines(nats_server_factory: NatsServerFactory) -> None:
    server: NatsServer = nats_server_factory()
    async with cli("events", "--json", "--reconnect-wait", "100ms", url=server.url) as watch:
        assert "watching the connection" in await watch.stderr_line()
        records = [json.loads(await watch.stdout_line())]
        assert records[0]["type"] == "Status" and records[0]["status"] == "CONNECTED"
        await server.astop()
        while records[-1]["type"] != "Reconnecting":
            records.append(json.loads(await watch.stdout_line()))
        await server.astart()
        back = len(records)
        while not {"Reconnected", "Status CONNECTED"} <= {_kind(r) for r in records[back:]}:
            records.append(json.loads(await watch.stdout_line()))
        watch.proc.send_signal(signal.SIGINT)
        code, _, err = await watch.finish()
    assert code == 130, err
    kinds = [_kind(r) for r in records]
    assert kinds[0] == "Status CONNECTED"
    first_attempt = kinds.index("Reconnecting")
    # the loss: a Disconnected event and the RECONNECTING status (and the error that caused it)
    assert {"Disconnected", "Status RECONNECTING"} <= set(kinds[1:first_attempt]) <= {
        "Disconnected", "Status RECONNECTING", "ErrorReported"}
    assert sorted(kinds[-2:]) == ["Reconnected", "Status CONNECTED"]
    assert set(kinds[first_attempt:-2]) <= {"Reconnecting", "ErrorReported"}
    # every line says when: a wall-clock timestamp (with its zone) and a monotonic reading
    stamps = {_kind(r): dt.datetime.fromisoformat(str(r["timestamp"])) for r in records}
    assert all(stamp.tzinfo is not None for stamp in stamps.values())
    assert stamps["Disconnected"] < stamps["Reconnected"]
    readings = {_kind(r): r["monotonic"] for r in records}
    assert isinstance(readings["Disconnected"], float) and isinstance(readings["Reconnected"], float)
    assert readings["Disconnected"] < readings["Reconnected"]
    assert next(r for r in records if r["type"] == "Reconnected")["url"] == server.url


async def test_events_text_lines_and_count(nats_server_factory: NatsServerFactory) -> None:
    server = nats_server_factory()
    async with cli("events", "--count", "1", url=server.url) as once:
        await once.stderr_line()
        code, out, err = await once.finish()
    assert code == 0, err
    assert out.splitlines()[0].endswith("status CONNECTED")
    async with cli("events", url=server.url) as watch:
        await watch.stderr_line()
        assert "status CONNECTED" in await watch.stdout_line()
        await server.astop()
        lines = [await watch.stdout_line()]
        while "Disconnected" not in lines[-1]:
            lines.append(await watch.stdout_line())
        watch.proc.send_signal(signal.SIGINT)
        code, _, err = await watch.finish()
    assert code == 130, err
    assert f"url={server.url!r}" in lines[-1] and "cause=UnexpectedEOF" in lines[-1]
