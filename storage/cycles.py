"""Figures of past poll cycles, for `/status` and for planning the next cycle."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Cycle


async def record_cycle(
    session: AsyncSession,
    *,
    started_at: datetime,
    finished_at: datetime,
    mode: str,
    packages_fetched: int = 0,
    packages_failed: int = 0,
    grids_fetched: int = 0,
    changes: int = 0,
    alerts_enqueued: int = 0,
    requests: int = 0,
    catalog_total: int | None = None,
) -> Cycle:
    cycle = Cycle(
        started_at=started_at,
        finished_at=finished_at,
        mode=mode,
        packages_fetched=packages_fetched,
        packages_failed=packages_failed,
        grids_fetched=grids_fetched,
        changes=changes,
        alerts_enqueued=alerts_enqueued,
        requests=requests,
        catalog_total=catalog_total,
    )
    session.add(cycle)
    await session.flush()
    return cycle


async def last_cycle(session: AsyncSession) -> Cycle | None:
    latest = select(Cycle).order_by(Cycle.finished_at.desc(), Cycle.id.desc())
    return (await session.scalars(latest)).first()


async def last_catalog_total(session: AsyncSession) -> int | None:
    """The catalog size counted by the latest cycle that paged the whole catalog."""
    return await session.scalar(
        select(Cycle.catalog_total)
        .where(Cycle.catalog_total.is_not(None))
        .order_by(Cycle.finished_at.desc(), Cycle.id.desc())
        .limit(1)
    )
