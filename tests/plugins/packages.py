"""Storing packages as a refresh stores them: seeding goes through the refresh's own triage
(`bot.refresh.apply`), so a test's data is what a poll cycle would have written, and a refresh
rule that changes changes the seeded data with it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.records import PackageRecord
from bot.refresh.apply import apply_packages
from bot.refresh.compare import Batch

#: The default staleness threshold (`STALE_AFTER_DAYS`).
STALE_AFTER_DAYS = 365


async def store_records(
    session: AsyncSession,
    records: Sequence[PackageRecord],
    *,
    now: datetime,
    next_poll_at: datetime | None = None,
) -> list[int]:
    """Store `records` as just fetched one by one (due again at `next_poll_at`, default `now`);
    return the ids whose content is new or moved, in order."""
    applied = await apply_packages(
        session,
        Batch(records=records),
        stale_after_days=STALE_AFTER_DAYS,
        now=now,
        next_poll_at=next_poll_at or now,
    )
    return [seen.record.id for seen in applied.comparison.observed]
