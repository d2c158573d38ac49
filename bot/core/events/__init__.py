"""Change detection: what changed between two observations, and who wants to hear about it.

Each event kind lives in its own module with its detection, wording and subscription filter;
`REGISTRY` is the one place that lists them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from types import MappingProxyType

from bot.core.events import activity, grid, popularity, release, removed, repo, stale
from bot.core.events.base import (
    DEFAULT_EVENTS,
    EVENT_NAMES,
    AlertPreferences,
    Change,
    DetectContext,
    Event,
    EventKind,
    Snapshot,
    UnknownEvent,
    parse_events,
)
from bot.core.events.grid import grid_membership_changes
from bot.core.events.removed import removed_change
from bot.core.health import classify
from bot.core.records import PackageRecord

REGISTRY: Mapping[Event, EventKind] = MappingProxyType(
    {
        kind.event: kind
        for kind in (
            release.KIND,
            activity.KIND,
            stale.KIND,
            popularity.KIND,
            grid.KIND,
            repo.KIND,
            removed.KIND,
        )
    }
)


def _snapshot(record: PackageRecord, at: datetime, ctx: DetectContext) -> Snapshot:
    health = classify(
        record,
        now=at,
        stale_after_days=ctx.stale_after_days,
        feature_complete=ctx.feature_complete,
    )
    return Snapshot(record, health)


def detect_changes(
    previous: PackageRecord | None,
    current: PackageRecord,
    ctx: DetectContext,
    *,
    events: Collection[Event] = REGISTRY.keys(),
) -> list[Change]:
    """Every change of the given `events` (all by default) between two observations of a
    package, in registry order.

    `previous=None` is the first observation: a silent baseline. Each record's health is taken
    at its own moment (`ctx.previous_at`, or `ctx.now` when that is unknown, and `ctx.now`).
    """
    if previous is None:
        return []
    before = _snapshot(previous, ctx.previous_at or ctx.now, ctx)
    after = _snapshot(current, ctx.now, ctx)
    return [
        change
        for event, kind in REGISTRY.items()
        if kind.detect is not None and event in events
        for change in kind.detect(before, after, ctx)
    ]


def wants(preferences: AlertPreferences, change: Change) -> bool:
    """Whether a subscription with these preferences should be alerted about `change`."""
    return change.event in preferences.events and REGISTRY[change.event].accepts(
        preferences, change
    )


__all__ = [
    "DEFAULT_EVENTS",
    "EVENT_NAMES",
    "REGISTRY",
    "AlertPreferences",
    "Change",
    "DetectContext",
    "Event",
    "EventKind",
    "UnknownEvent",
    "detect_changes",
    "grid_membership_changes",
    "parse_events",
    "removed_change",
    "wants",
]
