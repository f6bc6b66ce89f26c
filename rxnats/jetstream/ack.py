"""Acknowledgement bodies and the metadata in a JetStream message's reply subject.

They are defined in :mod:`rxnats.msg`, beside the message that uses them for
``msg.ack()`` and ``msg.metadata``; JetStream code imports them from here.
"""

from __future__ import annotations

from rxnats.msg import ACK, IN_PROGRESS, NAK, TERM, is_js_ack_subject, nak_body, parse_metadata

__all__ = ["ACK", "IN_PROGRESS", "NAK", "TERM", "is_js_ack_subject", "nak_body", "parse_metadata"]
