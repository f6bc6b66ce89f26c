"""``rxnats demo``: a guided tour of the core client that prints what happens.

It connects to ``$NATS_URL`` (or ``nats://127.0.0.1:4222``); when nothing answers there
within about a second it starts an embedded ``nats-server`` on a free port, and stops it
again at the end. Then it shows, one step at a time: publish/subscribe (callback and
async iterator), a queue group sharing work, request/reply (and a request nobody
answers), headers, and drain.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Awaitable, Callable

from rxnats.client import NATS, connect
from rxnats.errors import NoRespondersError, NoServersError
from rxnats.msg import Msg

__all__ = ["DEFAULT_URL", "Connector", "run_demo"]

DEFAULT_URL = "nats://127.0.0.1:4222"

#: Opens a connection to a URL (the CLI passes one with its --creds/--tls options).
Connector = Callable[[str], Awaitable[NATS]]


async def _plain_connect(url: str) -> NATS:
    return await connect(url.split(","), name="rxnats-demo", connect_timeout=1)


def say(text: str) -> None:
    """Print one line of the tour."""
    print(text, flush=True)


def step(title: str) -> None:
    """Print a step heading."""
    say(f"\n== {title}")


async def run_demo(url: str | None = None, *, connect: Connector = _plain_connect) -> int:
    """Run the tour against ``url`` (default ``$NATS_URL`` or ``nats://127.0.0.1:4222``).

    Returns:
        0 when the tour completed.

    Raises:
        rxnats.server.ServerNotFoundError: nothing answered at ``url`` and no
            ``nats-server`` binary is installed to start one.
        rxnats.errors.Error: the server refused the connection (credentials, TLS), or a
            step failed.

    Cancelling it closes the connection and stops the embedded server, if one was started.
    """
    target = url or os.environ.get("NATS_URL") or DEFAULT_URL
    from rxnats.server import NatsServer  # only needed when nothing answers

    server: NatsServer | None = None
    try:
        try:
            nc = await connect(target)
        except NoServersError:
            say(f"Nothing answered at {target}: starting an embedded nats-server.")
            server = NatsServer()
            await asyncio.to_thread(server.start)
            say(f"Embedded nats-server {server.url} is running (pid {server.pid}); "
                "it stops when the demo ends.")
            nc = await connect(server.url)
        await _tour(nc)
    finally:
        if server is not None:
            await asyncio.to_thread(server.close)
            say("Embedded nats-server stopped.")
    return 0


async def _tour(nc: NATS) -> None:
    say(f"Connected to {nc.connected_url()} (nats-server {nc.connected_server_version()}, "
        f"max_payload {nc.max_payload()} bytes, client id {nc.client_id()}).")
    prefix = f"demo.{nc.new_inbox()[-6:]}"  # a private subject space: a shared server is fine
    try:
        await _publish_subscribe(nc, prefix)
        await _queue_group(nc, prefix)
        await _request_reply(nc, prefix)
        await _headers(nc, prefix)
        await _drain(nc, prefix)
    finally:
        await nc.close()
    say(f"\nDone: the client is closed ({nc.is_closed()=}). Try `rxnats --help` next.")


async def _publish_subscribe(nc: NATS, prefix: str) -> None:
    step("1. Publish / subscribe")
    got_all = asyncio.Event()
    seen: list[str] = []

    def on_greeting(msg: Msg) -> None:  # a plain function is fine as a callback
        seen.append(msg.data.decode())
        say(f"  callback got {msg.data.decode()!r} on {msg.subject}")
        if len(seen) == 3:
            got_all.set()

    await nc.subscribe(f"{prefix}.greet.*", cb=on_greeting)
    sub = await nc.subscribe(f"{prefix}.greet.en", max_msgs=1)
    for lang, text in (("en", "hello"), ("fr", "bonjour"), ("de", "hallo")):
        await nc.publish(f"{prefix}.greet.{lang}", text.encode())
        say(f"  published {text!r} to {prefix}.greet.{lang}")
    await asyncio.wait_for(got_all.wait(), 5)
    async for msg in sub.messages:
        say(f"  the iterator on {prefix}.greet.en (max_msgs=1) got {msg.data.decode()!r}, then ended")


async def _queue_group(nc: NATS, prefix: str) -> None:
    step("2. A queue group shares the work")
    taken: Counter[str] = Counter()
    done = asyncio.Event()
    jobs = 6

    def worker(name: str) -> Callable[[Msg], None]:
        def handle(msg: Msg) -> None:
            taken[name] += 1
            say(f"  {name} took {msg.data.decode()}")
            if sum(taken.values()) == jobs:
                done.set()

        return handle

    for name in ("worker-a", "worker-b"):
        await nc.subscribe(f"{prefix}.jobs", queue="workers", cb=worker(name))
    for n in range(1, jobs + 1):
        await nc.publish(f"{prefix}.jobs", f"job {n}".encode())
    await asyncio.wait_for(done.wait(), 5)
    shares = ", ".join(f"{name} {count}" for name, count in sorted(taken.items()))
    say(f"  each job went to exactly one member of the group: {shares}")


async def _request_reply(nc: NATS, prefix: str) -> None:
    step("3. Request / reply")

    async def upper(msg: Msg) -> None:
        await msg.respond(msg.data.upper())

    await nc.subscribe(f"{prefix}.upper", cb=upper)
    reply = await nc.request(f"{prefix}.upper", b"make me loud", timeout=2)
    say(f"  request b'make me loud' -> reply {reply.data!r}")
    try:
        await nc.request(f"{prefix}.nobody", b"anyone?", timeout=2)
    except NoRespondersError:
        say(f"  request to {prefix}.nobody -> NoRespondersError at once (no waiting for a timeout)")


async def _headers(nc: NATS, prefix: str) -> None:
    step("4. Headers (several values per key allowed)")
    future: asyncio.Future[Msg] = asyncio.get_running_loop().create_future()
    await nc.subscribe(f"{prefix}.orders", future=future, max_msgs=1)
    await nc.publish(
        f"{prefix}.orders",
        b'{"id": 7}',
        headers={"Content-Type": "application/json", "Tag": ["new", "priority"]},
    )
    msg = await asyncio.wait_for(future, 5)
    assert msg.headers is not None
    say(f"  Content-Type = {msg.headers['Content-Type']!r}")
    say(f"  Tag = {msg.headers['Tag']!r} (first value); get_all('Tag') = {msg.headers.get_all('Tag')}")


async def _drain(nc: NATS, prefix: str) -> None:
    step("5. Drain: finish what is in flight, then close")
    processed: list[str] = []

    async def slow(msg: Msg) -> None:
        await asyncio.sleep(0.05)
        processed.append(msg.data.decode())

    await nc.subscribe(f"{prefix}.slow", cb=slow)
    for n in range(1, 6):
        await nc.publish(f"{prefix}.slow", f"task {n}".encode())
    await nc.flush()
    say("  published 5 tasks to a slow subscriber; draining ...")
    await nc.drain()
    say(f"  drain returned after the subscriber processed {len(processed)} of 5: {processed}")
