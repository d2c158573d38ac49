"""Who hears of a change and the alert each of them gets: the values the refresh's audience
step works with (`bot.refresh.audience`), read and written by `storage`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.core.events.base import AlertPreferences, ReleaseLevel


@dataclass(frozen=True, slots=True)
class Follower:
    """An active subscription as a refresh cycle reads it: where its alerts go and what it
    wants (plain values: a cycle reads thousands, and never changes them)."""

    id: int
    guild_id: int
    channel_id: int
    preferences: AlertPreferences


@dataclass(frozen=True, slots=True)
class NewAlert:
    """An alert to deliver; `dedup_key` (`f"{channel_id}:{change.key}"`) makes it unique."""

    subscription_id: int | None
    guild_id: int
    channel_id: int
    event: str
    dedup_key: str
    summary: str
    payload: dict[str, Any]
    package_id: int | None = None
    grid_id: int | None = None
    release_level: ReleaseLevel | None = None
    #: Posted at once with its role, past a digest and the daily cap (`Alert.urgent`).
    urgent: bool = False
