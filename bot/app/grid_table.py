"""A grid as a ranked table: stars, latest version, last commit and health of each member.

The rows are plain data; the Discord adapter paginates them into embeds and the CLI prints
them with rich.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from bot.app.runtime import Runtime
from bot.app.summaries import fresh_for
from bot.core.health import Health
from bot.core.records import PackageRecord
from bot.core.timefmt import describe_age
from bot.errors import ApiUnavailable
from bot.refresh.staleness import ChannelStaleness
from storage import grids, packages

SortKey = Literal["stars", "activity"]


@dataclass(frozen=True, slots=True)
class GridRow:
    """One ranked member; `None` means unknown."""

    rank: int
    package_id: int
    slug: str
    title: str
    stars: int | None
    version: str | None
    last_commit: datetime | None
    #: E.g. "4 years ago", as seen when the table was built.
    last_commit_age: str | None
    health: Health
    #: The whole record, for what the table does not show (`grid --json`).
    record: PackageRecord
    #: The 52 weekly commit counts, oldest first; () when unknown.
    commits: tuple[int, ...] = ()
    #: When Django Packages counted them (the last week ends then).
    counted_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class GridTable:
    """A grid's ranked members; `from_cache` when Django Packages was unreachable."""

    slug: str
    title: str
    sort: SortKey
    rows: tuple[GridRow, ...]
    from_cache: bool = False


def _stars_first(row: GridRow) -> tuple[bool, int, str]:
    return row.stars is None, -(row.stars or 0), row.slug


def _latest_commit_first(row: GridRow) -> tuple[bool, float, bool, int, str]:
    when = -row.last_commit.timestamp() if row.last_commit else 0.0
    return row.last_commit is None, when, *_stars_first(row)


def rank_members(
    records: Iterable[PackageRecord],
    *,
    now: datetime,
    staleness: ChannelStaleness,
    sort: SortKey = "stars",
) -> list[GridRow]:
    """Rows for `records`, by stars (most first) or activity (latest commit first); unknown
    values rank last, ties go to stars then slug."""
    rows = []
    for record in records:
        health = staleness.health(record, now)
        commit = health.last_commit
        rows.append(
            GridRow(
                rank=0,
                package_id=record.id,
                slug=record.slug,
                title=record.title,
                stars=record.repo_watchers,
                version=record.pypi_version,
                last_commit=commit,
                last_commit_age=describe_age(commit, now) if commit else None,
                health=health,
                commits=tuple(record.commits_over_52),
                counted_at=record.last_fetched,
                record=record,
            )
        )
    rows.sort(key=_stars_first if sort == "stars" else _latest_commit_first)
    return [replace(row, rank=rank) for rank, row in enumerate(rows, start=1)]


async def load_grid_table(
    runtime: Runtime,
    key: str,
    *,
    sort: SortKey = "stars",
    staleness: ChannelStaleness | None = None,
) -> GridTable:
    """A grid's ranked table, from its stored copy when that is fresh enough (as
    `look_up_package`: younger than `fresh_for`), else fetched live (storing it and any new
    member through the monitor).

    Falls back to the stored copy when Django Packages is unreachable. Raises `NotFound` for a
    grid Django Packages does not know, `ApiUnavailable` when it is not stored and the API is
    down. `staleness` defaults to the global threshold without marks.
    """
    async with runtime.database.session() as session:
        stored = await grids.find_grid(session, key)
    synced = stored.synced_at if stored else None
    from_cache = False
    if stored is not None and synced and runtime.clock() - synced < fresh_for(runtime.settings):
        grid_id = stored.id
    else:
        try:
            grid_id = (await runtime.monitor.refresh_grid(key)).id
        except ApiUnavailable:
            if stored is None or synced is None:
                raise
            grid_id, from_cache = stored.id, True
    async with runtime.database.session() as session:
        grid = await grids.find_grid(session, grid_id)
        members = await packages.packages_in_grid(session, grid_id)
    assert grid is not None
    rows = rank_members(
        (member.record for member in members),
        now=runtime.clock(),
        staleness=staleness or ChannelStaleness(runtime.settings.stale_after_days),
        sort=sort,
    )
    return GridTable(grid.slug, grid.title, sort, tuple(rows), from_cache)
