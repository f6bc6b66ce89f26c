"""Every JetStream model round-trips the server's JSON unchanged, a newer server's too.

Hypothesis builds JSON documents of each model's shape: each known field present or not,
with a value of the wire type (nanosecond durations of any size, RFC 3339 times with
nanoseconds, enum strings a newer server might send, nested models, ``null``), plus keys
no model knows, at every level. Decoding and encoding again must give the document back
exactly; changing one field must change that key only.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
import typing

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rxnats.jetstream import models, object_models
from rxnats.jetstream.base import (
    _ENUM,
    _MODEL,
    _MODEL_DICT,
    _MODEL_LIST,
    _NS,
    _NS_LIST,
    _TIME,
    Base,
    _specs,
    _strip_optional,
)

MODELS: list[type[Base]] = sorted(
    {
        cls
        for module in (models, object_models)
        for cls in vars(module).values()
        if isinstance(cls, type) and issubclass(cls, Base) and cls is not Base
    }
    - {models.RawStreamMsg},  # a stored message (base64 payload), not a config or info
    key=lambda c: c.__name__,
)

json_scalars = st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.text(max_size=8)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


@st.composite
def rfc3339(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        return "0001-01-01T00:00:00Z"  # Go's zero time, as the server sends it
    moment = draw(st.datetimes(min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(2200, 1, 1)))
    digits = draw(st.text(alphabet="0123456789", min_size=0, max_size=9))
    fraction = f".{digits}" if digits else ""
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"


def _plain(tp: object) -> st.SearchStrategy[object]:
    tp = _strip_optional(tp)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is bool:
        return st.booleans()
    if tp is int:
        return st.integers(-(2**63), 2**64)
    if tp is float:
        return st.floats(allow_nan=False, allow_infinity=False)
    if tp is str:
        return st.text(max_size=10)
    if origin is list:
        return st.lists(_plain(args[0]), max_size=3)
    if origin is dict:
        return st.dictionaries(st.text(max_size=6), _plain(args[1]), max_size=3)
    return json_values


def document(cls: type[Base], depth: int = 0) -> st.SearchStrategy[dict[str, object]]:
    if cls is models.ConsumerReset:  # the consumer's info, flat, plus the sequence
        return st.builds(
            lambda info, seq: {**info, "reset_seq": seq},
            document(models.ConsumerInfo, depth),
            st.integers(0, 2**63),
        )
    hints = typing.get_type_hints(cls)
    fields: dict[str, st.SearchStrategy[object]] = {}
    for spec in _specs(cls):
        if spec.kind == _NS:
            value: st.SearchStrategy[object] = st.integers(-(2**63), 2**63 - 1)
        elif spec.kind == _NS_LIST:
            value = st.lists(st.integers(0, 2**63 - 1), max_size=3)
        elif spec.kind == _TIME:
            value = rfc3339()
        elif spec.kind == _ENUM:
            assert spec.enum is not None
            value = st.sampled_from([m.value for m in spec.enum]) | st.text(max_size=6)
        elif spec.kind in (_MODEL, _MODEL_LIST, _MODEL_DICT):
            assert spec.model is not None
            if depth > 2:
                continue
            inner = document(spec.model, depth + 1)
            value = (
                inner
                if spec.kind == _MODEL
                else st.lists(inner, max_size=2)
                if spec.kind == _MODEL_LIST
                else st.dictionaries(st.text(min_size=1, max_size=4), inner, max_size=2)
            )
        else:
            value = _plain(hints[spec.name])
        fields[spec.key] = st.none() | value
    known = {spec.key for spec in _specs(cls)}
    extra = st.dictionaries(
        st.text(min_size=1, max_size=12).filter(lambda k: k not in known), json_values, max_size=3
    )
    optional = st.fixed_dictionaries({}, optional=fields)
    return st.builds(lambda a, b: {**b, **a}, optional, extra)


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_server_json_round_trips_unchanged(cls: type[Base], data: st.DataObject) -> None:
    doc = data.draw(document(cls))
    original = copy.deepcopy(doc)
    model = cls.from_response(doc)
    assert doc == original  # decoding does not touch the server's dict
    assert model.as_request() == original
    assert model.evolve().as_request() == original
    json.dumps(model.as_request())  # still JSON


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_changing_one_field_changes_that_key_only(cls: type[Base], data: st.DataObject) -> None:
    doc = data.draw(document(cls))
    specs = [s for s in _specs(cls) if s.kind not in (_MODEL, _MODEL_LIST, _MODEL_DICT)]
    if not specs or cls is models.ConsumerReset:
        return
    spec = data.draw(st.sampled_from(specs))
    hints = typing.get_type_hints(cls)
    tp = _strip_optional(hints[spec.name])
    if spec.kind in (_NS, _TIME) or tp in (int, str, bool):
        new: object
        if spec.kind == _NS:
            new = 12.5
        elif spec.kind == _TIME:
            new = dt.datetime(2031, 2, 3, 4, 5, 6, tzinfo=dt.UTC)
        elif tp is bool:
            new = not bool(getattr(cls.from_response(doc), spec.name))
        elif tp is int:
            new = 424242
        else:
            new = "changed-value"
        model = cls.from_response(doc).evolve(**{spec.name: new})
        out = model.as_request()
        others = {k: v for k, v in out.items() if k != spec.key}
        assert others == {k: v for k, v in doc.items() if k != spec.key}
        if new is False and spec.key not in doc:
            return  # an absent flag set to False stays absent: the same thing to the server
        assert spec.key in out
        if spec.kind == _NS:
            assert out[spec.key] == 12_500_000_000
        elif spec.kind == _TIME:
            assert out[spec.key] == "2031-02-03T04:05:06Z"
        else:
            assert out[spec.key] == new


def test_every_model_is_covered() -> None:
    names = {c.__name__ for c in MODELS}
    assert {"StreamConfig", "StreamInfo", "ConsumerConfig", "ConsumerInfo", "AccountInfo"} <= names
    assert {"KeyValueConfig", "ObjectStoreConfig", "PubAck", "ConsumerPause", "Tier"} <= names
    for cls in MODELS:
        assert dataclasses.is_dataclass(cls)


def test_a_newer_servers_stream_config_survives_an_update_round_trip() -> None:
    server = {
        "name": "S",
        "subjects": ["s.>"],
        "retention": "limits",
        "max_age": 1_234_567_891_234_567_891,  # more digits than a float holds
        "discard": "old",
        "storage": "memory",
        "compression": "zstd",  # an enum value this client does not know
        "subject_transform": {"src": "s.>", "dest": "t.>", "future": 1},
        "consumer_limits": {"inactive_threshold": 60_000_000_000, "max_ack_pending": 10},
        "allow_msg_ttl": True,
        "subject_delete_marker_ttl": 5_000_000_000,
        "feature_from_2_99": {"on": True},
        "sealed": False,
    }
    config = models.StreamConfig.from_response(server)
    assert config.max_age == pytest.approx(1_234_567_891.234_567_891)
    assert config.subject_transform is not None and config.subject_transform.dest == "t.>"
    assert config.extra_fields == {"feature_from_2_99": {"on": True}}
    sent = config.evolve(description="x").as_request()
    assert sent == {**server, "description": "x"}
