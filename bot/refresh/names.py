"""The names of every stored package and grid, in memory, for lookup by what a person typed.

Loaded from the database on first use, then kept current by the monitor: each record or grid
it stores updates its entry, so autocomplete never queries the database. A new name rebuilds
the lookup tables at the next query, not in the refresh cycle (a monitor-only process never
queries). In a process split (`run --role`), a gateway's index follows the refreshes that
process makes and is reloaded at its start.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Literal

from bot.core.fuzzy import Entry, FuzzyIndex
from bot.core.records import GridRecord, PackageRecord
from storage import cycles, grids, packages
from storage.database import Database

Kind = Literal["package", "grid"]


class CatalogNames:
    """A `FuzzyIndex` of packages and one of grids, and whether the catalog was synced once."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.indexes: dict[Kind, FuzzyIndex] = {"package": FuzzyIndex(), "grid": FuzzyIndex()}
        #: Whether a whole-catalog crawl ever finished: until then, names may be missing.
        self.catalog_synced = False
        self._loading: asyncio.Task[None] | None = None
        self._stored_while_loading: list[tuple[Kind, Entry]] | None = None

    async def index(self, kind: Kind) -> FuzzyIndex:
        """The index of `kind`, loaded from the database the first time."""
        if self._loading is None:
            self._loading = asyncio.ensure_future(self._load())
        await asyncio.shield(self._loading)
        return self.indexes[kind]

    async def _load(self) -> None:
        self._stored_while_loading = []
        async with self.database.session() as session:
            package_rows = await packages.package_names(session)
            grid_rows = await grids.grid_names(session)
            synced = await cycles.last_catalog_total(session) is not None
        self.indexes["package"].replace(Entry(*row) for row in package_rows)
        self.indexes["grid"].replace(Entry(*row) for row in grid_rows)
        self.catalog_synced = self.catalog_synced or synced
        for kind, entry in self._stored_while_loading:  # newer than what the query read
            self.indexes[kind].upsert([entry])
        self._stored_while_loading = None

    def packages_stored(self, records: Iterable[PackageRecord]) -> None:
        self._stored("package", (Entry(r.slug, r.title, r.repo_watchers or 0) for r in records))

    def package_removed(self, slug: str) -> None:
        """A package gone from Django Packages: never offered again (see `package_names`)."""
        self.indexes["package"].remove([slug])
        if self._stored_while_loading is not None:
            self._stored_while_loading = [
                (kind, entry)
                for kind, entry in self._stored_while_loading
                if (kind, entry.slug) != ("package", slug)
            ]

    def grid_stored(self, grid: GridRecord) -> None:
        self._stored("grid", [Entry(grid.slug, grid.title, len(grid.package_ids))])

    def _stored(self, kind: Kind, entries: Iterable[Entry]) -> None:
        entries = list(entries)
        self.indexes[kind].upsert(entries)
        if self._stored_while_loading is not None:
            self._stored_while_loading += [(kind, entry) for entry in entries]
