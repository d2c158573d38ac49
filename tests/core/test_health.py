from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.core.health import Health, HealthState, classify
from bot.core.records import PackageRecord, parse_package
from tests.plugins.data import SEED_SLUGS, seed_package

NOW = datetime(2026, 2, 20, 12, tzinfo=UTC)
FRESH = (NOW - timedelta(days=1)).isoformat()
#: The window of a record Django Packages counted five days before `NOW`, in words.
FIVE_DAYS_BEFORE = "the 52 weeks before Django Packages last checked, 5 days ago"


def package(slug: str = "django-flatblocks", **fields: Any) -> PackageRecord:
    return parse_package({**seed_package(slug), **fields})


def days_ago(days: int) -> str:
    return (NOW - timedelta(days=days)).isoformat()


def window(*busy_weeks_ago: int) -> list[int]:
    """52 weekly counts, newest last, with one commit in each of the given weeks ago."""
    counts = [0] * 52
    for weeks_ago in busy_weeks_ago:
        counts[51 - weeks_ago] = 1
    return counts


def shifted(counts: list[int]) -> list[int]:
    """The same window one week later: the oldest week drops off, a quiet week arrives."""
    return [*counts[1:], 0]


@pytest.mark.parametrize(
    ("age_days", "expected"),
    [
        (0, HealthState.ACTIVE),
        (91, HealthState.ACTIVE),
        (92, HealthState.SLOWING),
        (182, HealthState.SLOWING),
        (183, HealthState.DORMANT),
        (365, HealthState.DORMANT),
        (366, HealthState.STALE),
    ],
    ids=lambda value: str(value),
)
def test_state_follows_the_last_commit_date(age_days: int, expected: HealthState) -> None:
    record = package(last_updated=days_ago(age_days), last_fetched=FRESH, commits_over_52=[])

    health = classify(record, now=NOW, stale_after_days=365)

    assert health.state is expected
    assert health.weeks_since_commit == age_days // 7


@pytest.mark.parametrize(
    ("counts", "fetched", "stale_after_days", "expected"),
    [
        (window(0), 1, 365, HealthState.ACTIVE),
        (window(12), 0, 365, HealthState.ACTIVE),
        (window(13), 0, 365, HealthState.SLOWING),
        (window(25), 0, 365, HealthState.SLOWING),
        (window(26), 0, 365, HealthState.DORMANT),
        (window(40, 30), 1, 365, HealthState.DORMANT),
        (window(), 1, 365, HealthState.DORMANT),
        (window(), 200, 365, HealthState.DORMANT),
        (window(), 1, 180, HealthState.STALE),
    ],
    ids=[
        "commits-this-week",
        "commits-12-weeks-ago",
        "commits-13-weeks-ago",
        "commits-25-weeks-ago",
        "commits-26-weeks-ago",
        "newest-busy-week-counts",
        "52-quiet-weeks-within-threshold",
        "52-quiet-weeks-prove-no-more-than-52-weeks",
        "52-quiet-weeks-short-threshold",
    ],
)
def test_window_dates_the_last_commit_when_last_updated_is_null(
    counts: list[int], fetched: int, stale_after_days: int, expected: HealthState
) -> None:
    record = package(last_updated=None, last_fetched=days_ago(fetched), commits_over_52=counts)

    assert classify(record, now=NOW, stale_after_days=stale_after_days).state is expected


def test_nothing_known_about_commits_is_unknown() -> None:
    record = package(last_updated=None, last_fetched=FRESH, commits_over_52=[])

    health = classify(record, now=NOW, stale_after_days=365)

    assert health == Health(
        HealthState.UNKNOWN, ("no commit information from Django Packages yet",)
    )


def test_recent_commits_in_the_window_outrank_an_older_last_updated() -> None:
    record = package(last_updated=days_ago(200), last_fetched=FRESH, commits_over_52=window(2))

    health = classify(record, now=NOW, stale_after_days=365)

    assert health.state is HealthState.ACTIVE
    assert health.reasons == ("last commits in the week of 2026-01-29 (3 weeks ago)",)


def test_exact_last_updated_wins_over_the_same_week_in_the_window() -> None:
    record = package("django-rest-registration", last_fetched=FRESH)

    health = classify(record, now=NOW, stale_after_days=365)

    assert health.state is HealthState.ACTIVE
    assert health.last_commit == datetime(2026, 1, 23, 13, 32, 25, tzinfo=UTC)
    assert health.reasons == ("last commit 2026-01-23 (3 weeks ago)",)


