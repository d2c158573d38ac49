"""`removed`: the package disappeared from Django Packages.

The monitor decides when (two 404s in a row) and calls `removed_change`.
"""

from __future__ import annotations

from bot.core.events.base import Change, Event, EventKind, package_name
from bot.core.records import PackageRecord


def removed_change(record: PackageRecord) -> Change:
    """The change for a package that is gone, described from its last known record."""
    return Change(
        event=Event.REMOVED,
        package_id=record.id,
        key=f"{record.id}:removed",
        summary=f"{package_name(record)} was removed from Django Packages",
        data={"slug": record.slug},
    )


KIND = EventKind(Event.REMOVED, colour=0xE74C3C)
