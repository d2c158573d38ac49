"""The requirements a channel imported (`/watch import`): one pin per PyPI name, and the
stored packages by PyPI name that requirements are matched against. An export carries the
pins and an import restores them (`bot.app.transfer`)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.pypi_names import pypi_project_name
from storage._sql import dialect_insert
from storage.models import Package, Pin


@dataclass(frozen=True, slots=True)
class NewPin:
    pypi_name: str
    specifier: str
    version: str | None
    package_id: int | None


@dataclass(frozen=True, slots=True)
class Listing:
    """A stored package a PyPI name maps to."""

    id: int
    slug: str
    title: str


async def listings_by_pypi_name(session: AsyncSession) -> dict[str, Listing]:
    """Every stored package (not removed) by the PyPI name its `pypi_url` names; of two
    listings naming one project, the older (lower id) wins."""
    rows = await session.execute(
        select(Package.id, Package.slug, Package.title, Package.pypi_url)
        .where(Package.pypi_url.is_not(None), Package.removed_at.is_(None))
        .order_by(Package.id)
    )
    found: dict[str, Listing] = {}
    for package_id, slug, title, pypi_url in rows.tuples():
        name = pypi_project_name(pypi_url)
        if name is not None:
            found.setdefault(name, Listing(package_id, slug, title))
    return found


async def channel_pins(session: AsyncSession, channel_id: int) -> dict[str, Pin]:
    rows = await session.scalars(select(Pin).where(Pin.channel_id == channel_id))
    return {pin.pypi_name: pin for pin in rows}


async def replace_pins(
    session: AsyncSession,
    *,
    guild_id: int,
    channel_id: int,
    pins: Sequence[NewPin],
    now: datetime,
) -> None:
    """The channel's pins become `pins` (a re-import replaces the previous file's)."""
    await session.execute(delete(Pin).where(Pin.channel_id == channel_id))
    if pins:
        await session.execute(
            dialect_insert(session, Pin.__table__),
            [_row(guild_id, channel_id, pin, now) for pin in pins],
        )


def _row(guild_id: int, channel_id: int, pin: NewPin, now: datetime) -> dict[str, object]:
    return {
        "guild_id": guild_id,
        "channel_id": channel_id,
        "pypi_name": pin.pypi_name,
        "specifier": pin.specifier,
        "version": pin.version,
        "package_id": pin.package_id,
        "updated_at": now,
    }


async def all_pins(session: AsyncSession, *, guild_id: int | None = None) -> list[Pin]:
    """Every channel's pins (or one guild's), by guild, channel then name (for an export)."""
    query = select(Pin).order_by(Pin.guild_id, Pin.channel_id, Pin.pypi_name)
    if guild_id is not None:
        query = query.where(Pin.guild_id == guild_id)
    return list(await session.scalars(query))


async def restore_pins(
    session: AsyncSession, pins: Sequence[tuple[int, int, NewPin]], *, now: datetime
) -> None:
    """Set each (guild, channel, pin), replacing that channel's pin of the name if it has one
    and leaving its other pins alone (an import adds what its file lists)."""
    if not pins:
        return
    insert = dialect_insert(session, Pin.__table__)
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=["channel_id", "pypi_name"],
            set_={
                column: insert.excluded[column]
                for column in ("guild_id", "package_id", "specifier", "version", "updated_at")
            },
        ),
        [_row(guild_id, channel_id, pin, now) for guild_id, channel_id, pin in pins],
    )


async def pins_for(session: AsyncSession, names: Collection[str]) -> dict[str, list[Pin]]:
    """The imported pins of each name, across channels."""
    found: dict[str, list[Pin]] = {}
    for pin in await session.scalars(select(Pin).where(Pin.pypi_name.in_(set(names)))):
        found.setdefault(pin.pypi_name, []).append(pin)
    return found


async def unlisted_names(session: AsyncSession) -> set[str]:
    """The imported requirements not on Django Packages: OSV still follows them."""
    rows = await session.scalars(select(Pin.pypi_name).where(Pin.package_id.is_(None)).distinct())
    return set(rows)
