"""The bounded queue every consumer sits behind: limits, overflow policies, episodes.

One set of tests for the one definition (rxnats.pending): subscriptions, the Rx buffer
and to_async_iterator all use OverflowBuffer; tests/unit/test_pending_limits.py checks
that subscribe() and observe() apply it alike on a client.
"""

from __future__ import annotations

import pytest

from rxnats.pending import (
    DEFAULT_PENDING_BYTES_LIMIT,
    DEFAULT_PENDING_MSGS_LIMIT,
    NO_LIMIT,
    Offer,
    Overflow,
    OverflowBuffer,
    PendingLimits,
    effective_limit,
)


def drain(buffer: OverflowBuffer[bytes]) -> list[bytes]:
    return [buffer.popleft() for _ in range(len(buffer))]


def sized(
    overflow: Overflow, *, max_items: int = 100, max_bytes: int = 10
) -> tuple[OverflowBuffer[bytes], list[tuple[int, bool]]]:
    drops: list[tuple[int, bool]] = []
    buf: OverflowBuffer[bytes] = OverflowBuffer(
        max_items=max_items,
        max_bytes=max_bytes,
        overflow=overflow,
        size=len,
        on_drop=lambda count, episode: drops.append((count, episode)),
    )
    return buf, drops


def test_drop_newest_keeps_the_first_items() -> None:
    buf: OverflowBuffer[int] = OverflowBuffer(max_items=3, overflow=Overflow.DROP_NEWEST)
    outcomes = [buf.offer(i) for i in range(5)]
    assert outcomes == [Offer.ACCEPTED] * 3 + [Offer.DROPPED_NEWEST] * 2
    assert [buf.popleft() for _ in range(len(buf))] == [0, 1, 2]
    assert buf.dropped == 2


def test_drop_oldest_keeps_the_last_items() -> None:
    buf: OverflowBuffer[int] = OverflowBuffer(max_items=3, overflow=Overflow.DROP_OLDEST)
    outcomes = [buf.offer(i) for i in range(5)]
    assert outcomes[3:] == [Offer.DROPPED_OLDEST] * 2
    assert [buf.popleft() for _ in range(len(buf))] == [2, 3, 4]
    assert buf.dropped == 2


def test_error_policy_rejects_and_keeps_what_it_has() -> None:
    buf: OverflowBuffer[int] = OverflowBuffer(max_items=2, overflow=Overflow.ERROR)
    assert [buf.offer(i) for i in range(3)] == [Offer.ACCEPTED, Offer.ACCEPTED, Offer.REJECTED]
    assert [buf.popleft() for _ in range(len(buf))] == [0, 1]
    assert buf.dropped == 1


def test_drop_oldest_drops_as_many_as_it_takes_and_never_exceeds_the_byte_limit() -> None:
    # Five 2-byte messages fill a 10-byte queue; an 8-byte one needs four of them gone.
    buf, drops = sized(Overflow.DROP_OLDEST)
    for _ in range(5):
        assert buf.offer(b"ab") is Offer.ACCEPTED
    assert buf.offer(b"12345678") is Offer.DROPPED_OLDEST
    assert buf.pending_bytes == 10
    assert drops == [(4, True)]
    assert drain(buf) == [b"ab", b"12345678"]


def test_an_item_larger_than_the_byte_limit_is_dropped_under_every_policy() -> None:
    for overflow in (Overflow.DROP_NEWEST, Overflow.DROP_OLDEST):
        buf, drops = sized(overflow)
        buf.offer(b"keep")
        assert buf.offer(b"x" * 11) is Offer.DROPPED_NEWEST
        assert drain(buf) == [b"keep"]  # what was queued stays: it could not help
        assert drops == [(1, True)]
    buf, _ = sized(Overflow.ERROR)
    assert buf.offer(b"x" * 11) is Offer.REJECTED


@pytest.mark.parametrize("limit", [0, -1])
def test_a_limit_of_zero_or_less_is_no_limit(limit: int) -> None:
    assert effective_limit(limit) == NO_LIMIT
    buf: OverflowBuffer[bytes] = OverflowBuffer(max_items=limit, max_bytes=limit, size=len)
    for _ in range(100_000):
        assert buf.offer(b"0123456789") is Offer.ACCEPTED
    assert len(buf) == 100_000 and buf.pending_bytes == 1_000_000
    # Either limit alone.
    items_only: OverflowBuffer[bytes] = OverflowBuffer(max_items=2, max_bytes=limit, size=len)
    assert [items_only.offer(b"x" * 1000) for _ in range(3)][-1] is Offer.DROPPED_NEWEST
    bytes_only: OverflowBuffer[bytes] = OverflowBuffer(max_items=limit, max_bytes=4, size=len)
    assert [bytes_only.offer(b"ab") for _ in range(3)][-1] is Offer.DROPPED_NEWEST


def test_without_a_size_function_only_the_item_count_applies() -> None:
    buf: OverflowBuffer[bytes] = OverflowBuffer(max_items=2, max_bytes=1)
    assert [buf.offer(b"long") for _ in range(2)] == [Offer.ACCEPTED] * 2
    assert buf.pending_bytes == 0


def test_an_episode_begins_with_a_drop_and_ends_when_the_queue_has_room() -> None:
    buf, drops = sized(Overflow.DROP_NEWEST, max_items=2)
    buf.offer(b"a")
    buf.offer(b"b")
    buf.offer(b"c")  # first drop: a new episode
    buf.offer(b"d")  # the same episode
    assert buf.slow
    buf.popleft()
    buf.offer(b"e")  # room again: the episode is over
    assert not buf.slow
    buf.offer(b"f")  # a new one
    assert drops == [(1, True), (1, False), (1, True)]
    assert buf.dropped == 3


def test_fits_is_what_offer_accepts() -> None:
    buf, _ = sized(Overflow.DROP_NEWEST, max_items=3, max_bytes=5)
    for item in (b"ab", b"cd", b"e", b"f", b"", b"gh"):
        expected = buf.fits(len(item))
        assert (buf.offer(item) is Offer.ACCEPTED) == expected


def test_pops_keep_the_byte_count() -> None:
    buf, _ = sized(Overflow.DROP_NEWEST, max_bytes=100)
    for item in (b"a", b"bb", b"ccc", b"dddd"):
        buf.offer(item)
    assert buf.pop_batch(2) == [b"a", b"bb"]
    assert buf.pending_bytes == 7
    assert buf.popleft() == b"ccc" and buf.pending_bytes == 4
    buf.clear()
    assert len(buf) == 0 and buf.pending_bytes == 0
    with pytest.raises(IndexError):
        buf.popleft()


def test_limits_as_given_and_the_defaults() -> None:
    limits = PendingLimits()
    assert (limits.msgs, limits.bytes) == (65536, 64 * 1024 * 1024)
    assert (DEFAULT_PENDING_MSGS_LIMIT, DEFAULT_PENDING_BYTES_LIMIT) == (limits.msgs, limits.bytes)
    buf: OverflowBuffer[bytes] = OverflowBuffer.of(PendingLimits(0, 5, Overflow.ERROR))
    assert (buf.max_items, buf.max_bytes, buf.overflow) == (NO_LIMIT, 5, Overflow.ERROR)
