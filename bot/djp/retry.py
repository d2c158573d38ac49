"""When to try an HTTP request again, how long to wait first, and the one loop that does it.

A frozen policy and pure functions, so the waits can be tested without a network or a clock;
`retrying` is the retry loop every upstream client runs its attempts through, with the sleep
and the random draw injected. What may pass on another attempt is the client's to say: its
attempt raises `Transient`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

from bot.core.plural import counted
from bot.errors import ApiUnavailable

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[object]]


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, and a cap on what a server may ask us to wait."""

    attempts: int = 4
    base_delay: float = 1.0
    max_delay: float = 60.0
    max_retry_after: float = 300.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("a retry policy needs at least one attempt")

    def delay(self, attempt: int, retry_after: float | None, random: Callable[[], float]) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based).

        A server's `Retry-After` wins (capped); otherwise a uniform draw in
        `[0, min(max_delay, base_delay * 2 ** (attempt - 1))]` ("full jitter"), which spreads
        retries from several clients instead of having them hit the server in step.
        """
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return random() * ceiling


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """`Retry-After` as seconds from `now`: either delta-seconds or an HTTP-date; else `None`."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdecimal():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


class Transient(Exception):
    """A failure that may pass on another attempt; its text ends up in `ApiUnavailable`.

    `retry_after`: the seconds the server asked us to wait (`Retry-After`), if it did."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


async def retrying(
    attempt: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    sleep: Sleep,
    random: Callable[[], float],
    upstream: str,
    asked: str,
    advice: str = "",
) -> T:
    """`attempt()`, tried again after `policy`'s wait each time it raises `Transient`.

    Any other exception passes through at once. Once `policy.attempts` have failed, raises
    `ApiUnavailable`: "{upstream} kept failing for {asked} ({reason}) after {n} attempts",
    then "; {advice}" if given.
    """
    tries = 1
    while True:
        try:
            return await attempt()
        except Transient as failure:
            if tries >= policy.attempts:
                ending = f"; {advice}." if advice else "."
                raise ApiUnavailable(
                    f"{upstream} kept failing for {asked} ({failure}) "
                    f"after {counted(tries, 'attempt')}" + ending
                ) from failure
            await sleep(policy.delay(tries, failure.retry_after, random))
            tries += 1
