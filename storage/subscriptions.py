"""Subscriptions: which channel follows which package or grid, and how."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypedDict

from sqlalchemy import ColumnElement, Row, Select, and_, delete, func, or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.alerting import Follower
from bot.core.events.base import AlertPreferences, Event
from storage._sql import KEEP, Keep, affected_rows, by_id_or_slug, dialect_insert, given
from storage.models import Grid, GridMember, Package, Subscription, TargetKind

#: Subscriptions that receive alerts (delivery pauses the ones it cannot reach).
ACTIVE = Subscription.paused_reason.is_(None)


#: What `subscribe` did: made the subscription, changed it, or found it already as asked.
Outcome = Literal["created", "updated", "unchanged"]


class AlertChanges(TypedDict, total=False):
    """What a member may change of a subscription's alerts (`subscribe`'s options of the same
    names): one left out keeps its stored value, `role_id=None` stops the mention."""

    events: Iterable[str]
    role_id: int | None
    min_release_level: str
    include_prereleases: bool


async def subscribe(
    session: AsyncSession,
    *,
    guild_id: int,
    channel_id: int,
    target_kind: TargetKind | str,
    target_id: int,
    created_by: int | None,
    events: Iterable[str] | Keep = KEEP,
    role_id: int | Keep | None = KEEP,
    min_release_level: str | Keep = KEEP,
    include_prereleases: bool | Keep = KEEP,
    webhook_url: str | Keep | None = KEEP,
    target_slug: str | Keep | None = KEEP,
) -> tuple[Subscription, Outcome]:
    """Create a channel's subscription, or update an existing one.

    Options left out keep their stored value, `None` clears the role, the webhook URL or the
    remembered target slug (the storage convention, `storage._sql.KEEP`). A new subscription
    gets the defaults for what is left out: every event but `repo`, releases of every level,
    pre-releases included.
    Subscribing again also resumes a paused subscription.

    It is an upsert (`INSERT … ON CONFLICT DO NOTHING`, then an update of what was given): the
    same subscription made twice at once leaves one row, and exactly one call sees "created".
    """
    changes = given(
        events=events,
        role_id=role_id,
        min_release_level=min_release_level,
        include_prereleases=include_prereleases,
        webhook_url=webhook_url,
        target_slug=target_slug,
    )
    if "events" in changes:
        changes["events"] = sorted(set(changes["events"]))
    key = {
        "guild_id": guild_id,
        "channel_id": channel_id,
        "target_kind": str(target_kind),
        "target_id": target_id,
    }
    insert = dialect_insert(session, Subscription.__table__)
    existing = select(Subscription).filter_by(**key).execution_options(populate_existing=True)
    subscription = None
    while subscription is None:  # again if a concurrent unsubscribe removed it in between
        created_id = await session.scalar(
            insert.values(**key, created_by=created_by, **changes)
            .on_conflict_do_nothing(index_elements=list(key))
            .returning(Subscription.id)
        )
        subscription = await session.scalar(existing)
    if created_id is not None:
        return subscription, "created"
    changed = subscription.paused_reason is not None or any(
        getattr(subscription, name) != value for name, value in changes.items()
    )
    for name, value in changes.items():
        setattr(subscription, name, value)
    subscription.paused_reason = None
    subscription.paused_at = None
    await session.flush()
    return subscription, "updated" if changed else "unchanged"


async def unsubscribe(
    session: AsyncSession, *, channel_id: int, target_kind: TargetKind | str, target_id: int
) -> bool:
    """Delete a channel's subscription; False when there was none."""
    removed = await affected_rows(
        session,
        delete(Subscription).where(
            Subscription.channel_id == channel_id,
            Subscription.target_kind == target_kind,
            Subscription.target_id == target_id,
        ),
    )
    return removed > 0


@dataclass(frozen=True, slots=True)
class Counts:
    """How many rows a guild holds in all, and how many of them one of its channels holds."""

    guild: int
    channel: int


async def subscription_counts(session: AsyncSession, guild_id: int, channel_id: int) -> Counts:
    """A guild's subscriptions, and the channel's (paused ones included: resuming is free)."""
    return await _counts(session, guild_id, channel_id)


