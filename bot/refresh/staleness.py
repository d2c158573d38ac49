"""Staleness as one channel sees it: its own threshold and its feature-complete marks.

A channel without settings uses the global `STALE_AFTER_DAYS` and has no marks. The refresh's
audience step groups a package's followers by `StaleRule` so each distinct rule is evaluated
once, and `/stale`, `djp-sentinel stale` and the weekly report list what is stale under a
channel's rule. Pure: `bot.refresh.stale_reads` reads the rules and records from the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.core.health import Health, HealthState, classify
from bot.core.records import PackageRecord


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


def stale_packages(
    records: Iterable[PackageRecord], staleness: ChannelStaleness, now: datetime
) -> list[tuple[PackageRecord, Health]]:
    """The stale packages among `records` with their health, longest quiet first."""
    rows = [(record, staleness.health(record, now)) for record in records]
    stale = [(record, health) for record, health in rows if health.state is HealthState.STALE]
    return sorted(stale, key=lambda row: (-(row[1].weeks_since_commit or 0), row[0].slug))
