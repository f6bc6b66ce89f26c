"""``rxnats kv ls|add|put|get|del|rm|history|watch``: key-value buckets from the shell.

As in ``nats kv``: ``ls`` lists the buckets, or a bucket's keys; ``del BUCKET KEY``
deletes a key and ``del BUCKET`` (or ``rm BUCKET``) the whole bucket, after a
confirmation (``--force`` in scripts); ``put`` reads the value from stdin when none is
given; ``watch`` prints the current values and then every change until Ctrl-C or
``--count``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from rxnats.cli.errors import EXIT_OK
from rxnats.cli.output import confirm, info, print_json, print_table
from rxnats.cli.parsing import (
    Commands,
    add_command,
    add_group,
    duration,
    non_negative_int,
    positive_int,
    size,
)
from rxnats.cli.stream import run_js
from rxnats.jetstream import JetStreamContext, KeyValue, KeyValueConfig, NoKeysError
from rxnats.jetstream.models import StorageType

__all__ = ["add_commands"]


def add_commands(commands: Commands) -> None:
    """Add the ``kv`` group."""
    group = add_group(commands, "kv", "JetStream key-value buckets")
    ls = add_command(group, "ls", cmd_ls, "list the buckets, or the keys of BUCKET", aliases=["list"])
    ls.add_argument("bucket", nargs="?")
    ls.add_argument("-n", "--names", action="store_true", help="only the bucket names")
    ls.add_argument("-j", "--json", action="store_true", help="JSON output")

    add = add_command(group, "add", cmd_add, "create a bucket", aliases=["new"])
    add.add_argument("bucket")
    add.add_argument("--history", type=positive_int, default=1, help="revisions kept per key (1-64, default 1)")
    add.add_argument("--ttl", type=duration, metavar="DURATION", help="how long values live (default: forever)")
    add.add_argument("--storage", choices=["file", "memory"], help="file (default) or memory")
    add.add_argument("--replicas", type=positive_int, default=1, help="replicas (clustered servers)")
    add.add_argument("--max-value-size", type=size, metavar="SIZE", help="largest value accepted")
    add.add_argument("--max-bucket-size", type=size, metavar="SIZE", help="largest total size")
    add.add_argument("--description", help="a description")

    put = add_command(group, "put", cmd_put, "store a value")
    put.add_argument("bucket")
    put.add_argument("key")
    put.add_argument("value", nargs="?", help="the value; omitted or '-': read stdin")

    get = add_command(group, "get", cmd_get, "read a value")
    get.add_argument("bucket")
    get.add_argument("key")
    get.add_argument("--revision", type=positive_int, help="a given revision")
    get.add_argument("--raw", action="store_true", help="print only the value")

    for name, aliases in (("del", ["delete"]), ("rm", [])):
        rm = add_command(group, name, cmd_del, "delete a key, or the whole bucket when no key is given",
                         aliases=aliases)
        rm.add_argument("bucket")
        rm.add_argument("key", nargs="?")
        rm.add_argument("-f", "--force", action="store_true", help="do not ask")

    history = add_command(group, "history", cmd_history, "every kept revision of a key")
    history.add_argument("bucket")
    history.add_argument("key")
    history.add_argument("-j", "--json", action="store_true", help="JSON output")

    watch = add_command(group, "watch", cmd_watch, "print the values, then every change (Ctrl-C stops)")
    watch.add_argument("bucket")
    watch.add_argument("key", nargs="?", default=">", help="key or pattern (default: all)")
    watch.add_argument("--history", action="store_true", help="start from every kept revision")
    watch.add_argument("--updates", action="store_true", help="only changes from now on")
    watch.add_argument("--count", type=non_negative_int, help="exit after N entries")


def _when(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone().isoformat(timespec="seconds")
    return str(value or "")


def _value(entry: KeyValue.Entry) -> str:
    return (entry.value or b"").decode("utf-8", errors="replace")


def cmd_ls(args: argparse.Namespace) -> int:
    """``rxnats kv ls [BUCKET]``."""

    async def body(js: JetStreamContext) -> int:
        if args.bucket:
            kv = await js.key_value(args.bucket)
            try:
                keys = sorted(await kv.keys())
            except NoKeysError:  # an empty bucket is not a failure here
                keys = []
            if args.json:
                print_json(keys)
            else:
                for key in keys:
                    print(key)
                if not keys:
                    info(f"bucket {args.bucket!r} holds no keys")
            return EXIT_OK
        names = sorted(n[3:] for n in await js.stream_names() if n.startswith("KV_"))
        if args.json:
            print_json(names)
            return EXIT_OK
        if args.names:
            for name in names:
                print(name)
            return EXIT_OK
        if not names:
            info("no key-value buckets; 'rxnats kv add BUCKET' makes one")
            return EXIT_OK
        rows = []
        for name in names:
            status = await (await js.key_value(name)).status()
            rows.append((name, status.values, status.history, f"{status.ttl:g}s" if status.ttl else "forever",
                         status.bytes))
        print_table(("Bucket", "Values", "History", "TTL", "Bytes"), rows)
        return EXIT_OK

    return run_js(args, body)


def cmd_add(args: argparse.Namespace) -> int:
    """``rxnats kv add BUCKET``."""
    config = KeyValueConfig(
        bucket=args.bucket,
        history=args.history,
        ttl=args.ttl,
        storage=StorageType(args.storage) if args.storage else None,
        replicas=args.replicas,
        max_value_size=args.max_value_size,
        max_bytes=args.max_bucket_size,
        description=args.description,
    )

    async def body(js: JetStreamContext) -> int:
        await js.create_key_value(config)
        info(f"created key-value bucket {args.bucket!r} (history {args.history})")
        return EXIT_OK

    return run_js(args, body)


def cmd_put(args: argparse.Namespace) -> int:
    """``rxnats kv put BUCKET KEY [VALUE]``."""
    value = sys.stdin.buffer.read() if args.value in (None, "-") else args.value.encode()

    async def body(js: JetStreamContext) -> int:
        kv = await js.key_value(args.bucket)
        revision = await kv.put(args.key, value)
        info(f"put {args.key!r} in bucket {args.bucket!r}: revision {revision}")
        return EXIT_OK

    return run_js(args, body)


def cmd_get(args: argparse.Namespace) -> int:
    """``rxnats kv get BUCKET KEY``."""

    async def body(js: JetStreamContext) -> int:
        kv = await js.key_value(args.bucket)
        entry = await kv.get(args.key, revision=args.revision)
        if args.raw:
            sys.stdout.buffer.write((entry.value or b"") + b"\n")
            sys.stdout.buffer.flush()
        else:
            print(f"{args.bucket} > {entry.key} revision {entry.revision} created {_when(entry.created)}\n")
            print(_value(entry), flush=True)
        return EXIT_OK

    return run_js(args, body)


def cmd_del(args: argparse.Namespace) -> int:
    """``rxnats kv del BUCKET [KEY]``."""

    async def body(js: JetStreamContext) -> int:
        kv = await js.key_value(args.bucket)  # a clear error if the bucket does not exist
        if args.key is None:
            confirm(f"delete bucket {args.bucket!r} and all its values?", force=args.force)
            await js.delete_key_value(args.bucket)
            info(f"deleted bucket {args.bucket!r}")
        else:
            confirm(f"delete key {args.key!r} of bucket {args.bucket!r}?", force=args.force)
            await kv.delete(args.key)
            info(f"deleted key {args.key!r} of bucket {args.bucket!r}")
        return EXIT_OK

    return run_js(args, body)


def cmd_history(args: argparse.Namespace) -> int:
    """``rxnats kv history BUCKET KEY``."""

    async def body(js: JetStreamContext) -> int:
        kv = await js.key_value(args.bucket)
        entries = await kv.history(args.key)
        if args.json:
            print_json(entries)
        else:
            rows = [
                (e.revision, e.operation.value if e.operation else "", _when(e.created), len(e.value or b""), _value(e))
                for e in entries
            ]
            print_table(("Revision", "Op", "Created", "Length", "Value"), rows)
        return EXIT_OK

    return run_js(args, body)


def cmd_watch(args: argparse.Namespace) -> int:
    """``rxnats kv watch BUCKET [KEY]``."""

    async def body(js: JetStreamContext) -> int:
        kv = await js.key_value(args.bucket)
        watcher = await kv.watch(args.key, include_history=args.history, updates_only=args.updates)
        seen = 0
        try:
            info(f"watching {args.key!r} in bucket {args.bucket!r}")
            while args.count is None or seen < args.count:
                entry = await watcher.updates(timeout=None)
                if entry is None:
                    info("(up to date; waiting for changes)")
                    continue
                seen += 1
                op = entry.operation.value if entry.operation else "PUT"
                shown = "" if op != "PUT" else f": {_value(entry)}"
                print(f"[{_when(entry.created)}] {op} {args.bucket} > {entry.key}{shown}", flush=True)
        finally:
            await watcher.stop()
        return EXIT_OK

    return run_js(args, body)
