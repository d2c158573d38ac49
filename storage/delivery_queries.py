"""Queries of the delivery worker beyond the outbox's own: leases, drops, paused destinations."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Alert, AlertStatus, Package, Subscription
from storage.subscriptions import ACTIVE


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


async def pause_destination(
    session: AsyncSession,
    *,
    channel_id: int,
    webhook_url: str | None,
    reason: str,
    now: datetime,
) -> list[int]:
    """Pause the active subscriptions posting to a channel one way: through the bot when
    `webhook_url` is None, else through that webhook. Returns their ids."""
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
