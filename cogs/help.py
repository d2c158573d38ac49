"""`/help`: the commands, what each event means, and how digests, filters and staleness work,
in one private, paged embed."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.event_meanings import MEANINGS
from bot.core.events import DEFAULT_EVENTS, Event
from bot.discordbot.bot import SentinelBot
from bot.discordbot.pages import Pages

COLOUR = 0x0C4B33  # Django green

COMMANDS = (
    ("/package slug", "A package's summary: version, stars, health, a 52-week commit chart."),
    ("/grid show grid", "A grid's packages ranked by stars or by latest commit."),
    ("/stale [grid]", "Stale packages this channel follows (or in a grid), with reasons."),
    (
        "/readiness [django] [grid]",
        "Which packages followed here (or in a grid) declare a Django version on PyPI: "
        "ready, no or unknown, with the version's support dates.",
    ),
    ("/status", "Last and next refresh, alerts waiting, subscriptions paused."),
    ("/watch list", "What this channel follows, and how (privately)."),
    ("/watch add slug [channel]", "Managers: watch a package here or in another channel."),
    (
        "/watch import file",
        "Managers: watch a requirements.txt, pyproject.toml or uv.lock's packages, with pins.",
    ),
    ("/watch test [target]", "Managers: post a sample alert exactly as a real one looks."),
    ("/watch remove slug", "Managers: stop watching a package here."),
    ("/grid subscribe grid [channel]", "Managers: follow a grid's membership and its members."),
    ("/grid unsubscribe grid", "Managers: stop following a grid here."),
    ("/settings …", "Managers: events, role, release level, digests, staleness, daily cap."),
)

SETTINGS = (
    (
        "Filters",
        "`/settings alerts target` chooses a subscription's events, the role to mention, the "
        "smallest release announced (`min_level` major, minor or patch) and whether "
        "pre-releases count.",
    ),
    (
        "Digests",
        "`/settings digest daily|weekly` gathers this channel's alerts into one message at a "
        "UTC hour (and weekday); `bypass` lets some through at once, e.g. `release:major` "
        "(major releases) or `stale`. `immediate` posts each alert as it comes.",
    ),
    (
        "Staleness",
        "A package is stale after 365 days without a commit (the last commit date, or the "
        "newest week with commits). `/settings staleness days` changes that here; "
        "`/settings complete slug` marks a finished package, which is then never stale here. "
        "`/settings report on` posts a weekly list of what is stale.",
    ),
    (
        "Daily cap",
        "`/settings cap per_day` posts at most that many alerts a day; the rest are counted "
        "in one line.",
    ),
    (
        "PyPI",
        "Releases are announced once, from PyPI or Django Packages, whichever sees them "
        "first, with the upload time. `compat` and `yanked` come from PyPI: only a latest "
        "final release's `Framework :: Django :: X.Y` classifiers count as support.",
    ),
    (
        "Pings",
        "Alerts mention only the role a manager chose, once per delivery; upstream text can "
        "never ping anyone.",
    ),
)


def help_pages() -> list[discord.Embed]:
    commands_page = discord.Embed(
        title="djp-sentinel: commands",
        description="Watch packages from Django Packages and hear about what changes.",
        colour=COLOUR,
    )
    for name, what in COMMANDS:
        commands_page.add_field(name=name, value=what, inline=False)
    events_page = discord.Embed(
        title="djp-sentinel: events",
        description="What an alert can be about. A new subscription gets "
        f"{', '.join(e.value for e in Event if e in DEFAULT_EVENTS)}.",
        colour=COLOUR,
    )
    for event, meaning in MEANINGS.items():
        events_page.add_field(name=event, value=meaning, inline=False)
    settings_page = discord.Embed(title="djp-sentinel: how alerts work", colour=COLOUR)
    for name, what in SETTINGS:
        settings_page.add_field(name=name, value=what, inline=False)
    pages = [commands_page, events_page, settings_page]
    for number, page in enumerate(pages, 1):
        page.set_footer(text=f"Page {number} of {len(pages)}")
    return pages


class Help(commands.Cog):
    def __init__(self, bot: SentinelBot) -> None:
        self.bot = bot

    @app_commands.command(name="help", description="The commands, the events, and how alerts work.")
    async def help(self, interaction: discord.Interaction) -> None:
        await Pages(help_pages(), interaction.user.id).start(interaction, ephemeral=True)


async def setup(bot: SentinelBot) -> None:
    await bot.add_cog(Help(bot))
