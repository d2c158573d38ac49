"""`/settings ...` (managers only): how this channel alerts.

Per subscription: `alerts` (events, role, release level, pre-releases). For the whole channel:
`digest`, `staleness`, `complete` / `incomplete` (feature-complete marks), `cap` and `report`
(the weekly stale report). `show` lists everything and `export` attaches the server's
subscriptions and settings as JSON. Every change answers with what is now in force.
"""

from __future__ import annotations

import io
from typing import Unpack

import discord
from discord import app_commands
from discord.ext import commands

from bot.app.quotas import Quota, check_new_mark, room_for
from bot.app.runtime import Runtime
from bot.app.transfer import export_guild_json
from bot.core.events import Event, MinReleaseLevel
from bot.core.plural import counted
from bot.core.records import PackageRecord
from bot.discordbot.bot import SentinelBot
from bot.discordbot.catalog import Match, may_answer, package_autocomplete, stored_package
from bot.discordbot.channel_settings import (
    cap_sentence,
    channel_pages,
    digest_sentence,
    report_sentence,
    staleness_sentence,
)
from bot.discordbot.options import (
    WEEKDAY_VALUES,
    BadOption,
    DigestModeName,
    Entries,
    EventsTransformer,
    MentionRole,
    Slug,
    Switch,
    TargetKey,
    Weekday,
    manager_only,
    parse_bypass,
)
from bot.discordbot.permissions import server_manager_only, text_channel_only
from bot.discordbot.replies import answer, defer_if_slow
from bot.discordbot.subscriptions import (
    Target,
    alert_changes,
    describe,
    followed_autocomplete,
    followed_target,
    matching,
    subscribe_here,
)
from bot.messages.limits import escape_text
from storage import channels, packages
from storage.channels import ChannelPreferences, SettingChanges
from storage.models import DigestMode, TargetKind

Events = app_commands.Transform[frozenset[Event], EventsTransformer]
Days = app_commands.Range[int, 1, 3650]
Hour = app_commands.Range[int, 0, 23]
PerDay = app_commands.Range[int, 1, 1000]


