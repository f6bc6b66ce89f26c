"""``rxnats events``: watch a connection's status and events as they happen.

It connects (reconnecting forever, every ``--reconnect-wait``) and prints each status
change of ``nc.observe_status()`` and each event of ``nc.observe_events()`` with its
time, one line each, until Ctrl-C or ``--count`` lines; with ``--json`` each line is a
JSON object (``type``, ``timestamp``, ``monotonic`` and the event's own fields), ready
for ``jq`` or a log shipper. Stop the server to see the disconnect, the reconnect
attempts and the reconnect.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import time

from rxnats.cli.connection import open_connection
from rxnats.cli.errors import EXIT_CONNECTION, EXIT_OK, CommandFailed
from rxnats.cli.output import info, to_jsonable
from rxnats.cli.parsing import Commands, add_command, non_negative_int, positive_duration
from rxnats.events import ConnectionEvent
from rxnats.state import ConnectionStatus

__all__ = ["add_commands", "event_record"]

_STAMPS = ("type", "monotonic", "timestamp")


def add_commands(commands: Commands) -> None:
    """Add ``events``."""
    events = add_command(commands, "events", cmd_events, "watch this connection's status and events live")
    events.add_argument("-j", "--json", action="store_true", help="one JSON object per line")
    events.add_argument("--count", type=non_negative_int, help="exit after N lines")
    events.add_argument("--reconnect-wait", type=positive_duration, default=0.5, metavar="DURATION",
                        help="pause between reconnect attempts (default 500ms)")


def event_record(item: ConnectionEvent | ConnectionStatus, received: dt.datetime, monotonic: float) -> dict[str, object]:
    """A status or event as a flat dict: ``type``, ``timestamp``, ``monotonic``, then its fields."""
    if isinstance(item, ConnectionStatus):
        return {"type": "Status", "timestamp": received, "monotonic": monotonic, "status": item.name}
    record: dict[str, object] = {"type": item.type, "timestamp": item.timestamp, "monotonic": item.monotonic}
    for f in dataclasses.fields(item):
        if f.name not in _STAMPS:
            record[f.name] = getattr(item, f.name)
    return record


def _line(record: dict[str, object]) -> str:
    stamp = record["timestamp"]
    when = stamp.astimezone().strftime("%H:%M:%S.%f")[:-3] if isinstance(stamp, dt.datetime) else str(stamp)
    rest = " ".join(
        f"{k}={v!r}" if isinstance(v, str) else f"{k}={to_jsonable(v)}"
        for k, v in record.items() if k not in _STAMPS and k != "status"
    )
    what = f"status {record['status']}" if record["type"] == "Status" else str(record["type"])
    return f"{when}  {what}" + (f"  {rest}" if rest else "")


def cmd_events(args: argparse.Namespace) -> int:
    """``rxnats events``."""
    limit: int | None = args.count

    async def run() -> int:
        queue: asyncio.Queue[dict[str, object]] = asyncio.Queue()

        def on_status(status: ConnectionStatus) -> None:
            queue.put_nowait(event_record(status, dt.datetime.now(dt.UTC), time.monotonic()))

        def on_event(event: ConnectionEvent) -> None:
            queue.put_nowait(event_record(event, event.timestamp, event.monotonic))

        async def shown_as_events(error: Exception) -> None:
            """Errors are printed as ErrorReported events: no second report on stderr."""

        nc = await open_connection(
            args, max_reconnect_attempts=-1, reconnect_time_wait=args.reconnect_wait, error_cb=shown_as_events
        )
        subscriptions = [nc.observe_status().subscribe(on_status), nc.observe_events().subscribe(on_event)]
        info(f"watching the connection to {nc.connected_url()}; Ctrl-C stops")
        shown = 0
        try:
            while limit is None or shown < limit:
                record = await queue.get()
                shown += 1
                print(json.dumps(to_jsonable(record)) if args.json else _line(record), flush=True)
                if record.get("status") == ConnectionStatus.CLOSED.name:
                    raise CommandFailed(f"connection closed: {nc.last_error() or 'by the server'}",
                                        EXIT_CONNECTION, hint="start 'rxnats events' again")
        finally:
            for subscription in subscriptions:
                subscription.dispose()
            await nc.close()
        return EXIT_OK

    return asyncio.run(run())
