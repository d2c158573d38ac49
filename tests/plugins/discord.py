"""Fixtures for the loopback fake Discord (`tests/fakes/discord_api.py`).

async def test_ping(discord_fake, start_bot):
    await start_bot(make_bot())  # a bot built with guild_ready_timeout=0.05
    record = await discord_fake.run_command("ping")
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack

import discord
import pytest

from tests.fakes.discord_api import FakeDiscord
from tests.fakes.discord_runner import BotStarter, DiscordScene, running_bot


@pytest.fixture
async def discord_scene() -> AsyncIterator[DiscordScene]:
    async with FakeDiscord() as fake:
        yield DiscordScene.build(fake)


@pytest.fixture
def discord_fake(discord_scene: DiscordScene) -> FakeDiscord:
    """A running fake Discord holding the standard scene (see `DiscordScene`)."""
    return discord_scene.fake


@pytest.fixture
async def start_bot(discord_fake: FakeDiscord) -> AsyncIterator[BotStarter]:
    """`await start_bot(bot)` runs `bot` against the fake until the test ends."""
    async with AsyncExitStack() as stack:

        async def start(bot: discord.Client) -> discord.Client:
            return await stack.enter_async_context(running_bot(bot, discord_fake))

        yield start


@pytest.fixture
def discord_rules_kept(discord_scene: DiscordScene) -> Iterator[None]:
    """For `pytest.mark.usefixtures`: the test fails at teardown if the bot broke a rule the fake
    Discord checks (a refused request, a ping it should not have let through)."""
    yield
    assert discord_scene.fake.violations == [], "the bot broke Discord's rules"
