"""Embeds that list packages: a grid's ranked table and a readiness board in pages, and stale
packages with reasons.

The rows come from `bot.app.grid_table`, `bot.app.readiness` and `bot.refresh.staleness`,
computed under the channel's staleness threshold and feature-complete marks; this module only
words them, escaping upstream text, and every embed fits Discord's limits.
"""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.app.grid_table import GridRow, GridTable
from bot.app.readiness import ReadinessBoard
from bot.app.runtime import Runtime
from bot.core.health import Health
from bot.core.plural import counted
from bot.core.records import PackageRecord
from bot.messages.alerts import SiteLinks, listing, package_link, stale_line
from bot.messages.cards import site_root
from bot.messages.limits import DESCRIPTION, escape_text, truncate
from bot.refresh.staleness import ChannelStaleness

#: Rows on one page of a grid table.
ROWS_PER_PAGE = 15
#: Rows on one page of a readiness board (one short line each).
READINESS_ROWS_PER_PAGE = 25
READINESS_MARKS = {"ready": "✅", "no": "❌", "unknown": "❔"}
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


def paged(
    lines: Sequence[str], rows_per_page: int = ROWS_PER_PAGE, room: int = DESCRIPTION
) -> list[list[str]]:
    """`lines` cut into pages of at most `rows_per_page` lines that, joined by newlines, fit in
    `room` characters (a description's, unless an embed shown beside the page takes some)."""
    pages: list[list[str]] = [[]]
    size = 0
    for line in lines:
        if pages[-1] and (len(pages[-1]) == rows_per_page or size + len(line) + 1 > room):
            pages.append([])
            size = 0
        pages[-1].append(line)
        size += len(line) + 1
    return pages


def grid_pages(table: GridTable, links: SiteLinks) -> list[discord.Embed]:
    """The ranked table as one embed per page, each footer saying which page it is."""
    pages = paged([_grid_line(row, links) for row in table.rows])
    about = f"{counted(len(table.rows), 'package')}, {ORDER[table.sort]} · {table.slug}"
    embeds = []
    for number, lines in enumerate(pages, start=1):
        embed = discord.Embed(
            title=escape_text(table.title),
            url=links.grid(table.slug),
            description="\n".join(lines) or "No packages in this grid.",
        )
        embed.set_footer(text=page_counter(number, len(pages)) + about)
        embeds.append(embed)
    return embeds


def page_counter(number: int, pages: int) -> str:
    """ "Page 2/3 · ", to start a paged embed's footer; nothing when there is one page."""
    return f"Page {number}/{pages} · " if pages > 1 else ""


def readiness_pages(board: ReadinessBoard) -> list[discord.Embed]:
    """The board as one embed per page: the counts as every page's title, one line per
    package, the version's dates in the footer after the page number."""
    lines = [
        f"{READINESS_MARKS[row.status]} **{escape_text(row.slug)}** ({row.status}): "
        + (", ".join(row.django_versions) or "no Django versions declared")
        for row in board.rows
    ]
    pages = paged(lines, READINESS_ROWS_PER_PAGE)
    about = board.cycle.describe() if board.cycle is not None else ""
    embeds = []
    for number, page in enumerate(pages, start=1):
        embed = discord.Embed(
            title=escape_text(board.headline()),
            description="\n".join(page) or "No packages to show.",
        )
        if footer := (page_counter(number, len(pages)) + about).removesuffix(" · "):
            embed.set_footer(text=footer)
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
        or f"Nothing stale: every package had a commit in the last {counted(days, 'day')} "
        "or is marked feature-complete here.",
        colour=discord.Colour.red() if rows else discord.Colour.green(),
    )
    embed.set_footer(
        text=f"{len(rows)} stale of {checked} checked · stale after {counted(days, 'day')} "
        "without a commit"
    )
    return embed