@app_commands.guild_only()
@app_commands.default_permissions(manage_channels=True)
class Settings(
    commands.GroupCog, group_name="settings", group_description="Alert settings of this channel."
):
    def __init__(self, bot: SentinelBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="show", description="This channel's settings and subscriptions.")
    @text_channel_only()
    @manager_only
    async def show(self, interaction: discord.Interaction) -> None:
        assert interaction.channel_id is not None
        pages = await channel_pages(self.bot.runtime, interaction.channel_id, interaction.user.id)
        await pages.start(interaction, ephemeral=True)

    @app_commands.command(name="alerts", description="Change what one subscription alerts about.")
    @app_commands.describe(
        target="A package or grid this channel follows",
        events="Comma-separated events to announce, or all / default",
        role="A role to mention in its alerts",
        clear_role="Stop mentioning a role",
        min_level="The smallest release to announce",
        prereleases="Announce pre-releases (alphas, betas, release candidates)",
    )
    @app_commands.autocomplete(target=followed_autocomplete)
    @text_channel_only()
    @manager_only
    async def alerts(
        self,
        interaction: discord.Interaction,
        target: TargetKey,
        events: Events | None = None,
        role: MentionRole | None = None,
        clear_role: bool = False,
        min_level: MinReleaseLevel | None = None,
        prereleases: bool | None = None,
    ) -> None:
        assert interaction.channel_id is not None
        if role is not None and clear_role:
            raise BadOption("Give a role or clear_role, not both.")
        followed = await followed_target(self.bot.runtime, interaction.channel_id, target)
        subscription, _ = await subscribe_here(
            self.bot.runtime,
            interaction,
            TargetKind(followed.kind),
            followed.id,
            **alert_changes(
                events=events,
                role=role,
                clear_role=clear_role,
                min_level=min_level,
                prereleases=prereleases,
            ),
        )
        await answer(interaction, f"**{followed.label()}**\n{describe(subscription)}")

    @app_commands.command(name="digest", description="Gather this channel's alerts in a digest.")
    @app_commands.describe(
        mode="immediate (each alert as it comes), or a daily or weekly digest",
        hour="The UTC hour of the digest and of the weekly stale report (0-23)",
        weekday="The day of the weekly digest and of the weekly stale report",
        bypass="Alerts posted at once anyway, e.g. stale, release:major; none to clear",
    )
    @text_channel_only()
    @manager_only
    async def digest(
        self,
        interaction: discord.Interaction,
        mode: DigestModeName,
        hour: Hour | None = None,
        weekday: Weekday | None = None,
        bypass: Entries | None = None,
    ) -> None:
        changes: SettingChanges = {"digest_mode": DigestMode(mode)}
        if hour is not None:
            changes["digest_hour"] = hour
        if weekday is not None:
            changes["digest_weekday"] = WEEKDAY_VALUES.index(weekday)
        if bypass is not None:
            changes["digest_bypass"] = parse_bypass(bypass)
        preferences = await self._update(interaction, **changes)
        await answer(interaction, digest_sentence(preferences))

    @app_commands.command(name="staleness", description="When a package counts as stale here.")
    @app_commands.describe(
        days="Days without a commit before a package is stale; leave out for the default"
    )
    @text_channel_only()
    @manager_only
    async def staleness(self, interaction: discord.Interaction, days: Days | None = None) -> None:
        preferences = await self._update(interaction, stale_after_days=days)
        default = self.bot.runtime.settings.stale_after_days
        await answer(interaction, staleness_sentence(preferences, default))

    @app_commands.command(name="complete", description="Mark a package finished: never stale here.")
    @app_commands.describe(slug="The package's slug, e.g. django-flatblocks")
    @app_commands.autocomplete(slug=package_autocomplete)
    @text_channel_only()
    @manager_only
    async def complete(self, interaction: discord.Interaction, slug: Slug) -> None:
        runtime = self.bot.runtime
        assert interaction.guild_id is not None
        assert interaction.channel_id is not None
        marking = mark_complete(
            runtime, interaction.guild_id, interaction.channel_id, slug, interaction.user.id
        )
        record = await defer_if_slow(interaction, marking)
        await answer(
            interaction,
            f"**{escape_text(record.title)}** is marked feature-complete here: "
            "it never counts as stale in this channel.",
        )

    @app_commands.command(name="incomplete", description="Remove a feature-complete mark.")
    @app_commands.describe(slug="A package marked feature-complete in this channel")
    @text_channel_only()
    @manager_only
    async def incomplete(self, interaction: discord.Interaction, slug: Slug) -> None:
        runtime = self.bot.runtime
        assert interaction.channel_id is not None
        async with runtime.database.transaction() as session:
            stored = await packages.find_package(session, slug)
            removed = stored is not None and await channels.unmark_feature_complete(
                session, channel_id=interaction.channel_id, package_id=stored.record.id
            )
            preferences = await channels.preferences(session, interaction.channel_id)
        if stored is None or not removed:
            text = f"“{escape_text(slug)}” is not marked feature-complete in this channel."
            await answer(interaction, text, ephemeral=True)
            return
        days = preferences.staleness_threshold(runtime.settings.stale_after_days)
        await answer(
            interaction,
            f"**{escape_text(stored.record.title)}** is no longer marked feature-complete here: "
            f"it counts as stale after {counted(days, 'day')} without a commit.",
        )

    @incomplete.autocomplete("slug")
    async def marked_here(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        assert interaction.channel_id is not None
        if not may_answer(self.bot.runtime, interaction):
            return []
        async with self.bot.runtime.database.session() as session:
            marked = await channels.feature_complete_ids(session, interaction.channel_id)
            stored = await packages.load_packages(session, marked)
        records = sorted((package.record for package in stored.values()), key=lambda r: r.slug)
        targets = [Target(TargetKind.PACKAGE, r.id, r.slug, r.title) for r in records]
        return [Match(t.slug, t.title).choice() for t in matching(targets, current)]

    @app_commands.command(name="cap", description="At most this many alerts a day here.")
    @app_commands.describe(per_day="Alerts a day posted on their own; leave out for no cap")
    @text_channel_only()
    @manager_only
    async def cap(self, interaction: discord.Interaction, per_day: PerDay | None = None) -> None:
        preferences = await self._update(interaction, daily_cap=per_day)
        await answer(interaction, cap_sentence(preferences))

    @app_commands.command(name="report", description="A weekly list of what is stale here.")
    @app_commands.describe(state="on or off")
    @text_channel_only()
    @manager_only
    async def report(self, interaction: discord.Interaction, state: Switch) -> None:
        preferences = await self._update(interaction, stale_report=state == "on")
        await answer(interaction, report_sentence(preferences))

    @app_commands.command(name="export", description="This server's subscriptions and settings.")
    @server_manager_only()
    async def export(self, interaction: discord.Interaction) -> None:
        runtime = self.bot.runtime
        assert interaction.guild_id is not None
        text = await export_guild_json(runtime.database, interaction.guild_id, now=runtime.clock())
        file = discord.File(
            io.BytesIO(text.encode()), filename=f"djp-sentinel-{interaction.guild_id}.json"
        )
        await answer(
            interaction,
            "This server's subscriptions, channel settings and feature-complete marks "
            "(webhook URLs left out): `djp-sentinel import FILE` restores them.",
            file=file,
            ephemeral=True,
        )

    async def _update(
        self, interaction: discord.Interaction, **changes: Unpack[SettingChanges]
    ) -> ChannelPreferences:
        """Change this channel's settings; returns them as now in force."""
        assert interaction.guild_id is not None
        assert interaction.channel_id is not None
        async with self.bot.runtime.database.transaction() as session:
            return await channels.update_preferences(
                session,
                guild_id=interaction.guild_id,
                channel_id=interaction.channel_id,
                updated_by=interaction.user.id,
                now=self.bot.runtime.clock(),
                **changes,
            )


async def mark_complete(
    runtime: Runtime, guild_id: int, channel_id: int, slug: str, marked_by: int
) -> PackageRecord:
    """Mark a package feature-complete in a channel, within the quotas (fetching the package
    first if it is not stored, once the quota has room for it); returns its record."""
    async with runtime.database.session() as session:  # a server at its quota costs no fetch
        await room_for(
            session,
            runtime.settings,
            Quota.MARKS,
            guild_id=guild_id,
            channel_id=channel_id,
            key=slug,
        )
    record = await stored_package(runtime, slug)
    async with runtime.database.transaction() as session:
        await check_new_mark(
            session,
            runtime.settings,
            guild_id=guild_id,
            channel_id=channel_id,
            package_id=record.id,
        )
        await channels.mark_feature_complete(
            session,
            guild_id=guild_id,
            channel_id=channel_id,
            package_id=record.id,
            marked_by=marked_by,
            now=runtime.clock(),
        )
    return record


async def setup(bot: SentinelBot) -> None:
    await bot.add_cog(Settings(bot))
