"""Assembles a `PackageSummary` from a fresh (or stored) record plus its category and grids."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from bot.app.advisories import package_advisories
from bot.app.runtime import Runtime
from bot.config import Settings
from bot.core.health import classify
from bot.core.records import PackageRecord
from bot.errors import ApiUnavailable, SentinelError
from bot.messages.cards import GridRef, PackageSummary, site_root
from storage import grids
from storage.lookups import PackageLookup

log = logging.getLogger(__name__)

#: A stored copy older than this is refreshed before or behind an answer, whatever the interval.
FRESH_AT_MOST = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Lookup:
    """A summary and whether it came from the stored copy because the API was unreachable."""

    summary: PackageSummary
    from_cache: bool = False


async def look_up_package(runtime: Runtime, key: str, *, background: bool = False) -> Lookup:
    """Summarise a package, from its stored copy when that is fresh enough.

    A stored copy younger than `fresh_for` answers at once, without asking Django Packages.
    An older one answers too when `background` is set (the bot, whose answers must be quick),
    and is refreshed behind that answer; otherwise (the CLI) the package is fetched live, as is
    a package never stored or removed upstream. A live fetch stores the record through the
    monitor and falls back to the stored copy when Django Packages is unreachable. Raises
    `NotFound` when the package exists neither upstream nor locally, `ApiUnavailable` when it
    is not stored and the API is down.

    The stored copy, its category's title and its grids are read with the lookups of everyone
    else asking at the same moment (`Runtime.stored_packages`): one read for them all, always
    what the database holds then.
    """
    found = await runtime.stored_packages.load(key)
    if found is not None and found.package.removed_at is None:
        stored = found.package
        fresh = runtime.clock() - stored.fetched_at < fresh_for(runtime.settings)
        if fresh or background:
            if not fresh:
                runtime.monitor.refresh_in_background(stored.record.id)
            return Lookup(
                await summarise(runtime, stored.record, _names(found), live=not background)
            )
    try:
        record = await runtime.monitor.refresh_package(key)
    except ApiUnavailable:
        if found is None:
            raise
        log.warning("Django Packages unreachable; showing the stored copy of %s", key)
        return Lookup(await summarise(runtime, found.package.record, _names(found)), True)
    refreshed = await runtime.stored_packages.load(record.id)
    return Lookup(await summarise(runtime, record, _names(refreshed), live=not background))


def fresh_for(settings: Settings) -> timedelta:
    """How long a stored copy answers without a refresh: the poll interval, at most an hour."""
    return min(timedelta(seconds=settings.poll_interval_seconds), FRESH_AT_MOST)


@dataclass(frozen=True, slots=True)
class _Names:
    """What the database knows of a package's category and grids by name."""

    categories: dict[int, str]
    grids: dict[int, GridRef]


def _names(found: PackageLookup | None) -> _Names:
    if found is None:  # not stored: every name is fetched live
        return _Names({}, {})
    category_id = found.package.record.category_id
    categories = {category_id: found.category} if category_id and found.category else {}
    return _Names(categories, {grid.id: GridRef(grid.slug, grid.title) for grid in found.grids})


async def summarise(
    runtime: Runtime, record: PackageRecord, names: _Names, *, live: bool = False
) -> PackageSummary:
    """The summary of `record`; names the database lacks are fetched live, and so is what
    PyPI says when `live` or never stored (else its stored answer)."""
    now = runtime.clock()
    categories, known_grids = names.categories, dict(names.grids)
    if record.category_id is not None and record.category_id not in categories:
        categories = await _refresh_categories(runtime)
    missing = [gid for gid in record.grid_ids if gid not in known_grids]
    known_grids.update(await _fetch_grid_refs(runtime, missing))
    return PackageSummary(
        record=record,
        health=classify(record, now=now, stale_after_days=runtime.settings.stale_after_days),
        category=categories.get(record.category_id) if record.category_id else None,
        grids=tuple(known_grids[gid] for gid in record.grid_ids if gid in known_grids),
        site_url=site_root(runtime.settings.djp_api_url),
        observed_at=now,
        advisories=await package_advisories(runtime, record),
        pypi=await runtime.sources.project_of(record.id, record.pypi_url, live=live)
        if runtime.sources
        else None,
    )


async def _refresh_categories(runtime: Runtime) -> dict[int, str]:
    try:
        fetched = await runtime.client.categories()
    except SentinelError as exc:
        log.warning("categories unavailable: %s", exc)
        return {}
    async with runtime.database.transaction() as session:
        await grids.save_categories(session, fetched)
    return {category.id: category.title for category in fetched}


async def _fetch_grid_refs(runtime: Runtime, grid_ids: list[int]) -> dict[int, GridRef]:
    """Titles of grids not stored yet, fetched live; a grid that fails is simply left out."""

    async def one(grid_id: int) -> tuple[int, GridRef] | None:
        try:
            grid = await runtime.client.grid(grid_id)
        except SentinelError as exc:
            log.warning("grid %s unavailable: %s", grid_id, exc)
            return None
        return grid_id, GridRef(grid.slug, grid.title)

    results = await asyncio.gather(*(one(gid) for gid in grid_ids))
    return dict(result for result in results if result is not None)
