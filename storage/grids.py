"""Stored grids and their members, and the category list."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.records import CategoryRecord, GridRecord
from storage import _sql
from storage._sql import RetryAt, by_id_or_slug, dialect_insert, release_slugs, upsert
from storage.models import Category, Grid, GridMember, Subscription, TargetKind
from storage.subscriptions import ACTIVE


@dataclass(frozen=True, slots=True)
class GridRef:
    """Enough of a grid to name and link it."""

    id: int
    slug: str
    title: str


Membership = tuple[frozenset[int] | None, frozenset[int]]


async def save_grids(
    session: AsyncSession, records: Sequence[GridRecord], *, now: datetime, next_poll_at: datetime
) -> dict[int, Membership]:
    """Store grids and their membership; return each grid's (previous members, current
    members) by id.

    The previous members are None when no baseline had been taken: the first sync of a grid is
    silent, so the caller has nothing to compare. A few bulk statements, however many grids and
    members: the rows, then only the memberships that changed (a sync of the whole catalog
    rewrites nothing that stayed).
    """
    if not records:
        return {}
    ids = [record.id for record in records]
    # Plain table columns: thousands of member rows skip the ORM's row handling.
    grid, members = Grid.__table__, GridMember.__table__
    synced = set(
        await session.scalars(
            select(grid.c.id).where(grid.c.id.in_(ids), grid.c.synced_at.is_not(None))
        )
    )
    stored: dict[int, set[int]] = {grid_id: set() for grid_id in ids}
    rows = await session.execute(
        select(members.c.grid_id, members.c.package_id).where(members.c.grid_id.in_(ids))
    )
    for grid_id, package_id in rows.tuples():
        stored[grid_id].add(package_id)
    await release_slugs(session, Grid, {record.id: record.slug for record in records})
    await upsert(session, grid, [_grid_row(record, now, next_poll_at) for record in records])
    current = {record.id: frozenset(record.package_ids) for record in records}
    left = [
        {"grid_id": grid_id, "package_id": package_id}
        for grid_id in ids
        for package_id in stored[grid_id] - current[grid_id]
    ]
    joined = [
        {"grid_id": grid_id, "package_id": package_id}
        for grid_id in ids
        for package_id in current[grid_id] - stored[grid_id]
    ]
    if left:
        await session.execute(
            delete(members).where(
                members.c.grid_id == bindparam("grid_id"),
                members.c.package_id == bindparam("package_id"),
            ),
            left,
        )
    if joined:
        await session.execute(dialect_insert(session, members).on_conflict_do_nothing(), joined)
    return {
        grid_id: (frozenset(stored[grid_id]) if grid_id in synced else None, current[grid_id])
        for grid_id in ids
    }


def _grid_row(record: GridRecord, now: datetime, next_poll_at: datetime) -> dict[str, Any]:
    return {
        "id": record.id,
        "slug": record.slug,
        "title": record.title,
        "description": record.description,
        "is_locked": record.is_locked,
        "header": record.header,
        "synced_at": now,
        "next_poll_at": next_poll_at,
        "failure_count": 0,
        "last_error": None,
    }


async def find_grid(session: AsyncSession, key: int | str) -> Grid | None:
    """A stored grid by id (an int or digits) or by slug, case-insensitively."""
    query = select(Grid).where(by_id_or_slug(Grid, key)).execution_options(populate_existing=True)
    return (await session.scalars(query)).first()


async def grid_member_ids(session: AsyncSession, grid_id: int) -> frozenset[int]:
    rows = await session.scalars(select(GridMember.package_id).where(GridMember.grid_id == grid_id))
    return frozenset(rows)


async def grid_slugs(session: AsyncSession, grid_ids: Collection[int]) -> dict[int, str]:
    """The slugs of the stored grids among `grid_ids`, by id."""
    rows = await session.execute(select(Grid.id, Grid.slug).where(Grid.id.in_(set(grid_ids))))
    return dict(rows.tuples().all())


async def bring_schedule_forward(session: AsyncSession, latest: datetime) -> None:
    """No grid that is not backing off is due later than `latest` (see `storage._sql`)."""
    await _sql.bring_schedule_forward(session, Grid, latest)


async def due_grid_ids(session: AsyncSession, now: datetime) -> list[int]:
    """Subscribed grids to fetch now: never synced, or due."""
    query = (
        select(Subscription.target_id)
        .distinct()
        .outerjoin(Grid, Grid.id == Subscription.target_id)
        .where(
            Subscription.target_kind == TargetKind.GRID,
            ACTIVE,
            or_(Grid.synced_at.is_(None), Grid.next_poll_at <= now),
        )
        .order_by(Subscription.target_id)
    )
    return list(await session.scalars(query))


async def record_grid_failure(
    session: AsyncSession, grid_id: int, error: str, *, retry_at: RetryAt
) -> int:
    """Note a failed grid fetch; the next poll is `retry_at(failures)` for the consecutive
    failure count, which is returned (0 for a grid never stored)."""
    return await _sql.record_failure(session, Grid, grid_id, error, retry_at)


async def save_categories(session: AsyncSession, records: Sequence[CategoryRecord]) -> None:
    await upsert(session, Category.__table__, [record.model_dump() for record in records])


async def grid_names(session: AsyncSession) -> list[tuple[str, str, int]]:
    """(slug, title, member count) of every stored grid."""
    size = (
        select(func.count()).where(GridMember.grid_id == Grid.id).correlate(Grid).scalar_subquery()
    )
    rows = await session.execute(select(Grid.slug, Grid.title, size))
    return [(slug, title, members) for slug, title, members in rows.tuples()]
