from datetime import UTC, datetime, timedelta

import pytest

from bot.core.sparkline import commit_summary, sparkline, window_words
from tests.plugins.data import seed_package

REST_REGISTRATION = seed_package("django-rest-registration")["commits_over_52"]
NOW = datetime(2026, 2, 20, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ([], "no commit data"),
        ([0] * 52, "▁" * 52),
        ([0, 1, 2, 4, 8], "▁▂▃▅█"),
        ([3, 3, 3], "███"),
        ([0, 1, 100], "▁▂█"),
    ],
    ids=["unknown", "quiet-year", "scaled-to-busiest", "flat", "one-commit-still-shows"],
)
def test_sparkline_draws_one_bar_per_week(counts: list[int], expected: str) -> None:
    assert sparkline(counts) == expected


def test_sparkline_keeps_the_week_order_of_the_window() -> None:
    line = sparkline(REST_REGISTRATION)

    assert len(line) == 52
    assert line[0] != "▁"  # the oldest week had a commit
    assert line[-5:] == "▁▁▁▁▁"  # the newest five weeks were quiet


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ([], "no commit data"),
        ([0] * 52, "no commits in the last 52 weeks"),
        ([0] * 48 + [1, 0, 0, 0], "1 commit in the last 52 weeks, 1 in the last 4"),
        ([5] + [0] * 51, "5 commits in the last 52 weeks, 0 in the last 4"),
        (REST_REGISTRATION, "19 commits in the last 52 weeks, 0 in the last 4"),
        ([1] * 52, "52 commits in the last 52 weeks, 4 in the last 4"),
    ],
    ids=["unknown", "quiet", "one-recent", "only-old", "seed", "steady"],
)
def test_a_fresh_count_reads_from_today(counts: list[int], expected: str) -> None:
    assert commit_summary(counts, NOW - timedelta(hours=20), NOW) == expected


@pytest.mark.parametrize(
    ("counts", "counted_days_ago", "expected"),
    [
        (
            [1] * 52,
            3,
            "52 commits in the 52 weeks before Django Packages last checked, 3 days ago; "
            "4 in the last 4 of them",
        ),
        (
            [0] * 52,
            1724,
            "no commits in the 52 weeks before Django Packages last checked, 4 years ago",
        ),
    ],
    ids=["three-days-old", "years-old"],
)
def test_an_older_count_says_which_weeks_it_covers(
    counts: list[int], counted_days_ago: int, expected: str
) -> None:
    counted_at = NOW - timedelta(days=counted_days_ago)

    assert commit_summary(counts, counted_at, NOW) == expected


def test_a_count_of_unknown_age_never_claims_the_last_weeks() -> None:
    assert window_words(52, None, NOW) == "the 52 weeks before Django Packages last checked"
