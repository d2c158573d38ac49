"""Sample alerts for `/watch test`: what a subscription's alerts look like, built by the same
detection and message code as real ones, from the package as stored."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from packaging.version import InvalidVersion, Version

from bot.app.runtime import Runtime
from bot.core.events import Change, DetectContext, Event, detect_changes
from bot.core.events.base import package_name
from bot.core.records import PackageRecord
from bot.errors import SentinelError
from storage import grids, packages

#: The version a sample shows for a package that is not on PyPI.
PLACEHOLDER_VERSION = "1.0.0"


@dataclass(frozen=True, slots=True)
class SampleAlert:
    """An alert that never enters the outbox (`bot.core.events.OutboxAlert`)."""

    event: str
    summary: str
    payload: dict[str, Any]
    package_id: int | None
    created_at: datetime
    release_level: str | None = None
    grid_id: int | None = None


def previous_version(version: str, known: frozenset[str]) -> str | None:
    """The highest known version below `version` (PEP 440 order), if any."""
    try:
        current = Version(version)
    except InvalidVersion:
        return None
    below = []
    for text in known:
        with suppress(InvalidVersion):
            if Version(text) < current:
                below.append((Version(text), text))
    return max(below)[1] if below else None


def sample_release(record: PackageRecord, known_versions: frozenset[str], now: datetime) -> Change:
    """The package's latest release announced as if it had just come out, against the highest
    version seen before it when there is one: worded as the poll cycle words it."""
    version = record.pypi_version or PLACEHOLDER_VERSION
    old = previous_version(version, known_versions)
    found = detect_changes(
        record.model_copy(update={"pypi_version": old}),
        record.model_copy(update={"pypi_version": version}),
        DetectContext(
            now=now,
            previous_at=now,
            stale_after_days=365,
            known_versions=frozenset({old}) if old else frozenset(),
        ),
        events={Event.RELEASE},
    )
    if found:
        return found[0]
    return Change(  # nothing to compare with: a release without a level
        event=Event.RELEASE,
        package_id=record.id,
        key=f"{record.id}:release:{version}",
        summary=f"{package_name(record)} {version} released",
        data={
            "old": None,
            "new": version,
            "kind": "new",
            "level": None,
            "prerelease": False,
            "backport": False,
            "latest": None,
        },
    )


async def sample_alert(runtime: Runtime, kind: str, target_id: int) -> SampleAlert:
    """A release alert of the package followed (or, for a grid, of its most starred member)."""
    async with runtime.database.session() as session:
        if kind == "grid":
            members = await packages.packages_in_grid(session, target_id)
            if not members:
                grid = await grids.find_grid(session, target_id)
                name = grid.title if grid else str(target_id)
                raise SentinelError(f"The grid {name} has no stored packages to make a sample of.")
            target_id = members[0].record.id
        stored = await packages.load_packages(session, [target_id])
        if target_id not in stored:
            raise SentinelError("That package is not stored yet: wait for the next refresh.")
        versions = await packages.known_versions(session, target_id)
    now = runtime.clock()
    change = sample_release(stored[target_id].record, versions, now)
    return SampleAlert(
        change.event.value,
        change.summary,
        change.data,
        change.package_id,
        now,
        release_level=change.release_level,
    )
