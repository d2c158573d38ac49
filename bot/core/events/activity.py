"""`activity`: a package moved between active, slowing and dormant (thresholds in bot.core.health).

Stale and unknown are left out: entering or leaving stale is the `stale` event, and unknown
means there is nothing to compare. The key carries the new state and the last commit date, so a
state that flaps at a threshold is announced once, while a slowdown after fresh commits is new.
"""

from __future__ import annotations

from bot.core.events.base import (
    Change,
    DetectContext,
    Event,
    EventKind,
    Snapshot,
    commit_date,
    health_card,
    health_data,
    package_name,
)
from bot.core.health import Health, HealthState

#: From least to most active; only these states take part.
_LIVELINESS = (HealthState.DORMANT, HealthState.SLOWING, HealthState.ACTIVE)


def _wording(name: str, before: Health, after: Health) -> str:
    if after.state is HealthState.ACTIVE:
        return f"{name} revived after {before.quiet_for} without commits"
    if _LIVELINESS.index(after.state) > _LIVELINESS.index(before.state):
        return f"{name} picked up again: last commit {after.quiet_for} ago"
    if after.state is HealthState.SLOWING:
        return f"{name} is slowing down: no commits for {after.quiet_for}"
    return f"{name} went dormant: no commits for {after.quiet_for}"


def detect(before: Snapshot, after: Snapshot, ctx: DetectContext) -> list[Change]:
    if before.state == after.state or not {before.state, after.state} <= set(_LIVELINESS):
        return []
    old, new = before.health, after.health
    record = after.record
    return [
        Change(
            event=Event.ACTIVITY,
            package_id=record.id,
            key=f"{record.id}:activity:{new.state}:{commit_date(new)}",
            summary=_wording(package_name(record), old, new),
            data={"previous_state": old.state.value, **health_data(new)},
        )
    ]


KIND = EventKind(
    Event.ACTIVITY, colour=0x3498DB, detect=detect, card=health_card, follows_health=True
)
