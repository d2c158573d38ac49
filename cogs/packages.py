"""`/package slug`: a package's summary card with link buttons."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.app.summaries import look_up_package
from bot.discordbot.bot import SentinelBot
from bot.discordbot.catalog import package_autocomplete
from bot.discordbot.options import api_cooldown
from bot.discordbot.replies import STORED_COPY, answer, card_embed, defer_if_slow, link_buttons
from bot.messages.cards import package_card


class Packages(commands.Cog):
    def __init__(self, bot: SentinelBot) -> None:
        self.bot = bot

    @app_commands.command(name="package", description="Show a package from Django Packages.")
    @app_commands.describe(slug="The package's slug, e.g. django-flatblocks")
    @app_commands.autocomplete(slug=package_autocomplete)
    @api_cooldown
    async def package(self, interaction: discord.Interaction, slug: str) -> None:
        runtime = self.bot.runtime
        lookup = await defer_if_slow(interaction, look_up_package(runtime, slug, background=True))
        card = package_card(lookup.summary)
        await answer(
            interaction,
            STORED_COPY if lookup.from_cache else None,
            embeds=[card_embed(card)],
            view=link_buttons(card),
        )


async def setup(bot: SentinelBot) -> None:
    await bot.add_cog(Packages(bot))
