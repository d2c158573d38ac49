"""Per-channel settings and feature-complete marks.

A channel without a `channel_settings` row uses the defaults of `ChannelPreferences`; the
staleness threshold then falls back to the global `STALE_AFTER_DAYS`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, NamedTuple, TypedDict, Unpack

from sqlalchemy import delete, func, or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from storage._sql import affected_rows, by_id_or_slug, dialect_insert
from storage.models import ChannelSettings, DigestMode, FeatureComplete, Package
from storage.subscriptions import Counts


@dataclass(frozen=True, slots=True)
class ChannelPreferences:
    """A channel's settings as the rest of the app reads them (defaults when never set)."""

    channel_id: int
    digest_mode: DigestMode = DigestMode.IMMEDIATE
    digest_hour: int = 9
    digest_weekday: int = 0
    digest_bypass: tuple[str, ...] = ()
    stale_after_days: int | None = None
    daily_cap: int | None = None
    stale_report: bool = False

    @classmethod
    def from_row(cls, row: ChannelSettings) -> ChannelPreferences:
        return cls(
            channel_id=row.channel_id,
            digest_mode=DigestMode(row.digest_mode),
            digest_hour=row.digest_hour,
            digest_weekday=row.digest_weekday,
            digest_bypass=tuple(row.digest_bypass),
            stale_after_days=row.stale_after_days,
            daily_cap=row.daily_cap,
            stale_report=row.stale_report,
        )

    def staleness_threshold(self, default_days: int) -> int:
        return self.stale_after_days or default_days


#: The settings a manager can change, i.e. every preference but the channel id.
SETTING_NAMES = frozenset(f.name for f in fields(ChannelPreferences)) - {"channel_id"}


class SettingChanges(TypedDict, total=False):
    """Settings to change, by name (`SETTING_NAMES`): one left out is unchanged, `None` clears
    an optional one (the storage convention, `storage._sql.KEEP`)."""

    digest_mode: DigestMode
    digest_hour: int
    digest_weekday: int
    digest_bypass: Sequence[str]
    stale_after_days: int | None
    daily_cap: int | None
    stale_report: bool


async def preferences(session: AsyncSession, channel_id: int) -> ChannelPreferences:
    return (await preferences_for(session, [channel_id]))[channel_id]


async def preferences_for(
    session: AsyncSession, channel_ids: Collection[int]
) -> dict[int, ChannelPreferences]:
    """Every requested channel's preferences, defaults included for channels never set."""
    rows = await session.scalars(
        select(ChannelSettings).where(ChannelSettings.channel_id.in_(channel_ids))
    )
    stored = {row.channel_id: ChannelPreferences.from_row(row) for row in rows}
    return {cid: stored.get(cid) or ChannelPreferences(cid) for cid in channel_ids}


async def changed_preferences(
    session: AsyncSession, *, guild_id: int | None = None
) -> list[tuple[int, ChannelPreferences]]:
    """(guild id, preferences) of every channel (or one guild's) whose settings were changed
    from the defaults, by guild then channel."""
    query = select(ChannelSettings).order_by(ChannelSettings.guild_id, ChannelSettings.channel_id)
    if guild_id is not None:
        query = query.where(ChannelSettings.guild_id == guild_id)
    return [
        (row.guild_id, ChannelPreferences.from_row(row)) for row in await session.scalars(query)
    ]


async def stale_report_channels(session: AsyncSession) -> list[ChannelPreferences]:
    """The channels that asked for the weekly stale report."""
    rows = await session.scalars(
        select(ChannelSettings)
        .where(ChannelSettings.stale_report.is_(True))
        .order_by(ChannelSettings.channel_id)
    )
    return [ChannelPreferences.from_row(row) for row in rows]


async def update_preferences(
    session: AsyncSession,
    *,
    guild_id: int,
    channel_id: int,
    updated_by: int | None,
    now: datetime,
    **changes: Unpack[SettingChanges],
) -> ChannelPreferences:
    """Change some of a channel's settings (creating its row); returns the result.

    A setting left out is unchanged, `None` clears an optional one (`stale_after_days`,
    `daily_cap`): the storage convention (`storage._sql.KEEP`).
    """
    unknown = set(changes) - SETTING_NAMES
    if unknown:
        raise ValueError(f"unknown channel settings: {', '.join(sorted(unknown))}")
    written: dict[str, Any] = dict(changes)
    if "digest_bypass" in changes:
        written["digest_bypass"] = list(changes["digest_bypass"])
    written |= {"updated_by": updated_by, "updated_at": now}
    insert = dialect_insert(session, ChannelSettings.__table__)
    await session.execute(  # an upsert: two writes at once never collide on the key
        insert.values(
            channel_id=channel_id, guild_id=guild_id, **({"digest_bypass": []} | written)
        ).on_conflict_do_update(
            index_elements=["channel_id"], set_={name: insert.excluded[name] for name in written}
        )
    )
    row = await session.scalar(
        select(ChannelSettings)
        .where(ChannelSettings.channel_id == channel_id)
        .execution_options(populate_existing=True)
    )
    assert row is not None, "just written"
    return ChannelPreferences.from_row(row)


