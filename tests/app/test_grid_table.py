"""A grid as a ranked table: ranking rules, and loading it live or from the stored copy."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.app.grid_table import load_grid_table, rank_members
from bot.app.runtime import Runtime
from bot.app.summaries import FRESH_AT_MOST
from bot.core.health import HealthState
from bot.core.records import PackageRecord, parse_package
from bot.errors import ApiUnavailable, NotFound
from bot.refresh.staleness import ChannelStaleness
from tests.fakes.djp_api import FakeDjangoPackages
from tests.plugins.app import SteppingClock, package_copies
from tests.plugins.data import seed_package
from tests.plugins.djp_api import TEST_RETRY

NOW = datetime(2026, 2, 20, 12, tzinfo=UTC)
DEFAULT = ChannelStaleness(365)


def record(**changes: Any) -> PackageRecord:
    """Flatblocks with some fields changed."""
    return parse_package(seed_package("django-flatblocks") | changes)


@pytest.fixture
def members() -> list[PackageRecord]:
    return [
        record(id=1, slug="quiet", repo_watchers=900, last_updated="2020-01-01T00:00:00+00:00"),
        record(id=2, slug="busy", repo_watchers=50, last_updated="2026-02-10T00:00:00+00:00"),
        record(id=3, slug="unknown-stars", repo_watchers=None),
        record(id=4, slug="no-dates", last_updated=None, commits_over_52=[]),
    ]


def test_by_stars_most_first_and_unknown_last(members: list[PackageRecord]) -> None:
    rows = rank_members(members, now=NOW, staleness=DEFAULT, sort="stars")

    assert [(row.rank, row.slug) for row in rows] == [
        (1, "quiet"),
        (2, "no-dates"),
        (3, "busy"),
        (4, "unknown-stars"),
    ]


def test_by_activity_latest_commit_first_and_unknown_last(members: list[PackageRecord]) -> None:
    rows = rank_members(members, now=NOW, staleness=DEFAULT, sort="activity")

    assert [row.slug for row in rows] == ["busy", "unknown-stars", "quiet", "no-dates"]
    assert [row.rank for row in rows] == [1, 2, 3, 4]


def test_a_row_carries_what_the_table_shows() -> None:
    [row] = rank_members([record()], now=NOW, staleness=DEFAULT)

    assert (row.slug, row.title, row.stars, row.version) == (
        "django-flatblocks",
        "django-flatblocks",
        84,
        "1.0.0",
    )
    assert f"{row.last_commit:%Y-%m-%d}" == "2022-02-15"
    assert row.last_commit_age == "4 years ago"
    assert row.health.state is HealthState.STALE


def test_health_follows_the_channel_threshold_and_marks() -> None:
    flatblocks = record()
    lenient = ChannelStaleness(3000)
    finished = ChannelStaleness(365, frozenset({flatblocks.id}))

    for staleness in (lenient, finished):
        [row] = rank_members([flatblocks], now=NOW, staleness=staleness)
        assert row.health.state is HealthState.DORMANT


async def test_loading_fetches_the_grid_and_its_members_live(runtime: Runtime) -> None:
    table = await load_grid_table(runtime, "caching")

    assert (table.slug, table.title, table.from_cache) == ("caching", "Caching", False)
    assert [(row.slug, row.stars) for row in table.rows] == [
        ("django-cache-machine", 885),
        ("django-valkey", 78),
    ]


async def test_a_large_grid_on_a_fresh_database_costs_a_catalog_page_not_a_request_a_member(
    runtime: Runtime, djp_api: FakeDjangoPackages
) -> None:
    widgets = package_copies(seed_package("django-flatblocks"), 150)
    for stars, payload in enumerate(widgets):
        payload["repo_watchers"] = stars
        djp_api.add_package(payload)
    djp_api.set_grid_members(48, [w["id"] for w in widgets])

    table = await load_grid_table(runtime, "flatpages")

    # The grid, then the whole catalog (159 packages) in one page: 2 requests, not 151.
    assert djp_api.request_count == 2
    assert [row.slug for row in table.rows] == [f"django-widget-{n}" for n in range(149, -1, -1)]
    djp_api.reset_log()
    again = await load_grid_table(runtime, "flatpages")
    assert djp_api.request_count == 0  # served from the fresh stored copy
    assert again.rows == table.rows


async def test_loading_falls_back_to_the_stored_copy_when_the_api_is_down(
    runtime: Runtime, djp_api: FakeDjangoPackages, clock: SteppingClock
) -> None:
    await load_grid_table(runtime, "caching")
    djp_api.inject("503-html", times=TEST_RETRY.attempts)
    clock.advance(FRESH_AT_MOST)  # the stored copy is due for a refresh

    table = await load_grid_table(runtime, "caching", sort="activity")

    assert table.from_cache
    assert [row.slug for row in table.rows] == ["django-valkey", "django-cache-machine"]


async def test_a_grid_neither_stored_nor_reachable_is_an_error(
    runtime: Runtime, djp_api: FakeDjangoPackages
) -> None:
    djp_api.inject("503-html", times=TEST_RETRY.attempts)

    with pytest.raises(ApiUnavailable):
        await load_grid_table(runtime, "caching")


async def test_an_unknown_grid_is_not_found(runtime: Runtime) -> None:
    with pytest.raises(NotFound, match="No grid 'no-such-grid' on Django Packages"):
        await load_grid_table(runtime, "no-such-grid")
