"""Object store pieces that need no server: names, digests, meta JSON, chunking."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
from collections.abc import AsyncIterator

import pytest

from rxnats.errors import InvalidInputError
from rxnats.jetstream import (
    BadObjectMetaError,
    DigestMismatchError,
    InvalidBucketNameError,
    LinkToLinkError,
    NotFoundError,
    ObjectDeletedError,
    ObjectInfo,
    ObjectLink,
    ObjectMetaOptions,
    ObjectNotFoundError,
    ObjectStoreConfig,
)
from rxnats.jetstream.models import DiscardPolicy, StorageType, StoreCompression
from rxnats.jetstream.object_io import read_chunks
from rxnats.jetstream.object_models import (
    DigestVerifier,
    chunk_subject,
    encode_name,
    format_digest,
    meta_subject,
    parse_digest,
    parse_time,
)
from rxnats.jetstream.object_store import check_bucket, object_store_stream_config


def test_names_and_subjects() -> None:
    assert encode_name("a/b c.txt") == base64.urlsafe_b64encode(b"a/b c.txt").decode()
    assert encode_name("ü?>") == "w7w_Pg=="  # url alphabet, padded: no '.', '*' or '>'
    assert meta_subject("B", "x") == "$O.B.M.eA=="
    assert chunk_subject("B", "NUID") == "$O.B.C.NUID"
    check_bucket("ok-bucket_1")
    for bad in ("", "a.b", "a b", "a*"):
        with pytest.raises(InvalidBucketNameError):
            check_bucket(bad)


def test_digest_text_and_verifier() -> None:
    sha = hashlib.sha256(b"hello world").digest()
    text = format_digest(sha)
    assert text == "SHA-256=" + base64.urlsafe_b64encode(sha).decode()
    assert parse_digest(text) == sha
    std = "sha-256=" + base64.b64encode(sha).decode().rstrip("=")
    assert parse_digest(std) == sha  # other alphabet, lower-case name, no padding
    verifier = DigestVerifier()
    for part in (b"hello", b" ", b"world"):
        verifier.update(part)
    verifier.verify(text)
    assert verifier.size == 11 and verifier.digest == text
    verifier.verify(None)  # an object stored without digest is accepted
    verifier.update(b"!")
    with pytest.raises(DigestMismatchError) as caught:
        verifier.verify(text)
    assert caught.value.expected == text and caught.value.actual == verifier.digest


@pytest.mark.parametrize("text", ["MD5=abc", "SHA-256=!!!", "SHA-256=" + "A" * 8])
def test_bad_digest_texts(text: str) -> None:
    with pytest.raises(BadObjectMetaError):
        parse_digest(text)


def test_parse_time() -> None:
    assert parse_time("2024-05-06T07:08:09.123456789Z") == dt.datetime(
        2024, 5, 6, 7, 8, 9, 123456, tzinfo=dt.UTC
    )
    assert parse_time("2024-05-06T07:08:09+02:00") == dt.datetime(
        2024, 5, 6, 5, 8, 9, tzinfo=dt.UTC
    )
    assert parse_time(None) is None and parse_time("yesterday") is None


def test_object_info_json_round_trip() -> None:
    info = ObjectInfo(
        name="n",
        bucket="B",
        nuid="NUID",
        size=3,
        chunks=1,
        digest="SHA-256=x",
        description="d",
        headers={"K": ["a", "b"]},
        metadata={"m": "1"},
        options=ObjectMetaOptions(max_chunk_size=1024),
        mtime=dt.datetime.now(dt.UTC),
    )
    wire = json.loads(info.to_json())
    assert "mtime" not in wire and "deleted" not in wire  # never stored / omitted when false
    assert wire["options"] == {"max_chunk_size": 1024}
    when = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    back = ObjectInfo.from_json(info.to_json(), mtime=when)
    assert back == ObjectInfo(**{**info.__dict__, "mtime": when})
    assert not back.is_link()


def test_link_json_and_foreign_meta() -> None:
    link = ObjectInfo(
        name="l", bucket="B", nuid="N", options=ObjectMetaOptions(link=ObjectLink(bucket="O"))
    )
    wire = json.loads(link.to_json())
    assert wire["options"] == {"link": {"bucket": "O"}}
    assert ObjectInfo.from_json(link.to_json()).link == ObjectLink(bucket="O", name=None)
    # Meta as another client writes it: single-string header values, unknown fields.
    foreign = json.dumps(
        {"name": "f", "bucket": "B", "nuid": "N", "size": 1, "chunks": 1,
         "mtime": "0001-01-01T00:00:00Z", "headers": {"K": "v"}, "future": True}
    ).encode()
    parsed = ObjectInfo.from_json(foreign)
    assert parsed.headers == {"K": ["v"]} and parsed.mtime is None


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"[]",
        b'{"bucket":"B"}',
        b'{"name":"n","size":"big"}',
        b'{"name":"n","size":-1}',
        b'{"name":"n","deleted":"yes"}',
        b'{"name":"n","headers":{"K":[1]}}',
        b'{"name":"n","options":{"link":{"name":"x"}}}',
        b'{"name":"n","metadata":{"k":2}}',
    ],
)
def test_bad_meta_is_a_typed_error(payload: bytes) -> None:
    with pytest.raises(BadObjectMetaError):
        ObjectInfo.from_json(payload)


def test_error_tree() -> None:
    assert issubclass(ObjectDeletedError, ObjectNotFoundError)
    assert issubclass(ObjectNotFoundError, NotFoundError)
    assert issubclass(LinkToLinkError, InvalidInputError)
    assert ObjectDeletedError("x").code == 404


def test_stream_config() -> None:
    cfg = object_store_stream_config(
        ObjectStoreConfig(bucket="B", ttl=60.0, storage=StorageType.MEMORY, compression=True)
    )
    assert cfg.name == "OBJ_B" and cfg.subjects == ["$O.B.C.>", "$O.B.M.>"]
    assert cfg.discard is DiscardPolicy.NEW and cfg.allow_rollup_hdrs and cfg.allow_direct
    assert cfg.compression is StoreCompression.S2
    assert cfg.as_request()["max_age"] == 60 * 1_000_000_000


async def _collect(source: object, size: int) -> list[bytes]:
    return [chunk async for chunk in read_chunks(source, size)]  # type: ignore[arg-type]  # the TypeError case passes a wrong type on purpose


class _Trickle:
    """A reader that returns at most 3 bytes per read, like a pipe."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def read(self, size: int, /) -> bytes:
        return self._data.read(min(size, 3))


async def test_chunking_of_every_input_kind() -> None:
    data = bytes(range(256)) * 4
    expected = [data[i : i + 100] for i in range(0, len(data), 100)]
    assert await _collect(data, 100) == expected
    assert await _collect(bytearray(data), 100) == expected
    assert await _collect(memoryview(data), 100) == expected
    assert await _collect(io.BytesIO(data), 100) == expected
    assert await _collect(_Trickle(data), 100) == expected  # short reads are joined
    assert await _collect(io.StringIO("ab" * 150), 100) == [b"ab" * 50] * 3

    async def parts() -> AsyncIterator[bytes]:
        for i in range(0, len(data), 7):
            yield data[i : i + 7]

    assert await _collect(parts(), 100) == expected
    assert await _collect(b"", 100) == []
    with pytest.raises(TypeError):
        await _collect(12345, 100)
