"""Event kinds: what changed between two observations, who wants to hear about it, and how it
is shown.

Each kind lives in its own module with its detection, wording, subscription filter, card facts
and colour, digest line and digest-bypass meaning; `REGISTRY` is the one place that lists them,
by the name an outbox alert's `event` carries.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from types import MappingProxyType
from typing import cast

from bot.core.events import (
    activity,
    advisory,
    compat,
    grid,
    popularity,
    release,
    removed,
    repo,
    stale,
    stale_report,
    yanked,
)
from bot.core.events.base import (
    DEFAULT_COLOUR,
    DEFAULT_EVENTS,
    EVENT_NAMES,
    MIN_RELEASE_LEVELS,
    AlertPreferences,
    Card,
    Change,
    DetectContext,
    DigestLine,
    Event,
    EventKind,
    Fact,
    Markup,
    MinReleaseLevel,
    OutboxAlert,
    ReleaseLevel,
    Snapshot,
    UnknownEvent,
    parse_events,
)
from bot.core.events.grid import grid_membership_changes
from bot.core.events.removed import removed_change
from bot.core.records import PackageRecord

REGISTRY: Mapping[str, EventKind] = MappingProxyType(
    {
        kind.name: kind
        for kind in (
            release.KIND,
            activity.KIND,
            stale.KIND,
            popularity.KIND,
            grid.KIND,
            repo.KIND,
            removed.KIND,
            advisory.KIND,
            stale_report.KIND,
            compat.KIND,
            yanked.KIND,
        )
    }
)

#: Events that follow a package's health, so depend on a channel's staleness rule.
HEALTH_EVENTS = frozenset(kind.event for kind in REGISTRY.values() if kind.follows_health)


def detect_changes(
    previous: PackageRecord | None,
    current: PackageRecord,
    ctx: DetectContext,
    *,
    events: Collection[Event] | None = None,
) -> list[Change]:
    """Every change of the given `events` (all by default) between two observations of a
    package, in registry order.

    `previous=None` is the first observation: a silent baseline. Each record's health is taken
    at its own moment (`ctx.previous_at`, or `ctx.now` when that is unknown, and `ctx.now`).
    """
    if previous is None:
        return []
    rule = (ctx.stale_after_days, ctx.feature_complete)
    before = Snapshot(previous, ctx.previous_at or ctx.now, *rule)
    after = Snapshot(current, ctx.now, *rule)
    return [
        change
        for kind in REGISTRY.values()
        if kind.detect is not None and (events is None or kind.event in events)
        for change in kind.detect(before, after, ctx)
    ]


#: What an alert of a kind no longer known (e.g. written by a newer version) is shown as.
_UNKNOWN_KIND = EventKind(Event.REPO, name="unknown")


def kind_of(alert: OutboxAlert) -> EventKind:
    """The kind of an outbox alert (a plain card for a kind no longer known)."""
    return REGISTRY.get(alert.event, _UNKNOWN_KIND)


def detect_health_changes(
    previous: PackageRecord, current: PackageRecord, ctx: DetectContext
) -> list[Change]:
    """`detect_changes` for two records with the same content, where only time and upstream's
    `last_fetched` moved: nothing but health can have changed (and a health event is only
    worded once the state moved, see `Snapshot`)."""
    return detect_changes(previous, current, ctx, events=HEALTH_EVENTS)


def wants(preferences: AlertPreferences, change: Change) -> bool:
    """Whether a subscription with these preferences should be alerted about `change`."""
    return change.event in preferences.events and REGISTRY[change.event].accepts(
        preferences, change
    )


def still_wants(preferences: AlertPreferences, alert: OutboxAlert) -> bool:
    """Whether a subscription still asks for an outbox alert: its events and release filter
    may have changed while the alert waited (for a digest, say). An alert of a kind no longer
    known is not wanted."""
    kind = REGISTRY.get(alert.event)
    if kind is None:
        return False
    change = Change(
        kind.event,
        alert.package_id or 0,
        key="",
        summary=alert.summary,
        data=alert.payload,
        grid_id=alert.grid_id,
        release_level=cast(ReleaseLevel | None, alert.release_level),
    )
    return kind.event in preferences.events and kind.accepts(preferences, change)


__all__ = [
    "DEFAULT_COLOUR",
    "DEFAULT_EVENTS",
    "EVENT_NAMES",
    "HEALTH_EVENTS",
    "MIN_RELEASE_LEVELS",
    "REGISTRY",
    "AlertPreferences",
    "Card",
    "Change",
    "DetectContext",
    "DigestLine",
    "Event",
    "EventKind",
    "Fact",
    "Markup",
    "MinReleaseLevel",
    "OutboxAlert",
    "ReleaseLevel",
    "UnknownEvent",
    "detect_changes",
    "detect_health_changes",
    "grid_membership_changes",
    "kind_of",
    "parse_events",
    "removed_change",
    "still_wants",
    "wants",
]
