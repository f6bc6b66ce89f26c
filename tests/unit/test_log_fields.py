"""Log records carry structured fields (``extra``) a JSON formatter can use."""

from __future__ import annotations

import logging

import pytest

from rxnats.errors import SlowConsumerError
from rxnats.reporting import Callbacks, Reporter


def test_an_error_nobody_is_told_of_is_logged_with_its_fields(caplog: pytest.LogCaptureFixture) -> None:
    reporter = Reporter()
    with caplog.at_level(logging.WARNING, logger="rxnats"):
        reporter.report_error(SlowConsumerError(subject="orders", sid=3, dropped=5))
    [record] = caplog.records
    assert (record.name, record.levelno) == ("rxnats", logging.WARNING)
    fields = {k: v for k, v in record.__dict__.items() if k.startswith("rxnats_")}
    assert fields == {
        "rxnats_error": "SlowConsumerError",
        "rxnats_url": "",
        "rxnats_subject": "orders",
        "rxnats_sid": 3,
        "rxnats_dropped": 5,
    }


def test_a_callback_that_raises_is_logged_with_its_name(caplog: pytest.LogCaptureFixture) -> None:
    def on_error(exc: Exception) -> None:
        raise RuntimeError("broken error_cb")

    reporter = Reporter()
    reporter.callbacks = Callbacks(error_cb=on_error)
    with caplog.at_level(logging.ERROR, logger="rxnats"):
        reporter.report_error(ValueError("x"))
    [record] = caplog.records
    assert record.levelno == logging.ERROR and record.exc_info is not None
    assert record.__dict__["rxnats_callback"].endswith("on_error")
    assert record.__dict__["rxnats_error"] == "RuntimeError"
