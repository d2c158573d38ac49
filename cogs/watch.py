"""`/watch add|remove|list|test`: the packages a channel is alerted about, and a sample alert
to check where and how they arrive."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.events import Event, MinReleaseLevel
from bot.delivery.senders import DeliveryFailed, DestinationGone
from bot.discordbot.bot import SentinelBot
from bot.discordbot.catalog import Match, may_answer, package_autocomplete
from bot.discordbot.channel_settings import channel_pages
from bot.discordbot.options import (
    EventsTransformer,
    MentionRole,
    Slug,
    TargetKey,
    manager_only,
    sample_cooldown,
    setup_cooldown,
)
from bot.discordbot.permissions import (
    AlertChannel,
    check_stored_role,
    text_channel_of,
    text_channel_only,
)
from bot.discordbot.reach import check_alert_channel
from bot.discordbot.replies import answer, defer_if_slow
from bot.discordbot.requirements_import import import_here
from bot.discordbot.sample import post_sample
from bot.discordbot.subscriptions import (
    alert_changes,
    channel_targets,
    describe,
    followed_autocomplete,
    followed_target,
    matching,
    room_here,
    subscribe_here,
    targets_of,
    unsubscribe_here,
)
from bot.messages.limits import escape_text
from storage import subscriptions
from storage.models import TargetKind

Events = app_commands.Transform[frozenset[Event], EventsTransformer]

NOTHING_TO_TEST = "This channel follows nothing yet: add a package with /watch add first."


@app_commands.guild_only()
class Watch(
    commands.GroupCog, group_name="watch", group_description="Packages this channel watches."
):
    def __init__(self, bot: SentinelBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="add", description="Watch a package in this channel (or another).")
    @app_commands.describe(
        slug="The package's slug, e.g. django-flatblocks",
        events="Comma-separated events to announce (default: every event but repo)",
        role="A role to mention in this package's alerts",
        min_level="The smallest release to announce (default: patch)",
        channel="Where to post its alerts (default: this channel)",
    )
    @app_commands.autocomplete(slug=package_autocomplete)
    @setup_cooldown()
    @manager_only
    async def add(
        self,
        interaction: discord.Interaction,
        slug: Slug,
        events: Events | None = None,
        role: MentionRole | None = None,
        min_level: MinReleaseLevel | None = None,
        channel: AlertChannel | None = None,
    ) -> None:
        runtime = self.bot.runtime
        where = channel or text_channel_of(interaction)
        check_alert_channel(interaction, where, role)
        await room_here(runtime, interaction, TargetKind.PACKAGE, slug, where.id)
        # Fetched now, so the baseline is taken when the subscription is made.
        record = await defer_if_slow(interaction, runtime.monitor.refresh_package(slug))
        subscription, outcome = await subscribe_here(
            runtime,
            interaction,
            TargetKind.PACKAGE,
            record.id,
            channel_id=where.id,
            **alert_changes(events=events, role=role, min_level=min_level),
        )
        here = where.id == interaction.channel_id
        place, there = ("here", "") if here else (f"in {where.mention}", f" in {where.mention}")
        name = f"**{escape_text(record.title)}** ({escape_text(record.slug)})"
        first = {
            "created": f"Now watching {name} {place}.",
            "updated": f"Still watching {name} {place}, with updated settings.",
            "unchanged": f"This channel is already watching {name}."
            if here
            else f"Already watching {name} {place}.",
        }[outcome]
        await answer(
            interaction,
            f"{first}\n{describe(subscription)}\n"
            f"Run /watch test{there} to see how its alerts will look.",
        )

    @app_commands.command(
        name="import", description="Watch the packages of a requirements file, with their pins."
    )
    @app_commands.describe(
        file="requirements.txt, pyproject.toml or uv.lock: its packages on Django Packages "
        "are watched here, and alerts speak to its pins"
    )
    @setup_cooldown()
    @text_channel_only()
    @manager_only
    async def import_(self, interaction: discord.Interaction, file: discord.Attachment) -> None:
        await import_here(self.bot.runtime, interaction, file)

    @app_commands.command(name="remove", description="Stop watching a package in this channel.")
    @app_commands.describe(slug="A package this channel watches")
    @text_channel_only()
    @manager_only
    async def remove(self, interaction: discord.Interaction, slug: Slug) -> None:
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
        if not may_answer(self.bot.runtime, interaction):
            return []
        targets = await channel_targets(self.bot.runtime, interaction.channel_id)
        watched = [t for t in targets if t.kind == TargetKind.PACKAGE]
        return [Match(t.slug, t.title).choice() for t in matching(watched, current)]

    @app_commands.command(name="test", description="Post a sample alert, as a real one looks.")
    @app_commands.describe(
        target="A package or grid this channel follows (default: the first)",
        ping="Mention its role, as real alerts do (default: no ping)",
    )
    @app_commands.autocomplete(target=followed_autocomplete)
    @sample_cooldown()
    @setup_cooldown()
    @text_channel_only()
    @manager_only
    async def test(
        self, interaction: discord.Interaction, target: TargetKey | None = None, ping: bool = False
    ) -> None:
        """The sample goes where that subscription's alerts go (this channel, or its webhook),
        built by the same code as real alerts; its role is mentioned only when asked, and only
        if the member may mention it here."""
        runtime = self.bot.runtime
        assert interaction.channel_id is not None
        async with runtime.database.session() as session:
            subs = await subscriptions.channel_subscriptions(session, interaction.channel_id)
        if not subs:
            await answer(interaction, NOTHING_TO_TEST, ephemeral=True)
            return
        names = await targets_of(runtime, subs)
        followed = (
            await followed_target(runtime, interaction.channel_id, target) if target else None
        )
        sub = next(
            s
            for s in subs
            if followed is None or (s.target_kind, s.target_id) == (followed.kind, followed.id)
        )
        label = names[(sub.target_kind, sub.target_id)].label()
        if ping and sub.role_id is not None:
            check_stored_role(interaction, sub.role_id)
        try:
            await post_sample(self.bot, sub, ping=ping)
        except (DestinationGone, DeliveryFailed) as exc:
            text = f"The sample for {label} was not posted: {exc}"
            await answer(interaction, text, ephemeral=True)
            return
        route = "through its webhook" if sub.webhook_url else "as the bot"
        await answer(
            interaction,
            f"Posted a sample alert for {label} in <#{interaction.channel_id}> {route}.",
            ephemeral=True,
        )

    @app_commands.command(name="list", description="What this channel watches, and how.")
    @text_channel_only()
    async def list_(self, interaction: discord.Interaction) -> None:
        assert interaction.channel_id is not None
        pages = await channel_pages(self.bot.runtime, interaction.channel_id, interaction.user.id)
        await pages.start(interaction, ephemeral=True)


async def setup(bot: SentinelBot) -> None:
    await bot.add_cog(Watch(bot))