async def webhook_route_counts(session: AsyncSession, guild_id: int, channel_id: int) -> Counts:
    """A guild's subscriptions delivered through a webhook, and the channel's."""
    return await _counts(session, guild_id, channel_id, Subscription.webhook_url.is_not(None))


async def _counts(
    session: AsyncSession, guild_id: int, channel_id: int, *where: ColumnElement[bool]
) -> Counts:
    in_channel = func.count().filter(Subscription.channel_id == channel_id)
    query = select(func.count(), in_channel).where(Subscription.guild_id == guild_id, *where)
    guild, channel = (await session.execute(query)).one()
    return Counts(guild, channel)


async def followed_targets(
    session: AsyncSession, channel_id: int, *, through_webhook: bool = False
) -> set[tuple[str, int]]:
    """The (target kind, target id) a channel follows (through a webhook, `through_webhook`),
    paused ones included."""
    query = select(Subscription.target_kind, Subscription.target_id).where(
        Subscription.channel_id == channel_id
    )
    if through_webhook:
        query = query.where(Subscription.webhook_url.is_not(None))
    return {(str(kind), target_id) for kind, target_id in await session.execute(query)}


async def follows(
    session: AsyncSession,
    channel_id: int,
    target_kind: TargetKind,
    key: str,
    *,
    through_webhook: bool = False,
) -> bool:
    """Whether the channel follows (through a webhook, `through_webhook`) the package or grid
    that `key` names as a person types it: a slug, any case, or an id; a target not stored yet
    by the slug its import remembered."""
    model = Package if target_kind == TargetKind.PACKAGE else Grid
    query = select(Subscription.id).where(
        Subscription.channel_id == channel_id,
        Subscription.target_kind == str(target_kind),
        or_(
            Subscription.target_id.in_(select(model.id).where(by_id_or_slug(model, key))),
            func.lower(Subscription.target_slug) == key.strip().lower(),
        ),
    )
    if through_webhook:
        query = query.where(Subscription.webhook_url.is_not(None))
    return await session.scalar(query.limit(1)) is not None


async def channel_subscriptions(session: AsyncSession, channel_id: int) -> list[Subscription]:
    """A channel's subscriptions, paused ones included, oldest first."""
    return list(
        await session.scalars(
            select(Subscription)
            .where(Subscription.channel_id == channel_id)
            .order_by(Subscription.id)
        )
    )


async def guild_subscriptions(session: AsyncSession, guild_id: int) -> list[Subscription]:
    """A guild's subscriptions, paused ones included, by channel then age."""
    return await all_subscriptions(session, guild_id=guild_id)


async def all_subscriptions(
    session: AsyncSession, *, guild_id: int | None = None
) -> list[Subscription]:
    """Every subscription (or one guild's), paused ones included, by guild, channel then age."""
    query = select(Subscription).order_by(
        Subscription.guild_id, Subscription.channel_id, Subscription.id
    )
    if guild_id is not None:
        query = query.where(Subscription.guild_id == guild_id)
    return list(await session.scalars(query))


async def active_by_channel(
    session: AsyncSession, channel_ids: Collection[int]
) -> dict[int, list[Subscription]]:
    """For each requested channel, its active subscriptions, oldest first (maybe none)."""
    rows = await session.scalars(
        select(Subscription)
        .where(ACTIVE, Subscription.channel_id.in_(set(channel_ids)))
        .order_by(Subscription.id)
    )
    found: dict[int, list[Subscription]] = {channel_id: [] for channel_id in channel_ids}
    for subscription in rows:
        found[subscription.channel_id].append(subscription)
    return found


