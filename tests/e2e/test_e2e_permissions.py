"""Permissions as Discord judges the member: role pings, server-wide actions, threads and voice.

The bot is started after the scene is set, so its cached roles hold the permissions a test
gives (a change made later reaches the bot only through the interaction's own payload).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from bot.app.runtime import Runtime
from storage import subscriptions
from tests.fakes.discord_models import (
    MANAGE_CHANNELS,
    MANAGE_GUILD,
    MENTION_EVERYONE,
    Overwrite,
)
from tests.fakes.discord_runner import BotStarter, DiscordScene, change_role
from tests.plugins.app import BotFactory

FLATBLOCKS = {"slug": "django-flatblocks"}
MEMBER_OVERWRITE = 1
pytestmark = pytest.mark.usefixtures("discord_rules_kept")


def bot_may_mention_everyone(scene: DiscordScene) -> None:
    next(r for r in scene.guild.roles if r.managed).permissions |= MENTION_EVERYONE


async def stored_roles(runtime: Runtime, channel_id: int) -> list[int | None]:
    async with runtime.database.session() as session:
        return [s.role_id for s in await subscriptions.channel_subscriptions(session, channel_id)]


@pytest.mark.parametrize(
    ("command", "options"),
    [("watch add", FLATBLOCKS), ("settings alerts", {"target": "django-flatblocks"})],
    ids=["watch add", "settings alerts"],
)
async def test_a_manager_cannot_make_alerts_ping_a_role_they_could_not_ping(
    discord_scene: DiscordScene,
    runtime: Runtime,
    make_bot: BotFactory,
    start_bot: BotStarter,
    command: str,
    options: Mapping[str, Any],
) -> None:
    """The bot may mention everyone; the manager (Manage Channels only) may not, so the staff
    role stays unpinged whatever the bot could do."""
    scene = discord_scene
    bot_may_mention_everyone(scene)
    staff = scene.guild.add_role("Staff")
    await start_bot(make_bot())
    if command == "settings alerts":
        await scene.as_manager("watch add", slug="django-flatblocks")

    record = await scene.as_manager(command, role=staff, **options)

    assert record.ephemeral
    assert (record.content or "").startswith("You cannot mention the role Staff yourself")
    expected = [None] if command == "settings alerts" else []
    assert await stored_roles(runtime, scene.alerts.id) == expected
    assert all(m.mentions.nobody for m in scene.fake.messages(scene.alerts.id))


async def test_another_channel_is_judged_by_the_managers_permissions_there(
    discord_scene: DiscordScene, runtime: Runtime, make_bot: BotFactory, start_bot: BotStarter
) -> None:
    """Mention Everyone in #general (an overwrite) does not let alerts ping in #alerts."""
    scene = discord_scene
    bot_may_mention_everyone(scene)
    scene.managers.permissions |= MANAGE_CHANNELS
    scene.general.overwrites.append(
        Overwrite(scene.manager.id, MEMBER_OVERWRITE, allow=MENTION_EVERYONE)
    )
    staff = scene.guild.add_role("Staff")
    await start_bot(make_bot())

    record = await scene.as_manager(
        "watch add",
        slug="django-flatblocks",
        role=staff,
        channel=scene.general,
        for_channel=scene.alerts,
    )

    assert "You cannot mention the role Staff yourself" in (record.content or "")
    assert await stored_roles(runtime, scene.alerts.id) == []


async def test_watch_test_pings_only_when_asked(
    discord_scene: DiscordScene, make_bot: BotFactory, start_bot: BotStarter
) -> None:
    scene = discord_scene
    readers = scene.guild.add_role("Readers", mentionable=True)
    await start_bot(make_bot())
    await scene.as_manager("watch add", role=readers, slug="django-flatblocks")

    quiet = await scene.as_manager("watch test")
    loud = await scene.as_manager("watch test", ping=True)

    assert "Posted a sample" in (quiet.content or "")
    assert "Posted a sample" in (loud.content or "")
    *_, first, second = scene.fake.messages(scene.alerts.id)
    assert first.mentions.nobody
    assert second.mentions.roles == {readers.id}


async def test_watch_test_will_not_ping_a_role_made_unmentionable_since(
    discord_scene: DiscordScene, make_bot: BotFactory, start_bot: BotStarter
) -> None:
    scene = discord_scene
    staff = scene.guild.add_role("Staff", mentionable=True)
    bot = await start_bot(make_bot())
    await scene.as_manager("watch add", role=staff, slug="django-flatblocks")
    posted = len(scene.fake.messages(scene.alerts.id))
    staff.mentionable = False
    await change_role(bot, scene.fake, scene.guild, staff)

    record = await scene.as_manager("watch test", ping=True)

    assert record.ephemeral
    assert (record.content or "").startswith("You cannot mention the role Staff yourself")
    assert len(scene.fake.messages(scene.alerts.id)) == posted


