"""The retry policy: how long the client waits, what it makes of `Retry-After`, and the one
retry loop every upstream client runs its attempts through."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.djp.retry import RetryPolicy, Transient, parse_retry_after, retrying
from bot.errors import ApiUnavailable, NotFound
from tests.fakes.sleep import RecordingSleep

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


class Flaky:
    """An attempt that fails with `failures` in turn, then answers "done"."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "done"


async def run(attempt: Flaky, policy: RetryPolicy, sleep: RecordingSleep, advice: str = "") -> str:
    return await retrying(
        attempt,
        policy,
        sleep=sleep,
        random=lambda: 1.0,
        upstream="Upstream",
        asked="things/",
        advice=advice,
    )


async def test_transient_failures_are_tried_again_after_the_policys_waits():
    sleep = RecordingSleep()
    attempt = Flaky(Transient("HTTP 503"), Transient("HTTP 429", retry_after=7.0))

    assert await run(attempt, RetryPolicy(attempts=3, base_delay=1.0), sleep) == "done"
    assert sleep.calls == [1.0, 7.0]  # backoff, then the server's Retry-After


@pytest.mark.parametrize(
    ("advice", "message"),
    [
        ("", "Upstream kept failing for things/ (timed out) after 2 attempts."),
        (
            "try again later",
            "Upstream kept failing for things/ (timed out) after 2 attempts; try again later.",
        ),
    ],
)
async def test_the_last_transient_failure_gives_up_naming_it(advice: str, message: str):
    sleep = RecordingSleep()
    attempt = Flaky(Transient("timed out"), Transient("timed out"), Transient("timed out"))

    with pytest.raises(ApiUnavailable) as caught:
        await run(attempt, RetryPolicy(attempts=2), sleep, advice)

    assert str(caught.value) == message
    assert attempt.calls == 2
    assert len(sleep.calls) == 1  # no wait after the last attempt


async def test_a_single_attempt_is_counted_in_the_singular():
    with pytest.raises(ApiUnavailable) as caught:
        await run(Flaky(Transient("timed out")), RetryPolicy(attempts=1), RecordingSleep())

    assert str(caught.value) == "Upstream kept failing for things/ (timed out) after 1 attempt."


async def test_a_failure_that_will_not_pass_is_not_tried_again():
    sleep = RecordingSleep()
    attempt = Flaky(NotFound("package", "nope"))

    with pytest.raises(NotFound):
        await run(attempt, RetryPolicy(attempts=4), sleep)

    assert attempt.calls == 1
    assert sleep.calls == []
