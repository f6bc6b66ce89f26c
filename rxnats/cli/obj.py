"""``rxnats object ls|add|put|get|info|rm``: object stores from the shell.

Files are streamed chunk by chunk both ways, so memory stays small whatever their size.
``put`` names the object after the file (``--name`` overrides; ``-`` reads stdin and
needs ``--name``); ``get`` writes into a file named after the object (``-O FILE``, or
``-O -`` for stdout). Replacing an existing object or file, and deleting, ask for
confirmation on a terminal and need ``--force`` in scripts.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import BinaryIO

from rxnats.cli.errors import EXIT_OK, EXIT_USAGE, CommandFailed
from rxnats.cli.output import confirm, info, print_json, print_table
from rxnats.cli.parsing import Commands, add_command, add_group, duration, positive_int, size
from rxnats.cli.stream import run_js
from rxnats.jetstream import (
    JetStreamContext,
    NoObjectsError,
    ObjectInfo,
    ObjectMeta,
    ObjectStoreConfig,
)
from rxnats.jetstream.models import StorageType
from rxnats.jetstream.object_errors import ObjectNotFoundError

__all__ = ["add_commands"]


def add_commands(commands: Commands) -> None:
    """Add the ``object`` group."""
    group = add_group(commands, "object", "JetStream object stores", aliases=["obj"])
    ls = add_command(group, "ls", cmd_ls, "list the buckets, or the objects of BUCKET", aliases=["list"])
    ls.add_argument("bucket", nargs="?")
    ls.add_argument("-n", "--names", action="store_true", help="only the names")
    ls.add_argument("-j", "--json", action="store_true", help="JSON output")

    add = add_command(group, "add", cmd_add, "create a bucket")
    add.add_argument("bucket")
    add.add_argument("--ttl", type=duration, metavar="DURATION", help="how long objects live (default: forever)")
    add.add_argument("--storage", choices=["file", "memory"], help="file (default) or memory")
    add.add_argument("--replicas", type=positive_int, default=1, help="replicas (clustered servers)")
    add.add_argument("--max-bucket-size", type=size, metavar="SIZE", help="largest total size")
    add.add_argument("--description", help="a description")

    put = add_command(group, "put", cmd_put, "store a file")
    put.add_argument("bucket")
    put.add_argument("file", help="the file to store; '-' reads stdin (with --name)")
    put.add_argument("--name", help="the object's name (default: the file's name)")
    put.add_argument("--description", help="a description of the object")
    put.add_argument("-f", "--force", action="store_true", help="replace an existing object without asking")

    get = add_command(group, "get", cmd_get, "fetch an object into a file")
    get.add_argument("bucket")
    get.add_argument("name")
    get.add_argument("-O", "--output", metavar="FILE", help="where to write it (default: its name; '-': stdout)")
    get.add_argument("-f", "--force", action="store_true", help="overwrite an existing file without asking")

    show = add_command(group, "info", cmd_info, "a bucket's or an object's details")
    show.add_argument("bucket")
    show.add_argument("name", nargs="?")
    show.add_argument("-j", "--json", action="store_true", help="JSON output")

    rm = add_command(group, "rm", cmd_rm, "delete an object, or the whole bucket when no name is given",
                     aliases=["del"])
    rm.add_argument("bucket")
    rm.add_argument("name", nargs="?")
    rm.add_argument("-f", "--force", action="store_true", help="do not ask")


def _when(obj: ObjectInfo) -> str:
    return obj.mtime.astimezone().isoformat(timespec="seconds") if obj.mtime else ""


def cmd_ls(args: argparse.Namespace) -> int:
    """``rxnats object ls [BUCKET]``."""

    async def body(js: JetStreamContext) -> int:
        if args.bucket is None:
            names = sorted(n[4:] for n in await js.stream_names() if n.startswith("OBJ_"))
            if args.json:
                print_json(names)
            elif args.names:
                for name in names:
                    print(name)
            elif not names:
                info("no object stores; 'rxnats object add BUCKET' makes one")
            else:
                rows = []
                for name in names:
                    status = await (await js.object_store(name)).status()
                    rows.append((name, status.description or "", status.size, "yes" if status.sealed else "no"))
                print_table(("Bucket", "Description", "Bytes", "Sealed"), rows)
            return EXIT_OK
        store = await js.object_store(args.bucket)
        try:
            objects = sorted(await store.list(), key=lambda o: o.name)
        except NoObjectsError:
            objects = []
        if args.json:
            print_json(objects)
        elif args.names:
            for obj in objects:
                print(obj.name)
        elif not objects:
            info(f"bucket {args.bucket!r} holds no objects")
        else:
            print_table(("Name", "Size", "Modified"), [(o.name, o.size, _when(o)) for o in objects])
        return EXIT_OK

    return run_js(args, body)


def cmd_add(args: argparse.Namespace) -> int:
    """``rxnats object add BUCKET``."""
    config = ObjectStoreConfig(
        bucket=args.bucket,
        ttl=args.ttl,
        storage=StorageType(args.storage) if args.storage else None,
        replicas=args.replicas,
        max_bytes=args.max_bucket_size,
        description=args.description,
    )

    async def body(js: JetStreamContext) -> int:
        await js.create_object_store(config)
        info(f"created object store {args.bucket!r}")
        return EXIT_OK

    return run_js(args, body)


def cmd_put(args: argparse.Namespace) -> int:
    """``rxnats object put BUCKET FILE``."""
    from_stdin = args.file == "-"
    if from_stdin and not args.name:
        raise CommandFailed("reading stdin needs --name", EXIT_USAGE, hint="rxnats object put BUCKET - --name NAME")
    path = Path(args.file)
    if not from_stdin and not path.is_file():
        raise CommandFailed(f"no such file: {args.file}", hint="check the path")
    name: str = args.name or path.name

    async def body(js: JetStreamContext, source: BinaryIO) -> int:
        store = await js.object_store(args.bucket)
        try:
            existing: ObjectInfo | None = await store.get_info(name)
        except ObjectNotFoundError:
            existing = None
        if existing is not None:
            confirm(f"replace object {name!r} ({existing.size} bytes) in bucket {args.bucket!r}?", force=args.force)
        stored = await store.put(name, source, meta=ObjectMeta(name=name, description=args.description))
        info(f"stored {name!r} in bucket {args.bucket!r}: {stored.size} bytes in {stored.chunks} chunks")
        return EXIT_OK

    if from_stdin:
        return run_js(args, lambda js: body(js, sys.stdin.buffer))
    with path.open("rb") as f:
        return run_js(args, lambda js: body(js, f))


def cmd_get(args: argparse.Namespace) -> int:
    """``rxnats object get BUCKET NAME``."""
    target: str = args.output or Path(args.name).name

    async def body(js: JetStreamContext, sink: BinaryIO) -> int:
        store = await js.object_store(args.bucket)
        await store.get_info(args.name)  # a clear error before anything is written
        result = await store.get(args.name, writeinto=sink)
        return result.info.size

    if target == "-":
        run_js(args, lambda js: body(js, sys.stdout.buffer))
        sys.stdout.buffer.flush()
        return EXIT_OK
    out = Path(target)
    if out.exists():
        confirm(f"overwrite {out}?", force=args.force)
    partial = out.with_name(f".{out.name}.part")  # the file appears whole, or not at all
    try:
        with partial.open("wb") as f:
            written = run_js(args, lambda js: body(js, f))
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    info(f"wrote {written} bytes of {args.name!r} to {out}")
    return EXIT_OK


def cmd_info(args: argparse.Namespace) -> int:
    """``rxnats object info BUCKET [NAME]``."""

    async def body(js: JetStreamContext) -> int:
        store = await js.object_store(args.bucket)
        if args.name is None:
            status = await store.status()
            if args.json:
                print_json(status.stream_info)
                return EXIT_OK
            rows: list[tuple[str, object]] = [
                ("Description", status.description), ("Storage", status.storage_type.value if status.storage_type else None),
                ("Replicas", status.replicas), ("TTL", f"{status.ttl:g}s" if status.ttl else "forever"),
                ("Sealed", "yes" if status.sealed else "no"), ("Bytes", status.size),
            ]
            print_table(("Bucket", args.bucket), [(k, v) for k, v in rows if v not in (None, "")])
            return EXIT_OK
        obj = await store.get_info(args.name)
        if args.json:
            print_json(obj)
            return EXIT_OK
        rows = [
            ("Bucket", obj.bucket), ("Description", obj.description), ("Size", obj.size),
            ("Chunks", obj.chunks), ("Digest", obj.digest), ("Modified", _when(obj)),
        ]
        print_table(("Object", obj.name), [(k, v) for k, v in rows if v not in (None, "")])
        return EXIT_OK

    return run_js(args, body)


def cmd_rm(args: argparse.Namespace) -> int:
    """``rxnats object rm BUCKET [NAME]``."""

    async def body(js: JetStreamContext) -> int:
        store = await js.object_store(args.bucket)
        if args.name is None:
            confirm(f"delete object store {args.bucket!r} and every object in it?", force=args.force)
            await js.delete_object_store(args.bucket)
            info(f"deleted object store {args.bucket!r}")
        else:
            await store.get_info(args.name)
            confirm(f"delete object {args.name!r} of bucket {args.bucket!r}?", force=args.force)
            await store.delete(args.name)
            info(f"deleted object {args.name!r} of bucket {args.bucket!r}")
        return EXIT_OK

    return run_js(args, body)