async def feature_complete_ids(session: AsyncSession, channel_id: int) -> frozenset[int]:
    return (await feature_complete_for(session, [channel_id]))[channel_id]


async def feature_complete_for(
    session: AsyncSession, channel_ids: Collection[int]
) -> dict[int, frozenset[int]]:
    """The packages each channel marked feature-complete."""
    rows = await session.execute(
        select(FeatureComplete.channel_id, FeatureComplete.package_id).where(
            FeatureComplete.channel_id.in_(channel_ids)
        )
    )
    marks: dict[int, set[int]] = {cid: set() for cid in channel_ids}
    for channel_id, package_id in rows:
        marks[channel_id].add(package_id)
    return {cid: frozenset(ids) for cid, ids in marks.items()}


class Mark(NamedTuple):
    """A channel's feature-complete mark on a package (and the slug an import named it by)."""

    guild_id: int
    channel_id: int
    package_id: int
    package_slug: str | None = None


async def feature_complete_marks(
    session: AsyncSession, *, guild_id: int | None = None
) -> list[Mark]:
    """Every feature-complete mark (or one guild's), by guild, channel then package."""
    query = select(
        FeatureComplete.guild_id,
        FeatureComplete.channel_id,
        FeatureComplete.package_id,
        FeatureComplete.package_slug,
    ).order_by(FeatureComplete.guild_id, FeatureComplete.channel_id, FeatureComplete.package_id)
    if guild_id is not None:
        query = query.where(FeatureComplete.guild_id == guild_id)
    return [Mark(*row) for row in (await session.execute(query)).tuples()]


async def mark_counts(session: AsyncSession, guild_id: int, channel_id: int) -> Counts:
    """A guild's feature-complete marks, and the channel's."""
    in_channel = func.count().filter(FeatureComplete.channel_id == channel_id)
    query = select(func.count(), in_channel).where(FeatureComplete.guild_id == guild_id)
    guild, channel = (await session.execute(query)).one()
    return Counts(guild, channel)


async def is_marked(session: AsyncSession, channel_id: int, package_id: int) -> bool:
    """Whether the package is already marked feature-complete in the channel."""
    found = await session.scalar(
        select(FeatureComplete.package_id).where(
            FeatureComplete.channel_id == channel_id, FeatureComplete.package_id == package_id
        )
    )
    return found is not None


async def marked(session: AsyncSession, channel_id: int, key: str) -> bool:
    """Whether the channel marked feature-complete the package `key` names as a person types
    it: a slug, any case, or an id; a package not stored yet by the slug its import
    remembered (as `storage.subscriptions.follows` tells a subscription)."""
    query = select(FeatureComplete.package_id).where(
        FeatureComplete.channel_id == channel_id,
        or_(
            FeatureComplete.package_id.in_(select(Package.id).where(by_id_or_slug(Package, key))),
            func.lower(FeatureComplete.package_slug) == key.strip().lower(),
        ),
    )
    return await session.scalar(query.limit(1)) is not None


async def mark_feature_complete(
    session: AsyncSession,
    *,
    guild_id: int,
    channel_id: int,
    package_id: int,
    marked_by: int | None,
    now: datetime,
    package_slug: str | None = None,
) -> bool:
    """Mark a package finished for a channel; False when it already was (an upsert, so two
    marks at once leave one row)."""
    insert = dialect_insert(session, FeatureComplete.__table__)
    added = await session.scalar(
        insert.values(
            channel_id=channel_id,
            package_id=package_id,
            package_slug=package_slug,
            guild_id=guild_id,
            marked_by=marked_by,
            marked_at=now,
        )
        .on_conflict_do_nothing(index_elements=["channel_id", "package_id"])
        .returning(FeatureComplete.package_id)
    )
    return added is not None


async def unmark_feature_complete(
    session: AsyncSession, *, channel_id: int, package_id: int
) -> bool:
    removed = await affected_rows(
        session,
        delete(FeatureComplete).where(
            FeatureComplete.channel_id == channel_id, FeatureComplete.package_id == package_id
        ),
    )
    return removed > 0


async def own_staleness_channel_ids(session: AsyncSession) -> frozenset[int]:
    """Channels that judge staleness by their own rule: a threshold, or feature-complete marks.

    Every other channel follows the global rule, so a package changes for it only when the
    global detection sees a change: the monitor uses this to skip unchanged packages.
    """
    thresholds = select(ChannelSettings.channel_id).where(
        ChannelSettings.stale_after_days.is_not(None)
    )
    marked = select(FeatureComplete.channel_id)
    return frozenset(await session.scalars(union(thresholds, marked)))
