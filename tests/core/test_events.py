from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.core import bypass
from bot.core.advisories import group, parse_advisory
from bot.core.events import (
    DEFAULT_EVENTS,
    REGISTRY,
    AlertPreferences,
    Change,
    DetectContext,
    Event,
    detect_changes,
    grid_membership_changes,
    removed_change,
    wants,
)
from bot.core.events.advisory import advisory_change
from bot.core.events.base import MinReleaseLevel
from bot.core.events.compat import compat_change
from bot.core.events.popularity import milestones
from bot.core.events.yanked import yanked_change
from bot.core.records import PackageRecord, parse_grid, parse_package
from tests.fakes.osv_api import real_records
from tests.plugins.data import SEED_SLUGS, load_json, seed_package

NOW = datetime(2026, 2, 20, 12, tzinfo=UTC)
#: Day 0 of the activity and staleness timelines below.
DAY0 = datetime(2025, 1, 1, 12, tzinfo=UTC)
FLATBLOCKS = 265


def package(slug: str = "django-flatblocks", **fields: Any) -> PackageRecord:
    return parse_package({**seed_package(slug), **fields})


def context(**fields: Any) -> DetectContext:
    defaults: dict[str, Any] = {
        "now": NOW,
        "previous_at": NOW - timedelta(days=1),
        "stale_after_days": 365,
    }
    return DetectContext(**{**defaults, **fields})


def detected(
    event: Event, previous: PackageRecord, current: PackageRecord, ctx: DetectContext
) -> list[Change]:
    return [change for change in detect_changes(previous, current, ctx) if change.event is event]


def keys(changes: list[Change]) -> list[str]:
    return [change.key for change in changes]


# --- rules for every event ------------------------------------------------------------------


@pytest.mark.parametrize("slug", SEED_SLUGS)
def test_first_observation_is_a_silent_baseline(slug: str) -> None:
    assert detect_changes(None, package(slug), context()) == []


def test_the_same_record_observed_again_changes_nothing() -> None:
    record = package()

    assert detect_changes(record, record, context()) == []


@pytest.mark.parametrize(
    "missing",
    [
        {"pypi_version": None},
        {"repo_watchers": None},
        {"repo_forks": None},
        {"commits_over_52": []},
        {"last_updated": None, "commits_over_52": []},
        {"documentation_url": None},
        {"repo_url": ""},
        {"category": None},
    ],
    ids=[
        "version",
        "stars",
        "forks",
        "commit-window",
        "all-commit-data",
        "docs-url",
        "repo-url",
        "category",
    ],
)
def test_unknown_data_replacing_a_value_is_never_a_change(missing: dict[str, Any]) -> None:
    docs = {"documentation_url": "https://flatblocks.example/docs/"}
    previous, current = package(**docs), package(**{**docs, **missing})

    assert detect_changes(previous, current, context()) == []


@pytest.mark.parametrize(
    ("field", "first", "second"),
    [
        ("pypi_version", "1.0.0", "1.0.1"),
        ("repo_watchers", 99, 100),
        ("repo_forks", 20, 19),
        ("documentation_url", "https://a.example/", "https://b.example/"),
        ("title", "Flat Blocks", "django-flatblocks"),
        ("last_updated", (NOW - timedelta(days=50)).isoformat(), "2025-09-23T00:00:00+00:00"),
        ("last_updated", (NOW - timedelta(days=100)).isoformat(), "2024-12-01T00:00:00+00:00"),
    ],
    ids=["release", "stars", "forks", "docs-url", "title", "activity", "stale"],
)
def test_a_value_flapping_back_and_forth_repeats_its_keys(
    field: str, first: Any, second: Any
) -> None:
    a, b = package(**{field: first}), package(**{field: second})
    known: set[str] = set()

    def step(previous: PackageRecord, current: PackageRecord) -> list[str]:
        found = keys(detect_changes(previous, current, context(known_versions=frozenset(known))))
        known.update(v for v in (previous.pypi_version, current.pypi_version) if v is not None)
        return found

    there, back, there_again = step(a, b), step(b, a), step(a, b)

    assert there
    assert back
    assert there_again == there


