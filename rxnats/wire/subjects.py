"""Subject, reply and queue-name validation (ADR-6, as nats-server checks it).

Every caller-supplied string that ends up in a control line passes through here first:
a subject with a space, CR or LF in it would otherwise let a caller inject protocol
frames, and one with a lone surrogate (``"\\ud800"``, which has no UTF-8 form) would
fail in ``str.encode`` instead of as a :class:`BadSubjectError`. Validation results for
publish subjects are memoised in a small bounded cache, because publishers send to the
same few subjects millions of times.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rxnats.errors import BadSubjectError

__all__ = [
    "check_publish_subject",
    "check_queue",
    "check_reply",
    "check_subscribe_subject",
    "is_valid_publish_subject",
    "is_valid_subscribe_subject",
    "match_plain_reply",
]

# A token: one or more characters that are not a dot, whitespace (space, tab, CR, LF, FF,
# VT), NUL or a lone surrogate (which has no UTF-8 form, so could never be sent). A
# literal token additionally is not a wildcard, i.e. not exactly '*' or '>' ('a*' is a
# literal character to nats-server, as in is_valid_subscribe_subject).
_NOT = r".\s\x00\ud800-\udfff"
_LITERAL_TOKEN = rf"(?:[^{_NOT}*>]|[^{_NOT}]{{2,}})"
_LITERAL = re.compile(rf"{_LITERAL_TOKEN}(?:\.{_LITERAL_TOKEN})*")
_TOKEN = re.compile(rf"[^{_NOT}]+")
# The subjects of _LITERAL that have no '*' or '>' at all (almost every subject sent),
# without the alternation that makes _LITERAL backtrack on every long token (a JetStream
# ack subject has nine; each ack is validated afresh).
_PLAIN = re.compile(rf"[^{_NOT}*>]+(?:\.[^{_NOT}*>]+)*")
_QUEUE = re.compile(r"[^\s\x00\ud800-\udfff]+")
#: ``match_plain_reply(reply)`` is not None when ``reply`` (a ``str``) is a literal subject
#: with no '*' or '>' character: one C call, for the reply hot path. When it is None,
#: :func:`check_reply` decides (and words the error).
match_plain_reply: Callable[[str], re.Match[str] | None] = _PLAIN.fullmatch

_CACHE_LIMIT = 4096
_publish_ok: set[str] = set()


def _is_literal(subject: str) -> bool:
    # One C call decides for a subject without '*' or '>'; the rest are _LITERAL's.
    return _PLAIN.fullmatch(subject) is not None or _LITERAL.fullmatch(subject) is not None


def is_valid_publish_subject(subject: str) -> bool:
    """Return whether ``subject`` is a literal subject (no wildcards, no empty token)."""
    return _is_literal(subject)


def is_valid_subscribe_subject(subject: str) -> bool:
    """Return whether ``subject`` is a valid subscription subject.

    ``*`` must be a whole token; ``>`` must be a whole token and the last one.
    """
    if not subject:
        return False
    tokens = subject.split(".")
    last = len(tokens) - 1
    for i, token in enumerate(tokens):
        if _TOKEN.fullmatch(token) is None:
            return False
        # '*' or '>' inside a longer token ('a*') is a literal character to nats-server.
        if token == ">" and i != last:
            return False
    return True


def check_publish_subject(subject: str) -> None:
    """Raise :class:`BadSubjectError` unless ``subject`` is a valid publish subject."""
    if subject in _publish_ok:
        return
    if not isinstance(subject, str) or not _is_literal(subject):
        raise BadSubjectError(f"invalid publish subject {subject!r}")
    if len(_publish_ok) >= _CACHE_LIMIT:
        _publish_ok.clear()
    _publish_ok.add(subject)


def check_reply(reply: str) -> None:
    """Raise :class:`BadSubjectError` unless ``reply`` is empty or a literal subject."""
    if reply and (not isinstance(reply, str) or not _is_literal(reply)):
        raise BadSubjectError(f"invalid reply subject {reply!r}")


def check_subscribe_subject(subject: str) -> None:
    """Raise :class:`BadSubjectError` unless ``subject`` is a valid subscription subject."""
    if not isinstance(subject, str) or not is_valid_subscribe_subject(subject):
        raise BadSubjectError(f"invalid subscription subject {subject!r}")


def check_queue(queue: str) -> None:
    """Raise :class:`BadSubjectError` unless ``queue`` is empty or a valid queue name."""
    if queue and (not isinstance(queue, str) or _QUEUE.fullmatch(queue) is None):
        raise BadSubjectError(f"invalid queue group {queue!r}")
