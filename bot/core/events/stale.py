"""`stale`: a package became stale, or stopped being stale (thresholds in bot.core.health).

Once per transition: the key carries the direction and the last commit date, so the same
transition seen again (a flapping record) is deduplicated downstream. Unknown health on either
side raises nothing.
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
from bot.core.health import HealthState

#: Also the weekly stale report's (`bot.core.events.stale_report`).
COLOUR = 0xE67E22


def detect(before: Snapshot, after: Snapshot, ctx: DetectContext) -> list[Change]:
    if HealthState.UNKNOWN in (before.state, after.state):
        return []
    if (before.state is HealthState.STALE) == (after.state is HealthState.STALE):
        return []
    old, new = before.health, after.health
    entered = new.state is HealthState.STALE
    direction = "entered" if entered else "left"
    name, reasons = package_name(after.record), "; ".join(new.reasons)
    summary = (
        f"{name} went stale: {reasons}"
        if entered
        else f"{name} is no longer stale, now {new.state}: {reasons}"
    )
    record = after.record
    return [
        Change(
            event=Event.STALE,
            package_id=record.id,
            key=f"{record.id}:stale:{direction}:{commit_date(new)}",
            summary=summary,
            data={"direction": direction, "previous_state": old.state.value, **health_data(new)},
        )
    ]


KIND = EventKind(Event.STALE, colour=COLOUR, detect=detect, card=health_card, follows_health=True)
