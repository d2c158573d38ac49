"""Watching a package: the subscription, its alert, restarts, refusals and lost channels."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest

from bot.app.runtime import Runtime
from bot.discordbot.bot import SentinelBot
from storage import packages, subscriptions
from tests.fakes.discord_interactions import InteractionRecord
from tests.fakes.discord_models import Mentions
from tests.fakes.discord_runner import BotStarter, DiscordScene, running_bot
from tests.fakes.djp_api import FakeDjangoPackages
from tests.plugins.app import BotFactory, Stage, SteppingClock, alerts_in, background

pytestmark = pytest.mark.usefixtures("discord_rules_kept")


async def release_upstream(
    djp_api: FakeDjangoPackages, clock: SteppingClock, **fields: str
) -> None:
    """Django Packages publishes 1.0.1, and the package falls due for a refresh."""
    djp_api.update_package(265, pypi_version="1.0.1", **fields)
    clock.advance(timedelta(days=1))


async def watch_flatblocks(scene: DiscordScene) -> InteractionRecord:
    """The manager runs `/watch add django-flatblocks` in #alerts."""
    return await scene.as_manager("watch add", slug="django-flatblocks")


async def test_release_is_announced_once_even_across_a_restart(
    discord_scene: DiscordScene,
    djp_api: FakeDjangoPackages,
    clock: SteppingClock,
    make_bot: BotFactory,
) -> None:
    fake, alerts = discord_scene.fake, discord_scene.alerts
    async with running_bot(make_bot(), fake) as bot:
        assert isinstance(bot, SentinelBot)
        added = await watch_flatblocks(discord_scene)
        assert "Now watching" in (added.content or "")
        await release_upstream(djp_api, clock)

        refreshed = await background(bot).poll_once()
        assert refreshed is not None, "this bot is the only monitor"
        cycle = refreshed.cycle
        delivered = await background(bot).deliver_once()

        assert (cycle.alerts_enqueued, delivered.sent) == (1, 1)
        [alert] = alerts_in(fake, alerts.id)
        assert "1.0.1" in str(alert.embeds)

    async with running_bot(make_bot(), fake) as restarted:
        assert isinstance(restarted, SentinelBot)
        await background(restarted).poll_once()
        again = await background(restarted).deliver_once()

    assert again.sent == 0
    assert len(alerts_in(fake, alerts.id)) == 1


async def test_the_delivery_loop_posts_on_its_own(
    discord_scene: DiscordScene,
    djp_api: FakeDjangoPackages,
    clock: SteppingClock,
    make_bot: BotFactory,
    start_bot: BotStarter,
) -> None:
    fake, alerts = discord_scene.fake, discord_scene.alerts
    bot = await start_bot(make_bot(delivery_interval=0.05))
    assert isinstance(bot, SentinelBot)
    await watch_flatblocks(discord_scene)
    await release_upstream(djp_api, clock)

    await background(bot).poll_once()

    await fake.wait_for_messages(alerts.id, 2)  # the confirmation, then the alert
    [alert] = alerts_in(fake, alerts.id)
    assert "1.0.1" in str(alert.embeds)


async def test_members_without_manage_channels_are_refused(
    discord_scene: DiscordScene, runtime: Runtime, sentinel: SentinelBot
) -> None:
    record = await discord_scene.as_member("watch add", slug="django-flatblocks")

    assert record.ephemeral
    assert "Manage Channels" in (record.content or "")
    async with runtime.database.session() as session:
        assert await subscriptions.channel_subscriptions(session, discord_scene.alerts.id) == []
        assert await packages.find_package(session, "django-flatblocks") is None


async def test_a_forbidden_channel_pauses_its_watch_and_says_why(
    stage: Stage, djp_api: FakeDjangoPackages
) -> None:
    scene = stage.scene
    await watch_flatblocks(scene)
    scene.fake.forbid_channel(scene.alerts.id)
    await release_upstream(djp_api, stage.clock)

    await background(stage.bot).poll_once()
    delivered = await background(stage.bot).deliver_once()
    listing = await scene.as_member("watch list")

    assert scene.alerts.id in delivered.paused
    assert stage.alerts() == []
    _, embed = listing.embeds
    assert listing.ephemeral
    assert "django-flatblocks" in embed["description"]
    assert "Paused: Missing permissions" in embed["description"]


async def test_a_post_discord_keeps_refusing_is_one_warning_and_a_retry(
    stage: Stage, djp_api: FakeDjangoPackages, caplog: pytest.LogCaptureFixture
) -> None:
    await watch_flatblocks(stage.scene)
    await release_upstream(djp_api, stage.clock)
    await background(stage.bot).poll_once()
    stage.scene.fake.rate_limit_next("POST /channels/", retry_after=0.01, times=5)  # every try

    with caplog.at_level(logging.WARNING):
        refused = await background(stage.bot).deliver_once()
    stage.clock.advance(timedelta(minutes=1))
    await background(stage.bot).deliver_once()  # (or the loop's own pass, woken by the cycle)

    ours = [r for r in caplog.records if not r.name.startswith("discord")]
    assert refused.retrying == 1
    assert [(r.levelno, r.exc_info) for r in ours] == [(logging.WARNING, None)]
    assert "will retry" in ours[0].getMessage()
    assert "rate limit" in ours[0].getMessage()
    assert len(stage.alerts()) == 1


async def test_alerts_ping_only_the_role_a_manager_chose(
    stage: Stage, djp_api: FakeDjangoPackages
) -> None:
    managers = stage.scene.managers
    await stage.scene.as_manager("watch add", slug="django-flatblocks", role=managers)
    pings = "@everyone @here <@123> <@&456>"
    await release_upstream(
        djp_api, stage.clock, title=f"Flatblocks {pings}", repo_description=pings
    )

    await background(stage.bot).poll_once()
    await background(stage.bot).deliver_once()

    [alert] = stage.alerts()
    assert alert.mentions == Mentions(roles=frozenset({managers.id}))
    assert "@everyone" not in str(alert.embeds)


async def test_the_same_watch_added_twice_at_once_is_one_watch_and_two_answers(
    discord_scene: DiscordScene,
    runtime: Runtime,
    sentinel: SentinelBot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A double click, or two managers at once: one row, "Now watching" and "already watching"."""
    replies = await asyncio.gather(watch_flatblocks(discord_scene), watch_flatblocks(discord_scene))

    answers = sorted((record.content or "").split("\n")[0] for record in replies)
    assert answers == [
        "Now watching **django-flatblocks** (django-flatblocks) here.",
        "This channel is already watching **django-flatblocks** (django-flatblocks).",
    ]
    async with runtime.database.session() as session:
        assert len(await subscriptions.channel_subscriptions(session, discord_scene.alerts.id)) == 1
    assert [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info] == []
