"""What judging staleness per channel reads from the database: each channel's rule, and the
stale packages among stored ones under a rule (`bot.refresh.staleness` judges)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.health import Health
from bot.core.records import PackageRecord
from bot.refresh.staleness import ChannelStaleness, stale_packages
from storage import channels, packages


async def channel_staleness(
    session: AsyncSession, channel_ids: Collection[int], *, default_days: int
) -> dict[int, ChannelStaleness]:
    """Each requested channel's staleness settings (two queries however many channels)."""
    if not channel_ids:
        return {}
    preferences = await channels.preferences_for(session, channel_ids)
    marks = await channels.feature_complete_for(session, channel_ids)
    return {
        channel_id: ChannelStaleness(
            preferences[channel_id].staleness_threshold(default_days), marks[channel_id]
        )
        for channel_id in channel_ids
    }


async def stale_among(
    session: AsyncSession, package_ids: Collection[int], staleness: ChannelStaleness, now: datetime
) -> list[tuple[PackageRecord, Health]]:
    """The stale packages among the stored, still-listed ones of `package_ids` (e.g. `/stale`)."""
    stored = await packages.load_packages(session, package_ids)
    listed = (package.record for package in stored.values() if package.removed_at is None)
    return stale_packages(listed, staleness, now)
