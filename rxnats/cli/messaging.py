"""``rxnats pub``, ``sub``, ``req`` and ``reply``: core NATS messaging from the shell.

Flags follow the ``nats`` CLI: ``pub --count --sleep`` with templates (see
:mod:`rxnats.cli.templates`), ``sub --count --headers-only --raw``, ``req --replies``,
and ``reply`` joining the queue group ``NATS-RPLY-22`` unless told otherwise, as ``nats
reply`` does (so that several responders share the requests).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator

from rxnats.cli.connection import jetstream, open_connection, settings_of
from rxnats.cli.errors import EXIT_CONNECTION, EXIT_OK, CommandFailed
from rxnats.cli.output import info, print_msg
from rxnats.cli.parsing import (
    Commands,
    Parser,
    add_command,
    duration,
    header,
    non_negative_int,
    positive_int,
)
from rxnats.cli.templates import Template, TemplateValues
from rxnats.client import NATS
from rxnats.errors import NoRespondersError, TimeoutError
from rxnats.msg import Msg
from rxnats.subscription import Subscription

__all__ = ["DEFAULT_REPLY_QUEUE", "add_commands"]

#: The queue group ``nats reply`` joins by default.
DEFAULT_REPLY_QUEUE = "NATS-RPLY-22"

def add_commands(commands: Commands) -> None:
    """Add ``pub``, ``sub``, ``req`` and ``reply`` to ``commands``."""
    pub = add_command(commands, "pub", cmd_pub, "publish messages", aliases=["publish"])
    pub.add_argument("subject", help="subject (templates allowed)")
    pub.add_argument("body", nargs="?", help="the payload (templates allowed); '-' reads stdin")
    pub.add_argument("--count", type=positive_int, default=1, help="publish N messages (default 1)")
    pub.add_argument("--sleep", type=duration, default=0.0, metavar="DURATION",
                     help="pause between messages, e.g. 100ms")
    pub.add_argument("--reply", default="", metavar="SUBJECT", help="reply subject")
    _add_headers(pub)
    _add_templates(pub)
    pub.add_argument("-J", "--jetstream", action="store_true",
                     help="publish to JetStream and wait for the stream's acknowledgement")
    pub.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")

    sub = add_command(commands, "sub", cmd_sub, "print the messages published on subjects",
                      aliases=["subscribe"])
    sub.add_argument("subjects", nargs="+", metavar="SUBJECT", help="subjects, wildcards allowed")
    sub.add_argument("--queue", default="", help="join this queue group")
    sub.add_argument("--count", type=positive_int, help="exit after N messages")
    sub.add_argument("-r", "--raw", action="store_true", help="print only the payloads")
    sub.add_argument("--headers-only", action="store_true",
                     help="print headings and headers, no payloads")

    req = add_command(commands, "req", cmd_req, "send a request and print the replies",
                      aliases=["request"])
    req.add_argument("subject", help="subject (templates allowed)")
    req.add_argument("body", nargs="?", help="the payload (templates allowed); '-' reads stdin")
    req.add_argument("--replies", type=non_negative_int, default=1, metavar="N",
                     help="wait for N replies (0: all that come within --timeout; default 1)")
    req.add_argument("--reply-timeout", type=duration, default=0.3, metavar="DURATION",
                     help="with --replies, the longest wait between replies (default 300ms)")
    req.add_argument("--count", type=positive_int, default=1, help="send N requests (default 1)")
    req.add_argument("-r", "--raw", action="store_true", help="print only the payloads")
    _add_headers(req)
    _add_templates(req)

    rep = add_command(commands, "reply", cmd_reply, "answer requests (a fixed answer, or an echo)")
    rep.add_argument("subject", help="subject, wildcards allowed")
    rep.add_argument("body", nargs="?",
                     help="the answer (templates allowed, {{Request}} too); omitted: echo each request")
    rep.add_argument("--echo", action="store_true", help="echo each request (data and headers)")
    rep.add_argument("--queue", "-q", default=DEFAULT_REPLY_QUEUE,
                     help=f"queue group (default {DEFAULT_REPLY_QUEUE}, as in nats; '' for none)")
    rep.add_argument("--count", type=positive_int, help="exit after N requests")
    _add_headers(rep)
    _add_templates(rep)


def _add_headers(parser: Parser) -> None:
    parser.add_argument(
        "-H", "--header", type=header, action="append", default=[], metavar="KEY:VALUE",
        help="add a header (repeatable; a repeated key gets several values)",
    )


def _add_templates(parser: Parser) -> None:
    parser.add_argument(
        "--templates", action=argparse.BooleanOptionalAction, default=True,
        help="expand {{Count}}, {{TimeStamp}}, {{ID}}, {{Random A B}}... (default: on)",
    )


def _read_body(body: str | None) -> tuple[bytes | None, str]:
    """``(stdin bytes, "")`` for ``-``, else ``(None, body text)``."""
    if body == "-":
        return sys.stdin.buffer.read(), ""
    return None, body or ""


def _headers(pairs: list[tuple[str, str]]) -> dict[str, list[str]] | None:
    if not pairs:
        return None
    headers: dict[str, list[str]] = {}
    for key, value in pairs:
        headers.setdefault(key, []).append(value)
    return headers


def _template(args: argparse.Namespace, text: str, what: str, *, request: bool = False) -> Template:
    if not args.templates:
        return Template.literal(text)
    return Template(text, what=what, allow_request=request)


# ---------------------------------------------------------------------- pub
def cmd_pub(args: argparse.Namespace) -> int:
    """``rxnats pub SUBJECT [BODY]``."""
    stdin, text = _read_body(args.body)
    subject = _template(args, args.subject, "subject")
    body = _template(args, text, "body")
    headers = _headers(args.header)
    count: int = args.count
    pause: float = args.sleep
    quiet: bool = args.quiet

    async def run() -> int:
        async with await open_connection(args) as nc:
            js = jetstream(nc, settings_of(args)) if args.jetstream else None
            total = 0
            for number in range(1, count + 1):
                values = TemplateValues(number)
                payload = stdin if stdin is not None else body.render(values).encode()
                target = subject.render(values)
                if js is not None:
                    ack = await js.publish(target, payload, headers=headers)
                    if not quiet:
                        info(f"stored {len(payload)} bytes from {target!r} in stream {ack.stream} as message {ack.seq}")
                else:
                    await nc.publish(target, payload, reply=args.reply, headers=headers)
                total += len(payload)
                if pause and number < count:
                    await nc.flush()
                    await asyncio.sleep(pause)
            await nc.flush()
        if not quiet and js is None:
            what = "1 message" if count == 1 else f"{count} messages"
            where = repr(args.subject) if subject.is_static else f"subjects from {args.subject!r}"
            info(f"published {what} ({total} bytes) to {where}")
        return EXIT_OK

    return asyncio.run(run())


# ---------------------------------------------------------------------- sub
def cmd_sub(args: argparse.Namespace) -> int:
    """``rxnats sub SUBJECT...``: print messages until ``--count`` or Ctrl-C."""
    count: int | None = args.count
    subjects: list[str] = args.subjects
    queue: str = args.queue

    async def run() -> int:
        async with await open_connection(args) as nc:
            single_limit = (count or 0) if len(subjects) == 1 else 0
            subs = [await nc.subscribe(s, queue=queue, max_msgs=single_limit) for s in subjects]
            await nc.flush()
            names = ", ".join(repr(s) for s in subjects)
            info(f"listening on {names}" + (f" in queue {queue!r}" if queue else ""))
            received = 0
            async for msg in _merged(subs):
                received += 1
                print_msg(msg, received, raw=args.raw, headers_only=args.headers_only)
                if count is not None and received >= count:
                    return EXIT_OK
            raise CommandFailed(
                f"connection lost: {nc.last_error() or 'closed'}", EXIT_CONNECTION,
                hint="is the server still running? 'rxnats server info' checks",
            )

    return asyncio.run(run())


async def _merged(subs: list[Subscription]) -> AsyncIterator[Msg]:
    """The messages of all ``subs`` as they come; ends when every subscription has ended."""
    if len(subs) == 1:
        async for msg in subs[0].messages:
            yield msg
        return
    queue: asyncio.Queue[Msg | None] = asyncio.Queue()

    async def pump(sub: Subscription) -> None:
        try:
            async for msg in sub.messages:
                queue.put_nowait(msg)
        finally:
            queue.put_nowait(None)

    tasks = [asyncio.create_task(pump(sub)) for sub in subs]
    try:
        ended = 0
        while ended < len(tasks):
            item = await queue.get()
            if item is None:
                ended += 1
            else:
                yield item
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


# ---------------------------------------------------------------------- req
def cmd_req(args: argparse.Namespace) -> int:
    """``rxnats req SUBJECT [BODY]``: print the replies."""
    stdin, text = _read_body(args.body)
    subject = _template(args, args.subject, "subject")
    body = _template(args, text, "body")
    headers = _headers(args.header)
    wanted: int = args.replies
    timeout = settings_of(args).timeout

    async def run() -> int:
        async with await open_connection(args) as nc:
            for number in range(1, args.count + 1):
                values = TemplateValues(number)
                payload = stdin if stdin is not None else body.render(values).encode()
                target = subject.render(values)
                if wanted == 1:
                    msg = await nc.request(target, payload, timeout=timeout, headers=headers)
                    print_msg(msg, None, raw=args.raw)
                else:
                    got = await _gather_replies(nc, target, payload, headers, args, timeout)
                    info(f"{got} replies on {target!r}")
        return EXIT_OK

    return asyncio.run(run())


async def _gather_replies(
    nc: NATS,
    subject: str,
    payload: bytes,
    headers: dict[str, list[str]] | None,
    args: argparse.Namespace,
    timeout: float,
) -> int:
    """Publish one request and print up to ``--replies`` answers; return how many came.

    The first reply may take up to ``timeout``; each next one up to ``--reply-timeout``
    (with ``--replies 0``, all that arrive within ``timeout``).
    """
    wanted: int = args.replies
    gap: float = args.reply_timeout
    inbox = nc.new_inbox()
    sub = await nc.subscribe(inbox, max_msgs=wanted)
    try:
        await nc.publish(subject, payload, reply=inbox, headers=headers)
        await nc.flush()
        deadline = time.monotonic() + timeout
        got = 0
        while wanted == 0 or got < wanted:
            left = deadline - time.monotonic()
            wait = left if (wanted == 0 or got == 0) else min(gap, left)
            if wait <= 0:
                break
            try:
                msg = await sub.next_msg(timeout=wait)
            except TimeoutError:
                break
            if msg.headers is not None and msg.headers.status == 503 and got == 0:
                raise NoRespondersError(f"no responders on {subject!r}")
            got += 1
            print_msg(msg, got, raw=args.raw)
        if got == 0:
            raise TimeoutError(f"no reply on {subject!r} within {timeout:g} s")
        return got
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()


# ---------------------------------------------------------------------- reply
def cmd_reply(args: argparse.Namespace) -> int:
    """``rxnats reply SUBJECT [BODY]``: answer requests until ``--count`` or Ctrl-C."""
    echo = args.echo or args.body is None
    answer = None if echo else _template(args, args.body, "body", request=True)
    extra = _headers(args.header)
    count: int | None = args.count
    queue: str = args.queue

    async def run() -> int:
        async with await open_connection(args) as nc:
            sub = await nc.subscribe(args.subject, queue=queue, max_msgs=count or 0)
            await nc.flush()
            mode = "echoing requests" if answer is None else "answering requests"
            info(f"{mode} on {args.subject!r}" + (f" in queue {queue!r}" if queue else ""))
            handled = 0
            async for msg in sub.messages:
                handled += 1
                print_msg(msg, handled)
                if not msg.reply:
                    info(f"[#{handled}] no reply subject: nothing to answer")
                    continue
                if answer is None:
                    headers = msg.headers
                    copied = None if headers is None else {k: headers.get_all(k) for k in headers}
                    if extra:
                        copied = {**(copied or {}), **extra}
                    await msg.respond(msg.data, headers=copied)
                else:
                    request = msg.data.decode("utf-8", errors="replace")
                    text = answer.render(TemplateValues(handled, request))
                    await msg.respond(text.encode(), headers=extra)
            await nc.flush()
            if count is not None and handled >= count:
                return EXIT_OK
            raise CommandFailed(
                f"connection lost: {nc.last_error() or 'closed'}", EXIT_CONNECTION,
                hint="is the server still running?",
            )

    return asyncio.run(run())
