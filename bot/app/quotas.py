"""Quotas on what a server sets up, per server and per channel (settings
`MAX_SUBSCRIPTIONS_PER_*` and `MAX_MARKS_PER_*` for what members add from Discord,
`MAX_WEBHOOK_ROUTES_PER_*` for what the operator routes through webhooks with `webhook add` or
`import`): one server cannot grow the work of every refresh cycle, the deliveries, or the
database, without bound.

Checked in the transaction that adds the row, and only for a new one: changing or resuming
what exists is always allowed. The check holds the guild (`storage.quota_lock`) until that
transaction ends, so additions at the same moment take turns and none passes a quota.
Commands that fetch what they add first ask `room_for` (a read, no lock): a server at its
quota is refused before anything is asked of Django Packages.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from enum import Enum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.core.plural import counted
from bot.errors import SentinelError
from storage import channels, subscriptions
from storage.models import TargetKind
from storage.quota_lock import hold_guild
from storage.subscriptions import Counts


class QuotaReached(SentinelError):
    """A server or channel holds as many of something as it may; nothing was added."""


class Quota(Enum):
    """What a server and each of its channels may hold so many of (named in the singular)."""

    SUBSCRIPTIONS = "subscription"
    WEBHOOK_ROUTES = "webhook route"
    MARKS = "feature-complete mark"


#: How a refusal says to make room.
_FREE = {
    Quota.SUBSCRIPTIONS: "remove one with /watch remove or /grid unsubscribe",
    Quota.WEBHOOK_ROUTES: "remove one with `djp-sentinel webhook remove`",
    Quota.MARKS: "remove one with /settings incomplete",
}

ONE = Counts(guild=1, channel=1)


def _limits(settings: Settings, quota: Quota) -> Counts:
    match quota:
        case Quota.SUBSCRIPTIONS:
            guild, channel = (
                settings.max_subscriptions_per_guild,
                settings.max_subscriptions_per_channel,
            )
        case Quota.WEBHOOK_ROUTES:
            guild, channel = (
                settings.max_webhook_routes_per_guild,
                settings.max_webhook_routes_per_channel,
            )
        case Quota.MARKS:
            guild, channel = settings.max_marks_per_guild, settings.max_marks_per_channel
    return Counts(guild=guild, channel=channel)


async def _held(session: AsyncSession, quota: Quota, guild_id: int, channel_id: int) -> Counts:
    """How many the server holds, and the channel."""
    match quota:
        case Quota.SUBSCRIPTIONS:
            return await subscriptions.subscription_counts(session, guild_id, channel_id)
        case Quota.WEBHOOK_ROUTES:
            return await subscriptions.webhook_route_counts(session, guild_id, channel_id)
        case Quota.MARKS:
            return await channels.mark_counts(session, guild_id, channel_id)


async def _check(
    session: AsyncSession,
    settings: Settings,
    quota: Quota,
    *,
    guild_id: int,
    channel_id: int,
    adding: Counts = ONE,
    named: bool = False,
) -> Counts:
    """Raise `QuotaReached` when `adding` more (to the server, and to this channel) would pass
    the channel's or the server's limit; else return the room left after them. `named` names
    the channel and server, for `import`, which touches many, instead of "This channel"."""
    held, limits = await _held(session, quota, guild_id, channel_id), _limits(settings, quota)
    places = (
        (
            f"Channel {channel_id}" if named else "This channel",
            "",
            held.channel,
            adding.channel,
            limits.channel,
        ),
        (
            f"Server {guild_id}" if named else "This server",
            " across its channels",
            held.guild,
            adding.guild,
            limits.guild,
        ),
    )
    for place, across, count, more, limit in places:
        if more and count + more > limit:
            raise QuotaReached(
                f"{place} {_reached(quota, limit - count, more, limit, across)}: "
                f"{_FREE[quota]} first."
            )
    return Counts(
        guild=limits.guild - held.guild - adding.guild,
        channel=limits.channel - held.channel - adding.channel,
    )


def _reached(quota: Quota, room: int, adding: int, limit: int, across: str) -> str:
    """ "has reached its limit of subscriptions (100)", or how many of those `adding` fit."""
    if adding == 1:
        return f"has reached its limit of {quota.value}s{across} ({limit})"
    fit = counted(max(room, 0), f"more {quota.value}")
    return f"has room for {fit}{across}, not {adding:,} (its limit is {limit})"


async def check_new_subscriptions(
    session: AsyncSession,
    settings: Settings,
    *,
    guild_id: int,
    channel_id: int,
    kind: TargetKind,
    target_ids: Collection[int],
) -> None:
    """Raise `QuotaReached` when following those packages or grids of `target_ids` the channel
    does not follow yet would pass a quota."""
    await hold_guild(session, guild_id)
    followed = await subscriptions.followed_targets(session, channel_id)
    new = sum((str(kind), target_id) not in followed for target_id in set(target_ids))
    if new:
        await _check(
            session,
            settings,
            Quota.SUBSCRIPTIONS,
            guild_id=guild_id,
            channel_id=channel_id,
            adding=Counts(guild=new, channel=new),
        )


async def room_for(
    session: AsyncSession,
    settings: Settings,
    quota: Quota,
    *,
    guild_id: int,
    channel_id: int,
    key: str | None = None,
    kind: TargetKind = TargetKind.PACKAGE,
    adding: int = 1,
) -> int:
    """Raise `QuotaReached` when the channel or server has no room for `adding` more
    subscriptions, webhook routes or marks (`quota`), unless `key` (a slug or id as typed, of
    the one being added) names one the channel holds already: asked before fetching what would
    be added, so a server at its quota costs no request. Returns how many more would still
    fit after them. A read, without the lock: the check in the adding transaction decides."""
    try:
        room = await _check(
            session,
            settings,
            quota,
            guild_id=guild_id,
            channel_id=channel_id,
            adding=Counts(guild=adding, channel=adding),
        )
    except QuotaReached:
        if key is None or not await _holds(session, quota, channel_id, kind, key):
            raise
        return 0
    return min(room.guild, room.channel)


async def _holds(
    session: AsyncSession, quota: Quota, channel_id: int, kind: TargetKind, key: str
) -> bool:
    """Whether the channel already holds what `key` names (changing it is free)."""
    if quota is Quota.MARKS:
        return await channels.marked(session, channel_id, key)
    through_webhook = quota is Quota.WEBHOOK_ROUTES
    return await subscriptions.follows(
        session, channel_id, kind, key, through_webhook=through_webhook
    )


async def check_new_mark(
    session: AsyncSession, settings: Settings, *, guild_id: int, channel_id: int, package_id: int
) -> None:
    """Raise `QuotaReached` when one more feature-complete mark would pass a quota."""
    await hold_guild(session, guild_id)
    if not await channels.is_marked(session, channel_id, package_id):
        await _check(session, settings, Quota.MARKS, guild_id=guild_id, channel_id=channel_id)


async def check_new_webhook_route(
    session: AsyncSession,
    settings: Settings,
    *,
    guild_id: int,
    channel_id: int,
    kind: TargetKind,
    target_id: int,
) -> None:
    """Raise `QuotaReached` when routing one more package or grid through a webhook of the
    channel would pass a quota (`webhook add`)."""
    await hold_guild(session, guild_id)
    if await new_webhook_routes(session, channel_id, [(kind, target_id)]):
        await check_webhook_routes(session, settings, guild_id=guild_id, channel_id=channel_id)


async def new_webhook_routes(
    session: AsyncSession, channel_id: int, targets: Iterable[tuple[TargetKind, int]]
) -> int:
    """How many of `targets` the channel does not follow through a webhook yet."""
    routed = await subscriptions.followed_targets(session, channel_id, through_webhook=True)
    return sum((str(kind), target_id) not in routed for kind, target_id in targets)


async def check_webhook_routes(
    session: AsyncSession,
    settings: Settings,
    *,
    guild_id: int,
    channel_id: int,
    adding: Counts = ONE,
    named: bool = False,
) -> None:
    """Raise `QuotaReached` when `adding` new webhook routes (to the server, and to this
    channel) would pass a quota. `named` names the channel and server, for `import`, which
    touches many, instead of saying "This channel"."""
    await _check(
        session,
        settings,
        Quota.WEBHOOK_ROUTES,
        guild_id=guild_id,
        channel_id=channel_id,
        adding=adding,
        named=named,
    )