def test_summaries_are_one_line_naming_the_package() -> None:
    previous = package(title="Flat\nBlocks")
    current = package(
        title="Flat\nBlocks",
        pypi_version="2.0.0",
        repo_watchers=210,
        repo_forks=55,
        repo_url="https://github.com/jazzband/flatblocks",
    )

    changes = detect_changes(previous, current, context())

    assert {change.event for change in changes} == {Event.RELEASE, Event.POPULARITY, Event.REPO}
    for change in changes:
        assert "\n" not in change.summary
        assert change.summary.startswith("Flat Blocks")


def test_every_event_has_one_registry_entry_named_after_it() -> None:
    assert all(REGISTRY[event].event is event for event in Event)
    assert all(name == kind.name for name, kind in REGISTRY.items())


def test_the_release_kind_says_what_its_bypass_entries_let_through() -> None:
    assert bypass.parse_entry("release:minor").levels == frozenset({"minor", "major"})
    assert bypass.parse_entry("release:pre").levels == frozenset({"pre"})
    assert bypass.parse_entry("stale") == (Event.STALE, None)
    for entry in ("stale-report", "stale:major", "release:huge"):
        with pytest.raises(bypass.UnknownBypass):
            bypass.parse_entry(entry)
    assert bypass.describe(["release:patch", "release:pre", "removed"]) == (
        "patch releases and above, pre releases, removed alerts"
    )


def test_the_weekly_stale_report_is_a_kind_of_its_own_under_stale() -> None:
    report = REGISTRY["stale-report"]

    assert (report.event, report.pings, report.detect) == (Event.STALE, False, None)
    assert set(REGISTRY) - set(Event) == {"stale-report"}


# --- release --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "known", "kind", "level", "summary"),
    [
        pytest.param(
            "1.0.0",
            "1.0.1",
            (),
            "new",
            "patch",
            "django-flatblocks 1.0.1 released (patch release, was 1.0.0)",
            id="patch",
        ),
        pytest.param(
            "1.0.0",
            "1.1.0",
            (),
            "new",
            "minor",
            "django-flatblocks 1.1.0 released (minor release, was 1.0.0)",
            id="minor",
        ),
        pytest.param(
            "1.0.0",
            "2.0.0",
            (),
            "new",
            "major",
            "django-flatblocks 2.0.0 released (major release, was 1.0.0)",
            id="major",
        ),
        pytest.param(
            "1.0.0",
            "1.0.0.post1",
            (),
            "new",
            "patch",
            "django-flatblocks 1.0.0.post1 released (patch release, was 1.0.0)",
            id="post-is-patch",
        ),
        pytest.param(
            "1.0.0",
            "2.0.0b1",
            (),
            "new",
            "pre",
            "django-flatblocks 2.0.0b1 released (pre-release, was 1.0.0)",
            id="prerelease",
        ),
        pytest.param(
            "1.0.0",
            "1.1.0.dev3",
            (),
            "new",
            "pre",
            "django-flatblocks 1.1.0.dev3 released (pre-release, was 1.0.0)",
            id="dev-release",
        ),
        pytest.param(
            "2.0.0rc1",
            "2.0.0",
            ("1.9.0",),
            "new",
            "major",
            "django-flatblocks 2.0.0 released (major release, was 2.0.0rc1)",
            id="final-after-rc-measured-from-last-final",
        ),
        pytest.param(
            "5.0",
            "4.2.11",
            ("4.2.10",),
            "new",
            "patch",
            "django-flatblocks 4.2.11 released (patch release, backport, latest is 5.0)",
            id="backport",
        ),
        pytest.param(
            "5.0",
            "4.3",
            ("4.2.10",),
            "new",
            "minor",
            "django-flatblocks 4.3 released (minor release, backport, latest is 5.0)",
            id="backport-minor",
        ),
        pytest.param(
            "5.0",
            "4.2.11",
            (),
            "new",
            None,
            "django-flatblocks 4.2.11 released (backport, latest is 5.0)",
            id="backport-below-everything-known",
        ),
        pytest.param(
            "1.0.1",
            "1.0.0",
            ("1.0.0",),
            "changed",
            None,
            "django-flatblocks: latest release is back to 1.0.0 (was 1.0.1)",
            id="rollback",
        ),
        pytest.param(
            None,
            "1.0.0",
            ("1.0.0",),
            "changed",
            None,
            "django-flatblocks: latest release is back to 1.0.0",
            id="rollback-after-missing-version",
        ),
        pytest.param(
            None,
            "1.0.1",
            ("1.0.0",),
            "new",
            "patch",
            "django-flatblocks 1.0.1 released (patch release)",
            id="new-after-missing-version",
        ),
        pytest.param(
            "1.0.0",
            "2024-banana",
            (),
            "new",
            None,
            "django-flatblocks 2024-banana released (was 1.0.0)",
            id="not-pep440",
        ),
        pytest.param(
            "2024-banana",
            "2025-apple",
            (),
            "new",
            None,
            "django-flatblocks 2025-apple released (was 2024-banana)",
            id="both-not-pep440",
        ),
    ],
)
def test_release_compares_with_every_known_version(
    old: str | None, new: str, known: tuple[str, ...], kind: str, level: str | None, summary: str
) -> None:
    ctx = context(known_versions=frozenset(known))

    [change] = detected(Event.RELEASE, package(pypi_version=old), package(pypi_version=new), ctx)

    assert (change.data["kind"], change.data["level"], change.summary) == (kind, level, summary)
    assert (change.data["old"], change.data["new"]) == (old, new)
    assert change.data["prerelease"] is (level == "pre")
    assert change.key == f"{FLATBLOCKS}:release:{new}"


