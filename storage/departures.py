"""Forgetting a guild the bot left, or a channel that was deleted: its subscriptions (webhook
URLs included), channel settings, feature-complete marks, imported requirement pins and
alerts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage._sql import affected_rows
from storage.models import Alert, ChannelSettings, FeatureComplete, Pin, Subscription


@dataclass(frozen=True, slots=True)
class Forgotten:
    """How many rows of each kind were deleted."""

    subscriptions: int
    channel_settings: int
    marks: int
    pins: int
    alerts: int

    def __bool__(self) -> bool:
        return any((self.subscriptions, self.channel_settings, self.marks, self.pins, self.alerts))


async def forget_guild(session: AsyncSession, guild_id: int) -> Forgotten:
    """Delete everything stored about `guild_id`'s channels."""
    return await _forget(
        session,
        Subscription.guild_id == guild_id,
        ChannelSettings.guild_id == guild_id,
        FeatureComplete.guild_id == guild_id,
        Pin.guild_id == guild_id,
        Alert.guild_id == guild_id,
    )


async def forget_channel(session: AsyncSession, channel_id: int) -> Forgotten:
    """Delete everything stored about one channel."""
    return await _forget(
        session,
        Subscription.channel_id == channel_id,
        ChannelSettings.channel_id == channel_id,
        FeatureComplete.channel_id == channel_id,
        Pin.channel_id == channel_id,
        Alert.channel_id == channel_id,
    )


async def _forget(
    session: AsyncSession,
    subscriptions: ColumnElement[bool],
    channel_settings: ColumnElement[bool],
    marks: ColumnElement[bool],
    pins: ColumnElement[bool],
    alerts: ColumnElement[bool],
) -> Forgotten:
    # Alerts first: deleting a subscription would only unlink its alerts (SET NULL).
    deleted_alerts = await affected_rows(session, delete(Alert).where(alerts))
    return Forgotten(
        subscriptions=await affected_rows(session, delete(Subscription).where(subscriptions)),
        channel_settings=await affected_rows(
            session, delete(ChannelSettings).where(channel_settings)
        ),
        marks=await affected_rows(session, delete(FeatureComplete).where(marks)),
        pins=await affected_rows(session, delete(Pin).where(pins)),
        alerts=deleted_alerts,
    )
