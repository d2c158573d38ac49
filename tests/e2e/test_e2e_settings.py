"""`/settings` for a whole channel: each change says what is in force, survives a restart and
travels in an export; members without Manage Channels change nothing."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pytest

from bot.app.runtime import Runtime
from bot.app.transfer import (
    SubscriptionEntry,
    TransferDocument,
    import_document,
    parse_document,
)
from bot.discordbot.bot import SentinelBot
from storage import channels, subscriptions
from storage.channels import ChannelPreferences
from storage.database import Database
from storage.models import DigestMode, TargetKind
from tests.fakes.discord_interactions import InteractionRecord
from tests.fakes.discord_models import MANAGE_GUILD
from tests.fakes.discord_runner import DiscordScene, change_role, running_bot
from tests.plugins.app import BotFactory, attachment

#: Every channel-wide setting a manager can change, with what the bot answers.
CHANGES: list[tuple[str, Mapping[str, Any], str]] = [
    (
        "settings digest",
        {"mode": "weekly", "hour": 7, "weekday": "friday", "bypass": "stale, release:major"},
        "Alerts here are gathered into a weekly digest on Fridays at 07:00 UTC; "
        "stale alerts, major releases are posted at once.",
    ),
    (
        "settings staleness",
        {"days": 200},
        "Packages count as stale here after 200 days without a commit.",
    ),
    (
        "settings complete",
        {"slug": "django-flatblocks"},
        "**django-flatblocks** is marked feature-complete here: "
        "it never counts as stale in this channel.",
    ),
    (
        "settings cap",
        {"per_day": 20},
        "At most 20 alerts a day are posted here; "
        "the rest of the day's are counted in one summary line.",
    ),
    (
        "settings report",
        {"state": "on"},
        "A weekly stale report is posted here on Fridays at 07:00 UTC when something "
        "followed here is stale (set the day and hour with /settings digest).",
    ),
]
IN_FORCE = ChannelPreferences(
    channel_id=0,
    digest_mode=DigestMode.WEEKLY,
    digest_hour=7,
    digest_weekday=4,
    digest_bypass=("stale", "release:major"),
    stale_after_days=200,
    daily_cap=20,
    stale_report=True,
)
pytestmark = pytest.mark.usefixtures("discord_rules_kept")


async def configure(scene: DiscordScene) -> list[InteractionRecord]:
    """The manager follows a package and a grid in #alerts and changes every setting there."""
    await scene.as_manager(
        "watch add", slug="django-flatblocks", role=scene.managers, events="release, stale"
    )
    await scene.as_manager("grid subscribe", grid="caching")
    return [await scene.as_manager(name, **options) for name, options, _ in CHANGES]


def fields(embed: dict[str, Any]) -> dict[str, str]:
    return {field["name"]: field["value"] for field in embed["fields"]}


async def test_each_change_confirms_what_is_in_force(
    discord_scene: DiscordScene, runtime: Runtime, sentinel: SentinelBot
) -> None:
    answers = await configure(discord_scene)

    assert [a.content for a in answers] == [said for _, _, said in CHANGES]
    assert not any(a.ephemeral for a in answers)
    async with runtime.database.session() as session:
        preferences = await channels.preferences(session, discord_scene.alerts.id)
    assert preferences == replace(IN_FORCE, channel_id=discord_scene.alerts.id)


async def test_undoing_each_setting_goes_back_to_the_defaults(
    discord_scene: DiscordScene, runtime: Runtime, sentinel: SentinelBot
) -> None:
    alerts = discord_scene.alerts
    await configure(discord_scene)

    undone = [
        await discord_scene.as_manager("settings digest", mode="immediate", bypass="none"),
        await discord_scene.as_manager("settings staleness"),
        await discord_scene.as_manager("settings incomplete", slug="django-flatblocks"),
        await discord_scene.as_manager("settings cap"),
        await discord_scene.as_manager("settings report", state="off"),
    ]
    again = await discord_scene.as_manager("settings incomplete", slug="django-flatblocks")

    assert [a.content for a in undone] == [
        "Alerts are posted here as they happen.",
        "Packages count as stale here after 365 days without a commit (the default).",
        "**django-flatblocks** is no longer marked feature-complete here: "
        "it counts as stale after 365 days without a commit.",
        "No daily cap: every alert is posted here.",
        "No weekly stale report here.",
    ]
    assert again.ephemeral
    assert "is not marked feature-complete" in (again.content or "")
    async with runtime.database.session() as session:
        preferences = await channels.preferences(session, alerts.id)
        marks = await channels.feature_complete_ids(session, alerts.id)
    assert preferences == ChannelPreferences(alerts.id, digest_hour=7, digest_weekday=4)
    assert marks == frozenset()


async def test_a_bad_digest_bypass_is_explained_and_changes_nothing(
    discord_scene: DiscordScene, runtime: Runtime, sentinel: SentinelBot
) -> None:
    alerts = discord_scene.alerts

    record = await discord_scene.as_manager(
        "settings digest", mode="daily", bypass="stale, release:huge"
    )

    assert record.ephemeral
    assert (record.content or "").startswith(
        "Unknown digest bypass 'release:huge': use event names"
    )
    assert "release:major" in (record.content or "")
    async with runtime.database.session() as session:
        assert await channels.preferences(session, alerts.id) == ChannelPreferences(alerts.id)


