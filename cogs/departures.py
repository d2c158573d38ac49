"""Forgetting what the bot can no longer serve: a server it was removed from, a channel that
was deleted. Their subscriptions (webhook URLs are credentials), settings, marks and alerts
are deleted at once rather than kept for a destination that is gone."""

from __future__ import annotations

import logging

import discord
from discord.ext import commands

from bot.discordbot.bot import SentinelBot
from storage import departures

log = logging.getLogger(__name__)


class Departures(commands.Cog):
    def __init__(self, bot: SentinelBot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        async with self.bot.runtime.database.transaction() as session:
            forgotten = await departures.forget_guild(session, guild.id)
        log.info("left guild %d: forgot %s", guild.id, forgotten)

    @commands.Cog.listener()
    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        async with self.bot.runtime.database.transaction() as session:
            forgotten = await departures.forget_channel(session, channel.id)
        if forgotten:
            log.info("channel %d deleted: forgot %s", channel.id, forgotten)


async def setup(bot: SentinelBot) -> None:
    await bot.add_cog(Departures(bot))
