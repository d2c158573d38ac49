"""Stored packages: observations, history, failures, scheduling, lookups and search."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.records import PackageRecord, parse_grid, parse_package
from storage import grids, packages, subscriptions
from storage.database import Database
from storage.models import PackageHistory
from tests.plugins.data import SEED_SLUGS, seed_package
from tests.plugins.packages import store_records

NOW = datetime(2026, 2, 20, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=6)
FLATBLOCKS = 265
SECOND = timedelta(seconds=1)


def backoff(failures: int) -> datetime:
    """A retry half an hour later per consecutive failure."""
    return NOW + timedelta(minutes=30 * failures)


def at(moment: datetime) -> Callable[[int], datetime]:
    """A retry at `moment` whatever the failure count."""
    return lambda failures: moment


def package(seed: str = "django-flatblocks", **changes: Any) -> PackageRecord:
    """A seed package, with some payload fields replaced."""
    return parse_package(seed_package(seed) | changes)


def variant(package_id: int, slug: str, **changes: Any) -> PackageRecord:
    """A made-up package built on the flatblocks seed."""
    return package(id=package_id, slug=slug, title=slug, **changes)


async def save(session: AsyncSession, *records: PackageRecord, at: datetime = NOW) -> list[int]:
    return await store_records(session, records, now=at, next_poll_at=at + timedelta(hours=6))


async def history_count(session: AsyncSession, package_id: int) -> int:
    query = select(func.count()).where(PackageHistory.package_id == package_id)
    return await session.scalar(query) or 0


async def test_new_packages_are_stored_whole_and_reported_changed(database: Database) -> None:
    records = [package(slug) for slug in SEED_SLUGS]
    async with database.transaction() as session:
        changed = await save(session, *records)
    assert changed == [record.id for record in records]
    async with database.session() as session:
        stored = await packages.load_packages(session, [r.id for r in records] + [999_999])
    assert set(stored) == {record.id for record in records}
    for record in records:
        assert stored[record.id].record == record
        assert stored[record.id].content_hash == record.content_hash()
        assert stored[record.id].fetched_at == NOW
        assert stored[record.id].next_poll_at == NOW + timedelta(hours=6)


async def test_saving_the_same_records_again_changes_nothing(session: AsyncSession) -> None:
    await save(session, package(), package("django-cache-machine"))
    assert await save(session, package(), package("django-cache-machine"), at=LATER) == []
    assert await history_count(session, FLATBLOCKS) == 1
    stored = await packages.find_package(session, FLATBLOCKS)
    assert stored is not None
    assert stored.fetched_at == LATER


async def test_a_content_change_adds_a_history_row(session: AsyncSession) -> None:
    await save(session, package(), package("django-cache-machine"))
    changed = await save(
        session, package(repo_watchers=85), package("django-cache-machine"), at=LATER
    )
    assert changed == [FLATBLOCKS]
    assert await history_count(session, FLATBLOCKS) == 2
    stored = await packages.find_package(session, FLATBLOCKS)
    assert stored is not None
    assert stored.record.repo_watchers == 85


async def test_a_refresh_date_alone_is_not_a_change(session: AsyncSession) -> None:
    await save(session, package())
    refreshed = package(last_fetched="2026-02-19T19:07:25-05:00")
    assert await save(session, refreshed, at=LATER) == []
    assert await history_count(session, FLATBLOCKS) == 1
    stored = await packages.find_package(session, FLATBLOCKS)
    assert stored is not None
    assert stored.record.last_fetched == datetime(2026, 2, 20, 0, 7, 25, tzinfo=UTC)


async def test_failures_count_up_and_postpone_the_next_poll(session: AsyncSession) -> None:
    await save(session, package())
    assert await packages.record_failure(session, FLATBLOCKS, "HTTP 503", retry_at=backoff) == 1
    assert await packages.record_failure(session, FLATBLOCKS, "timeout", retry_at=backoff) == 2
    stored = await packages.find_package(session, FLATBLOCKS)
    assert stored is not None
    assert (stored.failure_count, stored.last_error) == (2, "timeout")
    assert stored.next_poll_at == backoff(2)


async def test_failures_of_a_package_never_stored_are_not_counted(session: AsyncSession) -> None:
    assert await packages.record_failure(session, 404, "HTTP 500", retry_at=backoff) == 0
    assert await packages.record_missing(session, 404, retry_at=NOW) == 0


async def test_a_successful_fetch_clears_failures_and_removal(session: AsyncSession) -> None:
    await save(session, package())
    await packages.record_failure(session, FLATBLOCKS, "HTTP 503", retry_at=backoff)
    assert await packages.record_missing(session, FLATBLOCKS, retry_at=NOW) == 1
    assert await packages.record_missing(session, FLATBLOCKS, retry_at=NOW) == 2
    await packages.mark_removed(session, FLATBLOCKS, now=NOW)
    removed = await packages.find_package(session, FLATBLOCKS)
    assert removed is not None
    assert removed.removed_at == NOW

    await save(session, package(), at=LATER)
    stored = await packages.find_package(session, FLATBLOCKS)
    assert stored is not None
    assert (stored.failure_count, stored.missing_count) == (0, 0)
    assert (stored.last_error, stored.removed_at) == (None, None)


async def test_a_slug_taken_over_by_another_id_moves_to_it(session: AsyncSession) -> None:
    await save(session, variant(1, "django-foo"), variant(2, "django-bar"))
    assert await save(session, variant(3, "django-foo"), at=LATER) == [3]
    found = await packages.find_package(session, "django-foo")
    assert found is not None
    assert found.record.id == 3
    await save(session, variant(1, "django-foo-classic"), at=LATER)
    found = await packages.find_package(session, "django-foo-classic")
    assert found is not None
    assert found.record.id == 1


@pytest.mark.parametrize("key", [FLATBLOCKS, "265", "django-flatblocks", " Django-FlatBlocks "])
async def test_find_package_by_id_or_slug(session: AsyncSession, key: int | str) -> None:
    await save(session, package())
    stored = await packages.find_package(session, key)
    assert stored is not None
    assert stored.record.id == FLATBLOCKS


async def test_find_package_unknown_is_none(session: AsyncSession) -> None:
    await save(session, package())
    assert await packages.find_package(session, "django-nope") is None
    assert await packages.find_package(session, 1) is None


async def test_due_packages_are_the_watched_ones_not_fresh_or_removed(
    session: AsyncSession,
) -> None:
    fresh, due, removed, unwatched, paused = 1, 2, 3, 4, 5
    never_stored, grid_member = 6, 7
    await save(session, *(variant(i, f"pkg-{i}") for i in (fresh, due, removed, unwatched, paused)))
    await packages.record_failure(session, due, "HTTP 503", retry_at=at(NOW - SECOND))
    await packages.mark_removed(session, removed, now=NOW)
    await packages.record_failure(session, removed, "HTTP 404", retry_at=at(NOW))
    for package_id in (fresh, due, removed, never_stored):
        await subscriptions.subscribe(
            session,
            guild_id=1,
            channel_id=10,
            target_kind="package",
            target_id=package_id,
            created_by=None,
        )
    await grids.save_grids(
        session,
        [parse_grid({"id": 48, "slug": "g", "title": "G", "packages": [grid_member]})],
        now=NOW,
        next_poll_at=LATER,
    )
    await subscriptions.subscribe(
        session, guild_id=1, channel_id=11, target_kind="grid", target_id=48, created_by=None
    )
    await subscriptions.subscribe(
        session,
        guild_id=1,
        channel_id=12,
        target_kind="package",
        target_id=paused,
        created_by=None,
    )
    await packages.record_failure(session, paused, "HTTP 503", retry_at=at(NOW))
    await subscriptions.pause_route(
        session, channel_id=12, webhook_url=None, reason="channel deleted", now=NOW
    )

    assert await packages.due_package_ids(session, NOW) == [due, never_stored, grid_member]
    assert fresh in await packages.due_package_ids(session, LATER)


async def test_counts_and_listings_leave_out_removed_packages(session: AsyncSession) -> None:
    assert await packages.package_count(session) == 0
    await save(session, *(package(slug) for slug in SEED_SLUGS))
    await packages.mark_removed(session, FLATBLOCKS, now=NOW)
    assert await packages.package_count(session) == len(SEED_SLUGS) - 1
    listed = [stored.record.slug for stored in await packages.all_packages(session)]
    assert listed == sorted(set(SEED_SLUGS) - {"django-flatblocks"})


async def test_known_versions_remember_every_release_seen(session: AsyncSession) -> None:
    await save(session, package(pypi_version="1.0.0"))
    await save(session, package(pypi_version="1.1.0"), at=LATER)
    await save(session, package(pypi_version=None), at=LATER + timedelta(hours=1))
    await save(session, package(pypi_version="1.0.0"), at=LATER + timedelta(hours=2))
    assert await packages.known_versions(session, FLATBLOCKS) == {"1.0.0", "1.1.0"}
    assert await packages.known_versions(session, 404) == frozenset()


async def test_package_names_are_slug_title_and_stars(session: AsyncSession) -> None:
    await save(
        session,
        variant(1, "django-cache", repo_watchers=500),
        package(id=4, slug="memo", title="Cache Machine", repo_watchers=None),
    )
    assert sorted(await packages.package_names(session)) == [
        ("django-cache", "django-cache", 500),
        ("memo", "Cache Machine", 0),
    ]


async def test_packages_in_grid_lists_stored_members_by_stars(session: AsyncSession) -> None:
    await save(session, variant(1, "a", repo_watchers=3), variant(2, "b", repo_watchers=30))
    await grids.save_grids(
        session,
        [parse_grid({"id": 9, "slug": "g", "title": "G", "packages": [1, 2, 3]})],
        now=NOW,
        next_poll_at=LATER,
    )
    assert [p.record.id for p in await packages.packages_in_grid(session, 9)] == [2, 1]
    assert await packages.packages_in_grid(session, 10) == []
