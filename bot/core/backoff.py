"""Exponential backoff for things that keep failing, capped so it never overflows."""

from __future__ import annotations

from datetime import timedelta


def backoff(first: timedelta, failures: int, cap: timedelta) -> timedelta:
    """`first`, doubled for each failure after the first, at most `cap`.

    Doubles step by step instead of computing `first * 2 ** (failures - 1)`: a target failing
    for months has a failure count whose power of two no `timedelta` can hold.
    """
    delay = first
    for _ in range(failures - 1):
        if delay >= cap:
            break
        delay *= 2
    return min(delay, cap)