def test_a_backport_is_marked_with_the_latest_release() -> None:
    ctx = context(known_versions=frozenset({"4.2.10", "5.0"}))

    [change] = detected(
        Event.RELEASE, package(pypi_version="5.0"), package(pypi_version="4.2.11"), ctx
    )

    assert (change.data["backport"], change.data["latest"]) == (True, "5.0")


def test_the_first_version_after_none_is_announced() -> None:
    [change] = detected(
        Event.RELEASE, package(pypi_version=None), package(pypi_version="1.0.0"), context()
    )

    assert change.summary.endswith("1.0.0 released (first version on PyPI)")
    assert (change.data["kind"], change.release_level) == ("new", None)


@pytest.mark.parametrize(
    ("old", "new", "known"),
    [
        ("1.0.0", None, ()),
        ("1.0.0", "1.0.0", ()),
        ("1.0", "1.0.0", ()),
    ],
    ids=["version-disappears", "same", "same-version-respelled"],
)
def test_release_stays_silent(old: str | None, new: str | None, known: tuple[str, ...]) -> None:
    ctx = context(known_versions=frozenset(known))

    assert detected(Event.RELEASE, package(pypi_version=old), package(pypi_version=new), ctx) == []


@pytest.mark.parametrize(
    ("old", "new", "min_level", "include_prereleases", "expected"),
    [
        ("1.0.0", "1.0.1", "patch", True, True),
        ("1.0.0", "1.0.1", "minor", True, False),
        ("1.0.0", "1.1.0", "minor", True, True),
        ("1.0.0", "1.1.0", "major", True, False),
        ("1.0.0", "2.0.0", "major", True, True),
        ("1.0.0", "2.0.0b1", "major", True, True),
        ("1.0.0", "2.0.0b1", "patch", False, False),
        ("1.0.0", "2024-banana", "major", False, True),
        ("1.0.1", "1.0.0", "major", True, True),
    ],
    ids=[
        "patch-wanted",
        "patch-below-minor",
        "minor-wanted",
        "minor-below-major",
        "major-wanted",
        "prerelease-included",
        "prerelease-excluded",
        "not-pep440-passes-every-level",
        "rollback-passes-every-level",
    ],
)
def test_release_filter_applies_level_and_prerelease_preferences(
    old: str, new: str, min_level: MinReleaseLevel, include_prereleases: bool, expected: bool
) -> None:
    ctx = context(known_versions=frozenset({old, "1.0.0"}))
    [change] = detected(Event.RELEASE, package(pypi_version=old), package(pypi_version=new), ctx)
    preferences = AlertPreferences(
        min_release_level=min_level, include_prereleases=include_prereleases
    )

    assert wants(preferences, change) is expected


# --- activity and stale ---------------------------------------------------------------------


def observed(commit_day: int | None, seen_day: int) -> tuple[PackageRecord, datetime]:
    """A record whose last commit was on `commit_day` (None: nothing known), seen on `seen_day`."""
    seen = DAY0 + timedelta(days=seen_day)
    last_commit = None if commit_day is None else DAY0 + timedelta(days=commit_day)
    record = package(
        last_updated=last_commit.isoformat() if last_commit else None,
        last_fetched=seen.isoformat(),
        commits_over_52=[],
    )
    return record, seen


