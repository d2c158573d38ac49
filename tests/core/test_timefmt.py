from datetime import UTC, datetime, timedelta

import pytest

from bot.core.timefmt import describe_age, describe_span

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (0, "less than a day"),
        (1, "1 day"),
        (6, "6 days"),
        (7, "1 week"),
        (29, "4 weeks"),
        (30, "1 month"),
        (364, "12 months"),
        (365, "1 year"),
        (1741, "4 years"),
    ],
)
def test_spans_read_naturally(days: int, expected: str) -> None:
    assert describe_span(timedelta(days=days)) == expected


def test_age_today_and_past() -> None:
    assert describe_age(NOW - timedelta(hours=3), NOW) == "today"
    assert describe_age(NOW - timedelta(days=40), NOW) == "1 month ago"


def test_future_timestamps_are_called_out() -> None:
    assert describe_age(NOW + timedelta(days=2), NOW) == "in the future"
