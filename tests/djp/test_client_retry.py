"""The retry policy: how long the client waits, and what it makes of `Retry-After`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.djp.retry import RetryPolicy, parse_retry_after

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("Mon, 01 Jun 2026 12:01:30 GMT", 90.0),
        ("Mon, 01 Jun 2026 11:00:00 GMT", 0.0),  # already past: go now
        ("soon", None),
        ("-5", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_is_read_as_seconds_or_an_http_date(header: str | None, seconds: float | None):
    assert parse_retry_after(header, now=NOW) == seconds


def test_backoff_doubles_up_to_the_cap():
    policy = RetryPolicy(base_delay=1.0, max_delay=5.0)

    waits = [policy.delay(attempt, None, random=lambda: 1.0) for attempt in range(1, 6)]

    assert waits == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_jitter_spreads_the_wait_over_the_whole_window():
    policy = RetryPolicy(base_delay=1.0)

    assert policy.delay(3, None, random=lambda: 0.0) == 0.0
    assert policy.delay(3, None, random=lambda: 0.25) == 1.0


def test_a_server_asked_wait_wins_over_backoff_but_is_capped():
    policy = RetryPolicy(max_retry_after=60.0)

    assert policy.delay(1, 12.0, random=lambda: 1.0) == 12.0
    assert policy.delay(1, 3600.0, random=lambda: 1.0) == 60.0


def test_a_policy_needs_at_least_one_attempt():
    with pytest.raises(ValueError, match="at least one attempt"):
        RetryPolicy(attempts=0)
