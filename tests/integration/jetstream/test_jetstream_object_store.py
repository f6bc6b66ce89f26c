"""Object store buckets (ADR-20) against a real JetStream-enabled nats-server."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import rxnats
from rxnats.jetstream import (
    BucketNotFoundError,
    DigestMismatchError,
    InvalidBucketNameError,
    JetStreamContext,
    LinkIsABucketError,
    LinkToLinkError,
    NoObjectsError,
    NotFoundError,
    ObjectAlreadyExistsError,
    ObjectDeletedError,
    ObjectMeta,
    ObjectMetaOptions,
    ObjectNotFoundError,
    ObjectStore,
    ObjectStoreConfig,
    StorageType,
)
from rxnats.jetstream.object_models import encode_name, format_digest


@pytest.fixture
async def obs(js: JetStreamContext) -> ObjectStore:
    return await js.create_object_store("FILES", storage=StorageType.MEMORY)


def _blob(size: int) -> bytes:
    return os.urandom(size)


async def test_bucket_lifecycle(js: JetStreamContext) -> None:
    store = await js.create_object_store(
        config=ObjectStoreConfig(bucket="DOCS", description="docs", ttl=3600.0)
    )
    info = await js.stream_info("OBJ_DOCS")
    assert info.config.subjects == ["$O.DOCS.C.>", "$O.DOCS.M.>"]
    assert info.config.allow_rollup_hdrs and info.config.discard is not None
    assert info.config.discard.value == "new"
    status = await (await js.object_store("DOCS")).status()
    assert (status.bucket, status.description, status.ttl, status.sealed) == (
        "DOCS",
        "docs",
        3600.0,
        False,
    )
    assert store.bucket == "DOCS"
    assert await js.delete_object_store("DOCS") is True
    with pytest.raises(BucketNotFoundError):
        await js.object_store("DOCS")
    with pytest.raises(InvalidBucketNameError):
        await js.create_object_store("bad.name")


async def test_large_object_round_trip_with_digest(js: JetStreamContext, obs: ObjectStore) -> None:
    data = _blob(3 * 1024 * 1024 + 123)  # three times the server's 1 MiB max_payload
    assert len(data) > js._nc.max_payload()
    info = await obs.put("big.bin", data)
    expected = format_digest(hashlib.sha256(data).digest())
    assert (info.name, info.size, info.chunks, info.digest) == ("big.bin", len(data), 25, expected)
    assert info.nuid and info.mtime is not None
    result = await obs.get("big.bin")
    assert result.data == data
    assert result.info.digest == expected and result.info.mtime is not None
    stored = await js.stream_info("OBJ_FILES")
    assert stored.state.messages == 26  # 25 chunks + 1 meta


async def test_file_like_streaming_put_and_get(obs: ObjectStore, tmp_path: Path) -> None:
    data = _blob(700_000)
    src = tmp_path / "in.bin"
    src.write_bytes(data)
    meta = ObjectMeta(description="a file", options=ObjectMetaOptions(max_chunk_size=64 * 1024))
    with src.open("rb") as f:
        info = await obs.put("file", f, meta=meta)
    assert (info.size, info.chunks, info.description) == (len(data), 11, "a file")
    dst = tmp_path / "out.bin"
    with dst.open("wb") as f:
        result = await obs.get("file", writeinto=f)
    assert result.data == b"" and dst.read_bytes() == data
    sink = io.BytesIO()
    await obs.get("file", writeinto=sink)
    assert sink.getvalue() == data
    got = await obs.get_info("file")
    assert got.options is not None and got.options.max_chunk_size == 64 * 1024


async def test_async_iterable_and_str_inputs(obs: ObjectStore) -> None:
    async def parts() -> AsyncIterator[bytes]:
        for i in range(5):
            yield bytes([i]) * 100_000

    info = await obs.put("parts", parts())
    assert (info.size, info.chunks) == (500_000, 4)
    assert (await obs.get("parts")).data == b"".join(bytes([i]) * 100_000 for i in range(5))
    await obs.put("text", "héllo")
    assert (await obs.get("text")).data == "héllo".encode()


async def test_empty_object(obs: ObjectStore) -> None:
    info = await obs.put("empty", b"")
    assert (info.size, info.chunks) == (0, 0)
    assert info.digest == format_digest(hashlib.sha256(b"").digest())
    result = await obs.get("empty")
    assert result.data == b"" and result.info.size == 0


async def test_overwrite_replaces_and_purges_old_chunks(
    js: JetStreamContext, obs: ObjectStore
) -> None:
    first = await obs.put("doc", _blob(300_000))
    second_data = _blob(10_000)
    second = await obs.put("doc", second_data)
    assert second.nuid != first.nuid
    assert (await obs.get("doc")).data == second_data
    state = (await js.stream_info("OBJ_FILES", subjects_filter="$O.FILES.C.>")).state
    assert state.subjects == {f"$O.FILES.C.{second.nuid}": 1}
    assert state.messages == 2  # one chunk and one meta


async def test_delete_then_get_raises(js: JetStreamContext, obs: ObjectStore) -> None:
    info = await obs.put("gone", _blob(200_000))
    marker = await obs.delete("gone")
    assert marker.deleted and marker.size == 0
    with pytest.raises(ObjectDeletedError):
        await obs.get("gone")
    with pytest.raises(ObjectNotFoundError):  # the deleted error is a not-found error
        await obs.get_info("gone")
    shown = await obs.get_info("gone", show_deleted=True)
    assert shown.deleted and shown.nuid == info.nuid
    assert (await obs.delete("gone")).deleted  # deleting again does nothing
    chunks = (await js.stream_info("OBJ_FILES", subjects_filter="$O.FILES.C.>")).state
    assert not chunks.subjects
    with pytest.raises(ObjectNotFoundError):
        await obs.delete("never")
    with pytest.raises(NotFoundError):  # nats-py code catches NotFoundError
        await obs.get("never")


async def test_list_and_no_objects(obs: ObjectStore) -> None:
    with pytest.raises(NoObjectsError):
        await obs.list()
    for name in ("a", "b", "c"):
        await obs.put(name, name.encode())
    await obs.delete("b")
    assert sorted(i.name for i in await obs.list()) == ["a", "c"]
    every = await obs.list(ignore_deletes=False)
    assert sorted((i.name, i.deleted) for i in every) == [("a", False), ("b", True), ("c", False)]


async def test_links(js: JetStreamContext, obs: ObjectStore) -> None:
    data = _blob(150_000)
    target = await obs.put("target", data)
    link = await obs.add_link("alias", target)
    assert link.is_link() and link.link is not None and link.link.name == "target"
    assert (await obs.get("alias")).data == data
    other = await js.create_object_store("OTHER", storage=StorageType.MEMORY)
    await other.add_link("remote", target)
    assert (await other.get("remote")).data == data
    with pytest.raises(LinkToLinkError):
        await obs.add_link("chain", link)
    with pytest.raises(ObjectAlreadyExistsError):
        await obs.add_link("target", target)
    bucket_link = await obs.add_bucket_link("all-other", other)
    assert bucket_link.link is not None and bucket_link.link.name is None
    with pytest.raises(LinkIsABucketError):
        await obs.get("all-other")
    deleted = await obs.delete("target")
    with pytest.raises(ObjectDeletedError):
        await obs.add_link("late", deleted)


async def test_update_meta_and_rename(js: JetStreamContext, obs: ObjectStore) -> None:
    data = b"payload"
    await obs.put("old", data)
    await obs.put("taken", b"x")
    with pytest.raises(ObjectAlreadyExistsError):
        await obs.update_meta("old", ObjectMeta(name="taken"))
    updated = await obs.update_meta(
        "old", ObjectMeta(name="new", description="renamed", headers={"K": ["v"]})
    )
    assert (updated.name, updated.description) == ("new", "renamed")
    with pytest.raises(ObjectNotFoundError):
        await obs.get_info("old")
    got = await obs.get("new")
    assert got.data == data
    assert (got.info.description, got.info.headers) == ("renamed", {"K": ["v"]})
    old_meta = f"$O.FILES.M.{encode_name('old')}"
    state = (await js.stream_info("OBJ_FILES", subjects_filter="$O.FILES.M.>")).state
    assert state.subjects is not None and old_meta not in state.subjects
    await obs.update_meta("new", ObjectMeta(description="same name"))
    assert (await obs.get_info("new")).description == "same name"


async def test_watch_sees_put_and_delete(obs: ObjectStore) -> None:
    await obs.put("before", b"1")
    async with await obs.watch() as watcher:
        first = await watcher.updates(timeout=5.0)
        assert first is not None and first.name == "before"
        assert await watcher.updates(timeout=5.0) is None  # up to date
        await obs.put("after", b"22")
        seen = await watcher.updates(timeout=5.0)
        assert seen is not None and (seen.name, seen.size) == ("after", 2)
        await obs.delete("after")
        gone = await watcher.updates(timeout=5.0)
        assert gone is not None and gone.deleted
    async with await obs.watch(ignore_deletes=True, include_history=True) as history:
        names = []
        while (entry := await history.updates(timeout=5.0)) is not None:
            names.append(entry.name)
        assert names == ["before"]


async def test_digest_mismatch_detected(js: JetStreamContext, obs: ObjectStore) -> None:
    info = await obs.put("victim", _blob(1000))
    # Append a bogus chunk to the object's chunk subject and claim two chunks: the
    # bytes read then hash to something else than the stored digest.
    await js.publish(f"$O.FILES.C.{info.nuid}", b"bogus")
    info.chunks, info.size = 2, 1005
    await js.publish(f"$O.FILES.M.{encode_name('victim')}", info.to_json())
    with pytest.raises(DigestMismatchError) as caught:
        await obs.get("victim")
    assert caught.value.expected == info.digest


async def test_seal_refuses_changes(obs: ObjectStore) -> None:
    await obs.put("kept", b"k")
    status = await obs.seal()
    assert status.sealed
    with pytest.raises(rxnats.errors.Error):
        await obs.put("new", b"n")
    assert (await obs.get("kept")).data == b"k"  # sealed buckets are still readable


async def test_failed_put_keeps_previous_version(js: JetStreamContext, obs: ObjectStore) -> None:
    old = _blob(5000)
    await obs.put("doc", old)

    async def broken() -> AsyncIterator[bytes]:
        yield _blob(200_000)
        raise OSError("disk gone")

    with pytest.raises(OSError, match="disk gone"):
        await obs.put("doc", broken())
    assert (await obs.get("doc")).data == old
    chunks = (await js.stream_info("OBJ_FILES", subjects_filter="$O.FILES.C.>")).state
    assert chunks.subjects is not None and len(chunks.subjects) == 1  # partial chunks purged


async def test_cancelled_put_purges_its_chunks(js: JetStreamContext, obs: ObjectStore) -> None:
    import asyncio

    started = asyncio.Event()

    async def stalls() -> AsyncIterator[bytes]:
        yield _blob(300_000)
        started.set()
        await asyncio.Event().wait()
        yield b""  # never reached

    task = asyncio.create_task(obs.put("slow", stalls()))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with pytest.raises(ObjectNotFoundError):
        await obs.get_info("slow")
    assert (await js.stream_info("OBJ_FILES")).state.messages == 0
