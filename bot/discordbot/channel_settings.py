"""A channel's own settings in words: digest, staleness, daily cap, weekly stale report and
feature-complete marks. Each setting reads as one sentence saying what is in force."""

from __future__ import annotations

import discord

from bot.app.runtime import Runtime
from bot.core.bypass import describe as describe_bypass
from bot.core.plural import counted
from bot.discordbot.options import WEEKDAY_VALUES
from bot.discordbot.pages import Pages
from bot.discordbot.subscriptions import channel_overview
from bot.messages.limits import escape_text
from bot.refresh.stale_reads import channel_staleness
from bot.refresh.staleness import ChannelStaleness
from storage import channels, packages
from storage.channels import ChannelPreferences
from storage.models import DigestMode


def _at(preferences: ChannelPreferences) -> str:
    return f"{preferences.digest_hour:02d}:00 UTC"


def _weekly(preferences: ChannelPreferences) -> str:
    return f"on {WEEKDAY_VALUES[preferences.digest_weekday].title()}s at {_at(preferences)}"


def digest_sentence(preferences: ChannelPreferences) -> str:
    """E.g. "Alerts here are gathered into a daily digest at 09:00 UTC; stale alerts are
    posted at once."."""
    if preferences.digest_mode is DigestMode.IMMEDIATE:
        return "Alerts are posted here as they happen."
    if preferences.digest_mode is DigestMode.DAILY:
        when = f"a daily digest at {_at(preferences)}"
    else:
        when = f"a weekly digest {_weekly(preferences)}"
    bypass = describe_bypass(preferences.digest_bypass)
    return f"Alerts here are gathered into {when}" + (
        f"; {bypass} are posted at once." if bypass else "."
    )


def staleness_sentence(preferences: ChannelPreferences, default_days: int) -> str:
    days = preferences.staleness_threshold(default_days)
    default = " (the default)" if preferences.stale_after_days is None else ""
    after = counted(days, "day")
    return f"Packages count as stale here after {after} without a commit{default}."


def cap_sentence(preferences: ChannelPreferences) -> str:
    if preferences.daily_cap is None:
        return "No daily cap: every alert is posted here."
    cap = preferences.daily_cap
    alerts = "1 alert a day is" if cap == 1 else f"{cap} alerts a day are"
    return f"At most {alerts} posted here; the rest of the day's are counted in one summary line."


def report_sentence(preferences: ChannelPreferences) -> str:
    if not preferences.stale_report:
        return "No weekly stale report here."
    return (
        f"A weekly stale report is posted here {_weekly(preferences)} "
        "when something followed here is stale (set the day and hour with /settings digest)."
    )


async def staleness_here(runtime: Runtime, channel_id: int) -> ChannelStaleness:
    """The channel's staleness threshold and feature-complete marks."""
    async with runtime.database.session() as session:
        found = await channel_staleness(
            session, [channel_id], default_days=runtime.settings.stale_after_days
        )
    return found[channel_id]


async def settings_embed(runtime: Runtime, channel_id: int) -> discord.Embed:
    """Every setting of the channel, one field each."""
    async with runtime.database.session() as session:
        preferences = await channels.preferences(session, channel_id)
        marked = await channels.feature_complete_ids(session, channel_id)
        stored = await packages.load_packages(session, marked)
    names = sorted(escape_text(package.record.slug) for package in stored.values())
    embed = discord.Embed(title="Settings of this channel")
    embed.add_field(name="Digest", value=digest_sentence(preferences), inline=False)
    embed.add_field(
        name="Staleness",
        value=staleness_sentence(preferences, runtime.settings.stale_after_days),
        inline=False,
    )
    embed.add_field(name="Daily cap", value=cap_sentence(preferences), inline=False)
    embed.add_field(name="Weekly stale report", value=report_sentence(preferences), inline=False)
    embed.add_field(
        name="Feature-complete (never stale here)", value=", ".join(names) or "none", inline=False
    )
    return embed


async def channel_pages(runtime: Runtime, channel_id: int, owner_id: int) -> Pages:
    """The channel's settings above its subscriptions with theirs, a page of them at a time,
    turned by `owner_id`."""
    settings = await settings_embed(runtime, channel_id)
    overview = await channel_overview(runtime, channel_id, beside=settings)
    return Pages(overview, owner_id, heading=settings)