def health_changes(
    event: Event,
    before: tuple[int | None, int],
    after: tuple[int | None, int],
    **ctx: Any,
) -> list[Change]:
    (previous, previous_at), (current, now) = observed(*before), observed(*after)
    return detected(event, previous, current, context(now=now, previous_at=previous_at, **ctx))


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ((0, 80), (0, 100), "django-flatblocks is slowing down: no commits for 14 weeks"),
        ((0, 150), (0, 190), "django-flatblocks went dormant: no commits for 27 weeks"),
        ((0, 80), (0, 200), "django-flatblocks went dormant: no commits for 28 weeks"),
        ((0, 280), (279, 281), "django-flatblocks revived after 40 weeks without commits"),
        ((0, 120), (115, 121), "django-flatblocks revived after 17 weeks without commits"),
        ((0, 200), (100, 200), "django-flatblocks picked up again: last commit 14 weeks ago"),
    ],
    ids=[
        "active-to-slowing",
        "slowing-to-dormant",
        "active-to-dormant",
        "dormant-revived",
        "slowing-revived",
        "dormant-to-slowing",
    ],
)
def test_activity_announces_state_transitions(
    before: tuple[int, int], after: tuple[int, int], expected: str
) -> None:
    [change] = health_changes(Event.ACTIVITY, before, after, stale_after_days=10_000)

    assert change.summary == expected


def test_activity_key_names_the_new_state_and_the_last_commit() -> None:
    [change] = health_changes(Event.ACTIVITY, (0, 80), (0, 100))

    assert change.key == f"{FLATBLOCKS}:activity:slowing:2025-01-01"
    assert (change.data["previous_state"], change.data["state"]) == ("active", "slowing")


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ((0, 10), (0, 20)),
        ((0, 300), (0, 400)),
        ((0, 400), (399, 401)),
        ((None, 10), (5, 10)),
        ((5, 10), (None, 10)),
    ],
    ids=["same-state", "dormant-to-stale", "stale-to-active", "from-unknown", "to-unknown"],
)
def test_activity_stays_silent(
    before: tuple[int | None, int], after: tuple[int | None, int]
) -> None:
    assert health_changes(Event.ACTIVITY, before, after) == []


@pytest.mark.parametrize(
    "busy_week",
    [0, 5, 12, 30],
    ids=["this-week", "5-weeks-ago", "12-weeks-ago", "30-weeks-ago"],
)
def test_a_commit_window_shifting_one_week_raises_no_activity(busy_week: int) -> None:
    counts = [0] * 52
    counts[50 - busy_week] = 3
    fetched = NOW - timedelta(days=3)
    previous = package(last_updated=None, last_fetched=fetched.isoformat(), commits_over_52=counts)
    current = package(
        last_updated=None,
        last_fetched=(fetched + timedelta(weeks=1)).isoformat(),
        commits_over_52=[*counts[1:], 0],
    )
    ctx = context(previous_at=NOW - timedelta(weeks=1), now=NOW)

    assert detected(Event.ACTIVITY, previous, current, ctx) == []


@pytest.mark.parametrize(
    ("before", "after", "expected_key", "expected_summary"),
    [
        (
            (0, 360),
            (0, 370),
            f"{FLATBLOCKS}:stale:entered:2025-01-01",
            "django-flatblocks went stale: last commit 2025-01-01 (1 year ago); "
            "quiet for longer than the 365-day staleness threshold",
        ),
        (
            (0, 400),
            (399, 401),
            f"{FLATBLOCKS}:stale:left:2026-02-04",
            "django-flatblocks is no longer stale, now active: last commit 2026-02-04 (2 days ago)",
        ),
        (
            (0, 100),
            (0, 500),
            f"{FLATBLOCKS}:stale:entered:2025-01-01",
            "django-flatblocks went stale: last commit 2025-01-01 (1 year ago); "
            "quiet for longer than the 365-day staleness threshold",
        ),
    ],
    ids=["entered-as-time-passes", "left-after-a-new-commit", "entered-from-active"],
)
def test_stale_announces_each_transition_with_reasons(
    before: tuple[int, int], after: tuple[int, int], expected_key: str, expected_summary: str
) -> None:
    [change] = health_changes(Event.STALE, before, after)

    assert (change.key, change.summary) == (expected_key, expected_summary)
    assert change.data["reasons"] == expected_summary.split(": ", 1)[1].split("; ")


