"""``nats.aio.msg`` under rxnats: the message class and the errors nats-py imports there."""

from __future__ import annotations

from rxnats.errors import Error
from rxnats.jetstream.errors import MsgAlreadyAckdError, NotJSMessageError
from rxnats.msg import Msg

__all__ = ["Error", "Msg", "MsgAlreadyAckdError", "NotJSMessageError"]
