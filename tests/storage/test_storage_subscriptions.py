"""Subscriptions: who follows what, with which options, and who is reached by a change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.alerting import Follower
from bot.core.events.base import DEFAULT_EVENTS
from bot.core.records import parse_grid
from storage import grids, subscriptions
from storage.models import Subscription

NOW = datetime(2026, 2, 20, 12, 0, tzinfo=UTC)
GUILD = 800_000_000_000_000_001
CHANNEL = 900_000_000_000_000_001


async def subscribe(
    session: AsyncSession,
    target_id: int,
    *,
    kind: str = "package",
    channel_id: int = CHANNEL,
    **options: Any,
) -> Subscription:
    subscription, _ = await subscriptions.subscribe(
        session,
        guild_id=GUILD,
        channel_id=channel_id,
        target_kind=kind,
        target_id=target_id,
        created_by=700_000_000_000_000_001,
        **options,
    )
    return subscription


def ids(audience: dict[int, list[Follower]]) -> dict[int, list[int]]:
    """Each target's followers by subscription id."""
    return {target: [follower.id for follower in found] for target, found in audience.items()}


def ids_of(*found: Subscription) -> list[int]:
    return [subscription.id for subscription in found]


async def save_grid(session: AsyncSession, grid_id: int, members: list[int]) -> None:
    record = parse_grid({"id": grid_id, "slug": f"g{grid_id}", "title": "G", "packages": members})
    await grids.save_grids(session, [record], now=NOW, next_poll_at=NOW + timedelta(hours=1))


async def test_a_new_subscription_wants_everything_but_repo(session: AsyncSession) -> None:
    subscription, outcome = await subscriptions.subscribe(
        session,
        guild_id=GUILD,
        channel_id=CHANNEL,
        target_kind="package",
        target_id=265,
        created_by=None,
    )
    assert outcome == "created"
    assert set(subscription.events) == DEFAULT_EVENTS
    assert subscription.min_release_level == "patch"
    assert subscription.include_prereleases
    assert subscription.role_id is None
    assert subscription.created_at.tzinfo is UTC


async def test_subscribing_again_updates_only_the_given_options(session: AsyncSession) -> None:
    first = await subscribe(session, 265, events=["release"], min_release_level="minor")
    second, outcome = await subscriptions.subscribe(
        session,
        guild_id=GUILD,
        channel_id=CHANNEL,
        target_kind="package",
        target_id=265,
        created_by=None,
        role_id=GUILD + 5,
    )
    assert outcome == "updated"
    assert second.id == first.id
    assert (second.events, second.min_release_level, second.role_id) == (
        ["release"],
        "minor",
        GUILD + 5,
    )
    assert len(await subscriptions.channel_subscriptions(session, CHANNEL)) == 1


async def test_an_option_left_out_is_kept_and_none_clears_it(session: AsyncSession) -> None:
    hook = "https://discord.test/api/webhooks/1/token"
    await subscribe(session, 265, role_id=GUILD + 5, webhook_url=hook)

    kept = await subscribe(session, 265, events=["stale"])
    assert (kept.role_id, kept.webhook_url, kept.events) == (GUILD + 5, hook, ["stale"])
    cleared = await subscribe(session, 265, role_id=None, webhook_url=None)
    assert (cleared.role_id, cleared.webhook_url, cleared.events) == (None, None, ["stale"])


async def test_subscribing_again_resumes_a_paused_subscription(session: AsyncSession) -> None:
    await subscribe(session, 265)
    await subscriptions.pause_route(
        session, channel_id=CHANNEL, webhook_url=None, reason="missing permissions", now=NOW
    )
    resubscribed = await subscribe(session, 265)
    assert (resubscribed.paused_reason, resubscribed.paused_at) == (None, None)


async def test_snowflakes_survive_the_round_trip(session: AsyncSession) -> None:
    await subscribe(session, 265, role_id=2**63 - 1)
    await session.commit()
    (stored,) = await subscriptions.guild_subscriptions(session, GUILD)
    assert (stored.guild_id, stored.channel_id, stored.role_id) == (GUILD, CHANNEL, 2**63 - 1)


