"""Queue groups: three workers share the jobs; each job is done exactly once.

A nats-py program with its import renamed (see README.md).
"""

import asyncio
import os
from collections.abc import Awaitable, Callable

import rxnats as nats
from rxnats.aio.msg import Msg

URL = os.environ.get("NATS_URL", "nats://localhost:4222")
JOBS = 60


async def main() -> None:
    nc = await nats.connect(URL)
    done: dict[str, list[int]] = {}
    all_done = asyncio.Event()

    def worker(name: str) -> Callable[[Msg], Awaitable[None]]:
        async def handle(msg: Msg) -> None:
            done.setdefault(name, []).append(int(msg.data))
            if sum(len(jobs) for jobs in done.values()) == JOBS:
                all_done.set()

        return handle

    for name in ("w1", "w2", "w3"):
        await nc.subscribe("jobs", queue="workers", cb=worker(name))
    # A plain subscriber (no queue) sees every job as well.
    audit = await nc.subscribe("jobs")
    await nc.flush()

    for job in range(JOBS):
        await nc.publish("jobs", str(job).encode())
    await asyncio.wait_for(all_done.wait(), 10)

    jobs = sorted(j for handled in done.values() for j in handled)
    print("jobs done:", len(jobs), "each once:", jobs == list(range(JOBS)))
    seen = 0
    while seen < JOBS:
        await audit.next_msg(timeout=5)
        seen += 1
    print("the audit subscriber saw:", seen)
    await nc.drain()
    assert jobs == list(range(JOBS))


if __name__ == "__main__":
    asyncio.run(main())
