from datetime import timedelta

import pytest

from bot.core.backoff import backoff
from bot.delivery.worker import retry_delay as delivery_retry
from bot.refresh.schedule import MAX_BACKOFF
from bot.refresh.schedule import retry_delay as refresh_retry

HOUR = timedelta(hours=1)


@pytest.mark.parametrize(
    ("failures", "expected"),
    [(0, HOUR), (1, HOUR), (2, 2 * HOUR), (3, 4 * HOUR), (5, 16 * HOUR), (6, 24 * HOUR)],
)
def test_each_failure_doubles_the_wait_up_to_the_cap(failures: int, expected: timedelta) -> None:
    assert backoff(HOUR, failures, timedelta(days=1)) == expected


def test_a_package_failing_for_years_waits_the_cap_instead_of_crashing_the_cycle() -> None:
    assert refresh_retry(timedelta(hours=6), 10_000) == MAX_BACKOFF


def test_delivery_retries_start_at_thirty_seconds_and_stop_growing_at_an_hour() -> None:
    waits = [delivery_retry(attempts) for attempts in (1, 2, 3, 50, 10_000)]
    assert waits == [timedelta(seconds=s) for s in (30, 60, 120, 3600, 3600)]
