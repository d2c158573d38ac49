"""PyPI projects of watched packages, the releases announced, upstream documents, and how
each optional source is doing (kept as a document of its own, `health:<source>`)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.pypi import project_from_json, project_to_json
from bot.core.pypi_checks import Checked, PypiTarget, StoredProject
from storage._sql import chunks, dialect_insert, upsert
from storage.models import AnnouncedRelease, Package, PypiProjectRow, SourceDocument
from storage.packages import watched_package_ids


async def pypi_targets(session: AsyncSession) -> list[PypiTarget]:
    """Every watched, stored, not removed package with a `pypi_url`, with its PyPI row's
    schedule (None for a project never asked)."""
    watched, package, row = watched_package_ids(), Package.__table__.c, PypiProjectRow.__table__.c
    query = (
        select(
            package.id,
            package.pypi_url,
            row.etag,
            row.checked_at,
            row.next_check_at,
            row.failure_count,
            row.name,
        )
        .join(watched, watched.c.package_id == package.id)
        .outerjoin(PypiProjectRow.__table__, row.package_id == package.id)
        .where(package.removed_at.is_(None), package.pypi_url.is_not(None))
        .order_by(package.id)
    )
    return [
        PypiTarget(pid, url, etag, checked, due, failures or 0, asked_as)
        for pid, url, etag, checked, due, failures, asked_as in await session.execute(query)
    ]


async def unfollow_others(session: AsyncSession, followed: Collection[int]) -> None:
    """Forget when each project not `followed` (no longer watched, removed, or without a link
    to a project) was last answered: nobody followed its changes meanwhile, so once it is
    followed again the pass asks it at once, as a project never answered. `followed` all have
    a row: when there are no others (the usual pass), counting the rows settles it."""
    table = PypiProjectRow.__table__
    if await session.scalar(select(func.count()).select_from(table)) == len(followed):
        return
    row = table.c
    answered = select(row.package_id).where(row.checked_at.is_not(None))
    others = [pid for pid in await session.scalars(answered) if pid not in followed]
    for chunk in chunks(others):
        await session.execute(
            update(table).where(row.package_id.in_(chunk)).values(checked_at=None)
        )


async def stored_projects(
    session: AsyncSession, package_ids: Collection[int]
) -> dict[int, StoredProject]:
    """The last good answer (None: never one) and declared versions of each asked package
    that has a row."""
    if not package_ids:
        return {}
    row = PypiProjectRow.__table__.c
    rows = await session.execute(
        select(row.package_id, row.project, row.declared).where(row.package_id.in_(package_ids))
    )
    return {
        pid: StoredProject(project_from_json(stored) if stored else None, tuple(declared or ()))
        for pid, stored, declared in rows
    }


async def etag_of(session: AsyncSession, package_id: int) -> str | None:
    return await session.scalar(
        select(PypiProjectRow.etag).where(PypiProjectRow.package_id == package_id)
    )


async def save_checks(session: AsyncSession, checks: Iterable[Checked]) -> None:
    """Store each request's outcome: a new answer with its ETag, a 304 (only the times move),
    or a failure (the last good answer and its ETag are kept, the failures counted)."""
    table = PypiProjectRow.__table__
    fresh: list[dict[str, Any]] = []
    #: 304s, by when they were checked and are due: one UPDATE for each (all of them, usually).
    same: dict[tuple[datetime, datetime], list[int]] = {}
    failed: list[Checked] = []
    for check in checks:
        base = {
            "package_id": check.package_id,
            "name": check.name,
            "checked_at": check.checked_at,
            "next_check_at": check.next_check_at,
        }
        if check.error is not None:
            failed.append(check)
        elif check.project is not None:
            fresh.append(
                base
                | {
                    "etag": check.etag,
                    "failure_count": 0,
                    "last_error": None,
                    "project": project_to_json(check.project),
                    "declared": list(check.declared or ()),
                }
            )
        else:
            same.setdefault((check.checked_at, check.next_check_at), []).append(check.package_id)
    await upsert(session, table, fresh)
    for (checked_at, next_check_at), ids in same.items():
        for chunk in chunks(ids):
            await session.execute(
                update(table)
                .where(table.c.package_id.in_(chunk))
                .values(
                    checked_at=checked_at,
                    next_check_at=next_check_at,
                    failure_count=0,
                    last_error=None,
                )
            )
    for check in failed:
        insert = dialect_insert(session, table).values(
            package_id=check.package_id,
            name=check.name,
            next_check_at=check.next_check_at,
            failure_count=1,
            last_error=check.error,
            declared=[],
        )
        await session.execute(
            insert.on_conflict_do_update(
                index_elements=["package_id"],
                set_={
                    "next_check_at": check.next_check_at,
                    "failure_count": table.c.failure_count + 1,
                    "last_error": check.error,
                },
            )
        )


async def announced_versions(
    session: AsyncSession, package_ids: Collection[int]
) -> dict[int, dict[str, datetime]]:
    """For each package with any, the versions announced and when."""
    if not package_ids:
        return {}
    row = AnnouncedRelease.__table__.c
    found: dict[int, dict[str, datetime]] = {}
    for pid, version, at in await session.execute(
        select(row.package_id, row.version, row.announced_at).where(row.package_id.in_(package_ids))
    ):
        found.setdefault(pid, {})[version] = at
    return found


async def mark_announced(
    session: AsyncSession, versions: Mapping[int, Collection[str]], *, source: str, now: datetime
) -> None:
    """Remember versions as announced (a version already remembered keeps its first source)."""
    rows = [
        {"package_id": pid, "version": version, "announced_at": now, "source": source}
        for pid, listed in versions.items()
        for version in listed
    ]
    if rows:
        insert = dialect_insert(session, AnnouncedRelease.__table__)
        await session.execute(insert.on_conflict_do_nothing(), rows)


async def document(session: AsyncSession, name: str) -> SourceDocument | None:
    return await session.get(SourceDocument, name)


async def save_document(
    session: AsyncSession,
    name: str,
    *,
    checked_at: datetime,
    etag: str | None = None,
    body: Any = None,
    error: str | None = None,
) -> None:
    """A new body (with its ETag), or a 304 or failure (`body` None): the body is kept."""
    row = await session.get(SourceDocument, name)
    if row is None:
        row = SourceDocument(name=name, checked_at=checked_at)
        session.add(row)
    row.checked_at = checked_at
    row.last_error = error
    if body is not None:
        row.body, row.etag = body, etag
    await session.flush()


async def watched_ids(session: AsyncSession) -> list[int]:
    """Every package some active subscription reaches, directly or through a grid."""
    watched = watched_package_ids()
    return list(await session.scalars(select(watched.c.package_id).order_by(watched.c.package_id)))
