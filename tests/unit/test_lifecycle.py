"""The lifecycle owner (rxnats.state) without a server: transitions, events, callbacks."""

from __future__ import annotations

import asyncio

import pytest

from rxnats.errors import ConnectionClosedError, ConnectionLostError, Error, UnexpectedEOF
from rxnats.state import (
    CallbackRunner,
    Callbacks,
    CloseReason,
    ConnectionStatus,
    Lifecycle,
)

S = ConnectionStatus
URL = "nats://127.0.0.1:4222"


class Heard:
    """What a lifecycle told: events and callbacks in one timeline."""

    def __init__(self, life: Lifecycle) -> None:
        self.items: list[str] = []
        life.reporter.add_event_listener(lambda e: self.items.append(type(e).__name__))

    def callbacks(self) -> Callbacks:
        return Callbacks(
            error_cb=lambda e: self.items.append(f"error_cb:{type(e).__name__}"),
            disconnected_cb=lambda: self.items.append("disconnected_cb"),
            closed_cb=lambda: self.items.append("closed_cb"),
            reconnected_cb=lambda: self.items.append("reconnected_cb"),
        )


def connected_life() -> tuple[Lifecycle, Heard]:
    life = Lifecycle()
    heard = Heard(life)
    life.begin_connect(heard.callbacks())
    life.connected(URL, reconnect=False)
    return life, heard


async def test_a_lost_connection_is_reported_then_disconnected_then_reconnected() -> None:
    life, heard = connected_life()
    life.lost(UnexpectedEOF(), reported=False, reconnect=True)
    assert life.status == S.RECONNECTING and isinstance(life.reporter.last_error, UnexpectedEOF)
    life.connected(URL, reconnect=True)
    assert heard.items == [
        "Connected",
        "ErrorReported",
        "error_cb:UnexpectedEOF",
        "Disconnected",
        "disconnected_cb",
        "Reconnected",
        "reconnected_cb",
    ]


async def test_a_cause_already_reported_is_not_reported_twice() -> None:
    life, heard = connected_life()
    life.lost(UnexpectedEOF(), reported=True, reconnect=True)
    assert heard.items == ["Connected", "Disconnected", "disconnected_cb"]


async def test_closing_a_connected_client_ends_its_connection_then_closes() -> None:
    life, heard = connected_life()
    assert life.usable
    assert life.begin_close(CloseReason.CLOSED)
    assert not life.usable and life.closing
    assert not life.begin_close(CloseReason.CONNECTION_LOST)  # already closing: no change
    life.finish_close()
    assert life.status == S.CLOSED and life.close_reason is CloseReason.CLOSED
    assert heard.items[1:] == ["Disconnected", "disconnected_cb", "Closed", "closed_cb"]
    await life.wait_closed()  # at once


async def test_closing_after_a_loss_calls_only_closed_cb() -> None:
    life, heard = connected_life()
    life.lost(UnexpectedEOF(), reported=False, reconnect=False)
    assert life.begin_close(CloseReason.CONNECTION_LOST)
    life.finish_close()
    assert heard.items.count("disconnected_cb") == 1
    assert heard.items[-2:] == ["Closed", "closed_cb"]


async def test_a_client_that_never_connected_gets_a_closed_event_but_no_closed_cb() -> None:
    life = Lifecycle()
    heard = Heard(life)
    life.begin_connect(heard.callbacks())
    life.reporter.last_error = ConnectionRefusedError()
    life.connect_failed()
    life.begin_close(CloseReason.CONNECT_FAILED)
    life.finish_close()
    assert heard.items == ["Closed"]
    assert life.status == S.CLOSED


async def test_closed_error_says_who_closed_it() -> None:
    life, _ = connected_life()
    cause = UnexpectedEOF()
    life.lost(cause, reported=False, reconnect=False)
    life.begin_close(CloseReason.CONNECTION_LOST)
    life.finish_close()
    err = life.closed_error()
    assert isinstance(err, ConnectionLostError) and isinstance(err, ConnectionClosedError)
    assert err.__cause__ is cause
    mine, _ = connected_life()
    mine.begin_close(CloseReason.CLOSED)
    mine.finish_close()
    assert type(mine.closed_error()) is ConnectionClosedError


async def test_connect_again_after_close_starts_a_new_life() -> None:
    life, heard = connected_life()
    life.begin_close(CloseReason.CLOSED)
    life.finish_close()
    life.begin_connect(heard.callbacks())
    assert life.status == S.CONNECTING and life.usable and not life.closing
    assert life.close_reason is None
    with pytest.raises(Error, match="connecting, connected or closing"):
        life.begin_connect(heard.callbacks())


async def test_connect_while_closing_is_refused() -> None:
    life, _ = connected_life()
    life.begin_close(CloseReason.CLOSED)
    with pytest.raises(Error):
        life.check_can_connect()
    life.finish_close()
    life.check_can_connect()


async def test_last_error_is_none_until_an_error_and_callback_bugs_do_not_set_it() -> None:
    life, _ = connected_life()
    assert life.reporter.last_error is None
    life.reporter.report_error(RuntimeError("a user's bug"), record=False)
    assert life.reporter.last_error is None
    err = UnexpectedEOF()
    life.reporter.report_error(err)
    assert life.reporter.last_error is err


# ---------------------------------------------------------------- the callback runner
async def test_callbacks_run_one_at_a_time_in_the_order_they_were_due() -> None:
    order: list[str] = []
    runner = CallbackRunner(lambda cb, exc: order.append(f"raised:{exc}"))
    release = asyncio.Event()

    async def slow(name: str) -> None:
        order.append(f"{name} start")
        await release.wait()
        order.append(f"{name} end")

    runner.call(lambda: order.append("plain, at once"))
    assert order == ["plain, at once"]  # nothing queued: a plain function runs now
    runner.call(slow, "first")
    runner.call(lambda: order.append("plain, queued"))  # waits for `first`
    runner.call(slow, "second")
    assert order == ["plain, at once"]
    await asyncio.sleep(0)
    assert order == ["plain, at once", "first start"]
    release.set()
    task = runner.task
    assert task is not None
    await runner.wait_idle(5, None)
    assert order == [
        "plain, at once",
        "first start",
        "first end",
        "plain, queued",
        "second start",
        "second end",
    ]
    assert runner.task is None


async def test_callback_exceptions_go_to_error_cb_and_error_cb_exceptions_only_to_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    life = Lifecycle()
    reported: list[Exception] = []

    def error_cb(e: Exception) -> None:
        reported.append(e)
        raise ValueError("error_cb is broken too")

    async def closed_cb() -> None:
        raise RuntimeError("closed_cb is broken")

    life.begin_connect(Callbacks(error_cb=error_cb, closed_cb=closed_cb))
    life.connected(URL, reconnect=False)
    life.begin_close(CloseReason.CLOSED)
    life.finish_close()
    await life.reporter.runner.wait_idle(5, None)
    assert [str(e) for e in reported] == ["closed_cb is broken"]
    assert life.reporter.last_error is None  # a callback's bug says nothing about the connection
    assert "error_cb is broken too" in caplog.text


async def test_waiting_for_callbacks_is_bounded() -> None:
    runner = CallbackRunner(lambda cb, exc: None)
    never = asyncio.Event()

    async def stuck() -> None:
        await never.wait()

    ran: list[str] = []
    runner.call(stuck)
    runner.call(lambda: ran.append("queued behind it"))
    task = runner.task
    await runner.wait_idle(0.01, None)
    assert task is not None and task.cancelled()
    assert ran == [] and runner.task is None
