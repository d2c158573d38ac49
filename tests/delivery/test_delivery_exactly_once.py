"""Exactly once through the real discord.py client and the fake Discord: nonces, paced posts."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from bot.delivery.senders import Destination
from bot.discordbot.bot import SentinelBot
from bot.discordbot.sender import DiscordSender
from storage.database import Database
from storage.models import Alert, AlertStatus
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.discord_runner import DiscordScene
from tests.plugins.app import SteppingClock, alerts_in, background
from tests.plugins.release import release_in_channels


async def test_a_post_repeated_with_its_nonce_gets_back_the_message_discord_has(
    sentinel: SentinelBot, discord_scene: DiscordScene
) -> None:
    sender = DiscordSender(sentinel)
    where = Destination(discord_scene.guild.id, discord_scene.alerts.id)
    message = {"content": "django-flatblocks 1.0.1 released", "nonce": "a1b2c3"}

    first = await sender.send(where, message)
    again = await sender.send(where, message)
    other = await sender.send(where, {**message, "nonce": "d4e5f6"})

    assert first == again != other
    assert len(alerts_in(discord_scene.fake, discord_scene.alerts.id)) == 2


async def test_a_pass_cut_off_after_discord_accepted_a_post_never_posts_it_twice(
    sentinel: SentinelBot, discord_scene: DiscordScene, database: Database, clock: SteppingClock
) -> None:
    fake = discord_scene.fake
    channels = await release_in_channels(database, fake, discord_scene.guild, 3, now=clock())
    hold = fake.hold_post(2, accepted=True)
    cut_off = asyncio.create_task(background(sentinel).deliver_once())
    await asyncio.wait_for(hold.reached.wait(), 5)
    cut_off.cancel()
    await asyncio.gather(cut_off, return_exceptions=True)
    hold.release()

    await background(sentinel).deliver_once()

    posted = {c: alerts_in(fake, c) for c in channels}
    assert [len(messages) for messages in posted.values()] == [1, 1, 1]
    async with database.session() as session:
        stored = list(await session.scalars(select(Alert).order_by(Alert.channel_id)))
    assert {a.status for a in stored} == {AlertStatus.SENT}
    assert {a.channel_id: a.message_id for a in stored} == {
        c: messages[0].id for c, messages in posted.items()
    }


async def test_a_large_release_is_paced_under_discords_global_limit(
    sentinel: SentinelBot, discord_scene: DiscordScene, database: Database, clock: SteppingClock
) -> None:
    fake = discord_scene.fake
    channels = await release_in_channels(database, fake, discord_scene.guild, 120, now=clock())

    # Delivered by this pass, or partly by the bot's own first pass if a loaded machine made it
    # late: the pacer is the process's, whichever pass posts.
    await background(sentinel).deliver_once()

    assert [len(alerts_in(fake, c)) for c in channels] == [1] * 120
    assert [(r.path, r.body) for r in fake.requests if r.status == 429] == []


async def test_the_fake_refuses_the_bot_token_over_50_requests_a_second(
    discord_fake: FakeDiscord,
) -> None:
    async with httpx.AsyncClient(base_url=discord_fake.api_base) as client:
        auth = {"Authorization": f"Bot {discord_fake.token}"}
        answers = await asyncio.gather(*(client.get("/users/@me", headers=auth) for _ in range(60)))
    refused = [a for a in answers if a.status_code == 429]
    assert len(refused) == 10
    assert refused[0].headers["X-RateLimit-Global"] == "true"
    assert refused[0].json()["global"] is True


async def test_a_message_discord_refuses_fails_once_and_the_next_channel_is_posted(
    sentinel: SentinelBot,
    discord_scene: DiscordScene,
    database: Database,
    clock: SteppingClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = discord_scene.fake
    refused, fine = await release_in_channels(database, fake, discord_scene.guild, 2, now=clock())
    fake.fail_next(f"POST /channels/{refused}/", status=400)

    await background(sentinel).deliver_once()
    clock.advance(timedelta(hours=2))
    await background(sentinel).deliver_once()

    assert (len(alerts_in(fake, refused)), len(alerts_in(fake, fine))) == (0, 1)
    async with database.session() as session:
        stored = {a.channel_id: a for a in await session.scalars(select(Alert))}
    assert (stored[refused].status, stored[refused].attempts) == (AlertStatus.FAILED, 1)
    assert "400" in (stored[refused].last_error or "")
    assert stored[fine].status == AlertStatus.SENT
    refusals = [r for r in caplog.records if "refused" in r.getMessage()]
    assert [r.levelname for r in refusals] == ["WARNING"]
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
