"""An in-memory :class:`~rxnats.wire.aio.transport.Transport`: bytes in, bytes out, no socket.

For unit tests of what sits on a transport (the writer, the supervisor, a handshake):
the test feeds the server's bytes with :meth:`MemoryTransport.feed` and reads what the
client wrote from :attr:`MemoryTransport.written`. Write backpressure is the test's to
switch with :meth:`~MemoryTransport.pause` and :meth:`~MemoryTransport.resume`.
"""

from __future__ import annotations

import asyncio

from rxnats.wire.aio.transport import FrameTransport
from rxnats.wire.parser import Parser
from rxnats.wire.urls import ServerAddress, parse_server_url

__all__ = ["MemoryTransport"]


class MemoryTransport(FrameTransport):
    """A transport whose channel is a list of writes (see the module docstring).

    ``secure`` says whether it poses as an encrypted channel; :meth:`start_tls` makes it
    one (and counts the upgrade in :attr:`tls_upgrades`).
    """

    def __init__(
        self,
        address: ServerAddress | str = "nats://memory:4222",
        parser: Parser | None = None,
        *,
        secure: bool = False,
    ) -> None:
        if isinstance(address, str):
            address = parse_server_url(address)
        super().__init__(address, parser or Parser())
        self._secure = secure
        #: Each write the client made, in order.
        self.writes: list[bytes] = []
        #: How the channel ended: ``"close"``, ``"abort"`` or None while open.
        self.ended_by: str | None = None
        self.tls_upgrades: int = 0

    @property
    def secure(self) -> bool:
        """Whether the channel poses as encrypted."""
        return self._secure

    @property
    def written(self) -> bytes:
        """Everything the client wrote, joined."""
        return b"".join(self.writes)

    @property
    def is_closing(self) -> bool:
        """Whether the channel was closed, aborted or dropped."""
        return self.ended_by is not None or self.closed

    def send_bytes(self, data: bytes | bytearray | memoryview) -> None:
        if self.ended_by is None:
            self.writes.append(bytes(data))

    async def start_tls(self) -> None:
        """Pose as upgraded to TLS."""
        self.tls_upgrades += 1
        self._secure = True

    def close(self) -> None:
        """End the channel cleanly; the end is reported on the next loop turn."""
        self._end("close", None)

    def abort(self) -> None:
        """End the channel at once; the end is reported on the next loop turn."""
        self._end("abort", None)

    def drop(self, exc: BaseException | None = None) -> None:
        """The peer went away (``exc``: why): the end is reported on the next loop turn."""
        self._end("peer", exc)

    def _end(self, how: str, exc: BaseException | None) -> None:
        if self.ended_by is not None:
            return
        self.ended_by = how
        # As asyncio does: connection_lost comes in a later callback, never re-entrantly.
        try:
            asyncio.get_running_loop().call_soon(self.lost, exc)
        except RuntimeError:  # no loop: report now
            self.lost(exc)