def test_stale_from_a_quiet_window_alone_keys_an_unknown_commit_date() -> None:
    fetched = (NOW - timedelta(days=3)).isoformat()
    busy = package(last_updated=None, last_fetched=fetched, commits_over_52=[0] * 40 + [1] * 12)
    quiet = package(last_updated=None, last_fetched=fetched, commits_over_52=[0] * 52)

    [change] = detected(Event.STALE, busy, quiet, context(stale_after_days=120))

    assert change.key == f"{FLATBLOCKS}:stale:entered:unknown"
    assert change.data["reasons"] == [
        "no commits in the 52 weeks before Django Packages last checked, 3 days ago",
        "quiet for longer than the 120-day staleness threshold",
    ]


@pytest.mark.parametrize(
    ("before", "after", "ctx"),
    [
        ((0, 400), (0, 500), {}),
        ((0, 200), (0, 300), {}),
        ((None, 400), (0, 400), {}),
        ((0, 400), (None, 400), {}),
        ((0, 360), (0, 370), {"feature_complete": True}),
        ((0, 360), (0, 370), {"stale_after_days": 400}),
    ],
    ids=[
        "still-stale",
        "still-not-stale",
        "from-unknown",
        "to-unknown",
        "feature-complete",
        "longer-threshold",
    ],
)
def test_stale_stays_silent(
    before: tuple[int | None, int], after: tuple[int | None, int], ctx: dict[str, Any]
) -> None:
    assert health_changes(Event.STALE, before, after, **ctx) == []


# --- popularity -----------------------------------------------------------------------------


def test_milestones_follow_the_1_2_5_series_from_10() -> None:
    assert list(milestones(1000)) == [10, 20, 50, 100, 200, 500, 1000]


@pytest.mark.parametrize(
    ("field", "old", "new", "expected"),
    [
        ("repo_watchers", 84, 210, ["stars:100:up", "stars:200:up"]),
        ("repo_watchers", 210, 84, ["stars:200:down", "stars:100:down"]),
        ("repo_watchers", 99, 100, ["stars:100:up"]),
        ("repo_watchers", 100, 99, ["stars:100:down"]),
        ("repo_watchers", 9, 10, ["stars:10:up"]),
        ("repo_watchers", 1999, 2000, ["stars:2000:up"]),
        ("repo_forks", 32, 55, ["forks:50:up"]),
        ("repo_watchers", 100, 101, []),
        ("repo_watchers", 0, 9, []),
        ("repo_watchers", None, 500, []),
        ("repo_watchers", 500, None, []),
    ],
    ids=[
        "two-milestones-up",
        "two-milestones-down",
        "reaches-exactly",
        "falls-just-below",
        "first-milestone",
        "thousands",
        "forks",
        "no-milestone-between",
        "below-the-first-milestone",
        "from-unknown",
        "to-unknown",
    ],
)
def test_popularity_announces_each_milestone_crossed(
    field: str, old: int | None, new: int | None, expected: list[str]
) -> None:
    before: dict[str, Any] = {field: old}
    after: dict[str, Any] = {field: new}
    changes = detected(Event.POPULARITY, package(**before), package(**after), context())

    assert keys(changes) == [f"{FLATBLOCKS}:popularity:{suffix}" for suffix in expected]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (84, 120, "django-flatblocks reached 100 stars (now 120)"),
        (1200, 990, "django-flatblocks fell below 1,000 stars (now 990)"),
    ],
    ids=["up", "down"],
)
def test_popularity_summary_names_milestone_and_count(old: int, new: int, expected: str) -> None:
    [change] = detected(
        Event.POPULARITY, package(repo_watchers=old), package(repo_watchers=new), context()
    )

    assert change.summary == expected


