"""The asyncio edge of the wire layer: the only part of rxnats that touches sockets.

:mod:`~rxnats.wire.aio.transport` (one TCP/TLS connection and its handshake),
:mod:`~rxnats.wire.aio.writer` (the coalescing writer) and
:mod:`~rxnats.wire.aio.supervisor` (connect and reconnect).
"""
