"""What every change kind shares: its name, the change value, and the detection context."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from bot.core.health import Health
from bot.core.records import PackageRecord


class Event(StrEnum):
    """The kinds of alert a subscription can ask for (DESIGN.md, Events)."""

    RELEASE = "release"
    ACTIVITY = "activity"
    STALE = "stale"
    POPULARITY = "popularity"
    GRID = "grid"
    REPO = "repo"
    REMOVED = "removed"


DEFAULT_EVENTS: frozenset[Event] = frozenset(Event) - {Event.REPO}
EVENT_NAMES = ", ".join(event.value for event in Event)
_SEPARATORS = re.compile(r"[\s,]+")


class UnknownEvent(ValueError):
    """A name that is no event; `str(error)` lists the valid ones."""


def parse_events(text: str) -> frozenset[Event]:
    """ "release, stale" → those events; "all" → every event; "" or "default" → the default."""
    names = [name.lower() for name in _SEPARATORS.split(text) if name]
    if names == ["all"]:
        return frozenset(Event)
    if names in ([], ["default"]):
        return DEFAULT_EVENTS
    unknown = [name for name in names if name not in Event._value2member_map_]
    if unknown:
        raise UnknownEvent(f"Unknown event {unknown[0]!r}: choose from {EVENT_NAMES}.")
    return frozenset(Event(name) for name in names)


MinReleaseLevel = Literal["major", "minor", "patch"]


@dataclass(frozen=True, slots=True)
class Change:
    """One thing that changed about a package or a grid, ready to become an alert.

    `key` identifies the change for deduplication (a channel id is prefixed per channel), e.g.
    `265:release:1.0.1`; a value that flaps back and forth produces the same key again and is
    announced once. `data` is JSON-serialisable and carries what a renderer needs.
    """

    event: Event
    package_id: int
    key: str
    summary: str
    data: dict[str, Any] = field(default_factory=dict)
    grid_id: int | None = None


@dataclass(frozen=True, slots=True)
class DetectContext:
    """What change detection needs besides the two records.

    `previous_at` is when the previous record was observed and `now` when the new one was:
    health depends on time, so each record is classified at its own moment. `known_versions`
    holds every `pypi_version` seen for the package before, so a rollback is told apart from a
    new release.
    """

    now: datetime
    previous_at: datetime | None
    stale_after_days: int
    feature_complete: bool = False
    known_versions: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class AlertPreferences:
    """What one subscription wants to hear about; the default is what a new one gets."""

    events: frozenset[Event] = DEFAULT_EVENTS
    min_release_level: MinReleaseLevel = "patch"
    include_prereleases: bool = True


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A record with its health, classified at the moment it was observed."""

    record: PackageRecord
    health: Health


Detector = Callable[[Snapshot, Snapshot, DetectContext], list[Change]]
Filter = Callable[[AlertPreferences, Change], bool]


def accept_all(preferences: AlertPreferences, change: Change) -> bool:
    """The filter of kinds a subscription takes or leaves whole."""
    return True


@dataclass(frozen=True, slots=True)
class EventKind:
    """One registry entry: an event, how to detect it between two records, how to filter it.

    `detect` is None for kinds raised by other means (grid membership, removal).
    """

    event: Event
    detect: Detector | None = None
    accepts: Filter = accept_all


def one_line(text: str) -> str:
    """Upstream text squeezed onto one line, for summaries."""
    return " ".join(text.split())


def package_name(record: PackageRecord) -> str:
    """The name a summary shows: the title, or the slug when the title is blank."""
    return one_line(record.title) or record.slug


def commit_date(health: Health) -> str:
    """The last commit date for a dedup key ("2022-02-15"), or "unknown"."""
    return f"{health.last_commit:%Y-%m-%d}" if health.last_commit else "unknown"


def health_data(health: Health) -> dict[str, Any]:
    """A health as JSON-ready `Change.data` entries."""
    return {
        "state": health.state.value,
        "last_commit": health.last_commit.isoformat() if health.last_commit else None,
        "weeks_since_commit": health.weeks_since_commit,
        "reasons": list(health.reasons),
    }
