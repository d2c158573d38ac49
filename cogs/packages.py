"""`/package slug`: a package's summary card with its commit chart and link buttons."""

from __future__ import annotations

import asyncio
import io

import discord
from discord import app_commands
from discord.ext import commands

from bot.app.runtime import Runtime
from bot.app.summaries import Lookup, look_up_package
from bot.discordbot.bot import SentinelBot
from bot.discordbot.catalog import package_autocomplete
from bot.discordbot.options import Slug, lookup_cooldown
from bot.discordbot.replies import STORED_COPY, answer, card_embed, defer_if_slow, link_buttons
from bot.messages.cards import package_card
from bot.messages.chart import package_chart

CHART_FILE = "activity.png"


async def look_up_with_chart(runtime: Runtime, slug: str) -> tuple[Lookup, bytes | None]:
    """The package's summary and its commit chart (rendered in a worker thread)."""
    lookup = await look_up_package(runtime, slug, background=True)
    return lookup, await asyncio.to_thread(package_chart, lookup.summary)


class Packages(commands.Cog):
    def __init__(self, bot: SentinelBot) -> None:
        self.bot = bot

    @app_commands.command(name="package", description="Show a package from Django Packages.")
    @app_commands.describe(slug="The package's slug, e.g. django-flatblocks")
    @app_commands.autocomplete(slug=package_autocomplete)
    @lookup_cooldown()
    async def package(self, interaction: discord.Interaction, slug: Slug) -> None:
        runtime = self.bot.runtime
        # The chart is drawn off the event loop, within the time that decides deferring.
        lookup, chart = await defer_if_slow(interaction, look_up_with_chart(runtime, slug))
        card = package_card(lookup.summary)
        embed = card_embed(card)
        file = None
        if chart is not None:
            file = discord.File(io.BytesIO(chart), filename=CHART_FILE)
            embed.set_image(url=f"attachment://{CHART_FILE}")
        await answer(
            interaction,
            STORED_COPY if lookup.from_cache else None,
            embeds=[embed],
            view=link_buttons(card),
            file=file,
        )


async def setup(bot: SentinelBot) -> None:
    await bot.add_cog(Packages(bot))
