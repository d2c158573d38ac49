"""Packages and grids named in slash commands: autocomplete choices and "did you mean".

The matching itself is `bot.app.lookup` (fuzzy, from the in-memory index), shared with the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass

import discord
from discord import app_commands

from bot.app.lookup import find_names
from bot.app.runtime import Runtime
from bot.core.records import PackageRecord
from bot.discordbot.bot import SentinelBot
from bot.messages.limits import AUTOCOMPLETE_CHOICES, CHOICE_NAME, truncate
from bot.refresh.names import Kind
from storage import grids, packages
from storage.models import Grid


@dataclass(frozen=True, slots=True)
class Match:
    """A package or grid a user may have meant."""

    slug: str
    title: str

    def choice(self) -> app_commands.Choice[str]:
        """An autocomplete choice: "Title (slug)" shown, the slug sent."""
        title = " ".join(self.title.split())
        label = self.slug if title.lower() == self.slug.lower() else f"{title} ({self.slug})"
        return app_commands.Choice(name=truncate(label, CHOICE_NAME), value=self.slug[:CHOICE_NAME])


def may_answer(runtime: Runtime, interaction: discord.Interaction) -> bool:
    """Whether this person's autocomplete is answered now: past their budget (a script, not
    typing), it gets no choices and costs nothing."""
    return runtime.lookups.may_answer(interaction.user.id)


async def _choices(
    interaction: discord.Interaction[SentinelBot], kind: Kind, current: str
) -> list[app_commands.Choice[str]]:
    runtime, person = interaction.client.runtime, interaction.user.id
    if not may_answer(runtime, interaction):
        return []
    found = await find_names(runtime, kind, current, AUTOCOMPLETE_CHOICES, person=person)
    return [Match(entry.slug, entry.title).choice() for entry in found]


async def package_autocomplete(
    interaction: discord.Interaction[SentinelBot], current: str
) -> list[app_commands.Choice[str]]:
    """Autocomplete for every package slug option."""
    return await _choices(interaction, "package", current)


async def grid_autocomplete(
    interaction: discord.Interaction[SentinelBot], current: str
) -> list[app_commands.Choice[str]]:
    """Autocomplete for every grid option."""
    return await _choices(interaction, "grid", current)


async def stored_grid(runtime: Runtime, key: str) -> Grid:
    """A grid with its membership stored, synced from Django Packages first if it is not.

    Raises `NotFound` for a grid Django Packages does not know.
    """
    async with runtime.database.session() as session:
        grid = await grids.find_grid(session, key)
    if grid is None or grid.synced_at is None:
        record = await runtime.monitor.refresh_grid(grid.id if grid else key)
        async with runtime.database.session() as session:
            grid = await grids.find_grid(session, record.id)
    assert grid is not None
    return grid


async def stored_package(runtime: Runtime, key: str) -> PackageRecord:
    """A package's stored record, fetched from Django Packages first if it is not stored.

    Raises `NotFound` for a package Django Packages does not know.
    """
    async with runtime.database.session() as session:
        stored = await packages.find_package(session, key)
    return stored.record if stored else await runtime.monitor.refresh_package(key)
