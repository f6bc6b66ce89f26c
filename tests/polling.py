"""Polling for integration tests: wait until something the test watches comes true."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable


async def eventually(check: Callable[[], object], timeout: float = 10.0, what: str = "") -> None:
    """Poll ``check()`` (a plain or async predicate) until it is true.

    Raises:
        AssertionError: it was still false after ``timeout`` seconds; the message names
            ``what``.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise AssertionError(f"not true within {timeout} s: {what or check}")
        await asyncio.sleep(0.01)
