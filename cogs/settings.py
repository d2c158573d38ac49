"""`/settings ...` (managers only): how this channel's subscriptions alert.

A subcommand per concern: `show`, `alerts` (events, role, release level, pre-releases) today;
channel-wide digest and staleness settings slot in beside them.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_limits import CHOICE_NAME, truncate
from bot.discordbot.bot import SentinelBot
from bot.discordbot.options import BadOption, EventsTransformer, MinLevel, manager_only
from bot.discordbot.replies import answer
from bot.discordbot.subscriptions import (
    Target,
    channel_overview,
    channel_targets,
    describe,
    matching,
)
from bot.events import Event
from storage import subscriptions

Events = app_commands.Transform[frozenset[Event], EventsTransformer]


@app_commands.guild_only()
@app_commands.default_permissions(manage_channels=True)
class Settings(
    commands.GroupCog, group_name="settings", group_description="Alert settings of this channel."
):
    def __init__(self, bot: SentinelBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="show", description="Every subscription here and its settings.")
    @manager_only
    async def show(self, interaction: discord.Interaction) -> None:
        assert interaction.channel_id is not None
        embed = await channel_overview(self.bot.runtime, interaction.channel_id)
        await answer(interaction, embeds=[embed], ephemeral=True)

    @app_commands.command(name="alerts", description="Change what one subscription alerts about.")
    @app_commands.describe(
        target="A package or grid this channel follows",
        events="Comma-separated events to announce, or all / default",
        role="A role to mention in its alerts",
        clear_role="Stop mentioning a role",
        min_level="The smallest release to announce",
        prereleases="Announce pre-releases (alphas, betas, release candidates)",
    )
    @manager_only
    async def alerts(
        self,
        interaction: discord.Interaction,
        target: str,
        events: Events | None = None,
        role: discord.Role | None = None,
        clear_role: bool = False,
        min_level: MinLevel | None = None,
        prereleases: bool | None = None,
    ) -> None:
        assert interaction.guild_id is not None
        assert interaction.channel_id is not None
        if role is not None and clear_role:
            raise BadOption("Give a role or clear_role, not both.")
        followed = await self._target(interaction.channel_id, target)
        async with self.bot.runtime.database.transaction() as session:
            subscription, _ = await subscriptions.subscribe(
                session,
                guild_id=interaction.guild_id,
                channel_id=interaction.channel_id,
                target_kind=followed.kind,
                target_id=followed.id,
                created_by=interaction.user.id,
                events=events,
                role_id=role.id if role else None,
                min_release_level=min_level,
                include_prereleases=prereleases,
            )
            if clear_role:
                subscription.role_id = None
        await answer(interaction, f"**{followed.label()}**\n{describe(subscription)}")

    @alerts.autocomplete("target")
    async def followed_here(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        assert interaction.channel_id is not None
        targets = await channel_targets(self.bot.runtime, interaction.channel_id)
        return [
            app_commands.Choice(
                name=truncate(f"{t.kind}: {t.title} ({t.slug})", CHOICE_NAME), value=t.key
            )
            for t in matching(targets, current)
        ]

    async def _target(self, channel_id: int, text: str) -> Target:
        """The followed target named by an autocomplete value or a typed slug."""
        targets = await channel_targets(self.bot.runtime, channel_id)
        wanted = text.strip().lower()
        for target in targets:
            if wanted in (target.key.lower(), target.slug.lower()):
                return target
        raise BadOption(f"This channel does not follow “{text}”: pick one of the suggestions.")


async def setup(bot: SentinelBot) -> None:
    await bot.add_cog(Settings(bot))
