"""One release announced in many channels: the outbox as a big release leaves it.

Used by the delivery tests, the crash tests and `bench/fanout.py`.
"""

from __future__ import annotations

from datetime import datetime

from bot.core.alerting import NewAlert
from bot.core.records import parse_package
from storage import outbox, subscriptions
from storage.database import Database
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.discord_models import FakeGuild
from tests.plugins.data import seed_package
from tests.plugins.packages import store_records

FLATBLOCKS = 265
#: django-flatblocks' version in the seed data, and the release announced.
OLD, NEW = "1.0.0", "1.0.1"


async def follow_in_channels(
    database: Database,
    fake: FakeDiscord,
    guild: FakeGuild,
    count: int,
    *,
    now: datetime,
    webhooks: bool = False,
) -> dict[int, int]:
    """`count` new channels following django-flatblocks (stored as seeded, due at `now`),
    each through a webhook of its own with `webhooks`; their subscription id by channel id."""
    channel_ids = [guild.add_text_channel(f"alerts-{n}").id for n in range(count)]
    followed = {}
    async with database.transaction() as session:
        record = parse_package(seed_package("django-flatblocks"))
        await store_records(session, [record], now=now)
        for channel_id in channel_ids:
            hook = fake.create_webhook(channel_id).url if webhooks else None
            subscription, _ = await subscriptions.subscribe(
                session,
                guild_id=guild.id,
                channel_id=channel_id,
                target_kind="package",
                target_id=FLATBLOCKS,
                created_by=None,
                webhook_url=hook,
            )
            followed[channel_id] = subscription.id
    return followed


async def release_in_channels(
    database: Database,
    fake: FakeDiscord,
    guild: FakeGuild,
    count: int,
    *,
    now: datetime,
    webhooks: bool = False,
) -> list[int]:
    """`follow_in_channels`, with django-flatblocks' release pending for every channel."""
    followed = await follow_in_channels(database, fake, guild, count, now=now, webhooks=webhooks)
    alerts = [release_alert(guild.id, channel, sub) for channel, sub in followed.items()]
    async with database.transaction() as session:
        await outbox.enqueue(session, alerts, now=now)
    return list(followed)


def release_alert(guild_id: int, channel_id: int, subscription_id: int) -> NewAlert:
    return NewAlert(
        subscription_id=subscription_id,
        guild_id=guild_id,
        channel_id=channel_id,
        event="release",
        dedup_key=f"{channel_id}:{FLATBLOCKS}:release:{NEW}",
        summary=f"django-flatblocks {NEW} released (patch release, was {OLD})",
        payload={"old": OLD, "new": NEW, "kind": "new", "level": "patch", "prerelease": False},
        package_id=FLATBLOCKS,
    )
