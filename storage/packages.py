"""Stored packages: saving observations, scheduling polls, lookups and search."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Row,
    Select,
    Subquery,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    union,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.health import Activity, newest_busy_week
from bot.core.observations import LastSeen, Observed, Revisited
from bot.core.records import PackageRecord
from storage import _sql
from storage._sql import RetryAt, by_id_or_slug, chunks, release_slugs, upsert
from storage.models import GridMember, Package, PackageHistory, Subscription, TargetKind


@dataclass(frozen=True, slots=True)
class StoredPackage:
    """The latest record of a package and what we know about fetching it."""

    record: PackageRecord
    fetched_at: datetime
    content_hash: str
    failure_count: int
    missing_count: int
    removed_at: datetime | None
    last_error: str | None
    next_poll_at: datetime

    @classmethod
    def from_row(cls, row: Row[Any]) -> StoredPackage:
        """From a row of `select_stored()`."""
        record = PackageRecord.model_validate(row.record)
        if record.last_fetched != row.last_fetched:
            # A refresh that finds the same content updates only the column (see `LastSeen`).
            record = record.model_copy(update={"last_fetched": row.last_fetched})
        return cls(
            record=record,
            fetched_at=row.fetched_at,
            content_hash=row.content_hash,
            failure_count=row.failure_count,
            missing_count=row.missing_count,
            removed_at=row.removed_at,
            last_error=row.last_error,
            next_poll_at=row.next_poll_at,
        )


def select_stored() -> Select[Any]:
    """The columns a `StoredPackage` is built from, read as plain rows: no ORM objects to
    track, and never a stale identity map after a bulk upsert."""
    columns = Package.__table__.c
    return select(
        columns.record,
        columns.last_fetched,
        columns.fetched_at,
        columns.content_hash,
        columns.failure_count,
        columns.missing_count,
        columns.removed_at,
        columns.last_error,
        columns.next_poll_at,
    )


async def _stored(session: AsyncSession, query: Select[Any]) -> list[StoredPackage]:
    return [StoredPackage.from_row(row) for row in await session.execute(query)]


#: A package just seen has no failure, miss or removal to remember.
_CLEARED_MARKS: dict[str, Any] = {
    "failure_count": 0,
    "missing_count": 0,
    "last_error": None,
    "removed_at": None,
}


def _package_row(seen: Observed, now: datetime, next_poll_at: datetime) -> dict[str, Any]:
    record = seen.record
    return {
        "id": record.id,
        "slug": record.slug,
        "title": record.title,
        "category_id": record.category_id,
        "repo_url": record.repo_url,
        "repo_description": record.repo_description,
        "repo_watchers": record.repo_watchers,
        "repo_forks": record.repo_forks,
        "pypi_version": record.pypi_version,
        "pypi_url": record.pypi_url,
        "documentation_url": record.documentation_url,
        "last_updated": record.last_updated,
        "last_fetched": record.last_fetched,
        "commits_over_52": list(record.commits_over_52),
        "grid_ids": list(record.grid_ids),
        "record": record.model_dump(mode="json"),
        "content_hash": seen.content_hash,
        "payload_hash": seen.payload_hash,
        "newest_busy_week": newest_busy_week(record.commits_over_52),
        "fetched_at": now,
        "next_poll_at": next_poll_at,
        **_CLEARED_MARKS,
    }


def _history_row(seen: Observed, now: datetime) -> dict[str, Any]:
    record = seen.record
    return {
        "package_id": record.id,
        "observed_at": now,
        "content_hash": seen.content_hash,
        "pypi_version": record.pypi_version,
        "repo_watchers": record.repo_watchers,
        "repo_forks": record.repo_forks,
        "last_updated": record.last_updated,
        "commits_over_52": list(record.commits_over_52),
    }


async def last_seen(session: AsyncSession, ids: Iterable[int]) -> dict[int, LastSeen]:
    """`LastSeen` of the stored packages among `ids`, by id; unknown ids are left out."""
    table = Package.__table__  # plain columns: 500 rows a batch skip the ORM's row handling
    query = select(
        table.c.id,
        table.c.content_hash,
        table.c.payload_hash,
        table.c.fetched_at,
        table.c.last_updated,
        table.c.newest_busy_week,
        table.c.last_fetched,
    ).where(table.c.id.in_(set(ids)))
    rows = await session.execute(query)
    return {
        package_id: LastSeen(content_hash, payload_hash, fetched_at, Activity(*activity))
        for package_id, content_hash, payload_hash, fetched_at, *activity in rows.tuples()
    }


async def write_observations(
    session: AsyncSession,
    changed: Sequence[Observed],
    revisited: Sequence[Revisited],
    stored: Mapping[int, LastSeen],
    *,
    now: datetime,
    next_poll_at: datetime,
) -> None:
    """Store what a refresh observed: new or changed packages whole, the rest by bookkeeping.

    Every package's failure, missing and removed marks are cleared (it was just seen). A new
    or changed package replaces its row and gets a history row; one revisited with the same
    content only moves its row's bookkeeping (`fetched_at`, `next_poll_at`, and
    `last_fetched` and `payload_hash` where they moved), so a full-catalog refresh where little
    changed writes little. A few bulk statements per call, however many packages.
    """
    # In key order: the catalog comes newest first, and rows inserted in falling key order
    # leave SQLite's pages half full (twice the pages to read and rewrite at every refresh).
    changed = sorted(changed, key=lambda seen: seen.record.id)
    if changed:
        await release_slugs(
            session, Package, {seen.record.id: seen.record.slug for seen in changed}
        )
        await upsert(
            session, Package.__table__, [_package_row(seen, now, next_poll_at) for seen in changed]
        )
        await session.execute(
            insert(PackageHistory.__table__), [_history_row(seen, now) for seen in changed]
        )
    table = Package.__table__
    for chunk in chunks([seen.package_id for seen in revisited]):
        await session.execute(
            update(table)
            .where(table.c.id.in_(chunk))
            .values(fetched_at=now, next_poll_at=next_poll_at, **_CLEARED_MARKS)
        )
    moved = [
        {
            "package_id": seen.package_id,
            "last_fetched": seen.last_fetched,
            "payload": seen.payload_hash,
        }
        for seen in revisited
        if (seen.last_fetched, seen.payload_hash)
        != (stored[seen.package_id].last_fetched, stored[seen.package_id].payload_hash)
    ]
    if moved:
        await session.execute(
            update(table)
            .where(table.c.id == bindparam("package_id"))
            .values(last_fetched=bindparam("last_fetched"), payload_hash=bindparam("payload")),
            moved,
        )


async def bring_schedule_forward(session: AsyncSession, latest: datetime) -> None:
    """No package that is not backing off is due later than `latest` (see `storage._sql`)."""
    await _sql.bring_schedule_forward(session, Package, latest)


async def load_packages(session: AsyncSession, ids: Iterable[int]) -> dict[int, StoredPackage]:
    """The stored packages among `ids`, by id; unknown ids are left out."""
    found = await _stored(session, select_stored().where(Package.id.in_(set(ids))))
    return {package.record.id: package for package in found}


async def package_titles(session: AsyncSession, ids: Iterable[int]) -> dict[int, str]:
    """The titles of the stored packages among `ids`, by id (what naming a grid member needs)."""
    table = Package.__table__
    rows = await session.execute(select(table.c.id, table.c.title).where(table.c.id.in_(set(ids))))
    return dict(rows.tuples().all())


async def all_packages(session: AsyncSession) -> list[StoredPackage]:
    """Every stored package still listed on Django Packages, by slug."""
    return await _stored(
        session, select_stored().where(Package.removed_at.is_(None)).order_by(Package.slug)
    )


async def find_package(session: AsyncSession, key: int | str) -> StoredPackage | None:
    """A stored package by id (an int or digits) or by slug, case-insensitively."""
    found = await _stored(session, select_stored().where(by_id_or_slug(Package, key)))
    return found[0] if found else None


async def record_failure(
    session: AsyncSession, package_id: int, error: str, *, retry_at: RetryAt
) -> int:
    """Note a failed fetch; the next poll is `retry_at(failures)` for the consecutive failure
    count, which is returned (0 for a package never stored: there is no row to mark)."""
    return await _sql.record_failure(session, Package, package_id, error, retry_at)


async def record_missing(session: AsyncSession, package_id: int, *, retry_at: datetime) -> int:
    """Note a 404 from upstream; return how many came in a row (0 if never stored)."""
    count = await session.scalar(
        update(Package)
        .where(Package.id == package_id)
        .values(missing_count=Package.missing_count + 1, next_poll_at=retry_at)
        .returning(Package.missing_count)
    )
    return count or 0


async def mark_removed(session: AsyncSession, package_id: int, *, now: datetime) -> None:
    """Mark a package as gone from Django Packages: it is no longer polled."""
    await session.execute(update(Package).where(Package.id == package_id).values(removed_at=now))


def watched_package_ids() -> Subquery:
    """The package ids some active subscription watches, directly or through a grid (plain
    columns: thousands of ids a cycle skip the ORM's row handling)."""
    subscription, member = Subscription.__table__.c, GridMember.__table__.c
    active = subscription.paused_reason.is_(None)
    direct = select(subscription.target_id.label("package_id")).where(
        subscription.target_kind == TargetKind.PACKAGE, active
    )
    via_grid = (
        select(member.package_id)
        .join(
            Subscription.__table__,
            and_(
                subscription.target_kind == TargetKind.GRID,
                subscription.target_id == member.grid_id,
            ),
        )
        .where(active)
    )
    return union(direct, via_grid).subquery()


async def due_package_ids(session: AsyncSession, now: datetime) -> list[int]:
    """Watched packages to fetch now: never stored, or stored, not removed and due."""
    watched, package = watched_package_ids(), Package.__table__
    query = (
        select(watched.c.package_id)
        .outerjoin(package, package.c.id == watched.c.package_id)
        .where(
            or_(
                package.c.id.is_(None),
                and_(package.c.removed_at.is_(None), package.c.next_poll_at <= now),
            )
        )
        .order_by(watched.c.package_id)
    )
    return list(await session.scalars(query))


async def package_count(session: AsyncSession) -> int:
    """How many stored packages are still listed on Django Packages."""
    count = await session.scalar(
        select(func.count()).select_from(Package).where(Package.removed_at.is_(None))
    )
    return count or 0


async def known_versions(session: AsyncSession, package_id: int) -> frozenset[str]:
    """Every PyPI version ever stored for the package (history and current row)."""
    return (await known_versions_of(session, [package_id])).get(package_id, frozenset())


async def known_versions_of(
    session: AsyncSession, package_ids: Collection[int]
) -> dict[int, frozenset[str]]:
    """`known_versions` of several packages in one query; packages with none are left out."""
    if not package_ids:
        return {}
    ids = set(package_ids)
    versions = union(
        select(PackageHistory.package_id, PackageHistory.pypi_version).where(
            PackageHistory.package_id.in_(ids), PackageHistory.pypi_version.is_not(None)
        ),
        select(Package.id, Package.pypi_version).where(
            Package.id.in_(ids), Package.pypi_version.is_not(None)
        ),
    )
    found: dict[int, set[str]] = {}
    for package_id, version in (await session.execute(versions)).tuples():
        if version is not None:  # excluded by the query; narrows the type
            found.setdefault(package_id, set()).add(version)
    return {package_id: frozenset(known) for package_id, known in found.items()}


async def package_names(session: AsyncSession) -> list[tuple[str, str, int]]:
    """(slug, title, stars) of every stored package still on Django Packages: what lookup by
    name needs, nothing more (a removed package is never suggested)."""
    rows = await session.execute(
        select(Package.slug, Package.title, func.coalesce(Package.repo_watchers, 0)).where(
            Package.removed_at.is_(None)
        )
    )
    return [(slug, title, stars) for slug, title, stars in rows.tuples()]


async def packages_in_grid(session: AsyncSession, grid_id: int) -> list[StoredPackage]:
    """The stored members of a grid, most stars first."""
    query = (
        select_stored()
        .join(GridMember, GridMember.package_id == Package.id)
        .where(GridMember.grid_id == grid_id)
        .order_by(func.coalesce(Package.repo_watchers, -1).desc(), Package.slug)
    )
    return await _stored(session, query)