async def test_marks_complete_from_the_catalog_and_unmark_from_this_channels_marks(
    discord_scene: DiscordScene, sentinel: SentinelBot
) -> None:
    scene = discord_scene
    await configure(scene)

    offered = await scene.choices_as_manager("settings complete", focused="slug", slug="flatbl")
    marked = await scene.choices_as_manager("settings incomplete", focused="slug", slug="")
    elsewhere = await scene.choices_as_manager(
        "settings incomplete", focused="slug", slug="", channel=scene.general
    )

    assert "django-flatblocks" in [choice["value"] for choice in offered]
    assert [choice["value"] for choice in marked] == ["django-flatblocks"]
    assert elsewhere == []


async def test_settings_and_subscriptions_survive_a_restart(
    discord_scene: DiscordScene, make_bot: BotFactory
) -> None:
    async with running_bot(make_bot(), discord_scene.fake):
        await configure(discord_scene)

    async with running_bot(make_bot(), discord_scene.fake):
        shown = await discord_scene.as_manager("settings show")

    assert shown.ephemeral
    settings, followed = shown.embeds
    assert fields(settings) == {
        "Digest": CHANGES[0][2],
        "Staleness": CHANGES[1][2],
        "Daily cap": CHANGES[3][2],
        "Weekly stale report": CHANGES[4][2],
        "Feature-complete (never stale here)": "django-flatblocks",
    }
    assert "django-flatblocks" in followed["description"]
    assert "events: release, stale" in followed["description"]
    assert f"mentions <@&{discord_scene.managers.id}>" in followed["description"]
    assert "grid Caching (caching)" in followed["description"]


async def test_an_export_imported_into_an_empty_database_reproduces_the_subscriptions(
    discord_scene: DiscordScene,
    runtime: Runtime,
    other_database: Database,
    sentinel: SentinelBot,
) -> None:
    await configure(discord_scene)
    guild_id = discord_scene.guild.id
    discord_scene.managers.permissions |= MANAGE_GUILD  # an export reads every channel
    await change_role(sentinel, discord_scene.fake, discord_scene.guild, discord_scene.managers)

    exported = await discord_scene.as_manager("settings export", channel=discord_scene.general)
    name, content = attachment(exported)
    summary = await import_document(
        other_database,
        parse_document(content),
        now=runtime.clock(),
        settings=runtime.settings,
        guild=guild_id,
    )  # a server's file: imported for that server only

    assert exported.ephemeral
    assert name == f"djp-sentinel-{guild_id}.json"
    assert json.loads(content)["guild_id"] == guild_id
    assert (summary.subscriptions, summary.channels, summary.marks) == (2, 1, 1)
    exported_state, imported_state = [
        await guild_state(db, guild_id, discord_scene.alerts.id)
        for db in (runtime.database, other_database)
    ]
    assert imported_state == exported_state


async def guild_state(database: Database, guild_id: int, channel_id: int) -> tuple[object, ...]:
    """What an export carries: subscriptions, the channel's settings and marks."""
    async with database.session() as session:
        subs = await subscriptions.guild_subscriptions(session, guild_id)
        preferences = await channels.preferences(session, channel_id)
        marks = await channels.feature_complete_ids(session, channel_id)
    following = sorted(
        (s.channel_id, s.target_kind, s.target_id, sorted(s.events), s.role_id, s.min_release_level)
        for s in subs
    )
    return following, preferences, marks


async def test_members_without_manage_channels_change_nothing(
    discord_scene: DiscordScene, runtime: Runtime, sentinel: SentinelBot
) -> None:
    alerts = discord_scene.alerts

    refused = [await discord_scene.as_member(name, **options) for name, options, _ in CHANGES]
    export = await discord_scene.as_member("settings export")

    for record in refused:
        assert record.ephemeral
        assert (
            record.content
            == "You need the Manage Channels permission for this: ask a server manager."
        )
    assert export.ephemeral
    assert "needs the Manage Server permission server-wide" in (export.content or "")
    assert export.attachments == []
    async with runtime.database.session() as session:
        assert await channels.preferences(session, alerts.id) == ChannelPreferences(alerts.id)
        assert await channels.feature_complete_ids(session, alerts.id) == frozenset()


async def test_an_imported_watch_shows_its_slug_before_the_first_refresh(
    discord_scene: DiscordScene, runtime: Runtime, sentinel: SentinelBot
) -> None:
    alerts = discord_scene.alerts
    document = TransferDocument(
        exported_at=runtime.clock(),
        subscriptions=[
            SubscriptionEntry(
                guild_id=discord_scene.guild.id,
                channel_id=alerts.id,
                target_kind=TargetKind.PACKAGE,
                target_id=6287,  # not stored: nothing has been refreshed yet
                target_slug="django-orbit-tasks",
                events=["release"],
                min_release_level="patch",
                include_prereleases=True,
            )
        ],
    )
    await import_document(
        runtime.database,
        document,
        now=runtime.clock(),
        settings=runtime.settings,
        guild=discord_scene.guild.id,
    )

    listing = await discord_scene.as_member("watch list")

    _, embed = listing.embeds
    assert "**django-orbit-tasks**" in embed["description"]
    assert "6287" not in embed["description"]
