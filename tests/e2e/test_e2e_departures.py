"""When the bot is removed from a server, or a channel is deleted, what was stored for it
(subscriptions and their webhook URLs, settings, marks, alerts) is deleted; others' stays."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.app.runtime import Runtime
from bot.discordbot.bot import SentinelBot
from storage import channels, subscriptions
from storage.database import Database
from tests.fakes.discord_runner import DiscordScene
from tests.plugins.database import follow

OTHER_GUILD, OTHER_CHANNEL = 800_000_000_000_000_009, 900_000_000_000_000_009
FLATPAGES = 48
pytestmark = pytest.mark.usefixtures("discord_rules_kept")


async def stored(database: Database) -> dict[str, Any]:
    async with database.session() as session:
        subs = await subscriptions.all_subscriptions(session)
        prefs = await channels.changed_preferences(session)
        marks = await channels.feature_complete_marks(session)
    return {
        "subscriptions": sorted((s.guild_id, s.channel_id) for s in subs),
        "settings": sorted(p.channel_id for _, p in prefs),
        "marks": sorted(m.channel_id for m in marks),
    }


async def until_stored(database: Database, expected: dict[str, Any]) -> dict[str, Any]:
    """What is stored, once it is `expected` (or after 5 s)."""
    async with asyncio.timeout(5):
        while (now := await stored(database)) != expected:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    return now


async def set_up(scene: DiscordScene, database: Database) -> None:
    """#alerts and #general follow packages, #alerts has settings and a mark; so does a
    channel of another server."""
    for channel in (scene.alerts, scene.general):
        await scene.as_manager("watch add", slug="django-flatblocks", channel=channel)
    await scene.as_manager("settings cap", per_day=5)
    await scene.as_manager("settings complete", slug="django-flatblocks")
    await follow(database, OTHER_CHANNEL, FLATPAGES, guild=OTHER_GUILD)


async def test_a_deleted_channel_is_forgotten(
    discord_scene: DiscordScene, runtime: Runtime, sentinel: SentinelBot
) -> None:
    guild, alerts, general = (
        discord_scene.guild.id,
        discord_scene.alerts.id,
        discord_scene.general.id,
    )
    await set_up(discord_scene, runtime.database)
    assert await stored(runtime.database) == {
        "subscriptions": sorted([(guild, alerts), (guild, general), (OTHER_GUILD, OTHER_CHANNEL)]),
        "settings": [alerts],
        "marks": [alerts],
    }

    await discord_scene.fake.delete_channel_live(alerts)

    assert await until_stored(
        runtime.database,
        {
            "subscriptions": sorted([(guild, general), (OTHER_GUILD, OTHER_CHANNEL)]),
            "settings": [],
            "marks": [],
        },
    )


async def test_leaving_a_server_forgets_all_of_it(
    discord_scene: DiscordScene, runtime: Runtime, sentinel: SentinelBot
) -> None:
    await set_up(discord_scene, runtime.database)

    await discord_scene.fake.remove_bot(discord_scene.guild)

    assert await until_stored(
        runtime.database,
        {"subscriptions": [(OTHER_GUILD, OTHER_CHANNEL)], "settings": [], "marks": []},
    )