async def test_unsubscribe(session: AsyncSession) -> None:
    await subscribe(session, 265)
    assert await subscriptions.unsubscribe(
        session, channel_id=CHANNEL, target_kind="package", target_id=265
    )
    assert not await subscriptions.unsubscribe(
        session, channel_id=CHANNEL, target_kind="package", target_id=265
    )
    assert await subscriptions.channel_subscriptions(session, CHANNEL) == []


async def test_channel_and_guild_listings(session: AsyncSession) -> None:
    a = await subscribe(session, 265)
    b = await subscribe(session, 48, kind="grid")
    c = await subscribe(session, 265, channel_id=CHANNEL - 1)
    await subscriptions.subscribe(
        session,
        guild_id=GUILD + 1,
        channel_id=CHANNEL + 1,
        target_kind="package",
        target_id=265,
        created_by=None,
    )
    assert await subscriptions.channel_subscriptions(session, CHANNEL) == [a, b]
    assert await subscriptions.guild_subscriptions(session, GUILD) == [c, a, b]


async def test_a_package_reaches_direct_and_grid_subscribers_once_each(
    session: AsyncSession,
) -> None:
    await save_grid(session, 48, [265, 300])
    direct = await subscribe(session, 265, channel_id=1)
    by_grid = await subscribe(session, 48, kind="grid", channel_id=2)
    both_ways = await subscribe(session, 265, channel_id=3)
    await subscribe(session, 48, kind="grid", channel_id=3)
    await subscribe(session, 265, channel_id=4)
    await subscriptions.pause_route(
        session, channel_id=4, webhook_url=None, reason="channel deleted", now=NOW
    )
    await subscribe(session, 999, channel_id=5)

    both_ways_grid = (await subscriptions.channel_subscriptions(session, 3))[1]
    audience = await subscriptions.subscriptions_for_packages(session, [265, 300, 404])
    assert ids(audience) == {
        265: ids_of(direct, by_grid, both_ways, both_ways_grid),
        300: ids_of(by_grid, both_ways_grid),
        404: [],
    }
    assert {s.channel_id for s in audience[265]} == {1, 2, 3}
    assert audience[265][0].preferences == direct.preferences


async def test_grid_subscribers(session: AsyncSession) -> None:
    mine = await subscribe(session, 48, kind="grid")
    await subscribe(session, 48, kind="grid", channel_id=2)
    await subscriptions.pause_route(
        session, channel_id=2, webhook_url=None, reason="missing permissions", now=NOW
    )
    await subscribe(session, 48)
    audience = await subscriptions.subscriptions_for_grids(session, [48, 49])
    assert ids(audience) == {48: [mine.id], 49: []}


async def test_pausing_a_route_pauses_only_its_active_subscriptions(
    session: AsyncSession,
) -> None:
    hook = "https://discord.com/api/webhooks/1/token"
    earlier = await subscribe(session, 1)
    await subscriptions.pause_route(
        session, channel_id=CHANNEL, webhook_url=None, reason="missing permissions", now=NOW
    )
    by_bot = await subscribe(session, 2)
    by_bot_grid = await subscribe(session, 3, kind="grid")
    by_webhook = await subscribe(session, 5, webhook_url=hook)
    elsewhere = await subscribe(session, 4, channel_id=CHANNEL + 1)
    later = NOW + timedelta(minutes=5)

    paused = await subscriptions.pause_route(
        session, channel_id=CHANNEL, webhook_url=None, reason="channel deleted", now=later
    )

    assert paused == [by_bot.id, by_bot_grid.id]
    assert (earlier.paused_reason, earlier.paused_at) == ("missing permissions", NOW)
    assert (by_bot.paused_reason, by_bot.paused_at) == ("channel deleted", later)
    assert by_webhook.paused_reason is None
    assert elsewhere.paused_reason is None
    audience = await subscriptions.subscriptions_for_packages(session, [2, 5])
    assert ids(audience) == {2: [], 5: [by_webhook.id]}
