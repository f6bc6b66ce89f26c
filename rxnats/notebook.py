"""Live views for Jupyter notebooks, and connection events as pandas DataFrames.

``pip install 'rxnats[notebooks]'`` brings what this module needs (IPython, pandas,
matplotlib, a kernel); they are imported only when used, and a missing one raises an
``ImportError`` that names the extra.

Live views update *while the cell that runs your code is still running*: each is shown
once with an IPython display handle and redrawn through that handle from the event
loop, as the client reports changes. ``close()`` draws the final state once more from
the cell that calls it, so that tools which keep only the outputs of the cell being run
(``nbconvert --execute``, nbclient) save the final picture too.

- :class:`StatusBadge`: the connection status as a coloured badge.
- :class:`EventLog`: the latest connection events, newest last.
- :class:`RateChart`: messages per second of any observable (``nc.observe("x.>")``),
  redrawn every ``interval`` seconds.

Tables: :func:`events_frame` turns connection events into a DataFrame (one row each:
``timestamp``, ``monotonic``, ``type`` and the event's fields), and :func:`record`
stamps the items of any stream as they come (statuses included, which carry no time of
their own) and gives them as a DataFrame with :meth:`Recording.frame`.

Every view and recording subscribes when it is made; ``close()`` (or ``dispose()``)
unsubscribes. Everything runs on the event loop's thread.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import html
import importlib
import io
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Generic, Protocol, Self, TypeVar

from reactivex import Observable

from rxnats.events import ConnectionEvent
from rxnats.state import ConnectionStatus

if TYPE_CHECKING:
    import pandas

    from rxnats.client import NATS

__all__ = [
    "DisplayHandle",
    "EventLog",
    "RateChart",
    "Recording",
    "Stamped",
    "StatusBadge",
    "event_row",
    "events_frame",
    "record",
]

T = TypeVar("T")
_EXTRA = "pip install 'rxnats[notebooks]'"
_STAMPS = ("type", "monotonic", "timestamp")

_COLOURS = {
    ConnectionStatus.CONNECTED: "#2e7d32",
    ConnectionStatus.CONNECTING: "#f9a825",
    ConnectionStatus.RECONNECTING: "#ef6c00",
    ConnectionStatus.DRAINING_SUBS: "#1565c0",
    ConnectionStatus.DRAINING_PUBS: "#1565c0",
    ConnectionStatus.DISCONNECTED: "#c62828",
    ConnectionStatus.CLOSED: "#616161",
}


def _require(name: str) -> ModuleType:
    """Import ``name``, or say which extra installs it."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        raise ImportError(
            f"rxnats.notebook needs {name.split('.')[0]}, which is not installed: {_EXTRA}"
        ) from exc


class DisplayHandle(Protocol):
    """What a view draws into: IPython's ``DisplayHandle`` (or a test's stand-in)."""

    def update(self, obj: object) -> None:
        """Replace what is shown with ``obj``."""


#: Shows an object and returns the handle that redraws it.
Display = Callable[[object], DisplayHandle]


def _ipython_display(obj: object) -> DisplayHandle:
    display = _require("IPython.display")
    handle: DisplayHandle = display.display(obj, display_id=True)
    return handle


def _html(text: str) -> object:
    display = _require("IPython.display")
    return display.HTML(text)


# ---------------------------------------------------------------------- tables
def _plain(value: object) -> object:
    if isinstance(value, BaseException):
        return f"{type(value).__name__}: {value}"
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    return value


def event_row(item: object, received: dt.datetime | None = None, monotonic: float | None = None) -> dict[str, object]:
    """One table row for a connection event, a status or any other item.

    Events carry their own ``timestamp``/``monotonic``; other items take the given
    reception times (now, when not given).
    """
    if received is None:
        received = dt.datetime.now(dt.UTC)
    if monotonic is None:
        monotonic = time.monotonic()
    if isinstance(item, ConnectionStatus):
        return {"timestamp": received, "monotonic": monotonic, "type": "Status", "status": item.name}
    if dataclasses.is_dataclass(item) and not isinstance(item, type) and hasattr(item, "monotonic"):
        row: dict[str, object] = {
            "timestamp": getattr(item, "timestamp", received),
            "monotonic": getattr(item, "monotonic", monotonic),
            "type": getattr(item, "type", type(item).__name__),
        }
        for f in dataclasses.fields(item):
            if f.name not in _STAMPS:
                row[f.name] = _plain(getattr(item, f.name))
        return row
    return {"timestamp": received, "monotonic": monotonic, "type": type(item).__name__, "value": _plain(item)}