@pytest.mark.parametrize(
    ("stale_after_days", "state", "reasons"),
    [
        (365, HealthState.DORMANT, (f"no commits in {FIVE_DAYS_BEFORE}",)),
        (
            120,
            HealthState.STALE,
            (
                f"no commits in {FIVE_DAYS_BEFORE}",
                "quiet for longer than the 120-day staleness threshold",
            ),
        ),
    ],
    ids=["default-threshold", "threshold-shorter-than-the-window"],
)
def test_a_quiet_window_without_a_date_claims_no_more_than_52_weeks(
    stale_after_days: int, state: HealthState, reasons: tuple[str, ...]
) -> None:
    record = package(last_updated=None, last_fetched=days_ago(5), commits_over_52=window())

    health = classify(record, now=NOW, stale_after_days=stale_after_days)

    assert (health.state, health.reasons) == (state, reasons)
    assert health.quiet_for == "at least 52 weeks"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {},
            (
                "last commit 2022-02-15 (4 years ago)",
                "no commits in the 52 weeks before Django Packages last checked, 4 days ago",
                "quiet for longer than the 365-day staleness threshold",
            ),
        ),
        (
            {"last_updated": None},
            ("no commits in the 52 weeks before Django Packages last checked, 4 days ago",),
        ),
        (
            {"last_updated": days_ago(30), "commits_over_52": window()},
            ("last commit 2026-01-21 (1 month ago)",),
        ),
    ],
    ids=["stale-seed", "quiet-window-only", "window-disagrees-with-recent-commit"],
)
def test_reasons_explain_the_state(fields: dict[str, Any], expected: tuple[str, ...]) -> None:
    record = package(**fields)

    assert classify(record, now=NOW, stale_after_days=365).reasons == expected


@pytest.mark.parametrize(
    "fields",
    [
        {"last_updated": days_ago(50)},
        {"last_updated": days_ago(150)},
        {"last_updated": days_ago(250)},
        {"last_updated": days_ago(500)},
        {"last_updated": None, "commits_over_52": []},
    ],
    ids=["active", "slowing", "dormant", "stale", "unknown"],
)
def test_a_row_no_longer_refreshed_is_always_mentioned(fields: dict[str, Any]) -> None:
    record = package(last_fetched=days_ago(40), **fields)

    health = classify(record, now=NOW, stale_after_days=365)

    assert health.reasons[-1] == "Django Packages stopped refreshing it 40 days ago"


def test_a_row_refreshed_within_two_weeks_is_not_mentioned() -> None:
    record = package(last_updated=days_ago(50), last_fetched=days_ago(14))

    assert classify(record, now=NOW, stale_after_days=365).reasons == (
        "last commit 2026-01-01 (1 month ago)",
    )


@pytest.mark.parametrize(
    ("age_days", "expected_state", "expected_reasons"),
    [
        (
            500,
            HealthState.DORMANT,
            ("last commit 2024-10-08 (1 year ago)", "marked feature-complete"),
        ),
        (30, HealthState.ACTIVE, ("last commit 2026-01-21 (1 month ago)",)),
    ],
    ids=["staleness-silenced", "active-unaffected"],
)
def test_feature_complete_silences_staleness(
    age_days: int, expected_state: HealthState, expected_reasons: tuple[str, ...]
) -> None:
    record = package(last_updated=days_ago(age_days), last_fetched=FRESH, commits_over_52=[])

    health = classify(record, now=NOW, stale_after_days=365, feature_complete=True)

    assert (health.state, health.reasons) == (expected_state, expected_reasons)


def a_week_later(record: PackageRecord) -> PackageRecord:
    """The same record refreshed a week later with no new commits."""
    assert record.last_fetched is not None
    return record.model_copy(
        update={
            "commits_over_52": tuple(shifted(list(record.commits_over_52))),
            "last_fetched": record.last_fetched + timedelta(weeks=1),
        }
    )


@pytest.mark.parametrize(
    ("slug", "fields"),
    [
        *((slug, {}) for slug in SEED_SLUGS),
        ("django-flatblocks", {"last_updated": None, "commits_over_52": window(3)}),
        ("django-flatblocks", {"last_updated": None, "commits_over_52": window(20)}),
        ("django-flatblocks", {"last_updated": None, "commits_over_52": window()}),
        ("django-flatblocks", {"last_updated": days_ago(40), "commits_over_52": window(5)}),
    ],
    ids=[*SEED_SLUGS, "window-3", "window-20", "window-quiet", "dated-and-window"],
)
def test_a_window_shifting_one_week_keeps_the_state(slug: str, fields: dict[str, Any]) -> None:
    record = package(slug, last_fetched=FRESH, **fields)

    before = classify(record, now=NOW, stale_after_days=365)
    after = classify(a_week_later(record), now=NOW + timedelta(weeks=1), stale_after_days=365)

    assert after.state is before.state
    assert after.last_commit == before.last_commit


def test_a_window_shifting_across_a_threshold_changes_the_state() -> None:
    record = package(last_updated=None, last_fetched=days_ago(0), commits_over_52=window(12))

    before = classify(record, now=NOW, stale_after_days=365)
    after = classify(a_week_later(record), now=NOW + timedelta(weeks=1), stale_after_days=365)

    assert (before.state, after.state) == (HealthState.ACTIVE, HealthState.SLOWING)


@pytest.mark.parametrize(
    ("health", "expected"),
    [
        (Health(HealthState.ACTIVE, (), NOW, 1), "1 week"),
        (Health(HealthState.SLOWING, (), NOW, 14), "14 weeks"),
        (Health(HealthState.STALE, (), None, 53), "at least 53 weeks"),
        (Health(HealthState.UNKNOWN, ()), None),
    ],
    ids=["one-week", "weeks", "lower-bound", "unknown"],
)
def test_quiet_for_words_the_quiet_spell(health: Health, expected: str | None) -> None:
    assert health.quiet_for == expected
