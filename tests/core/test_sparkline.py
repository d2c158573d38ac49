import pytest

from bot.core.sparkline import commit_summary, sparkline
from tests.plugins.data import seed_package

REST_REGISTRATION = seed_package("django-rest-registration")["commits_over_52"]


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
        ([0] * 52, "no commits in 52 weeks"),
        ([0] * 48 + [1, 0, 0, 0], "1 commit in 52 weeks, 1 in the last 4"),
        ([5] + [0] * 51, "5 commits in 52 weeks, 0 in the last 4"),
        (REST_REGISTRATION, "19 commits in 52 weeks, 0 in the last 4"),
        ([1] * 52, "52 commits in 52 weeks, 4 in the last 4"),
    ],
    ids=["unknown", "quiet", "one-recent", "only-old", "seed", "steady"],
)
def test_commit_summary_reads_as_a_sentence(counts: list[int], expected: str) -> None:
    assert commit_summary(counts) == expected
