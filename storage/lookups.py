"""Stored packages looked up many at a time: the read behind `/package`'s batched lookups.

One short read on one plain connection (no session, no ORM objects) answers every key of a
batch with its package and what naming it needs: its category's title and the grids listing
it. `bot.app.batching` gathers the keys; this module only reads. The packages are built
exactly as `storage.packages` builds them (`select_stored`, `StoredPackage.from_row`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.slugs import InvalidSlug, checked_key
from storage.grids import GridRef
from storage.models import Category, Grid, GridMember, Package
from storage.packages import StoredPackage, select_stored


@dataclass(frozen=True, slots=True)
class PackageLookup:
    """A stored package found by a key, and what naming it needs."""

    package: StoredPackage
    #: The title of its category; None without one, or when that category is not stored.
    category: str | None
    #: The stored grids listing it, by title.
    grids: tuple[GridRef, ...]


async def find_packages(
    connection: AsyncConnection, keys: Collection[int | str]
) -> dict[int | str, PackageLookup]:
    """`packages.find_package` of many keys in one short read, with each package's category
    title and the grids listing it: two statements however many keys (none when no key can
    name a package, one when none names a stored one).

    A key is an id (an int or digits) or a slug, matched case-insensitively; when two stored
    slugs differ only in case, the one spelt like the key wins. A key no package can have (see
    `bot.core.slugs`) finds nothing. Keys that find nothing are left out.
    """
    checked = {key: _checked(key) for key in keys}
    ids = {value for value in checked.values() if isinstance(value, int)}
    slugs = {value.lower() for value in checked.values() if isinstance(value, str)}
    if not ids and not slugs:
        return {}
    table, category = Package.__table__, Category.__table__
    lowered = func.lower(table.c.slug)
    category_title = (
        select(category.c.title).where(category.c.id == table.c.category_id).scalar_subquery()
    )
    wanted = [table.c.id.in_(ids)] if ids else []
    wanted += [lowered.in_(slugs)] if slugs else []
    rows = await connection.execute(
        select_stored()
        .add_columns(
            table.c.id, lowered.label("lowered_slug"), category_title.label("category_title")
        )
        .where(or_(*wanted))
    )
    by_id: dict[int, StoredPackage] = {}
    by_slug: dict[str, list[StoredPackage]] = {}
    categories: dict[int, str | None] = {}
    for row in rows:
        package = StoredPackage.from_row(row)
        by_id[row.id] = package
        by_slug.setdefault(row.lowered_slug, []).append(package)
        categories[row.id] = row.category_title
    if not by_id:
        return {}
    grids = await _grids_listing(connection, by_id)
    found: dict[int | str, PackageLookup] = {}
    for key, value in checked.items():
        match = _matching(value, by_id, by_slug)
        if match is not None:
            package_id = match.record.id
            found[key] = PackageLookup(match, categories[package_id], grids.get(package_id, ()))
    return found


def _checked(key: int | str) -> int | str | None:
    try:
        return checked_key(key, "package")
    except InvalidSlug:
        return None


def _matching(
    key: int | str | None,
    by_id: Mapping[int, StoredPackage],
    by_slug: Mapping[str, list[StoredPackage]],
) -> StoredPackage | None:
    if key is None or isinstance(key, int):
        return None if key is None else by_id.get(key)
    spelt = by_slug.get(key.lower(), [])
    return min(spelt, key=lambda p: (p.record.slug != key, p.record.id), default=None)


async def _grids_listing(
    connection: AsyncConnection, package_ids: Collection[int]
) -> dict[int, tuple[GridRef, ...]]:
    """The stored grids listing each of `package_ids`, by package id, each by title."""
    grid, members = Grid.__table__, GridMember.__table__
    rows = await connection.execute(
        select(members.c.package_id, grid.c.id, grid.c.slug, grid.c.title)
        .join(grid, grid.c.id == members.c.grid_id)
        .where(members.c.package_id.in_(set(package_ids)))
        .order_by(grid.c.title, grid.c.id)
    )
    listing: dict[int, list[GridRef]] = {}
    for package_id, grid_id, slug, title in rows.tuples():
        listing.setdefault(package_id, []).append(GridRef(grid_id, slug, title))
    return {package_id: tuple(refs) for package_id, refs in listing.items()}