async def test_watch_test_is_throttled_per_channel(
    discord_scene: DiscordScene, make_bot: BotFactory, start_bot: BotStarter
) -> None:
    """Two managers taking turns still get two samples a minute in one channel."""
    scene = discord_scene
    other = scene.fake.add_member(scene.guild, "other-manager", [scene.managers])
    await start_bot(make_bot())
    await scene.as_manager("watch add", slug="django-flatblocks")
    before = len(scene.fake.messages(scene.alerts.id))

    answers = [
        await scene.as_user(who, "watch test")
        for who in (scene.manager, other, scene.manager, other)
    ]

    assert len(scene.fake.messages(scene.alerts.id)) == before + 2
    assert ["Posted a sample" in (a.content or "") for a in answers] == [True, True, False, False]
    assert all("Slow down" in (a.content or "") for a in answers[2:])


async def test_export_needs_manage_server_server_wide(
    discord_scene: DiscordScene, make_bot: BotFactory, start_bot: BotStarter
) -> None:
    """Manage Channels (and even Manage Server) through an overwrite on one's own channel does
    not open every channel's subscriptions."""
    scene = discord_scene
    hidden = scene.guild.add_text_channel("staff")
    owner_of_general = scene.fake.add_member(scene.guild, "channel-owner")
    scene.general.overwrites.append(
        Overwrite(owner_of_general.id, MEMBER_OVERWRITE, allow=MANAGE_CHANNELS | MANAGE_GUILD)
    )
    admins = scene.guild.add_role("Admins", MANAGE_GUILD)
    admin = scene.fake.add_member(scene.guild, "admin", [admins])
    await start_bot(make_bot())
    await scene.as_manager("watch add", channel=hidden, slug="django-flatblocks")

    refused = await scene.as_user(owner_of_general, "settings export", channel=scene.general)
    allowed = await scene.as_user(admin, "settings export", channel=hidden)

    assert refused.ephemeral
    assert refused.attachments == []
    assert "needs the Manage Server permission server-wide" in (refused.content or "")
    assert str(hidden.id) not in str(refused.reply.payload() if refused.reply else "")
    assert len(allowed.attachments) == 1


async def test_another_channel_needs_manage_channels_server_wide(
    discord_scene: DiscordScene, runtime: Runtime, make_bot: BotFactory, start_bot: BotStarter
) -> None:
    """Manage Channels through overwrites in two channels lets a member set up each of them
    from inside it, not one from the other."""
    scene = discord_scene
    helper = scene.fake.add_member(scene.guild, "helper")
    for channel in (scene.alerts, scene.general):
        channel.overwrites.append(Overwrite(helper.id, MEMBER_OVERWRITE, allow=MANAGE_CHANNELS))
    await start_bot(make_bot())

    record = await scene.as_user(
        helper,
        "watch add",
        channel=scene.general,
        for_channel=scene.alerts,
        slug="django-flatblocks",
    )
    there = await scene.as_user(helper, "watch add", slug="django-flatblocks")

    assert "needs the Manage Channels permission server-wide" in (record.content or "")
    assert "Now watching" in (there.content or "")


@pytest.mark.parametrize(
    ("command", "options", "place", "sentence"),
    [
        ("watch add", FLATBLOCKS, "thread", "Threads have no alerts or settings of their own"),
        ("grid subscribe", {"grid": "flatpages"}, "thread", "run /grid subscribe in #alerts"),
        ("settings show", {}, "thread", "run /settings show in #alerts"),
        ("watch add", FLATBLOCKS, "voice", "/watch add works in text channels only"),
        ("grid subscribe", {"grid": "flatpages"}, "voice", "not in a voice channel's chat"),
        ("watch list", {}, "voice", "/watch list works in text channels only"),
    ],
)
async def test_threads_and_voice_chats_are_told_where_to_run_the_command(
    discord_scene: DiscordScene,
    runtime: Runtime,
    make_bot: BotFactory,
    start_bot: BotStarter,
    command: str,
    options: Mapping[str, Any],
    place: str,
    sentence: str,
) -> None:
    scene = discord_scene
    where = (
        scene.guild.add_thread(scene.alerts, "release chat")
        if place == "thread"
        else scene.guild.add_voice_channel("Lounge")
    )
    await start_bot(make_bot())

    record = await scene.as_manager(command, channel=where, **options)

    assert record.ephemeral
    assert sentence in (record.content or "")
    assert "Something went wrong" not in (record.content or "")
    assert len((record.content or "").splitlines()) == 1
    async with runtime.database.session() as session:
        assert await subscriptions.channel_subscriptions(session, where.id) == []


async def test_a_thread_may_set_up_its_text_channel_by_naming_it(
    discord_scene: DiscordScene, runtime: Runtime, make_bot: BotFactory, start_bot: BotStarter
) -> None:
    scene = discord_scene
    scene.managers.permissions |= MANAGE_CHANNELS
    thread = scene.guild.add_thread(scene.alerts, "release chat")
    await start_bot(make_bot())

    record = await scene.as_manager(
        "watch add", channel=thread, for_channel=scene.alerts, slug="django-flatblocks"
    )

    assert "Now watching" in (record.content or "")
    assert await stored_roles(runtime, scene.alerts.id) == [None]
