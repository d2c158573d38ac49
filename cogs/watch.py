"""`/watch add|remove|list`: the packages a channel is alerted about."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.events import Event, MinReleaseLevel
from bot.discordbot.bot import SentinelBot
from bot.discordbot.catalog import Match, package_autocomplete
from bot.discordbot.channel_settings import channel_embeds
from bot.discordbot.options import (
    EventsTransformer,
    MentionRole,
    api_cooldown,
    manager_only,
)
from bot.discordbot.replies import answer, defer_if_slow
from bot.discordbot.subscriptions import (
    channel_targets,
    describe,
    matching,
    subscribe_here,
    unsubscribe_here,
)
from bot.messages.limits import escape_text
from storage.models import TargetKind

Events = app_commands.Transform[frozenset[Event], EventsTransformer]


@app_commands.guild_only()
class Watch(
    commands.GroupCog, group_name="watch", group_description="Packages this channel watches."
):
    def __init__(self, bot: SentinelBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="add", description="Watch a package in this channel.")
    @app_commands.describe(
        slug="The package's slug, e.g. django-flatblocks",
        events="Comma-separated events to announce (default: every event but repo)",
        role="A role to mention in this package's alerts",
        min_level="The smallest release to announce (default: patch)",
    )
    @app_commands.autocomplete(slug=package_autocomplete)
    @api_cooldown
    @manager_only
    async def add(
        self,
        interaction: discord.Interaction,
        slug: str,
        events: Events | None = None,
        role: MentionRole | None = None,
        min_level: MinReleaseLevel | None = None,
    ) -> None:
        runtime = self.bot.runtime
        # Fetched now, so the baseline is taken when the subscription is made.
        record = await defer_if_slow(interaction, runtime.monitor.refresh_package(slug))
        subscription, outcome = await subscribe_here(
            runtime,
            interaction,
            TargetKind.PACKAGE,
            record.id,
            events=events,
            role_id=role.id if role else None,
            min_release_level=min_level,
        )
        name = f"**{escape_text(record.title)}** ({escape_text(record.slug)})"
        first = {
            "created": f"Now watching {name} here.",
            "updated": f"Still watching {name} here, with updated settings.",
            "unchanged": f"This channel is already watching {name}.",
        }[outcome]
        await answer(interaction, f"{first}\n{describe(subscription)}")

    @app_commands.command(name="remove", description="Stop watching a package in this channel.")
    @app_commands.describe(slug="A package this channel watches")
    @manager_only
    async def remove(self, interaction: discord.Interaction, slug: str) -> None:
        removed = await unsubscribe_here(self.bot.runtime, interaction, TargetKind.PACKAGE, slug)
        if removed is None:
            await answer(
                interaction, f"This channel does not watch “{escape_text(slug)}”.", ephemeral=True
            )
            return
        await answer(interaction, f"Stopped watching **{escape_text(removed.title)}** here.")

    @remove.autocomplete("slug")
    async def watched_slugs(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        assert interaction.channel_id is not None
        targets = await channel_targets(self.bot.runtime, interaction.channel_id)
        watched = [t for t in targets if t.kind == TargetKind.PACKAGE]
        return [Match(t.slug, t.title).choice() for t in matching(watched, current)]

    @app_commands.command(name="list", description="What this channel watches, and how.")
    async def list_(self, interaction: discord.Interaction) -> None:
        assert interaction.channel_id is not None
        embeds = await channel_embeds(self.bot.runtime, interaction.channel_id)
        await answer(interaction, embeds=embeds, ephemeral=True)


async def setup(bot: SentinelBot) -> None:
    await bot.add_cog(Watch(bot))
