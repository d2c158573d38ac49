"""`/readiness django:<X.Y> [grid]`: which packages followed here declare a Django version."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.app.readiness import readiness_board
from bot.discordbot.bot import SentinelBot
from bot.discordbot.catalog import grid_autocomplete
from bot.discordbot.options import Slug, lookup_cooldown
from bot.discordbot.pages import Pages
from bot.discordbot.replies import defer_if_slow
from bot.discordbot.tables import readiness_pages


class Readiness(commands.Cog):
    def __init__(self, bot: SentinelBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="readiness", description="Which packages followed here declare a Django version."
    )
    @app_commands.describe(
        django="A Django feature version, e.g. 5.2 (default: the newest release)",
        grid="A grid to check instead of what this channel follows",
    )
    @app_commands.autocomplete(grid=grid_autocomplete)
    @lookup_cooldown()
    async def readiness(
        self,
        interaction: discord.Interaction,
        django: app_commands.Range[str, 1, 5] | None = None,
        grid: Slug | None = None,
    ) -> None:
        """From what PyPI said at the last refresh: the Framework :: Django :: X.Y classifiers
        of each package's latest final release."""
        board = await defer_if_slow(
            interaction,
            readiness_board(
                self.bot.runtime, django, grid=grid, channel_id=interaction.channel_id or 0
            ),
        )
        await Pages(readiness_pages(board), interaction.user.id).start(interaction)


async def setup(bot: SentinelBot) -> None:
    await bot.add_cog(Readiness(bot))
