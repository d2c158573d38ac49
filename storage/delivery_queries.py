"""Queries of the delivery worker beyond the outbox's own: claims that respect digests,
leases, drops, daily caps and paused destinations."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, false, func, not_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.bypass import Bypass
from bot.core.events.base import Event
from storage import outbox
from storage.channels import ChannelPreferences
from storage.models import Alert, AlertStatus, ChannelSettings, DigestMode, Package, Subscription
from storage.subscriptions import ACTIVE


@dataclass(frozen=True, slots=True)
class Hold:
    """Alerts of `channel_ids` created after `since` wait for their next digest, except those
    matching a `bypass` entry (`bot.delivery.digest` builds these from the channels' settings)."""

    since: datetime
    bypass: tuple[str, ...]
    channel_ids: frozenset[int]


def matches_bypass(entries: Collection[str]) -> ColumnElement[bool]:
    """Alerts that digest-bypass entries let through (`bot.core.bypass`): every alert of a named
    event ("stale"), and releases of a level and above ("release:minor": minor and major)."""
    bypass = Bypass.of(entries)
    events = sorted(event.value for event in bypass.events)
    levels = sorted(bypass.release_levels)
    level = func.coalesce(Alert.payload["level"].as_string(), "")
    by_level = and_(Alert.event == Event.RELEASE.value, level.in_(levels)) if levels else false()
    return or_(Alert.event.in_(events), by_level)


def _held(hold: Hold) -> ColumnElement[bool]:
    held = and_(Alert.channel_id.in_(hold.channel_ids), Alert.created_at > hold.since)
    return and_(held, not_(matches_bypass(hold.bypass))) if hold.bypass else held


async def digest_preferences(session: AsyncSession) -> list[ChannelPreferences]:
    """The settings of every channel in daily or weekly digest mode."""
    rows = await session.scalars(
        select(ChannelSettings).where(ChannelSettings.digest_mode != DigestMode.IMMEDIATE)
    )
    return [ChannelPreferences.from_row(row) for row in rows]


async def claim_ready(
    session: AsyncSession,
    *,
    now: datetime,
    holds: Sequence[Hold],
    limit: int | None = None,
    channel_ids: Collection[int] | None = None,
) -> list[Alert]:
    """`outbox.claim_due`, leaving out what a digest holds, optionally only `channel_ids`."""
    where = [not_(_held(hold)) for hold in holds]
    if channel_ids is not None:
        where.append(Alert.channel_id.in_(set(channel_ids)))
    return await outbox.claim_due(session, now=now, limit=limit, where=where)


async def active_subscriptions(
    session: AsyncSession, subscription_ids: Collection[int]
) -> dict[int, Subscription]:
    """The subscriptions among `subscription_ids` that exist and are not paused, by id."""
    rows = await session.scalars(
        select(Subscription).where(Subscription.id.in_(set(subscription_ids)), ACTIVE)
    )
    return {subscription.id: subscription for subscription in rows}


async def package_slugs(session: AsyncSession, package_ids: Collection[int]) -> dict[int, str]:
    """The slugs of the stored packages among `package_ids`, by id."""
    rows = await session.execute(
        select(Package.id, Package.slug).where(Package.id.in_(set(package_ids)))
    )
    return dict(rows.tuples().all())


async def postpone(session: AsyncSession, alert_ids: Collection[int], *, until: datetime) -> None:
    """Keep pending alerts out of claims until `until`, without counting an attempt.

    Used as a lease while a worker posts what it claimed, and to wait for a sender.
    """
    await session.execute(
        update(Alert)
        .where(Alert.id.in_(set(alert_ids)), Alert.status == AlertStatus.PENDING)
        .values(next_attempt_at=until)
    )


async def drop_pending(
    session: AsyncSession,
    *,
    reason: str,
    alert_ids: Collection[int] = (),
    subscription_ids: Collection[int] = (),
) -> int:
    """Give up on pending alerts, by id or by subscription, without an attempt; how many."""
    result = await session.execute(
        update(Alert)
        .where(
            Alert.status == AlertStatus.PENDING,
            or_(Alert.id.in_(set(alert_ids)), Alert.subscription_id.in_(set(subscription_ids))),
        )
        .values(status=AlertStatus.DROPPED, last_error=reason)
    )
    return result.rowcount


async def sent_since(
    session: AsyncSession,
    channel_id: int,
    since: datetime,
    *,
    bypass: Collection[str] | None = None,
) -> int:
    """How many of a channel's alerts were sent since `since`; with `bypass`, only those
    matching it (a digest channel's alerts posted on their own rather than in its digest)."""
    query = select(func.count()).where(
        Alert.channel_id == channel_id,
        Alert.status == AlertStatus.SENT,
        Alert.sent_at >= since,
    )
    if bypass is not None:
        query = query.where(matches_bypass(bypass))
    return await session.scalar(query) or 0


async def summary_posted_since(session: AsyncSession, channel_id: int, since: datetime) -> bool:
    """Whether a daily-cap summary line went to the channel since `since` (its alerts are the
    dropped ones with a `sent_at`, see `mark_summarized`)."""
    query = select(Alert.id).where(
        Alert.channel_id == channel_id,
        Alert.status == AlertStatus.DROPPED,
        Alert.sent_at >= since,
    )
    return await session.scalar(query.limit(1)) is not None


async def mark_summarized(
    session: AsyncSession,
    alert_ids: Collection[int],
    *,
    message_id: int | None,
    now: datetime,
    reason: str,
) -> None:
    """Settle alerts counted in a daily-cap summary line: dropped, never posted on their own,
    with the summary's message and time (which is how `summary_posted_since` finds it)."""
    await session.execute(
        update(Alert)
        .where(Alert.id.in_(set(alert_ids)))
        .values(
            status=AlertStatus.DROPPED,
            attempts=Alert.attempts + 1,
            sent_at=now,
            message_id=message_id,
            last_error=reason,
        )
    )
