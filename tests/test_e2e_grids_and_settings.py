"""`/grid`, `/stale`, `/status` and `/settings` through the real client and both fakes."""

from __future__ import annotations

from bot.discordbot.bot import SentinelBot
from bot.runtime import Runtime
from storage import subscriptions
from tests.fakes.discord_runner import DiscordScene
from tests.fakes.djp_api import FakeDjangoPackages
from tests.plugins.app import background


async def test_grid_show_ranks_packages_with_health(
    discord_scene: DiscordScene, sentinel: SentinelBot
) -> None:
    fake = discord_scene.fake

    record = await fake.run_command("grid show", {"grid": "flatpages"}, user=discord_scene.member)

    [embed] = record.embeds
    assert embed["title"] == "Flatpages"
    first = embed["description"].splitlines()[0]
    assert first.startswith("1. [django-flatblocks]")
    assert "★ 84" in first
    assert "1.0.0" in first
    assert fake.violations == []


async def test_grid_subscribe_is_a_silent_baseline_and_unsubscribe_undoes_it(
    discord_scene: DiscordScene, runtime: Runtime, sentinel: SentinelBot
) -> None:
    fake, alerts = discord_scene.fake, discord_scene.alerts

    followed = await fake.run_command(
        "grid subscribe", {"grid": "flatpages"}, user=discord_scene.manager, channel_id=alerts.id
    )
    cycle = await background(sentinel).poll_once()
    refused = await fake.run_command(
        "grid unsubscribe", {"grid": "flatpages"}, user=discord_scene.member, channel_id=alerts.id
    )
    dropped = await fake.run_command(
        "grid unsubscribe", {"grid": "flatpages"}, user=discord_scene.manager, channel_id=alerts.id
    )

    assert "Now following the grid **Flatpages**" in (followed.content or "")
    assert cycle.alerts_enqueued == 0
    assert refused.ephemeral
    assert "Stopped following" in (dropped.content or "")
    async with runtime.database.session() as session:
        assert await subscriptions.channel_subscriptions(session, alerts.id) == []
    assert fake.violations == []


async def test_stale_lists_watched_packages_with_reasons(
    discord_scene: DiscordScene, sentinel: SentinelBot
) -> None:
    fake, alerts = discord_scene.fake, discord_scene.alerts
    await fake.run_command(
        "watch add",
        {"slug": "django-flatblocks"},
        user=discord_scene.manager,
        channel_id=alerts.id,
    )

    record = await fake.run_command("stale", user=discord_scene.member, channel_id=alerts.id)

    [embed] = record.embeds
    assert embed["title"] == "Stale packages watched in this channel"
    assert "django-flatblocks" in embed["description"]
    assert "staleness threshold" in embed["description"]
    assert fake.violations == []


async def test_status_reports_refreshes_and_the_outbox(
    discord_scene: DiscordScene, sentinel: SentinelBot
) -> None:
    fake = discord_scene.fake
    await background(sentinel).poll_once()

    record = await fake.run_command("status", user=discord_scene.member)

    [embed] = record.embeds
    names = [field["name"] for field in embed["fields"]]
    assert {"Last refresh", "Next refresh", "Packages tracked", "Alerts waiting"} <= set(names)
    assert fake.violations == []


async def test_settings_change_a_watch_and_show_it(
    discord_scene: DiscordScene, runtime: Runtime, sentinel: SentinelBot
) -> None:
    fake, alerts, manager = discord_scene.fake, discord_scene.alerts, discord_scene.manager
    await fake.run_command(
        "watch add", {"slug": "django-flatblocks"}, user=manager, channel_id=alerts.id
    )
    targets = await fake.autocomplete(
        "settings alerts", {"target": "flat"}, focused="target", user=manager, channel_id=alerts.id
    )

    changed = await fake.run_command(
        "settings alerts",
        {"target": targets[0]["value"], "events": "release, stale", "min_level": "minor"},
        user=manager,
        channel_id=alerts.id,
    )
    shown = await fake.run_command("settings show", user=manager, channel_id=alerts.id)
    refused = await fake.run_command(
        "settings show", user=discord_scene.member, channel_id=alerts.id
    )

    assert [t["value"] for t in targets] == ["package:django-flatblocks"]
    assert "events: release, stale" in (changed.content or "")
    assert "minor and major releases" in shown.embeds[0]["description"]
    assert refused.ephemeral
    assert "Manage Channels" in (refused.content or "")
    async with runtime.database.session() as session:
        [subscription] = await subscriptions.channel_subscriptions(session, alerts.id)
    assert (subscription.events, subscription.min_release_level) == (["release", "stale"], "minor")
    assert fake.violations == []


async def test_bad_event_names_are_explained(
    discord_scene: DiscordScene, djp_api: FakeDjangoPackages, sentinel: SentinelBot
) -> None:
    fake = discord_scene.fake

    record = await fake.run_command(
        "watch add",
        {"slug": "django-flatblocks", "events": "releases"},
        user=discord_scene.manager,
    )

    assert record.ephemeral
    assert "Unknown event 'releases'" in (record.content or "")
    assert fake.violations == []
