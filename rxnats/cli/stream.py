"""``rxnats stream ls|info|add|rm|purge|view``: JetStream streams from the shell.

Flag names follow ``nats stream``. ``add`` never prompts: what is not given takes the
server's default (the subjects default to the stream's name), and ``--config FILE``
reads a stream configuration in the server's JSON form. Deleting and purging ask for
confirmation on a terminal and need ``--force`` in scripts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

from rxnats.cli.connection import jetstream, open_connection, settings_of
from rxnats.cli.errors import EXIT_OK, EXIT_USAGE, CommandFailed
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
from rxnats.jetstream import JetStreamContext
from rxnats.jetstream.errors import MessageNotFoundError
from rxnats.jetstream.models import (
    DiscardPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
    StreamInfo,
)

__all__ = ["add_commands", "run_js"]

_RETENTION = {"limits": RetentionPolicy.LIMITS, "interest": RetentionPolicy.INTEREST,
              "work": RetentionPolicy.WORK_QUEUE, "workqueue": RetentionPolicy.WORK_QUEUE}


def run_js(args: argparse.Namespace, body: Callable[[JetStreamContext], Awaitable[int]]) -> int:
    """Connect, run ``body`` with a JetStream context, close; return its exit code."""

    async def run() -> int:
        async with await open_connection(args) as nc:
            return await body(jetstream(nc, settings_of(args)))

    return asyncio.run(run())


def add_commands(commands: Commands) -> None:
    """Add the ``stream`` group."""
    group = add_group(commands, "stream", "JetStream streams", aliases=["str"])
    ls = add_command(group, "ls", cmd_ls, "list the streams", aliases=["list"])
    ls.add_argument("-j", "--json", action="store_true", help="JSON output")
    ls.add_argument("-n", "--names", action="store_true", help="only the names")

    show = add_command(group, "info", cmd_info, "a stream's configuration and state")
    show.add_argument("stream")
    show.add_argument("-j", "--json", action="store_true", help="JSON output")

    add = add_command(group, "add", cmd_add, "create a stream", aliases=["create", "new"])
    add.add_argument("stream")
    add.add_argument("--subjects", action="append", metavar="SUBJECTS",
                     help="subjects to store, comma separated or repeated (default: the stream's name)")
    add.add_argument("--storage", choices=["file", "memory"], help="file (default) or memory")
    add.add_argument("--retention", choices=sorted(_RETENTION), help="limits (default), interest, work")
    add.add_argument("--discard", choices=["old", "new"], help="when full, discard old (default) or new")
    add.add_argument("--max-msgs", type=int, metavar="N", help="messages kept (-1: unlimited)")
    add.add_argument("--max-bytes", type=size, metavar="SIZE", help="bytes kept, e.g. 1GB (-1: unlimited)")
    add.add_argument("--max-age", type=duration, metavar="DURATION", help="how long messages live, e.g. 24h")
    add.add_argument("--max-msg-size", type=size, metavar="SIZE", help="largest message accepted")
    add.add_argument("--max-msgs-per-subject", type=int, metavar="N", help="messages kept per subject")
    add.add_argument("--replicas", type=positive_int, metavar="N", help="replicas (clustered servers)")
    add.add_argument("--dupe-window", type=duration, metavar="DURATION", help="duplicate detection window")
    add.add_argument("--description", help="a description")
    add.add_argument("--config", metavar="FILE", help="a stream configuration in JSON (flags override it)")
    add.add_argument("--defaults", action="store_true", help="accepted for nats compatibility (never prompts)")
    add.add_argument("-j", "--json", action="store_true", help="print the new stream's info as JSON")

    rm = add_command(group, "rm", cmd_rm, "delete a stream and its messages", aliases=["delete"])
    rm.add_argument("stream")
    rm.add_argument("-f", "--force", action="store_true", help="do not ask")

    purge = add_command(group, "purge", cmd_purge, "remove messages from a stream")
    purge.add_argument("stream")
    purge.add_argument("--subject", help="only messages on this subject (wildcards allowed)")
    purge.add_argument("--seq", type=positive_int, help="messages below this sequence")
    purge.add_argument("--keep", type=non_negative_int, help="keep this many of the newest")
    purge.add_argument("-f", "--force", action="store_true", help="do not ask")
    purge.add_argument("-j", "--json", action="store_true", help="print the stream's info as JSON")

    view = add_command(group, "view", cmd_view, "print the messages stored in a stream")
    view.add_argument("stream")
    view.add_argument("--id", "--start", type=positive_int, default=1, dest="start", metavar="SEQ",
                      help="first sequence to show (default 1)")
    view.add_argument("--count", type=positive_int, help="show at most N messages (default: all)")
    view.add_argument("--subject", help="only messages on this subject (wildcards allowed)")
    view.add_argument("-r", "--raw", action="store_true", help="print only the payloads")


def _subjects(values: list[str] | None) -> list[str]:
    return [s.strip() for v in values or () for s in v.split(",") if s.strip()]


def _summary(si: StreamInfo) -> list[tuple[str, object]]:
    c, s = si.config, si.state
    rows: list[tuple[str, object]] = [
        ("Name", c.name),
        ("Description", c.description),
        ("Subjects", ", ".join(c.subjects)),
        ("Storage", c.storage.value if c.storage else None),
        ("Retention", c.retention.value if c.retention else None),
        ("Discard", c.discard.value if c.discard else None),
        ("Replicas", c.num_replicas),
        ("Max messages", c.max_msgs),
        ("Max bytes", c.max_bytes),
        ("Max age", f"{c.max_age:g}s" if c.max_age else "unlimited"),
        ("Max messages per subject", c.max_msgs_per_subject),
        ("Duplicate window", f"{c.duplicate_window:g}s" if c.duplicate_window else None),
        ("Created", si.created),
        ("Messages", s.messages),
        ("Bytes", s.bytes),
        ("First sequence", s.first_seq),
        ("Last sequence", s.last_seq),
        ("Consumers", s.consumer_count),
    ]
    return [(k, v) for k, v in rows if v not in (None, "")]


def cmd_ls(args: argparse.Namespace) -> int:
    """``rxnats stream ls``."""

    async def body(js: JetStreamContext) -> int:
        infos = await js.streams_info()
        if args.json:
            print_json(infos)
        elif args.names:
            for si in infos:
                print(si.config.name)
        elif not infos:
            info("no streams; 'rxnats stream add NAME --subjects SUBJECT' makes one")
        else:
            rows = [
                (si.config.name, ", ".join(si.config.subjects), si.state.messages, si.state.bytes,
                 si.state.consumer_count)
                for si in sorted(infos, key=lambda si: si.config.name or "")
            ]
            print_table(("Stream", "Subjects", "Messages", "Bytes", "Consumers"), rows)
        return EXIT_OK

    return run_js(args, body)


def cmd_info(args: argparse.Namespace) -> int:
    """``rxnats stream info NAME``."""

    async def body(js: JetStreamContext) -> int:
        si = await js.stream_info(args.stream)
        if args.json:
            print_json(si)
        else:
            print_table(("Stream", si.config.name or ""), _summary(si))
        return EXIT_OK

    return run_js(args, body)


def _load_config(path: str) -> StreamConfig:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CommandFailed(f"--config {path}: {exc.strerror}", hint="check the path") from None
    except ValueError as exc:
        raise CommandFailed(f"--config {path} is not JSON: {exc}", EXIT_USAGE, hint="give a JSON object") from None
    if not isinstance(data, dict):
        raise CommandFailed(f"--config {path} is not a JSON object", EXIT_USAGE, hint="give a JSON object")
    return StreamConfig.from_response(data)


def cmd_add(args: argparse.Namespace) -> int:
    """``rxnats stream add NAME``."""
    config = _load_config(args.config) if args.config else StreamConfig()
    changes: dict[str, object] = {"name": args.stream}
    subjects = _subjects(args.subjects)
    if subjects:
        changes["subjects"] = subjects
    elif not config.subjects:
        changes["subjects"] = [args.stream]
    if args.storage:
        changes["storage"] = StorageType(args.storage)
    if args.retention:
        changes["retention"] = _RETENTION[args.retention]
    if args.discard:
        changes["discard"] = DiscardPolicy(args.discard)
    for dest, field_name in (
        ("max_msgs", "max_msgs"), ("max_bytes", "max_bytes"), ("max_age", "max_age"),
        ("max_msg_size", "max_msg_size"), ("max_msgs_per_subject", "max_msgs_per_subject"),
        ("replicas", "num_replicas"), ("dupe_window", "duplicate_window"), ("description", "description"),
    ):
        value = getattr(args, dest)
        if value is not None:
            changes[field_name] = value
    config = config.evolve(**changes)

    async def body(js: JetStreamContext) -> int:
        si = await js.add_stream(config)
        if args.json:
            print_json(si)
        else:
            info(f"created stream {si.config.name!r} storing {', '.join(si.config.subjects)}")
        return EXIT_OK

    return run_js(args, body)


def cmd_rm(args: argparse.Namespace) -> int:
    """``rxnats stream rm NAME``."""

    async def body(js: JetStreamContext) -> int:
        si = await js.stream_info(args.stream)  # fails clearly before asking about a stream that is not there
        confirm(f"delete stream {args.stream!r} and its {si.state.messages} messages?", force=args.force)
        await js.delete_stream(args.stream)
        info(f"deleted stream {args.stream!r}")
        return EXIT_OK

    return run_js(args, body)


def cmd_purge(args: argparse.Namespace) -> int:
    """``rxnats stream purge NAME``."""
    if args.seq is not None and args.keep is not None:
        raise CommandFailed("--seq and --keep exclude each other", EXIT_USAGE, hint="give one of them")

    async def body(js: JetStreamContext) -> int:
        before = await js.stream_info(args.stream)
        which = f" on {args.subject!r}" if args.subject else ""
        confirm(f"purge the messages{which} of stream {args.stream!r}?", force=args.force)
        await js.purge_stream(args.stream, seq=args.seq, subject=args.subject, keep=args.keep)
        after = await js.stream_info(args.stream)
        if args.json:
            print_json(after)
        else:
            removed = before.state.messages - after.state.messages
            info(f"purged {removed} messages from stream {args.stream!r} ({after.state.messages} left)")
        return EXIT_OK

    return run_js(args, body)


def cmd_view(args: argparse.Namespace) -> int:
    """``rxnats stream view NAME``: stored messages, oldest first, read one by one."""

    async def body(js: JetStreamContext) -> int:
        seq: int = args.start
        shown = 0
        while args.count is None or shown < args.count:
            try:
                msg = await js.get_msg(args.stream, seq=seq, subject=args.subject or ">", next=True)
            except MessageNotFoundError:
                break
            shown += 1
            data = msg.data or b""
            if args.raw:
                print(data.decode("utf-8", errors="replace"), flush=True)
            else:
                lines = [f'[#{msg.seq}] "{msg.subject}" at {msg.time}']
                lines += [f"{k}: {v}" for k, v in (msg.headers or {}).items()]
                if msg.headers:
                    lines.append("")
                lines.append(data.decode("utf-8", errors="replace"))
                print("\n".join(lines) + "\n", flush=True)
            seq = (msg.seq or seq) + 1
        info(f"{shown} message(s) shown from stream {args.stream!r}")
        return EXIT_OK

    return run_js(args, body)
