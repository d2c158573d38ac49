"""Finding packages and grids by what a user typed: autocomplete and "did you mean".

Matching is fuzzy on slug and title (`storage` ranks substring matches: exact slug, prefix, then
popularity) and tolerant of separators: "flat blocks" also tries "flat-blocks", "flatblocks"
and its longest word. Until the whole catalog has been synced once, Django Packages' own search
tops up the local matches, within a time budget that keeps autocomplete inside Discord's 3 s.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Literal

import discord
import httpx
from discord import app_commands
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app.runtime import Runtime
from bot.core.records import PackageRecord
from bot.discordbot.bot import SentinelBot
from bot.errors import SentinelError
from bot.messages.limits import AUTOCOMPLETE_CHOICES, CHOICE_NAME, escape_text, truncate
from storage import cycles, grids, packages
from storage.models import Grid

log = logging.getLogger(__name__)

#: Close matches offered when a slug is unknown.
SUGGESTIONS = 5
#: Seconds the upstream search may take before autocomplete answers with what it has.
SEARCH_BUDGET = 1.5
_WORDS = re.compile(r"[\s\-_.]+")

Kind = Literal["package", "grid"]


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


def search_terms(text: str) -> list[str]:
    """What to look for: the text itself, then separator-tolerant variants, without repeats."""
    text = text.strip().lower()
    words = [word for word in _WORDS.split(text) if word]
    variants = [text, "-".join(words), "".join(words), max(words, key=len, default="")]
    return list(dict.fromkeys(term for term in variants if term or not text))


def _unique(matches: Iterable[Match], limit: int) -> list[Match]:
    """The first `limit` matches, each slug once, in order."""
    first: dict[str, Match] = {}
    for match in matches:
        first.setdefault(match.slug, match)
    return list(first.values())[:limit]


async def _stored_packages(session: AsyncSession, term: str, limit: int) -> list[Match]:
    found = await packages.search_packages(session, term, limit)
    return [Match(package.record.slug, package.record.title) for package in found]


async def _stored_grids(session: AsyncSession, term: str, limit: int) -> list[Match]:
    return [Match(grid.slug, grid.title) for grid in await grids.search_grids(session, term, limit)]


LOCAL_SEARCH: dict[Kind, Callable[[AsyncSession, str, int], Awaitable[list[Match]]]] = {
    "package": _stored_packages,
    "grid": _stored_grids,
}


async def _upstream(runtime: Runtime, kind: Kind, text: str) -> list[Match]:
    """Django Packages' search, while the local catalog is incomplete; [] if slow or failing."""
    async with runtime.database.session() as session:
        if not text.strip() or await cycles.last_catalog_total(session) is not None:
            return []
    try:
        async with asyncio.timeout(SEARCH_BUDGET):
            hits = await runtime.client.search(text)
    except (TimeoutError, SentinelError, httpx.HTTPError) as exc:
        log.info("autocomplete search for %r skipped: %s", text, exc or "too slow")
        return []
    return [Match(hit.slug, hit.title) for hit in hits if hit.item_type == kind]


async def find_matches(
    runtime: Runtime, kind: Kind, text: str, limit: int = AUTOCOMPLETE_CHOICES
) -> list[Match]:
    """Up to `limit` packages or grids matching `text`, best first."""
    found: list[Match] = []
    async with runtime.database.session() as session:
        for term in search_terms(text):
            found = _unique([*found, *await LOCAL_SEARCH[kind](session, term, limit)], limit)
            if len(found) == limit:
                return found
    return _unique([*found, *await _upstream(runtime, kind, text)], limit)


async def package_autocomplete(
    interaction: discord.Interaction[SentinelBot], current: str
) -> list[app_commands.Choice[str]]:
    """Autocomplete for every package slug option."""
    found = await find_matches(interaction.client.runtime, "package", current)
    return [match.choice() for match in found]


async def grid_autocomplete(
    interaction: discord.Interaction[SentinelBot], current: str
) -> list[app_commands.Choice[str]]:
    """Autocomplete for every grid option."""
    found = await find_matches(interaction.client.runtime, "grid", current)
    return [match.choice() for match in found]


async def unknown(runtime: Runtime, kind: Kind, text: str) -> str:
    """The answer to an unknown slug: "No package “…”…", and close matches if any."""
    matches = await find_matches(runtime, kind, text, SUGGESTIONS)
    message = f"No {kind} “{escape_text(text)}” on Django Packages."
    if matches:
        message += " Did you mean: " + ", ".join(escape_text(m.slug) for m in matches) + "?"
    return message


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
