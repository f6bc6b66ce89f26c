"""rxnats.micro without a server: validation, subjects, queue groups, the JSON records."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from rxnats import Msg, micro
from rxnats.errors import InvalidInputError
from rxnats.micro.config import resolve_queue_group
from rxnats.micro.models import format_started, parse_started
from rxnats.micro.request import exception_text
from rxnats.wire.headers import Headers

from ._schema import violations


def handler(req: micro.Request) -> None:
    req.respond_nowait(b"")


# -- names and versions (ADR-32) ---------------------------------------------------------------
@pytest.mark.parametrize("name", ["svc", "Svc_1", "a-b", "A", "0"])
def test_service_names_of_letters_digits_dash_underscore_are_accepted(name: str) -> None:
    assert micro.ServiceConfig(name=name, version="1.0.0").name == name


@pytest.mark.parametrize("name", ["", "a b", "a.b", "a*", "a>", "ä", "a/b", "a\n"])
def test_service_names_with_other_characters_are_refused_with_the_field_named(name: str) -> None:
    with pytest.raises(InvalidInputError, match="service name"):
        micro.ServiceConfig(name=name, version="1.0.0")


@pytest.mark.parametrize(
    "version", ["0.0.0", "1.2.3", "10.20.30", "1.0.0-alpha.1", "1.0.0+build.5", "1.0.0-rc.1+x"]
)
def test_semantic_versions_are_accepted(version: str) -> None:
    assert micro.ServiceConfig(name="s", version=version).version == version


@pytest.mark.parametrize("version", ["", "1", "1.0", "01.0.0", "1.0.0-", "v1.0.0", "1.0.0.0", "1.0.0-a..b"])
def test_versions_that_are_not_semver_are_refused(version: str) -> None:
    with pytest.raises(InvalidInputError, match="version"):
        micro.ServiceConfig(name="s", version=version)


def test_a_bad_config_is_also_a_value_error_as_in_nats_py() -> None:
    with pytest.raises(ValueError):
        micro.ServiceConfig(name="bad name", version="1.0.0")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"metadata": {"k": 1}}, "metadata"),
        ({"metadata": ["k"]}, "metadata"),
        ({"queue_group": "a b"}, "queue group"),
        ({"queue_group": ""}, "queue group"),
        ({"description": 5}, "description"),
        ({"prefix": "$SRV.*"}, "prefix"),
        ({"stats_handler": 3}, "stats_handler"),
    ],
)
def test_each_bad_service_field_is_named_in_the_error(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError, match=field):
        micro.ServiceConfig("svc", "1.0.0", **kwargs)  # type: ignore[arg-type]  # bad on purpose


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "a.b"}, "endpoint name"),
        ({"name": "ok", "subject": "a b"}, "subject"),
        ({"name": "ok", "subject": "a.>.b"}, "subject"),
        ({"name": "ok", "subject": "a..b"}, "subject"),
        ({"name": "ok", "queue_group": "q q"}, "queue group"),
        ({"name": "ok", "handler": "nope"}, "handler"),
        ({"name": "ok", "pending_msgs_limit": 0}, "pending_msgs_limit"),
        ({"name": "ok", "pending_bytes_limit": -1}, "pending_bytes_limit"),
        ({"name": "ok", "metadata": {"a": None}}, "metadata"),
    ],
)
def test_each_bad_endpoint_field_is_named_in_the_error(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError, match=field):
        micro.EndpointConfig(**kwargs)  # type: ignore[arg-type]  # bad on purpose


@pytest.mark.parametrize("subject", ["a", "a.b", "a.*.c", "a.>", "*", ">"])
def test_endpoint_subjects_may_have_wildcards(subject: str) -> None:
    assert micro.EndpointConfig("e", handler, subject=subject).subject == subject


@pytest.mark.parametrize("name", ["", "a", "a.b", "a.*"])
def test_group_names_are_subject_prefixes_or_empty(name: str) -> None:
    assert micro.GroupConfig(name).name == name


@pytest.mark.parametrize("name", ["a.>", ">", "a b", "a..b", ".a"])
def test_group_names_with_a_full_wildcard_or_bad_tokens_are_refused(name: str) -> None:
    with pytest.raises(InvalidInputError, match="group name"):
        micro.GroupConfig(name)


def test_metadata_is_copied_so_later_changes_to_the_dict_do_not_leak_in() -> None:
    meta = {"region": "eu"}
    config = micro.ServiceConfig("svc", "1.0.0", metadata=meta)
    meta["region"] = "us"
    assert config.metadata == {"region": "eu"}


# -- discovery subjects -------------------------------------------------------------------------
def test_control_subjects_for_all_services_a_name_and_an_instance() -> None:
    verb = micro.ServiceVerb.STATS
    assert micro.control_subject(verb) == "$SRV.STATS"
    assert micro.control_subject(verb, "calc") == "$SRV.STATS.calc"
    assert micro.control_subject(verb, "calc", "ID1") == "$SRV.STATS.calc.ID1"
    assert micro.control_subject(micro.ServiceVerb.PING, prefix="$X") == "$X.PING"


def test_a_control_subject_with_an_id_but_no_name_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="name"):
        micro.control_subject(micro.ServiceVerb.INFO, None, "ID1")


def test_a_control_subject_with_a_bad_token_is_refused() -> None:
    with pytest.raises(InvalidInputError):
        micro.control_subject(micro.ServiceVerb.INFO, "a b")


# -- queue groups -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("own", "own_disabled", "parent", "parent_disabled", "expected"),
    [
        (None, False, None, False, "q"),
        (None, False, "svc-q", False, "svc-q"),
        ("ep-q", False, "svc-q", False, "ep-q"),
        (None, True, "svc-q", False, None),
        ("ep-q", True, "svc-q", False, None),
        (None, False, None, True, None),
        ("ep-q", False, None, True, "ep-q"),
    ],
)
def test_the_nearest_queue_group_setting_wins(
    own: str | None, own_disabled: bool, parent: str | None, parent_disabled: bool, expected: str | None
) -> None:
    assert resolve_queue_group(own, own_disabled, parent, parent_disabled) == expected


# -- the JSON records ---------------------------------------------------------------------------
STARTED = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)


def sample_stats() -> micro.ServiceStats:
    return micro.ServiceStats(
        id="ID1",
        name="calc",
        version="1.0.0",
        started=STARTED,
        endpoints=[
            micro.EndpointStats("double", "calc.double", "q", 3, 1, 900, 300, "500:boom", {"x": [1]}),
        ],
        metadata={"a": "b"},
    )


def test_every_record_round_trips_through_its_json() -> None:
    ping = micro.ServicePing("ID1", "calc", "1.0.0", {"a": "b"})
    info = micro.ServiceInfo(
        "calc", "ID1", "1.0.0", "adds", [micro.EndpointInfo("double", "calc.double", "q", {"k": "v"})]
    )
    stats = sample_stats()
    for record, parse in (
        (ping, micro.ServicePing.from_dict),
        (info, micro.ServiceInfo.from_dict),
        (stats, micro.ServiceStats.from_dict),
    ):
        text = json.dumps(record.to_dict())
        assert parse(json.loads(text)) == record


@pytest.mark.parametrize(
    ("kind", "record"),
    [
        ("ping", micro.ServicePing("ID1", "calc", "1.0.0")),
        ("info", micro.ServiceInfo("calc", "ID1", "1.0.0")),
        ("stats", sample_stats()),
    ],
)
def test_records_write_what_the_adr_32_schema_requires(kind: str, record: object) -> None:
    doc = json.loads(json.dumps(record.to_dict()))  # type: ignore[attr-defined]  # each record has it
    assert violations(kind, doc, strict=True) == []


def test_unset_description_and_last_error_are_written_as_empty_strings() -> None:
    info = micro.ServiceInfo("calc", "ID1", "1.0.0").to_dict()
    assert info["description"] == ""
    assert info["metadata"] == {}
    stats = micro.EndpointStats("e", "e", "q", 0, 0, 0, 0).to_dict()
    assert stats["last_error"] == ""
    assert stats["data"] is None


def test_the_schema_check_finds_what_is_wrong() -> None:
    bad = {
        "type": "io.nats.micro.v1.info_response",
        "name": "bad name",
        "id": "",
        "version": "1.0",
        "metadata": {"a": 1},
        "description": None,
        "endpoints": [{"name": "e", "subject": ""}],
        "extra": True,
    }
    problems = violations("info", bad, strict=True)
    for fragment in (
        "info.name",
        "info.id",
        "info.version",
        "info.metadata",
        "info.description",
        "info.endpoints[0].subject",
        "info.endpoints[0].queue_group: missing",
        "info.extra",
    ):
        assert any(p.startswith(fragment) for p in problems), (fragment, problems)
    assert violations("stats", {**bad, "type": "io.nats.micro.v1.stats_response"})[0:1] != []


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "calc", "version": "1.0.0"}, "'id'"),
        ({"id": 5, "name": "calc", "version": "1.0.0"}, "'id'"),
        ({"id": "x", "name": "calc", "version": "1.0.0", "metadata": {"a": 1}}, "'metadata'"),
        ({"id": "x", "name": "calc", "version": "1.0.0", "type": "io.nats.micro.v1.info_response"}, "'type'"),
    ],
)
def test_reading_a_bad_ping_names_the_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError, match=field):
        micro.ServicePing.from_dict(data)


def test_reading_bad_stats_names_the_field() -> None:
    doc = dict(sample_stats().to_dict())
    doc["endpoints"] = [{**sample_stats().to_dict()["endpoints"][0], "num_requests": "3"}]
    with pytest.raises(InvalidInputError, match="'num_requests'"):
        micro.ServiceStats.from_dict(doc)
    doc = dict(sample_stats().to_dict())
    doc["started"] = "yesterday"
    with pytest.raises(InvalidInputError, match="started"):
        micro.ServiceStats.from_dict(doc)
    with pytest.raises(InvalidInputError, match="JSON object"):
        micro.ServiceStats.from_dict([])  # type: ignore[arg-type]  # bad on purpose


def test_peers_variants_are_read_null_metadata_missing_data_no_queue_group() -> None:
    stats = micro.ServiceStats.from_dict(
        {
            "type": "io.nats.micro.v1.stats_response",
            "id": "x",
            "name": "calc",
            "version": "1.0.0",
            "metadata": None,
            "started": "2024-05-01T12:00:00.123456789Z",
            "endpoints": [
                {
                    "name": "e",
                    "subject": "e",
                    "num_requests": 1,
                    "num_errors": 0,
                    "last_error": "",
                    "processing_time": 5,
                    "average_processing_time": 5,
                }
            ],
        }
    )
    assert stats.metadata == {}
    assert stats.endpoints[0].data is None
    assert stats.endpoints[0].queue_group == ""
    assert stats.endpoints[0].last_error is None
    assert stats.started == STARTED


@pytest.mark.parametrize(
    "text",
    [
        "2024-05-01T12:00:00.123456Z",
        "2024-05-01T12:00:00.123456789Z",
        "2024-05-01T12:00:00.123456Z".lower(),
        "2024-05-01T14:00:00.123456+02:00",
        "2024-05-01T11:00:00.123456-01:00",
    ],
)
def test_started_times_in_any_rfc3339_form_are_read_in_utc(text: str) -> None:
    assert parse_started(text) == STARTED


def test_started_times_are_read_without_a_fraction_too() -> None:
    assert parse_started("2024-05-01T12:00:00Z") == STARTED.replace(microsecond=0)


@pytest.mark.parametrize("text", ["", "2024-05-01", "12:00:00", "2024-05-01T25:00:00Z", "nonsense"])
def test_started_times_that_are_not_rfc3339_are_refused(text: str) -> None:
    with pytest.raises(InvalidInputError, match="RFC 3339"):
        parse_started(text)


def test_started_is_written_in_utc_with_microseconds_and_z() -> None:
    assert format_started(STARTED) == "2024-05-01T12:00:00.123456Z"
    other = STARTED.astimezone(timezone(timedelta(hours=5)))
    assert format_started(other) == "2024-05-01T12:00:00.123456Z"
    assert format_started(STARTED.replace(tzinfo=None)) == "2024-05-01T12:00:00.123456Z"


# -- errors ---------------------------------------------------------------------------------------
def test_a_service_error_is_read_back_from_the_response_headers() -> None:
    msg = Msg(
        subject="inbox",
        headers=Headers([(micro.ERROR_HEADER, "not found"), (micro.ERROR_CODE_HEADER, "404")]),
    )
    error = micro.ServiceError.from_msg(msg)
    assert error is not None
    assert (error.code, error.description, repr(error)) == ("404", "not found", "404:not found")
    assert micro.ServiceError.from_msg(Msg(subject="inbox")) is None
    assert micro.ServiceError.from_msg(Msg(subject="inbox", headers=Headers([("A", "b")]))) is None
    assert micro.ServiceError.from_dict(error.to_dict()).to_dict() == error.to_dict()


def test_an_exception_text_becomes_one_bounded_header_line() -> None:
    assert exception_text(ValueError("bad\r\ninput\there")) == "bad input here"
    assert exception_text(KeyError()) == "KeyError"
    assert len(exception_text(ValueError("x" * 5000))) == 1024


async def test_a_request_without_a_reply_subject_cannot_be_answered() -> None:
    request = micro.Request(Msg(subject="svc.op", data=b"x"))
    with pytest.raises(InvalidInputError, match="no reply subject"):
        await request.respond(b"")
    with pytest.raises(InvalidInputError, match="no reply subject"):
        request.respond_error_nowait(500, "oops")
    assert not request.responded


@pytest.mark.parametrize(
    ("code", "description"),
    [("E404", "missing"), ("", "missing"), ("4.5", "missing"), (404, ""), (404, "a\nb"), (True, "x")],
)
async def test_an_error_answer_needs_a_numeric_code_and_a_one_line_description(
    code: object, description: str
) -> None:
    request = micro.Request(Msg(subject="svc.op", reply="inbox"))
    with pytest.raises(InvalidInputError):
        await request.respond_error(code, description)  # type: ignore[arg-type]  # bad on purpose
    assert not request.responded

