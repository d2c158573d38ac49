"""`repo`: the repository URL, documentation URL, title or category changed (off by default).

A value disappearing (None or empty) is missing data, not a change; a value appearing where
there was none is announced. The key carries the new value, so a flapping field is announced
once per value.
"""

from __future__ import annotations

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
    one_line,
    package_name,
)

#: Record field → what a summary calls it.
FIELDS = {
    "repo_url": "repository",
    "documentation_url": "documentation",
    "title": "title",
    "category_id": "category",
}


def detect(before: Snapshot, after: Snapshot, ctx: DetectContext) -> list[Change]:
    record, name = after.record, package_name(after.record)
    changes = []
    for field, label in FIELDS.items():
        old, new = getattr(before.record, field), getattr(after.record, field)
        if new in (None, "") or new == old:
            continue
        shown = one_line(str(new))
        summary = (
            f"{name}: {label} changed to {shown} (was {one_line(str(old))})"
            if old
            else f"{name}: {label} set to {shown}"
        )
        changes.append(
            Change(
                event=Event.REPO,
                package_id=record.id,
                key=f"{record.id}:repo:{field}:{new}",
                summary=summary,
                data={"field": field, "old": old, "new": new},
            )
        )
    return changes


def card(data: Data, markup: Markup) -> Card:
    name = data.get("field", "")
    return Card(
        [
            Fact("Changed", FIELDS.get(name, name) or markup.text(None)),
            Fact("Now", markup.text(data.get("new")), False),
            Fact("Before", markup.text(data.get("old")), False),
        ]
    )


KIND = EventKind(Event.REPO, detect=detect, card=card)
