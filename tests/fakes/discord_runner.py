"""Run a real discord.py bot against a `FakeDiscord`, in the standard test scene.

Construct bots with `guild_ready_timeout=0.05` (the 2 s default makes every start slow).
`Route.BASE` and `DEFAULT_GATEWAY` are process-wide: `pointed_at` sets them and restores them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import discord
import yarl

from tests.fakes.discord_api import FakeDiscord
from tests.fakes.discord_interactions import InteractionRecord, OptionValue
from tests.fakes.discord_models import MANAGE_CHANNELS, FakeChannel, FakeGuild, FakeMember, FakeRole

READY_TIMEOUT = 5.0

BotStarter = Callable[[discord.Client], Awaitable[discord.Client]]


@dataclass(frozen=True)
class DiscordScene:
    """The standard world: one guild, #alerts and #general, a manager and a plain member."""

    fake: FakeDiscord
    guild: FakeGuild
    alerts: FakeChannel
    general: FakeChannel
    managers: FakeRole
    manager: FakeMember
    member: FakeMember

    @classmethod
    def build(cls, fake: FakeDiscord) -> DiscordScene:
        guild = fake.add_guild("Django Community")
        managers = guild.add_role("Channel Managers", MANAGE_CHANNELS, mentionable=True)
        return cls(
            fake=fake,
            guild=guild,
            alerts=guild.add_text_channel("alerts"),
            general=guild.add_text_channel("general"),
            managers=managers,
            manager=fake.add_member(guild, "manager", [managers]),
            member=fake.add_member(guild, "member"),
        )

    async def as_manager(
        self,
        command: str,
        *,
        channel: FakeChannel | None = None,
        for_channel: FakeChannel | None = None,
        **options: OptionValue,
    ) -> InteractionRecord:
        """`/command` with `options`, run by the manager in #alerts (or `channel`)."""
        return await self.as_user(
            self.manager, command, channel=channel, for_channel=for_channel, **options
        )

    async def as_member(
        self,
        command: str,
        *,
        channel: FakeChannel | None = None,
        for_channel: FakeChannel | None = None,
        **options: OptionValue,
    ) -> InteractionRecord:
        """`/command` with `options`, run by the plain member in #alerts (or `channel`)."""
        return await self.as_user(
            self.member, command, channel=channel, for_channel=for_channel, **options
        )

    async def as_user(
        self,
        user: FakeMember,
        command: str,
        *,
        channel: FakeChannel | None = None,
        for_channel: FakeChannel | None = None,
        **options: OptionValue,
    ) -> InteractionRecord:
        """`/command` with `options`, run by `user` in #alerts (or `channel`).

        `channel` is where the command is typed; `for_channel` fills the command's own
        `channel` option (the channel to set up, as in `/watch add ... channel:#alerts`).
        """
        if for_channel is not None:
            options["channel"] = for_channel
        where = channel or self.alerts
        return await self.fake.run_command(command, options, user=user, channel_id=where.id)

    async def choices_as_manager(
        self,
        command: str,
        *,
        focused: str,
        channel: FakeChannel | None = None,
        **options: OptionValue,
    ) -> list[dict[str, Any]]:
        """The choices the bot offers the manager typing `focused` of `/command` (its other
        `options` filled in) in #alerts (or `channel`)."""
        where = channel or self.alerts
        return await self.fake.autocomplete(
            command, options, focused=focused, user=self.manager, channel_id=where.id
        )


@contextmanager
def pointed_at(fake: FakeDiscord) -> Iterator[None]:
    """Point discord.py's REST base and default gateway at `fake` (process-wide), then restore."""
    base, gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = fake.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE = base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = gateway


@asynccontextmanager
async def running_bot(bot: discord.Client, fake: FakeDiscord) -> AsyncIterator[discord.Client]:
    """Log `bot` in to `fake`, connect it, wait until ready; close it on exit."""
    connection: asyncio.Task[None] | None = None
    with pointed_at(fake):
        try:
            await bot.login(fake.token)
            connection = asyncio.create_task(bot.connect(reconnect=False))
            await _until_ready(bot, connection)
            yield bot
        finally:
            await bot.close()
            if connection is not None:
                await asyncio.wait_for(connection, READY_TIMEOUT)


async def _until_ready(bot: discord.Client, connection: asyncio.Task[None]) -> None:
    """Wait for READY and the guilds, failing fast with the reason if the connection ends."""
    ready = asyncio.create_task(bot.wait_until_ready())
    await asyncio.wait(
        {connection, ready}, timeout=READY_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
    )
    ready.cancel()
    if connection.done():
        connection.result()
    if not bot.is_ready():
        raise TimeoutError(f"bot not ready within {READY_TIMEOUT}s")


async def change_role(
    bot: discord.Client, fake: FakeDiscord, guild: FakeGuild, role: FakeRole
) -> None:
    """Tell a running `bot` that `role` changed (as edited in the test) and wait until its
    cache holds the change: what it reads of the member's server-wide permissions."""
    updated = asyncio.ensure_future(bot.wait_for("guild_role_update", timeout=READY_TIMEOUT))
    await fake.update_role(guild, role)
    await updated
