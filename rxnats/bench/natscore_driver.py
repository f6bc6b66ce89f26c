"""Drive nats-core (``pip install nats-core``, Python >= 3.13) with rxnats's own bench loops.

Run by the comparison (:mod:`rxnats.bench.compare`) with a Python 3.13 interpreter that
has nats-core installed; it needs neither rxnats nor its dependencies: the loops come
from the sibling file ``runner.py``, loaded by path. Usage::

    python3.13 natscore_driver.py '{"url": "nats://127.0.0.1:4222", "mode": "pub", ...}'

The JSON object holds the URL and the :class:`~rxnats.bench.runner.BenchConfig` fields.
One JSON object, the run's result, is printed on stdout; errors go to stderr with exit 1.
nats-core installs the package ``nats.client`` (it cannot share an interpreter with
nats-py, whose package is also ``nats``).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import ModuleType

__all__ = ["main"]

_BIG = 1 << 30


def _load_runner() -> ModuleType:
    path = Path(__file__).with_name("runner.py")
    spec = importlib.util.spec_from_file_location("rxnats_bench_runner", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


class _NatsCoreClient:
    """The runner's ``BenchClient`` over one nats-core ``Client``."""

    def __init__(self, client: object) -> None:
        self._client = client
        self.publish: Callable[[str, bytes], Awaitable[None]] = getattr(client, "publish")  # noqa: B009
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def request(self) -> Callable[..., Awaitable[bytes]]:
        client_request: Callable[..., Awaitable[object]] = getattr(self._client, "request")  # noqa: B009

        async def request(subject: str, payload: bytes, *, timeout: float) -> bytes:
            msg = await client_request(subject, payload, timeout=timeout)
            data: bytes = getattr(msg, "data")  # noqa: B009
            return data

        return request

    async def subscribe(self, subject: str, on_data: Callable[[bytes], None]) -> None:
        subscribe: Callable[..., Awaitable[object]] = getattr(self._client, "subscribe")  # noqa: B009
        sub = await subscribe(subject, max_pending_messages=None, max_pending_bytes=None)

        def cb(msg: object) -> None:
            on_data(getattr(msg, "data"))  # noqa: B009

        # nats-core's fastest form: a plain callback, called from its reader (it also
        # queues every message for iteration; nobody reads that queue here).
        getattr(sub, "add_callback")(cb)  # noqa: B009

    async def serve_echo(self, subject: str) -> None:
        subscribe: Callable[..., Awaitable[object]] = getattr(self._client, "subscribe")  # noqa: B009
        sub = await subscribe(subject)
        publish = self.publish

        async def serve() -> None:
            async for msg in sub:  # type: ignore[attr-defined]  # nats-core's Subscription
                await publish(getattr(msg, "reply"), getattr(msg, "data"))  # noqa: B009

        self._tasks.append(asyncio.get_running_loop().create_task(serve()))

    async def flush(self) -> None:
        await getattr(self._client, "flush")(timeout=60)  # noqa: B009

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await getattr(self._client, "close")()  # noqa: B009


async def _run(spec: dict[str, object]) -> dict[str, object]:
    runner = _load_runner()
    from nats.client import connect  # nats-core

    async def factory(url: str) -> _NatsCoreClient:
        return _NatsCoreClient(await connect(url, allow_reconnect=False))

    url = str(spec.pop("url"))
    config = runner.BenchConfig(**spec)
    result = await runner.run_mode("nats-core", factory, url, config)
    data: dict[str, object] = result.as_dict()
    return data


def main(argv: list[str]) -> int:
    """Run the one benchmark described by ``argv[0]`` (JSON) and print its result as JSON."""
    if len(argv) != 1:
        print("usage: natscore_driver.py JSON_SPEC", file=sys.stderr)
        return 2
    try:
        result = asyncio.run(_run(json.loads(argv[0])))
    except Exception as exc:
        print(f"nats-core run failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
