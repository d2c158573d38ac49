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

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.errors import SentinelError
from storage import channels, subscriptions
from storage.models import TargetKind
from storage.quota_lock import hold_guild
from storage.subscriptions import Counts


class QuotaReached(SentinelError):
    """A server or channel holds as many of something as it may; nothing was added."""


ONE = Counts(guild=1, channel=1)


def _check(
    counts: Counts,
    channel_limit: int,
    guild_limit: int,
    what: str,
    free: str,
    *,
    adding: Counts = ONE,
    channel: str = "This channel",
    server: str = "This server",
) -> None:
    """Refuse `adding` more when the channel's or the server's count would pass its limit."""
    if counts.channel + adding.channel > channel_limit:
        raise QuotaReached(
            f"{channel} {_reached(adding.channel)} its limit of {what} ({channel_limit}): "
            f"{free} first."
        )
    if counts.guild + adding.guild > guild_limit:
        raise QuotaReached(
            f"{server} {_reached(adding.guild)} its limit of {what} across its channels "
            f"({guild_limit}): {free} first."
        )


def _reached(adding: int) -> str:
    return "has reached" if adding == 1 else f"would pass, with {adding} more,"


async def check_new_subscription(
    session: AsyncSession,
    settings: Settings,
    *,
    guild_id: int,
    channel_id: int,
    kind: TargetKind,
    target_id: int,
) -> None:
    """Raise `QuotaReached` when following one more package or grid would pass a quota."""
    await hold_guild(session, guild_id)
    if await subscriptions.is_subscribed(session, channel_id, kind, target_id):
        return
    _check_subscriptions(
        await subscriptions.subscription_counts(session, guild_id, channel_id), settings
    )


def _check_subscriptions(counts: Counts, settings: Settings) -> None:
    _check(
        counts,
        settings.max_subscriptions_per_channel,
        settings.max_subscriptions_per_guild,
        "subscriptions",
        "remove one with /watch remove or /grid unsubscribe",
    )


async def room_for(
    session: AsyncSession,
    settings: Settings,
    *,
    guild_id: int,
    channel_id: int,
    kind: TargetKind,
    key: str,
    through_webhook: bool = False,
) -> None:
    """Raise `QuotaReached` when the channel or server holds as many subscriptions (webhook
    routes, `through_webhook`) as it may and `key` (a slug or id, as typed) names none of the
    channel's: asked before fetching what would be added, so a server at its quota costs no
    request. A read, without the lock: the check in the adding transaction still decides."""
    try:
        if through_webhook:
            await check_webhook_routes(session, settings, guild_id=guild_id, channel_id=channel_id)
        else:
            counts = await subscriptions.subscription_counts(session, guild_id, channel_id)
            _check_subscriptions(counts, settings)
    except QuotaReached:
        if not await subscriptions.follows(
            session, channel_id, kind, key, through_webhook=through_webhook
        ):
            raise


async def check_new_mark(
    session: AsyncSession, settings: Settings, *, guild_id: int, channel_id: int, package_id: int
) -> None:
    """Raise `QuotaReached` when one more feature-complete mark would pass a quota."""
    await hold_guild(session, guild_id)
    if await channels.is_marked(session, channel_id, package_id):
        return
    _check(
        await channels.mark_counts(session, guild_id, channel_id),
        settings.max_marks_per_channel,
        settings.max_marks_per_guild,
        "feature-complete marks",
        "remove one with /settings incomplete",
    )


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
    routed = await subscriptions.webhook_routed(session, channel_id)
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
    _check(
        await subscriptions.webhook_route_counts(session, guild_id, channel_id),
        settings.max_webhook_routes_per_channel,
        settings.max_webhook_routes_per_guild,
        "webhook routes",
        "remove one with `djp-sentinel webhook remove`",
        adding=adding,
        channel=f"Channel {channel_id}" if named else "This channel",
        server=f"Server {guild_id}" if named else "This server",
    )
