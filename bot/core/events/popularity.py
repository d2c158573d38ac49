"""`popularity`: stars or forks crossed a milestone of the 1-2-5 series (10, 20, 50, 100, ...).

One change per milestone crossed, either way: 84 → 210 stars reaches 100 and 200. Reaching a
milestone means going from below it to at least it; falling below means the reverse, so a count
that flaps around a milestone gives the same two keys again. An unknown count raises nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from bot.core.events.base import (
    Card,
    Change,
    Data,
    DetectContext,
    Event,
    EventKind,
    Fact,
    Markup,
    Snapshot,
    package_name,
)
from bot.core.records import PackageRecord

FIRST_MILESTONE = 10
#: Metric name shown to users, and how to read it from a record.
METRICS: Mapping[str, Callable[[PackageRecord], int | None]] = {
    "stars": lambda record: record.repo_watchers,
    "forks": lambda record: record.repo_forks,
}


def milestones(upto: int) -> Iterator[int]:
    """10, 20, 50, 100, 200, 500, 1000, ... not above `upto`."""
    scale = FIRST_MILESTONE
    while True:
        for step in (1, 2, 5):
            if step * scale > upto:
                return
            yield step * scale
        scale *= 10


def _change(record: PackageRecord, metric: str, milestone: int, old: int, new: int) -> Change:
    direction = "up" if new > old else "down"
    name = package_name(record)
    summary = (
        f"{name} reached {milestone:,} {metric} (now {new:,})"
        if direction == "up"
        else f"{name} fell below {milestone:,} {metric} (now {new:,})"
    )
    return Change(
        event=Event.POPULARITY,
        package_id=record.id,
        key=f"{record.id}:popularity:{metric}:{milestone}:{direction}",
        summary=summary,
        data={
            "metric": metric,
            "milestone": milestone,
            "direction": direction,
            "old": old,
            "new": new,
        },
    )


def detect(before: Snapshot, after: Snapshot, ctx: DetectContext) -> list[Change]:
    changes: list[Change] = []
    for metric, read in METRICS.items():
        old, new = read(before.record), read(after.record)
        if old is None or new is None or old == new:
            continue
        low, high = sorted((old, new))
        crossed = [m for m in milestones(high) if low < m]
        ordered = crossed if new > old else reversed(crossed)
        changes.extend(_change(after.record, metric, m, old, new) for m in ordered)
    return changes


def card(data: Data, markup: Markup) -> Card:
    return Card(
        [
            Fact(str(data["metric"]).capitalize(), f"{data['old']:,} → {data['new']:,}"),
            Fact("Milestone", f"{data['milestone']:,}"),
        ]
    )


KIND = EventKind(Event.POPULARITY, colour=0xF1C40F, detect=detect, card=card)