# --- repo -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            {},
            {"repo_url": "https://codeberg.org/jazzband/django-flatblocks"},
            [
                (
                    "repo_url:https://codeberg.org/jazzband/django-flatblocks",
                    "django-flatblocks: repository changed to "
                    "https://codeberg.org/jazzband/django-flatblocks "
                    "(was https://github.com/jazzband/django-flatblocks)",
                )
            ],
            id="repo-moved",
        ),
        pytest.param(
            {},
            {"documentation_url": "https://flatblocks.example/"},
            [
                (
                    "documentation_url:https://flatblocks.example/",
                    "django-flatblocks: documentation set to https://flatblocks.example/",
                )
            ],
            id="docs-added",
        ),
        pytest.param(
            {"title": "Flat Blocks"},
            {},
            [
                (
                    "title:django-flatblocks",
                    "django-flatblocks: title changed to django-flatblocks (was Flat Blocks)",
                )
            ],
            id="renamed",
        ),
        pytest.param(
            {},
            {"category": 3},
            [("category_id:3", "django-flatblocks: category changed to 3 (was 1)")],
            id="recategorised",
        ),
        pytest.param({"documentation_url": "https://flatblocks.example/"}, {}, [], id="docs-gone"),
        pytest.param({}, {"repo_url": ""}, [], id="repo-gone"),
    ],
)
def test_repo_announces_metadata_that_changed_to_a_value(
    old: dict[str, Any], new: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    changes = detected(Event.REPO, package(**old), package(**new), context())

    assert [(c.key, c.summary) for c in changes] == [
        (f"{FLATBLOCKS}:repo:{key}", summary) for key, summary in expected
    ]


# --- grid -----------------------------------------------------------------------------------

GRID = parse_grid(load_json("grid-detail.reconstructed.json"))
TITLES = {1: "django-health-check", 2: "django-watchman", 3: "django-alive"}


@pytest.mark.parametrize(
    ("previous", "current", "expected"),
    [
        (None, {1, 2}, []),
        ({1, 2}, {1, 2}, []),
        (
            {1, 2},
            {2, 3},
            [
                ("grid438:3:joined", "django-alive joined the Health checkers grid"),
                ("grid438:1:left", "django-health-check left the Health checkers grid"),
            ],
        ),
        ({1}, {1, 99}, [("grid438:99:joined", "package 99 joined the Health checkers grid")]),
    ],
    ids=["first-sync", "unchanged", "join-and-leave", "untitled-member"],
)
def test_grid_membership_changes(
    previous: set[int] | None, current: set[int], expected: list[tuple[str, str]]
) -> None:
    changes = grid_membership_changes(
        GRID,
        None if previous is None else frozenset(previous),
        frozenset(current),
        TITLES,
    )

    assert [(c.key, c.summary) for c in changes] == expected
    assert all(c.grid_id == GRID.id and c.event is Event.GRID for c in changes)
    assert [c.package_id for c in changes] == [int(key.split(":")[1]) for key, _ in expected]


# --- removed --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Flat Blocks", "Flat Blocks was removed from Django Packages"),
        ("  ", "django-flatblocks was removed from Django Packages"),
    ],
    ids=["titled", "untitled-uses-slug"],
)
def test_removed_change_names_the_package(title: str, expected: str) -> None:
    change = removed_change(package(title=title))

    assert (change.event, change.key, change.summary) == (
        Event.REMOVED,
        f"{FLATBLOCKS}:removed",
        expected,
    )


# --- subscription preferences ---------------------------------------------------------------


def one_change_of_each_event() -> dict[Event, Change]:
    previous = package()
    current = package(
        pypi_version="1.0.1",
        repo_watchers=100,
        repo_url="https://github.com/jazzband/flatblocks",
        last_updated=NOW.isoformat(),
    )
    changes = [
        *detect_changes(previous, current, context()),
        *health_changes(Event.ACTIVITY, (0, 80), (0, 100)),
        *grid_membership_changes(GRID, frozenset(), frozenset({FLATBLOCKS}), {}),
        removed_change(previous),
        advisory_change(
            str(FLATBLOCKS),
            FLATBLOCKS,
            "django-flatblocks",
            group([parse_advisory(real_records()["PYSEC-2021-10"], "django-debug-toolbar")])[0],
            status="new",
            latest="1.0.1",
        ),
        compat_change(FLATBLOCKS, "flatblocks", "1.0.1", ("4.2",), ("4.2", "5.0")),
        yanked_change(FLATBLOCKS, "flatblocks", "1.0.1", "broken wheel", "1.0.0", of_latest=True),
    ]
    return {change.event: change for change in changes if change is not None}


def test_default_preferences_want_everything_but_repo() -> None:
    changes = one_change_of_each_event()

    assert set(changes) == set(Event)
    assert {event for event, change in changes.items() if wants(AlertPreferences(), change)} == (
        DEFAULT_EVENTS
    )


@pytest.mark.parametrize("event", list(Event), ids=str)
def test_an_event_left_out_of_the_preferences_is_not_wanted(event: Event) -> None:
    change = one_change_of_each_event()[event]

    assert not wants(AlertPreferences(events=frozenset(Event) - {event}), change)
    assert wants(AlertPreferences(events=frozenset({event})), change)
