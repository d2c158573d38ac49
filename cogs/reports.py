"""`/stale [grid]` and `/status`: what needs attention, and how the bot itself is doing."""

from __future__ import annotations

from datetime import timedelta

import discord
from discord import app_commands
from discord.ext import commands
from discord.utils import format_dt

from bot.discordbot.bot import SentinelBot
from bot.discordbot.catalog import grid_autocomplete, stored_grid
from bot.discordbot.channel_settings import staleness_here
from bot.discordbot.options import Slug, lookup_cooldown
from bot.discordbot.replies import answer, defer_if_slow
from bot.discordbot.tables import site_links, stale_embed
from bot.messages.limits import escape_text
from bot.refresh.stale_reads import stale_among
from storage import cycles, grids, outbox, packages, subscriptions


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
        async with runtime.database.session() as session:
            last = await cycles.last_cycle(session)
            tracked = await packages.package_count(session)
            pending = await outbox.pending_count(session)
            subs = await subscriptions.guild_subscriptions(session, interaction.guild_id or 0)
        interval = timedelta(seconds=runtime.settings.poll_interval_seconds)
        embed = discord.Embed(title="djp-sentinel status")
        if last is None:
            embed.add_field(name="Last refresh", value="none yet: the first one runs at start-up")
        else:
            embed.add_field(name="Last refresh", value=format_dt(last.finished_at, "R"))
            embed.add_field(name="Next refresh", value=format_dt(last.started_at + interval, "R"))
            embed.add_field(
                name="Last cycle",
                value=f"{last.packages_fetched} packages and {last.grids_fetched} grids fetched, "
                f"{last.changes} changes, {last.alerts_enqueued} alerts, "
                f"{last.packages_failed} failures",
                inline=False,
            )
        paused = sum(1 for sub in subs if sub.paused_reason)
        embed.add_field(name="Packages tracked", value=f"{tracked:,}")
        embed.add_field(name="Alerts waiting", value=f"{pending:,}")
        embed.add_field(
            name="Subscriptions in this server",
            value=f"{len(subs)} ({paused} paused)" if paused else str(len(subs)),
        )
        await answer(interaction, embeds=[embed], ephemeral=True)


async def setup(bot: SentinelBot) -> None:
    await bot.add_cog(Reports(bot))