async def followed_package_ids(
    session: AsyncSession, channel_ids: Collection[int]
) -> dict[int, frozenset[int]]:
    """For each requested channel, the packages its active subscriptions reach: the ones it
    watches and the members of the grids it follows."""
    direct = select(Subscription.channel_id, Subscription.target_id.label("package_id")).where(
        Subscription.target_kind == TargetKind.PACKAGE
    )
    via_grid = select(Subscription.channel_id, GridMember.package_id).join(
        GridMember,
        and_(
            Subscription.target_kind == TargetKind.GRID,
            GridMember.grid_id == Subscription.target_id,
        ),
    )
    wanted = and_(ACTIVE, Subscription.channel_id.in_(set(channel_ids)))
    rows = await session.execute(union(direct.where(wanted), via_grid.where(wanted)))
    followed: dict[int, set[int]] = {channel_id: set() for channel_id in channel_ids}
    for channel_id, package_id in rows.tuples():
        followed[channel_id].add(package_id)
    return {channel_id: frozenset(ids) for channel_id, ids in followed.items()}


def _followers() -> Select[Any]:
    columns = Subscription.__table__.c
    return select(
        columns.id,
        columns.guild_id,
        columns.channel_id,
        columns.events,
        columns.min_release_level,
        columns.include_prereleases,
        columns.target_id,
    ).where(columns.paused_reason.is_(None))


def _follower(row: Row[Any]) -> Follower:
    preferences = AlertPreferences(
        events=frozenset(Event(name) for name in row.events),
        min_release_level=row.min_release_level,
        include_prereleases=row.include_prereleases,
    )
    return Follower(row.id, row.guild_id, row.channel_id, preferences)


async def subscriptions_for_packages(
    session: AsyncSession, package_ids: Collection[int]
) -> dict[int, list[Follower]]:
    """For each package id, the active subscriptions that reach it, by id.

    A subscription reaches a package by targeting it or a grid listing it; one reaching a
    package both ways is listed once. Every requested id is a key, possibly with no one.
    """
    ids = set(package_ids)
    if not ids:
        return {}
    columns, members = Subscription.__table__.c, GridMember.__table__.c
    audience: dict[int, dict[int, Follower]] = {package_id: {} for package_id in ids}
    # Two indexed lookups rather than one outer join with an OR, which scans every subscription.
    direct = _followers().where(
        columns.target_kind == TargetKind.PACKAGE, columns.target_id.in_(ids)
    )
    via_grid = (
        _followers()
        .add_columns(members.package_id)
        .join(
            GridMember.__table__,
            and_(columns.target_kind == TargetKind.GRID, members.grid_id == columns.target_id),
        )
        .where(members.package_id.in_(ids))
    )
    for row in await session.execute(direct):
        audience[row.target_id][row.id] = _follower(row)
    for row in await session.execute(via_grid):
        audience[row.package_id][row.id] = _follower(row)
    return {
        package_id: sorted(found.values(), key=lambda follower: follower.id)
        for package_id, found in audience.items()
    }


async def subscriptions_for_grids(
    session: AsyncSession, grid_ids: Collection[int]
) -> dict[int, list[Follower]]:
    """For each grid id, its active subscriptions by id (every requested id is a key)."""
    ids = set(grid_ids)
    columns = Subscription.__table__.c
    rows = await session.execute(
        _followers()
        .where(columns.target_kind == TargetKind.GRID, columns.target_id.in_(ids))
        .order_by(columns.id)
    )
    audience: dict[int, list[Follower]] = {grid_id: [] for grid_id in ids}
    for row in rows:
        audience[row.target_id].append(_follower(row))
    return audience


async def pause_route(
    session: AsyncSession,
    *,
    channel_id: int,
    webhook_url: str | None,
    reason: str,
    now: datetime,
) -> list[int]:
    """Pause a channel's active subscriptions that post one way — through the bot when
    `webhook_url` is None, else through that webhook — keeping their settings; their ids.

    Subscribing again resumes a paused subscription.
    """
    route = (
        Subscription.webhook_url.is_(None)
        if webhook_url is None
        else Subscription.webhook_url == webhook_url
    )
    active = await session.scalars(
        select(Subscription).where(Subscription.channel_id == channel_id, route, ACTIVE)
    )
    paused = []
    for subscription in active:
        subscription.paused_reason, subscription.paused_at = reason, now
        paused.append(subscription.id)
    await session.flush()
    return paused
