"""Stored grids, their membership, and categories."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.records import GridRecord, parse_category, parse_grid
from storage import grids, subscriptions
from storage.models import Category
from tests.plugins.data import load_json

NOW = datetime(2026, 2, 20, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=6)


def grid(grid_id: int = 48, slug: str = "rest", members: tuple[int, ...] = (), **extra: Any):
    return parse_grid(
        {"id": grid_id, "slug": slug, "title": slug.title(), "packages": list(members)} | extra
    )


async def save(session: AsyncSession, record: GridRecord, *, at: datetime = NOW):
    saved = await grids.save_grids(session, [record], now=at, next_poll_at=at + timedelta(hours=6))
    return saved[record.id]


async def subscribe_to_grid(session: AsyncSession, grid_id: int, channel_id: int = 10):
    subscription, _ = await subscriptions.subscribe(
        session,
        guild_id=1,
        channel_id=channel_id,
        target_kind="grid",
        target_id=grid_id,
        created_by=None,
    )
    return subscription


async def test_the_first_sync_is_a_baseline_then_membership_is_compared(
    session: AsyncSession,
) -> None:
    assert await save(session, grid(members=(1, 2, 3))) == (None, {1, 2, 3})
    assert await save(session, grid(members=(2, 3, 4)), at=LATER) == ({1, 2, 3}, {2, 3, 4})
    assert await grids.grid_member_ids(session, 48) == {2, 3, 4}
    stored = await grids.find_grid(session, 48)
    assert stored is not None
    assert stored.synced_at == LATER


async def test_a_real_grid_payload_is_stored(session: AsyncSession) -> None:
    record = parse_grid(load_json("grid-detail.reconstructed.json"))
    await save(session, record)
    stored = await grids.find_grid(session, "HEALT-checkers")
    assert stored is not None
    assert (stored.id, stored.title, stored.is_locked) == (438, "Health checkers", False)
    assert await grids.grid_member_ids(session, 438) == set(record.package_ids)


async def test_find_grid_by_id_digits_or_slug(session: AsyncSession) -> None:
    await save(session, grid(members=(1,)))
    for key in (48, "48", "REST"):
        found = await grids.find_grid(session, key)
        assert found is not None
        assert found.id == 48
    assert await grids.find_grid(session, "graphql") is None


async def test_a_grid_slug_taken_over_by_another_id_moves_to_it(session: AsyncSession) -> None:
    await save(session, grid(1, "rest"))
    await save(session, grid(2, "rest"), at=LATER)
    found = await grids.find_grid(session, "rest")
    assert found is not None
    assert found.id == 2


async def test_due_grids_are_subscribed_and_unsynced_or_due(session: AsyncSession) -> None:
    await save(session, grid(1, "fresh"))
    await save(session, grid(2, "due"))
    await save(session, grid(3, "unwatched"), at=NOW - timedelta(days=1))
    await grids.record_grid_failure(session, 2, "HTTP 503", retry_at=lambda failures: NOW)
    await subscribe_to_grid(session, 5, channel_id=12)
    await subscriptions.pause_route(
        session, channel_id=12, webhook_url=None, reason="missing permissions", now=NOW
    )
    for grid_id in (1, 2, 4):
        await subscribe_to_grid(session, grid_id)
    await subscribe_to_grid(session, 4, channel_id=11)

    assert await grids.due_grid_ids(session, NOW) == [2, 4]
    assert await grids.due_grid_ids(session, LATER) == [1, 2, 4]


async def test_grid_failures_count_up(session: AsyncSession) -> None:
    await save(session, grid())

    def backoff(failures: int) -> datetime:
        return LATER + timedelta(hours=6 * failures)

    assert await grids.record_grid_failure(session, 48, "HTTP 503", retry_at=backoff) == 1
    assert await grids.record_grid_failure(session, 48, "timeout", retry_at=backoff) == 2
    assert await grids.record_grid_failure(session, 99, "timeout", retry_at=backoff) == 0
    stored = await grids.find_grid(session, 48)
    assert stored is not None
    assert (stored.failure_count, stored.last_error) == (2, "timeout")
    assert stored.next_poll_at == backoff(2)


async def category_titles(session: AsyncSession) -> dict[int, str]:
    rows = await session.execute(select(Category.id, Category.title))
    return dict(rows.tuples().all())


async def test_categories_are_saved_and_updated(session: AsyncSession) -> None:
    payloads = load_json("category-list.reconstructed.json")["results"]
    await grids.save_categories(session, [parse_category(p) for p in payloads])
    titles = await category_titles(session)
    assert titles[4] == "Other"
    assert len(titles) == len(payloads)

    renamed = parse_category(payloads[0] | {"title": "Others"})
    await grids.save_categories(session, [renamed])
    assert (await category_titles(session))[renamed.id] == "Others"


async def test_grid_names_are_slug_title_and_size(session: AsyncSession) -> None:
    await save(session, grid(2, "rest-frameworks", members=(1, 2, 3), title="REST APIs"))
    await save(session, grid(3, "api", members=()))
    assert sorted(await grids.grid_names(session)) == [
        ("api", "Api", 0),
        ("rest-frameworks", "REST APIs", 3),
    ]
