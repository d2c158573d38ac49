"""The registry of delivery workers: each beats every pass; the live ones share the budget.

A worker that stops beating (killed, frozen, cut off) stops counting after `within`, and its
row is deleted by any worker's beat after `FORGET_AFTER`; the others' shares grow.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage._sql import upsert
from storage.models import DeliveryWorkerRow

#: A worker that has not beaten for this long (or three delivery intervals) is no longer live.
LIVE_WITHIN = timedelta(seconds=30)
FORGET_AFTER = timedelta(hours=1)
WORKERS = DeliveryWorkerRow.__table__


async def beat(session: AsyncSession, name: str, *, now: datetime) -> None:
    """The worker `name` is alive at `now` (registered by its first beat, or again after it
    was forgotten); workers silent for `FORGET_AFTER` are deleted."""
    await session.execute(delete(WORKERS).where(WORKERS.c.heartbeat_at < now - FORGET_AFTER))
    await upsert(session, WORKERS, [{"name": name, "heartbeat_at": now}])


async def live_count(session: AsyncSession, *, now: datetime, within: timedelta) -> int:
    """Workers that beat within `within` of `now` (at least 1: the one asking)."""
    return max(len(await live_names(session, now=now, within=within)), 1)


async def live_names(session: AsyncSession, *, now: datetime, within: timedelta) -> list[str]:
    """The workers that beat within `within` of `now`, by name."""
    live = select(WORKERS.c.name).where(WORKERS.c.heartbeat_at >= now - within)
    return list(await session.scalars(live.order_by(WORKERS.c.name)))


async def leave(session: AsyncSession, name: str) -> None:
    """A worker stopping cleanly hands its share back at once."""
    await session.execute(delete(WORKERS).where(WORKERS.c.name == name))
