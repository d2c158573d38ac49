"""Quotas on what members set up from Discord, per server and per channel (settings
`MAX_SUBSCRIPTIONS_PER_*` and `MAX_MARKS_PER_*`): one server cannot grow the work of every
refresh cycle, or the database, without bound.

Checked in the transaction that adds the row, and only for a new one: changing or resuming
what exists is always allowed. Two additions at the very same moment may pass one over.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.errors import SentinelError
from storage import channels, subscriptions
from storage.models import TargetKind
from storage.subscriptions import Counts


class QuotaReached(SentinelError):
    """A server or channel holds as many of something as it may; nothing was added."""


def _check(counts: Counts, channel_limit: int, guild_limit: int, what: str, free: str) -> None:
    if counts.channel >= channel_limit:
        raise QuotaReached(
            f"This channel has reached its limit of {what} ({channel_limit}): {free} first."
        )
    if counts.guild >= guild_limit:
        raise QuotaReached(
            f"This server has reached its limit of {what} across its channels ({guild_limit}): "
            f"{free} first."
        )


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
    if await subscriptions.is_subscribed(session, channel_id, kind, target_id):
        return
    _check(
        await subscriptions.subscription_counts(session, guild_id, channel_id),
        settings.max_subscriptions_per_channel,
        settings.max_subscriptions_per_guild,
        "subscriptions",
        "remove one with /watch remove or /grid unsubscribe",
    )


async def check_new_mark(
    session: AsyncSession, settings: Settings, *, guild_id: int, channel_id: int, package_id: int
) -> None:
    """Raise `QuotaReached` when one more feature-complete mark would pass a quota."""
    if await channels.is_marked(session, channel_id, package_id):
        return
    _check(
        await channels.mark_counts(session, guild_id, channel_id),
        settings.max_marks_per_channel,
        settings.max_marks_per_guild,
        "feature-complete marks",
        "remove one with /settings incomplete",
    )
