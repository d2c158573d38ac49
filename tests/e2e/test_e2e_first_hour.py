"""A manager's first hour in Discord: setting up many watches, other channels, a sample alert
and /help, through the real discord.py client and both fakes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.app.runtime import Runtime
from bot.discordbot.bot import SentinelBot
from storage import subscriptions
from storage.models import TargetKind
from tests.fakes.discord_models import MENTION_EVERYONE, Mentions
from tests.fakes.discord_runner import BotStarter, DiscordScene
from tests.fakes.djp_api import FakeDjangoPackages
from tests.plugins.app import BotFactory, Stage, background, package_copies
from tests.plugins.database import follow

pytestmark = pytest.mark.usefixtures("discord_rules_kept")


async def test_ten_watch_adds_in_a_row_all_succeed(
    discord_scene: DiscordScene,
    djp_api: FakeDjangoPackages,
    runtime: Runtime,
    sentinel: SentinelBot,
    flatblocks_payload: dict[str, Any],
) -> None:
    for payload in package_copies(flatblocks_payload, 10):
        djp_api.add_package(payload)

    answers = [
        await discord_scene.as_manager("watch add", slug=f"django-widget-{index}")
        for index in range(10)
    ]
    looked_up = await discord_scene.as_manager("package", slug="django-flatblocks")

    assert all("Now watching" in (answer.content or "") for answer in answers)
    assert looked_up.embeds  # setting up spent nothing of the lookup budget
    async with runtime.database.session() as session:
        assert (
            len(await subscriptions.channel_subscriptions(session, discord_scene.alerts.id)) == 10
        )


async def test_lookups_have_a_budget_each(
    discord_scene: DiscordScene, sentinel: SentinelBot
) -> None:
    packages = [
        await discord_scene.as_member("package", slug="django-flatblocks") for _ in range(6)
    ]
    grid = await discord_scene.as_member("grid show", grid="flatpages")

    assert all(answer.embeds for answer in packages[:5])
    assert packages[5].ephemeral
    assert "Slow down" in (packages[5].content or "")
    assert grid.embeds  # /grid show has a bucket of its own


async def test_watching_from_another_channel_posts_there(
    discord_scene: DiscordScene, runtime: Runtime, sentinel: SentinelBot
) -> None:
    general, alerts = discord_scene.general, discord_scene.alerts

    added = await discord_scene.as_manager(
        "watch add", slug="django-flatblocks", channel=general, for_channel=alerts
    )

    assert f"in <#{alerts.id}>" in (added.content or "")
    async with runtime.database.session() as session:
        [sub] = await subscriptions.channel_subscriptions(session, alerts.id)
        assert await subscriptions.channel_subscriptions(session, general.id) == []
    assert sub.target_kind == TargetKind.PACKAGE


async def test_a_channel_the_bot_cannot_post_in_is_refused_and_nothing_stored(
    discord_scene: DiscordScene, runtime: Runtime, make_bot: BotFactory, start_bot: BotStarter
) -> None:
    scene = discord_scene
    general, alerts = scene.general, scene.alerts
    scene.fake.forbid_channel(alerts.id)  # before the bot connects: its guild cache knows
    scene.managers.permissions |= MENTION_EVERYONE  # only the bot may not mention
    await start_bot(make_bot())

    watch = await scene.as_manager(
        "watch add", slug="django-flatblocks", channel=general, for_channel=alerts
    )
    grid = await scene.as_manager(
        "grid subscribe", grid="flatpages", channel=general, for_channel=alerts
    )
    role = await scene.as_manager(
        "watch add", slug="django-flatblocks", role=scene.guild.add_role("Quiet"), channel=general
    )

    assert watch.ephemeral
    assert watch.content == (
        "I cannot post alerts in #alerts: I need Send Messages, Embed Links there. "
        "Nothing was changed: fix the channel's permissions and try again."
    )
    assert grid.ephemeral
    assert "I need Send Messages" in (grid.content or "")
    assert role.ephemeral
    assert "I cannot mention the role Quiet" in (role.content or "")
    async with runtime.database.session() as session:
        assert await subscriptions.guild_subscriptions(session, scene.guild.id) == []
    assert scene.fake.messages(alerts.id) == []


async def test_watch_test_posts_a_sample_alert_with_its_role_mention(stage: Stage) -> None:
    scene, role = stage.scene, stage.scene.managers
    await scene.as_manager("watch add", slug="django-flatblocks", role=role)

    tested = await scene.as_manager("watch test", target="package:django-flatblocks", ping=True)

    [sample] = stage.alerts()
    assert tested.ephemeral
    assert tested.content == (
        f"Posted a sample alert for django-flatblocks in <#{scene.alerts.id}> as the bot."
    )
    assert sample.mentions == Mentions(roles=frozenset({role.id}))
    assert sample.content.startswith(f"<@&{role.id}> 🧪 A sample alert")
    [embed] = sample.embeds
    # The only version the bot knows: a real alert for it would say so too.
    assert embed["title"] == "django-flatblocks 1.0.0 released (first version on PyPI)"
    assert embed["url"].endswith("/packages/p/django-flatblocks/")


async def test_watch_test_goes_through_a_webhook_route(stage: Stage, runtime: Runtime) -> None:
    scene = stage.scene
    hook = scene.fake.create_webhook(scene.alerts.id)
    record = await runtime.monitor.refresh_package("django-flatblocks")
    await follow(
        runtime.database,
        scene.alerts.id,
        record.id,
        guild=scene.guild.id,
        created_by=scene.manager.id,
        webhook_url=hook.url,
    )

    tested = await scene.as_manager("watch test")

    [sample] = stage.alerts()
    assert "through its webhook" in (tested.content or "")
    assert sample.webhook_id == hook.id


async def test_help_is_private_and_paged(
    discord_scene: DiscordScene, sentinel: SentinelBot
) -> None:
    shown = await discord_scene.as_member("help")
    [commands] = shown.embeds
    assert shown.reply is not None
    turned = await discord_scene.fake.click(shown.reply, "pages:next", user=discord_scene.member)

    assert shown.ephemeral
    assert "/watch test [target]" in [field["name"] for field in commands["fields"]]
    [events] = turned.embeds
    assert [field["name"] for field in events["fields"]] == [
        "release",
        "activity",
        "stale",
        "popularity",
        "grid",
        "repo",
        "removed",
        "advisory",
        "compat",
        "yanked",
    ]


async def test_release_alerts_carry_link_buttons_and_render_shortcodes(
    stage: Stage, djp_api: FakeDjangoPackages
) -> None:
    djp_api.update_package(
        265, title=":gear: Flatblocks", documentation_url="https://flatblocks.rtfd.io/"
    )
    await stage.scene.as_manager("watch add", slug="django-flatblocks")
    djp_api.update_package(265, pypi_version="1.1.0")
    stage.clock.advance(timedelta(days=1))

    await background(stage.bot).poll_once()
    await background(stage.bot).deliver_once()

    [alert] = stage.alerts()
    [row] = alert.components
    assert [(b["label"], b["url"]) for b in row["components"]] == [
        ("PyPI 1.1.0", "https://pypi.org/project/django-flatblocks/1.1.0/"),
        ("Repository", "https://github.com/jazzband/django-flatblocks"),
        ("Docs", "https://flatblocks.rtfd.io/"),
    ]
    assert all(b["style"] == 5 for b in row["components"])
    assert alert.embeds[0]["title"].startswith("⚙️ Flatblocks 1.1.0 released")
