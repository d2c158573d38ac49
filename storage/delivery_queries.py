"""What the delivery worker reads besides the outbox: digest channels, live subscriptions,
package slugs, what a channel was sent today (for daily caps), and the posted alerts of an
advisory now withdrawn.

Every change of an alert's state is in `storage.outbox`."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.events.advisory import retracted_key
from storage.channels import ChannelPreferences
from storage.models import Alert, AlertStatus, ChannelSettings, DigestMode, Package, Subscription
from storage.outbox import matches_bypass
from storage.subscriptions import ACTIVE


async def digest_preferences(session: AsyncSession) -> list[ChannelPreferences]:
    """The settings of every channel in daily or weekly digest mode."""
    rows = await session.scalars(
        select(ChannelSettings).where(ChannelSettings.digest_mode != DigestMode.IMMEDIATE)
    )
    return [ChannelPreferences.from_row(row) for row in rows]


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


async def package_urls(
    session: AsyncSession, package_ids: Collection[int]
) -> dict[int, tuple[str | None, str | None, str | None]]:
    """(PyPI, repository, docs) URLs of the stored packages among `package_ids`, by id."""
    rows = await session.execute(
        select(Package.id, Package.pypi_url, Package.repo_url, Package.documentation_url).where(
            Package.id.in_(set(package_ids))
        )
    )
    return {package_id: urls for package_id, *urls in rows.tuples()}  # type: ignore[misc]


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
    dropped ones with a `sent_at`, see `storage.outbox.mark_summarized`)."""
    query = select(Alert.id).where(
        Alert.channel_id == channel_id,
        Alert.status == AlertStatus.DROPPED,
        Alert.sent_at >= since,
    )
    return await session.scalar(query.limit(1)) is not None


async def posted_originals(
    session: AsyncSession, retractions: Collection[Alert]
) -> dict[int, list[Alert]]:
    """The posted alerts each retraction retracts (the advisory's alert `KEY` and its updates
    `KEY:MATERIAL`, in the retraction's channel, as the key says), oldest first, by the
    retraction's id; a retraction none of whose alerts was posted is left out."""
    retracting = {retracted_key(r.dedup_key): r for r in retractions}
    if not retracting:
        return {}
    same_advisory = [
        and_(
            Alert.channel_id == r.channel_id,  # the outbox's unique index leads with it
            or_(Alert.dedup_key == key, Alert.dedup_key.startswith(f"{key}:", autoescape=True)),
        )
        for key, r in retracting.items()
    ]
    rows = await session.scalars(
        select(Alert)
        .where(
            or_(*same_advisory),
            Alert.id.not_in({r.id for r in retractions}),
            Alert.status == AlertStatus.SENT,
            Alert.message_id.is_not(None),
        )
        .order_by(Alert.id)
    )
    found: dict[int, list[Alert]] = {}
    for alert in rows:
        key = (
            alert.dedup_key if alert.dedup_key in retracting else alert.dedup_key.rpartition(":")[0]
        )
        found.setdefault(retracting[key].id, []).append(alert)
    return found
