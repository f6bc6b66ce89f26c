"""``rxnats consumer ls|info|add|rm|next``: JetStream consumers from the shell.

``add STREAM NAME`` makes a durable pull consumer (``--target SUBJECT`` makes a push
one), with ``nats consumer add``'s flag names and the server's defaults for what is not
given. ``next`` fetches messages from a pull consumer and acknowledges each one (unless
``--no-ack``), waiting up to ``--wait`` for the first.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rxnats.cli.connection import settings_of
from rxnats.cli.errors import EXIT_OK, EXIT_TIMEOUT, EXIT_USAGE, CommandFailed
from rxnats.cli.output import confirm, info, print_json, print_msg, print_table
from rxnats.cli.parsing import (
    Commands,
    add_command,
    add_group,
    duration,
    positive_duration,
    positive_int,
)
from rxnats.cli.stream import run_js
from rxnats.jetstream import JetStreamContext
from rxnats.jetstream.models import (
    AckPolicy,
    ConsumerConfig,
    ConsumerInfo,
    DeliverPolicy,
    ReplayPolicy,
)

__all__ = ["add_commands"]

_DELIVER = {
    "all": DeliverPolicy.ALL,
    "new": DeliverPolicy.NEW,
    "last": DeliverPolicy.LAST,
    "last-per-subject": DeliverPolicy.LAST_PER_SUBJECT,
}


def add_commands(commands: Commands) -> None:
    """Add the ``consumer`` group."""
    group = add_group(commands, "consumer", "JetStream consumers", aliases=["con"])
    ls = add_command(group, "ls", cmd_ls, "list a stream's consumers", aliases=["list"])
    ls.add_argument("stream")
    ls.add_argument("-j", "--json", action="store_true", help="JSON output")
    ls.add_argument("-n", "--names", action="store_true", help="only the names")

    show = add_command(group, "info", cmd_info, "a consumer's configuration and progress")
    show.add_argument("stream")
    show.add_argument("consumer")
    show.add_argument("-j", "--json", action="store_true", help="JSON output")

    add = add_command(group, "add", cmd_add, "create a durable consumer", aliases=["create", "new"])
    add.add_argument("stream")
    add.add_argument("consumer")
    add.add_argument("--filter", action="append", metavar="SUBJECT",
                     help="only messages on this subject (repeatable)")
    add.add_argument("--ack", choices=["explicit", "all", "none"], help="acknowledgement policy (default explicit)")
    add.add_argument("--deliver", metavar="POLICY",
                     help="where to start: all (default), new, last, last-per-subject, or a sequence number")
    add.add_argument("--replay", choices=["instant", "original"], help="replay speed (default instant)")
    add.add_argument("--pull", action="store_true", help="a pull consumer (the default)")
    add.add_argument("--target", metavar="SUBJECT", help="a push consumer delivering to SUBJECT")
    add.add_argument("--max-deliver", type=int, metavar="N", help="deliveries before giving up on a message")
    add.add_argument("--max-pending", type=int, metavar="N", help="unacknowledged messages allowed")
    add.add_argument("--wait", type=positive_duration, metavar="DURATION", help="acknowledgement wait, e.g. 30s")
    add.add_argument("--inactive-threshold", type=positive_duration, metavar="DURATION",
                     help="delete the consumer after this long without activity")
    add.add_argument("--description", help="a description")
    add.add_argument("--config", metavar="FILE", help="a consumer configuration in JSON (flags override it)")
    add.add_argument("--defaults", action="store_true", help="accepted for nats compatibility (never prompts)")
    add.add_argument("-j", "--json", action="store_true", help="print the new consumer's info as JSON")

    rm = add_command(group, "rm", cmd_rm, "delete a consumer", aliases=["delete"])
    rm.add_argument("stream")
    rm.add_argument("consumer")
    rm.add_argument("-f", "--force", action="store_true", help="do not ask")

    nxt = add_command(group, "next", cmd_next, "fetch messages from a pull consumer and acknowledge them")
    nxt.add_argument("stream")
    nxt.add_argument("consumer")
    nxt.add_argument("--count", type=positive_int, default=1, help="messages to fetch (default 1)")
    nxt.add_argument("--ack", action=argparse.BooleanOptionalAction, default=True,
                     help="acknowledge each message (default: yes)")
    nxt.add_argument("--wait", type=duration, metavar="DURATION",
                     help="how long to wait for messages (default: --timeout)")
    nxt.add_argument("-r", "--raw", action="store_true", help="print only the payloads")


def _summary(ci: ConsumerInfo) -> list[tuple[str, object]]:
    c = ci.config
    filters = c.filter_subjects or ([c.filter_subject] if c.filter_subject else [])
    rows: list[tuple[str, object]] = [
        ("Stream", ci.stream_name),
        ("Name", ci.name),
        ("Description", c.description),
        ("Kind", "push" if c.deliver_subject else "pull"),
        ("Deliver subject", c.deliver_subject),
        ("Filter", ", ".join(filters)),
        ("Deliver policy", c.deliver_policy.value if c.deliver_policy else None),
        ("Ack policy", c.ack_policy.value if c.ack_policy else None),
        ("Ack wait", f"{c.ack_wait:g}s" if c.ack_wait else None),
        ("Max deliver", c.max_deliver),
        ("Max ack pending", c.max_ack_pending),
        ("Delivered (stream seq)", ci.delivered.stream_seq if ci.delivered else None),
        ("Ack floor (stream seq)", ci.ack_floor.stream_seq if ci.ack_floor else None),
        ("Pending", ci.num_pending),
        ("Waiting for ack", ci.num_ack_pending),
        ("Redelivered", ci.num_redelivered),
    ]
    return [(k, v) for k, v in rows if v not in (None, "")]


def cmd_ls(args: argparse.Namespace) -> int:
    """``rxnats consumer ls STREAM``."""

    async def body(js: JetStreamContext) -> int:
        infos = await js.consumers_info(args.stream)
        if args.json:
            print_json(infos)
        elif args.names:
            for ci in infos:
                print(ci.name)
        elif not infos:
            info(f"no consumers on stream {args.stream!r}; 'rxnats consumer add {args.stream} NAME' makes one")
        else:
            rows = [
                (ci.name, "push" if ci.config.deliver_subject else "pull", ci.num_pending, ci.num_ack_pending,
                 ci.delivered.stream_seq if ci.delivered else 0)
                for ci in sorted(infos, key=lambda ci: ci.name)
            ]
            print_table(("Consumer", "Kind", "Pending", "Unacked", "Last delivered"), rows)
        return EXIT_OK

    return run_js(args, body)


def cmd_info(args: argparse.Namespace) -> int:
    """``rxnats consumer info STREAM NAME``."""

    async def body(js: JetStreamContext) -> int:
        ci = await js.consumer_info(args.stream, args.consumer)
        if args.json:
            print_json(ci)
        else:
            print_table(("Consumer", ci.name), _summary(ci)[2:])
        return EXIT_OK

    return run_js(args, body)


def _config(args: argparse.Namespace) -> ConsumerConfig:
    config = ConsumerConfig()
    if args.config:
        try:
            data = json.loads(Path(args.config).read_text(encoding="utf-8"))
        except OSError as exc:
            raise CommandFailed(f"--config {args.config}: {exc.strerror}", hint="check the path") from None
        except ValueError as exc:
            raise CommandFailed(f"--config {args.config} is not JSON: {exc}", EXIT_USAGE,
                                hint="give a JSON object") from None
        if not isinstance(data, dict):
            raise CommandFailed(f"--config {args.config} is not a JSON object", EXIT_USAGE, hint="give a JSON object")
        config = ConsumerConfig.from_response(data.get("config", data))
    changes: dict[str, object] = {"durable_name": args.consumer, "name": args.consumer}
    if args.filter:
        if len(args.filter) == 1:
            changes["filter_subject"] = args.filter[0]
        else:
            changes["filter_subjects"] = list(args.filter)
    if args.ack:
        changes["ack_policy"] = AckPolicy(args.ack)
    if args.deliver:
        if args.deliver.isdigit():
            changes["deliver_policy"] = DeliverPolicy.BY_START_SEQUENCE
            changes["opt_start_seq"] = int(args.deliver)
        elif args.deliver in _DELIVER:
            changes["deliver_policy"] = _DELIVER[args.deliver]
        else:
            raise CommandFailed(f"--deliver {args.deliver!r} is not a policy", EXIT_USAGE,
                                hint="use all, new, last, last-per-subject or a sequence number")
    if args.replay:
        changes["replay_policy"] = ReplayPolicy(args.replay)
    if args.target:
        if args.pull:
            raise CommandFailed("--pull and --target exclude each other", EXIT_USAGE,
                                hint="a pull consumer has no target subject")
        changes["deliver_subject"] = args.target
    for dest, field_name in (
        ("max_deliver", "max_deliver"), ("max_pending", "max_ack_pending"), ("wait", "ack_wait"),
        ("inactive_threshold", "inactive_threshold"), ("description", "description"),
    ):
        value = getattr(args, dest)
        if value is not None:
            changes[field_name] = value
    return config.evolve(**changes)


def cmd_add(args: argparse.Namespace) -> int:
    """``rxnats consumer add STREAM NAME``."""
    config = _config(args)

    async def body(js: JetStreamContext) -> int:
        ci = await js.add_consumer(args.stream, config)
        if args.json:
            print_json(ci)
        else:
            kind = f"push consumer delivering to {ci.config.deliver_subject!r}" if ci.config.deliver_subject else "pull consumer"
            info(f"created {kind} {ci.name!r} on stream {args.stream!r}")
        return EXIT_OK

    return run_js(args, body)


def cmd_rm(args: argparse.Namespace) -> int:
    """``rxnats consumer rm STREAM NAME``."""

    async def body(js: JetStreamContext) -> int:
        await js.consumer_info(args.stream, args.consumer)  # a clear error if it does not exist
        confirm(f"delete consumer {args.consumer!r} of stream {args.stream!r}?", force=args.force)
        await js.delete_consumer(args.stream, args.consumer)
        info(f"deleted consumer {args.consumer!r} of stream {args.stream!r}")
        return EXIT_OK

    return run_js(args, body)


def cmd_next(args: argparse.Namespace) -> int:
    """``rxnats consumer next STREAM NAME``."""
    wait: float = args.wait if args.wait is not None else settings_of(args).timeout

    async def body(js: JetStreamContext) -> int:
        consumer = await js.get_consumer(args.stream, args.consumer)
        got = 0
        while got < args.count:
            msgs = await consumer.fetch(args.count - got, max_wait=wait)
            if not msgs:
                break
            for msg in msgs:
                got += 1
                print_msg(msg, got, raw=args.raw)
                if args.ack:
                    await msg.ack_sync(timeout=wait)
        if got == 0:
            raise CommandFailed(
                f"no message from consumer {args.consumer!r} within {wait:g} s", EXIT_TIMEOUT,
                hint=f"nothing is pending? 'rxnats consumer info {args.stream} {args.consumer}' tells; or raise --wait",
            )
        acked = "acknowledged" if args.ack else "not acknowledged"
        info(f"{got} message(s) from consumer {args.consumer!r} ({acked})")
        return EXIT_OK

    return run_js(args, body)
