"""Publishing a burst that a subscriber finds in one socket read."""

from __future__ import annotations


def publish_burst_while_blocked(url: str, subject: str, count: int) -> None:
    """Publish ``count`` messages from a plain blocking socket, holding the event loop.

    Called from a coroutine without awaiting, this keeps the loop (and so every rxnats
    reader on it) from running until the server has taken all the messages and had time
    to write them out: the subscriber then finds the whole burst in one read. Tests of
    overflow policies need that; publishing through the client itself leaves the split
    of the burst across reads to chance.
    """
    import socket
    import time
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 4222)) as s:
        s.settimeout(10)
        s.recv(4096)  # INFO
        frames = b"".join(
            b"PUB %s %d\r\n%s\r\n" % (subject.encode(), len(p), p)
            for p in (str(i).encode() for i in range(count))
        )
        s.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\n' + frames + b"PING\r\n")
        reply = b""
        while b"PONG\r\n" not in reply:
            chunk = s.recv(4096)
            if not chunk:
                raise ConnectionError("server closed the burst connection")
            reply += chunk
    time.sleep(0.1)  # let the server write the burst to the subscriber's socket
