"""`/stale [grid]` and `/status`: what needs attention, and how the bot itself is doing."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands
from discord.utils import format_dt

from bot.app.status import NO_REFRESH_YET, bot_status, describe_cycle, next_refresh
from bot.discordbot.bot import SentinelBot
from bot.discordbot.catalog import grid_autocomplete, stored_grid
from bot.discordbot.channel_settings import staleness_here
from bot.discordbot.options import Slug, lookup_cooldown
from bot.discordbot.replies import answer, defer_if_slow
from bot.discordbot.tables import site_links, stale_embed
from bot.messages.limits import escape_text
from bot.refresh.stale_reads import stale_among
from storage import grids, subscriptions


class Reports(commands.Cog):
    def __init__(self, bot: SentinelBot) -> None:
        self.bot = bot

    @app_commands.command(name="stale", description="Stale packages followed here, or in a grid.")
    @app_commands.describe(grid="A grid to check instead of what this channel follows")
    @app_commands.autocomplete(grid=grid_autocomplete)
    @lookup_cooldown()
    async def stale(self, interaction: discord.Interaction, grid: Slug | None = None) -> None:
        """Judged by this channel's staleness threshold and feature-complete marks."""
        runtime = self.bot.runtime
        channel_id = interaction.channel_id or 0
        if grid is None:
            async with runtime.database.session() as session:
                followed = await subscriptions.followed_package_ids(session, [channel_id])
            candidates = followed[channel_id]
            title = "Stale packages watched in this channel"
        else:
            found = await defer_if_slow(interaction, stored_grid(runtime, grid))
            async with runtime.database.session() as session:
                candidates = await grids.grid_member_ids(session, found.id)
            title = f"Stale packages in {escape_text(found.title)}"
        staleness = await staleness_here(runtime, channel_id)
        async with runtime.database.session() as session:
            rows = await stale_among(session, candidates, staleness, runtime.clock())
        embed = stale_embed(title, rows, len(candidates), staleness, site_links(runtime))
        await answer(interaction, embeds=[embed])

    @app_commands.command(name="status", description="How the bot is doing: refreshes, alerts.")
    async def status(self, interaction: discord.Interaction) -> None:
        runtime = self.bot.runtime
        shown = await bot_status(runtime)
        async with runtime.database.session() as session:
            subs = await subscriptions.guild_subscriptions(session, interaction.guild_id or 0)
        embed = discord.Embed(title="djp-sentinel status")
        last = shown.last_cycle
        if last is None:
            embed.add_field(name="Last refresh", value=NO_REFRESH_YET)
        else:
            embed.add_field(name="Last refresh", value=format_dt(last.finished_at, "R"))
            embed.add_field(name="Next refresh", value=format_dt(next_refresh(runtime, last), "R"))
            embed.add_field(name="Last cycle", value=describe_cycle(last), inline=False)
        paused = sum(1 for sub in subs if sub.paused_reason)
        embed.add_field(name="Packages tracked", value=f"{shown.tracked:,}")
        embed.add_field(name="Alerts waiting", value=f"{shown.pending:,}")
        embed.add_field(
            name="Subscriptions in this server",
            value=f"{len(subs)} ({paused} paused)" if paused else str(len(subs)),
        )
        now = runtime.clock()
        for source in shown.sources:
            lines = source.describe(now, lambda moment: format_dt(moment, "R"), escape_text)
            embed.add_field(name=source.source.display_name, value="\n".join(lines), inline=False)
        processes = shown.processes.describe(escape_text)
        embed.add_field(name="Processes", value="\n".join(processes), inline=False)
        await answer(interaction, embeds=[embed], ephemeral=True)


async def setup(bot: SentinelBot) -> None:
    await bot.add_cog(Reports(bot))