def _frame(rows: list[dict[str, object]]) -> pandas.DataFrame:
    pd = _require("pandas")
    columns = ["timestamp", "monotonic", "type"]
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    frame: pandas.DataFrame = pd.DataFrame(rows, columns=columns)
    return frame


def events_frame(events: Iterable[ConnectionEvent]) -> pandas.DataFrame:
    """Connection events as a DataFrame: ``timestamp``, ``monotonic``, ``type``, then fields.

    Raises:
        ImportError: pandas is not installed.
    """
    return _frame([event_row(event) for event in events])


@dataclass(frozen=True, slots=True)
class Stamped(Generic[T]):
    """An item and when it was received (monotonic clock and UTC wall clock)."""

    item: T
    monotonic: float
    timestamp: dt.datetime


class Recording(Generic[T]):
    """The items of a stream, stamped as they arrive (made by :func:`record`)."""

    def __init__(self, source: Observable[T]) -> None:
        self.entries: list[Stamped[T]] = []
        self.completed: bool = False
        self._subscription = source.subscribe(
            on_next=self._on_next, on_completed=self._on_completed, on_error=self._on_error
        )

    def _on_next(self, item: T) -> None:
        self.entries.append(Stamped(item, time.monotonic(), dt.datetime.now(dt.UTC)))

    def _on_completed(self) -> None:
        self.completed = True

    def _on_error(self, error: Exception) -> None:
        self.completed = True

    @property
    def items(self) -> list[T]:
        """The items so far, in order."""
        return [entry.item for entry in self.entries]

    def frame(self) -> pandas.DataFrame:
        """The items as a DataFrame (see :func:`event_row`).

        Raises:
            ImportError: pandas is not installed.
        """
        return _frame([event_row(e.item, e.timestamp, e.monotonic) for e in self.entries])

    def dispose(self) -> None:
        """Stop recording (what was recorded stays)."""
        self._subscription.dispose()


def record(source: Observable[T]) -> Recording[T]:
    """Record ``source`` (``nc.observe_status()``, ``nc.observe_events()``, ...) from now on."""
    return Recording(source)


# ---------------------------------------------------------------------- live views
class _View:
    """A view shown once, then redrawn through its display handle."""

    def __init__(self, display: Display | None) -> None:
        self._display = display or _ipython_display
        self._handle: DisplayHandle | None = None
        self.updates: int = 0
        """How many times the view was redrawn after it was first shown."""

    def _render(self) -> object:
        raise NotImplementedError

    def show(self) -> Self:
        """Show the view in the output of the running cell (once); return it."""
        if self._handle is None:
            self._handle = self._display(self._render())
        return self

    def _redraw(self) -> None:
        if self._handle is not None:
            self._handle.update(self._render())
            self.updates += 1


class StatusBadge(_View):
    """The connection status as a coloured badge that changes as the status changes."""

    def __init__(self, nc: NATS, *, label: str = "NATS", display: Display | None = None) -> None:
        super().__init__(display)
        self.label = label
        self.status: ConnectionStatus = nc.status
        self.history: list[ConnectionStatus] = []
        self._subscription = nc.observe_status().subscribe(self._on_status)

    def _on_status(self, status: ConnectionStatus) -> None:
        self.status = status
        self.history.append(status)
        self._redraw()

    def html(self) -> str:
        """The badge as HTML."""
        colour = _COLOURS.get(self.status, "#616161")
        return (
            '<span style="font-family:monospace;padding:2px 8px;border-radius:4px;'
            f'background:{colour};color:white">{html.escape(self.label)}: {self.status.name}</span>'
        )

    def _repr_html_(self) -> str:
        return self.html()

    def _render(self) -> object:
        return _html(self.html())


    def close(self) -> None:
        """Stop following the status and draw the badge's last state."""
        self._subscription.dispose()
        self._redraw()


