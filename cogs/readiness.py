"""`/readiness django:<X.Y> [grid]`: which packages followed here declare a Django version."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.app.readiness import ReadinessBoard, readiness_board
from bot.discordbot.bot import SentinelBot
from bot.discordbot.catalog import grid_autocomplete
from bot.discordbot.options import Slug, lookup_cooldown
from bot.discordbot.replies import answer, defer_if_slow
from bot.messages.limits import DESCRIPTION, escape_text

_MARKS = {"ready": "✅", "no": "❌", "unknown": "❔"}
#: Room kept in the description for the "… and N more" line.
_MORE_ROOM = 40


def readiness_embed(board: ReadinessBoard) -> discord.Embed:
    """The counts as title, the version's dates, one line per package (as many as fit)."""
    lines: list[str] = []
    used = 0
    for shown, row in enumerate(board.rows):
        declared = ", ".join(row.django_versions) or "no Django versions declared"
        line = f"{_MARKS[row.status]} **{escape_text(row.slug)}** ({row.status}): {declared}"
        if used + len(line) + 1 > DESCRIPTION - _MORE_ROOM:
            lines.append(f"… and {len(board.rows) - shown} more")
            break
        lines.append(line)
        used += len(line) + 1
    embed = discord.Embed(
        title=board.headline(), description="\n".join(lines) or "No packages to show."
    )
    if board.cycle is not None:
        embed.set_footer(text=board.cycle.describe())
    return embed


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
        await answer(interaction, embeds=[readiness_embed(board)])


async def setup(bot: SentinelBot) -> None:
    await bot.add_cog(Readiness(bot))
