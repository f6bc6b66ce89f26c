"""Publishing a burst that a subscriber finds in one socket read."""

from __future__ import annotations

import time

# The bench's raw-socket client: connect (INFO, CONNECT) and PING until the PONG.
from rxnats.bench.runner import _raw_connect, _raw_ping


def publish_burst_while_blocked(url: str, subject: str, count: int) -> None:
    """Publish ``count`` messages from a plain blocking socket, holding the event loop.

    Called from a coroutine without awaiting, this keeps the loop (and so every rxnats
    reader on it) from running until the server has taken all the messages and had time
    to write them out: the subscriber then finds the whole burst in one read. Tests of
    overflow policies need that; publishing through the client itself leaves the split
    of the burst across reads to chance.
    """
    frames = b"".join(
        b"PUB %s %d\r\n%s\r\n" % (subject.encode(), len(p), p)
        for p in (str(i).encode() for i in range(count))
    )
    with _raw_connect(url) as sock:
        sock.sendall(frames)
        _raw_ping(sock)  # the server has processed every PUB before it answers
    time.sleep(0.1)  # let the server write the burst to the subscriber's socket
