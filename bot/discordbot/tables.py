"""Embeds that list packages: a grid's ranked table in pages, and stale packages with reasons.

The rows come from `bot.app.grid_table` and `bot.refresh.staleness`, computed under the
channel's staleness threshold and feature-complete marks; this module only words them, escaping
upstream text, and every embed fits Discord's limits.
"""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.app.grid_table import GridRow, GridTable
from bot.app.runtime import Runtime
from bot.core.health import Health
from bot.core.records import PackageRecord
from bot.messages.alerts import SiteLinks, listing, package_link, stale_line
from bot.messages.cards import site_root
from bot.messages.limits import DESCRIPTION, escape_text, truncate
from bot.refresh.staleness import ChannelStaleness

#: Rows on one page of a grid table.
ROWS_PER_PAGE = 15
#: Characters of a version shown in a row.
VERSION = 24
ORDER = {"stars": "most stars first", "activity": "latest commit first"}


def site_links(runtime: Runtime) -> SiteLinks:
    """Where listed packages link to: their pages on Django Packages."""
    return SiteLinks(site_root(runtime.settings.djp_api_url))


def _grid_line(row: GridRow, links: SiteLinks) -> str:
    stars = "?" if row.stars is None else f"{row.stars:,}"
    version = escape_text(truncate(row.version, VERSION)) if row.version else "not on PyPI"
    return (
        f"{row.rank}. {package_link(row.slug, row.title, links)} · ★ {stars} · {version} · "
        f"last commit {row.last_commit_age or 'unknown'} · {row.health.state}"
    )


def _paged(lines: Sequence[str]) -> list[list[str]]:
    """`lines` cut into pages of at most `ROWS_PER_PAGE` lines that fit a description."""
    pages: list[list[str]] = [[]]
    size = 0
    for line in lines:
        if pages[-1] and (len(pages[-1]) == ROWS_PER_PAGE or size + len(line) + 1 > DESCRIPTION):
            pages.append([])
            size = 0
        pages[-1].append(line)
        size += len(line) + 1
    return pages


def grid_pages(table: GridTable, links: SiteLinks) -> list[discord.Embed]:
    """The ranked table as one embed per page, each footer saying which page it is."""
    pages = _paged([_grid_line(row, links) for row in table.rows])
    about = f"{len(table.rows)} packages, {ORDER[table.sort]} · {table.slug}"
    embeds = []
    for number, lines in enumerate(pages, start=1):
        embed = discord.Embed(
            title=escape_text(table.title),
            url=links.grid(table.slug),
            description="\n".join(lines) or "No packages in this grid.",
        )
        counter = f"Page {number}/{len(pages)} · " if len(pages) > 1 else ""
        embed.set_footer(text=counter + about)
        embeds.append(embed)
    return embeds


def stale_embed(
    title: str,
    rows: Sequence[tuple[PackageRecord, Health]],
    checked: int,
    staleness: ChannelStaleness,
    links: SiteLinks,
) -> discord.Embed:
    """Each stale package with the reasons it is stale, longest quiet first."""
    lines = [stale_line(rec.slug, rec.title, health.reasons, links) for rec, health in rows]
    days = staleness.stale_after_days
    embed = discord.Embed(
        title=title,
        description=listing(lines)
        or f"Nothing stale: every package had a commit in the last {days} days "
        "or is marked feature-complete here.",
        colour=discord.Colour.red() if rows else discord.Colour.green(),
    )
    embed.set_footer(
        text=f"{len(rows)} stale of {checked} checked · stale after {days} days without a commit"
    )
    return embed
