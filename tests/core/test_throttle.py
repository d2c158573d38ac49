"""Sliding-window rate limits: per key, sliding, and bounded in memory."""

from __future__ import annotations

from bot.core.throttle import RateLimit


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_each_key_gets_its_own_window_which_slides() -> None:
    clock = Clock()
    limit = RateLimit(2, 10.0, clock=clock)

    assert [limit.take("ada"), limit.take("ada"), limit.take("ada")] == [True, True, False]
    assert limit.take("bob")
    clock.now = 10.0
    assert limit.allows("ada")
    assert limit.take("ada")


def test_allows_counts_nothing() -> None:
    limit = RateLimit(1, 10.0, clock=Clock())

    assert [limit.allows(), limit.allows()] == [True, True]
    assert limit.take()
    assert not limit.allows()


def test_memory_is_bounded_whoever_asks() -> None:
    clock = Clock()
    limit = RateLimit(1, 60.0, max_keys=100, clock=clock)
    for person in range(10_000):
        limit.take(person)

    assert len(limit) == 100
    assert not limit.take(9_999)  # the most recent are the ones remembered
    assert limit.take(0)  # forgetting only ever lets someone through sooner
