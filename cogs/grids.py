"""`/grid show|subscribe|unsubscribe`: grids as ranked tables, and channels that follow them.

`/grid show` ranks under this channel's staleness settings, a page at a time.
"""

from __future__ import annotations

import asyncio
import io

import discord
from discord import app_commands
from discord.ext import commands

from bot.app.grid_table import GridTable, SortKey, load_grid_table
from bot.app.runtime import Runtime
from bot.core.plural import counted
from bot.discordbot.bot import SentinelBot
from bot.discordbot.catalog import grid_autocomplete
from bot.discordbot.channel_settings import staleness_here
from bot.discordbot.options import Slug, lookup_cooldown, manager_only, setup_cooldown
from bot.discordbot.pages import Pages
from bot.discordbot.permissions import AlertChannel, text_channel_of, text_channel_only
from bot.discordbot.reach import check_alert_channel
from bot.discordbot.replies import STORED_COPY, answer, defer_if_slow
from bot.discordbot.subscriptions import describe, room_here, subscribe_here, unsubscribe_here
from bot.discordbot.tables import grid_pages, site_links
from bot.messages.chart import grid_chart
from bot.messages.limits import escape_text
from bot.refresh.staleness import ChannelStaleness
from storage.models import TargetKind

CHART_FILE = "grid-activity.png"


async def table_with_chart(
    runtime: Runtime, grid: Slug, sort: SortKey, staleness: ChannelStaleness
) -> tuple[GridTable, bytes | None]:
    """A grid's ranked table and its members' activity chart (rendered in a worker thread)."""
    table = await load_grid_table(runtime, grid, sort=sort, staleness=staleness)
    counted = [row.counted_at for row in table.rows if row.counted_at]
    title = f"{table.title}: commits per week, in the table's order"
    when = max(counted, default=runtime.clock())
    return table, await asyncio.to_thread(grid_chart, title, table.rows, when)


@app_commands.guild_only()
class Grids(commands.GroupCog, group_name="grid", group_description="Django Packages grids."):
    def __init__(self, bot: SentinelBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="show", description="A grid's packages, ranked.")
    @app_commands.describe(
        grid="The grid's slug, e.g. flatpages",
        sort="Most stars first (default), or latest commit first",
    )
    @app_commands.autocomplete(grid=grid_autocomplete)
    @lookup_cooldown()
    async def show(
        self, interaction: discord.Interaction, grid: Slug, sort: SortKey = "stars"
    ) -> None:
        runtime = self.bot.runtime
        staleness = await staleness_here(runtime, interaction.channel_id or 0)
        # The chart is drawn off the event loop, within the time that decides deferring.
        table, chart = await defer_if_slow(
            interaction, table_with_chart(runtime, grid, sort, staleness)
        )
        pages = Pages(grid_pages(table, site_links(runtime)), interaction.user.id)
        file = discord.File(io.BytesIO(chart), filename=CHART_FILE) if chart else None
        await pages.start(interaction, STORED_COPY if table.from_cache else None, file=file)

    @app_commands.command(
        name="subscribe", description="Follow a grid in this channel (or another)."
    )
    @app_commands.describe(
        grid="The grid's slug, e.g. flatpages",
        channel="Where to post its alerts (default: this channel)",
    )
    @app_commands.autocomplete(grid=grid_autocomplete)
    @setup_cooldown()
    @manager_only
    async def subscribe(
        self, interaction: discord.Interaction, grid: Slug, channel: AlertChannel | None = None
    ) -> None:
        runtime = self.bot.runtime
        where = channel or text_channel_of(interaction)
        check_alert_channel(interaction, where)
        await room_here(runtime, interaction, TargetKind.GRID, grid, where.id)
        # Synced now: the first sync is the silent baseline.
        record = await defer_if_slow(interaction, runtime.monitor.refresh_grid(grid))
        subscription, outcome = await subscribe_here(
            runtime, interaction, TargetKind.GRID, record.id, channel_id=where.id
        )
        name = f"the grid **{escape_text(record.title)}**"
        place = "here" if where.id == interaction.channel_id else f"in {where.mention}"
        first = {
            "created": f"Now following {name} {place}",
            "updated": f"Still following {name} {place}",
            "unchanged": f"Already following {name} {place}",
        }[outcome]
        await answer(
            interaction,
            f"{first}: packages joining or leaving it, and the events of its "
            f"{counted(len(record.package_ids), 'package')}.\n{describe(subscription)}",
        )

    @app_commands.command(name="unsubscribe", description="Stop following a grid here.")
    @app_commands.describe(grid="A grid this channel follows")
    @app_commands.autocomplete(grid=grid_autocomplete)
    @text_channel_only()
    @manager_only
    async def unsubscribe(self, interaction: discord.Interaction, grid: Slug) -> None:
        removed = await unsubscribe_here(self.bot.runtime, interaction, TargetKind.GRID, grid)
        if removed is None:
            text = f"This channel does not follow the grid “{escape_text(grid)}”."
            await answer(interaction, text, ephemeral=True)
            return
        await answer(
            interaction, f"Stopped following the grid **{escape_text(removed.title)}** here."
        )


async def setup(bot: SentinelBot) -> None:
    await bot.add_cog(Grids(bot))
