"""What every change kind shares: its name, the change value, and the detection context."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


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
    health depends on time, so each record is classified at its own moment.
    """

    now: datetime
    previous_at: datetime | None
    stale_after_days: int
    feature_complete: bool = False