class EventLog(_View):
    """The latest ``limit`` connection events as a table that grows while they happen."""

    def __init__(self, nc: NATS, *, limit: int = 12, display: Display | None = None) -> None:
        super().__init__(display)
        self.events: list[ConnectionEvent] = []
        self._shown: deque[ConnectionEvent] = deque(maxlen=limit)
        self._subscription = nc.observe_events().subscribe(self._on_event)

    def _on_event(self, event: ConnectionEvent) -> None:
        self.events.append(event)
        self._shown.append(event)
        self._redraw()

    def html(self) -> str:
        """The log as an HTML table."""
        rows = []
        for event in self._shown:
            row = event_row(event)
            stamp = event.timestamp.astimezone().strftime("%H:%M:%S.%f")[:-3]
            details = ", ".join(f"{k}={v}" for k, v in row.items() if k not in ("timestamp", "monotonic", "type"))
            rows.append(
                f"<tr><td>{stamp}</td><td><b>{html.escape(event.type)}</b></td>"
                f"<td style='text-align:left'>{html.escape(details)}</td></tr>"
            )
        body = "".join(rows) or "<tr><td colspan='3'><i>no events yet</i></td></tr>"
        return (
            "<table style='font-family:monospace;font-size:90%'>"
            "<tr><th>time</th><th>event</th><th style='text-align:left'>details</th></tr>"
            f"{body}</table>"
        )

    def _repr_html_(self) -> str:
        return self.html()

    def _render(self) -> object:
        return _html(self.html())

    def frame(self) -> pandas.DataFrame:
        """Every event seen, as a DataFrame (see :func:`events_frame`)."""
        return events_frame(self.events)


    def close(self) -> None:
        """Stop following the events and draw the log's last state."""
        self._subscription.dispose()
        self._redraw()


class RateChart(_View):
    """Items per second of ``source``, as a line chart redrawn every ``interval`` seconds.

    ``counts`` holds how many items arrived in each interval, ``rates`` the same as
    ``(seconds since start, items per second)``; ``total`` counts them all. Needs a
    running event loop (a notebook cell has one).
    """

    def __init__(
        self,
        source: Observable[object],
        *,
        interval: float = 0.5,
        window: int = 120,
        title: str = "messages / s",
        display: Display | None = None,
    ) -> None:
        super().__init__(display)
        if interval <= 0:
            raise ValueError(f"interval must be positive, not {interval}")
        self.interval = interval
        self.title = title
        self.total: int = 0
        self.counts: list[int] = []
        self.rates: list[tuple[float, float]] = []
        self._window = window
        self._pending = 0
        self._started = time.monotonic()
        self._loop = asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = self._loop.call_later(interval, self._tick)
        self._subscription = source.subscribe(self._on_item)

    def _on_item(self, item: object) -> None:
        self._pending += 1
        self.total += 1

    def _tick(self) -> None:
        self.counts.append(self._pending)
        self.rates.append((time.monotonic() - self._started, self._pending / self.interval))
        self._pending = 0
        self._redraw()
        self._timer = self._loop.call_later(self.interval, self._tick)

    def png(self) -> bytes:
        """The chart as a PNG image (drawn with matplotlib, without pyplot's global state)."""
        figure_module = _require("matplotlib.figure")
        agg = _require("matplotlib.backends.backend_agg")
        figure = figure_module.Figure(figsize=(7, 2.4), dpi=80)
        agg.FigureCanvasAgg(figure)
        ax = figure.add_subplot()
        shown = self.rates[-self._window :]
        ax.plot([t for t, _ in shown], [r for _, r in shown], drawstyle="steps-post", linewidth=1.5)
        ax.set_xlabel("seconds")
        ax.set_title(f"{self.title}  (total {self.total})", fontsize=10)
        ax.set_ylim(bottom=0)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()

    def _render(self) -> object:
        display = _require("IPython.display")
        return display.Image(data=self.png(), format="png")


    def close(self) -> None:
        """Stop counting, and draw the chart once more (idempotent)."""
        if self._timer is None:
            return
        self._subscription.dispose()
        self._timer.cancel()
        self._timer = None
        self._redraw()
