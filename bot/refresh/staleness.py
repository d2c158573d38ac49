"""Staleness as one channel sees it: its own threshold and its feature-complete marks.

A channel without settings uses the global `STALE_AFTER_DAYS` and has no marks. The monitor
groups a package's audience by `StaleRule` so each distinct rule is evaluated once, and
`/stale`, `djp-sentinel stale` and the weekly report list what is stale under a channel's rule.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.health import Health, HealthState, classify
from bot.core.records import PackageRecord
from storage import channels, packages


@dataclass(frozen=True, slots=True)
class StaleRule:
    """How staleness is judged for one package: the threshold, and whether it is marked done."""

    stale_after_days: int
    feature_complete: bool = False


@dataclass(frozen=True, slots=True)
class ChannelStaleness:
    """A channel's staleness threshold in days and the packages it marked feature-complete."""

    stale_after_days: int
    feature_complete: frozenset[int] = frozenset()

    def rule(self, package_id: int) -> StaleRule:
        return StaleRule(self.stale_after_days, package_id in self.feature_complete)

    def health(self, record: PackageRecord, now: datetime) -> Health:
        rule = self.rule(record.id)
        return classify(
            record,
            now=now,
            stale_after_days=rule.stale_after_days,
            feature_complete=rule.feature_complete,
        )


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


def stale_packages(
    records: Iterable[PackageRecord], staleness: ChannelStaleness, now: datetime
) -> list[tuple[PackageRecord, Health]]:
    """The stale packages among `records` with their health, longest quiet first."""
    rows = [(record, staleness.health(record, now)) for record in records]
    stale = [(record, health) for record, health in rows if health.state is HealthState.STALE]
    return sorted(stale, key=lambda row: (-(row[1].weeks_since_commit or 0), row[0].slug))


async def stale_among(
    session: AsyncSession, package_ids: Collection[int], staleness: ChannelStaleness, now: datetime
) -> list[tuple[PackageRecord, Health]]:
    """The stale packages among the stored, still-listed ones of `package_ids` (e.g. `/stale`)."""
    stored = await packages.load_packages(session, package_ids)
    listed = (package.record for package in stored.values() if package.removed_at is None)
    return stale_packages(listed, staleness, now)
