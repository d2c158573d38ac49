"""Embeds that list packages: a grid ranked by stars, and stale packages with their reasons."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.discord_limits import escape_text
from bot.health import Health, HealthState, classify
from bot.records import PackageRecord
from bot.render import grid_page, package_page, site_root
from bot.runtime import Runtime
from storage.models import Grid
from storage.packages import StoredPackage

#: Rows shown at once (pagination comes later).
ROWS = 25


def health_of(runtime: Runtime, record: PackageRecord) -> Health:
    return classify(
        record, now=runtime.monitor.clock(), stale_after_days=runtime.settings.stale_after_days
    )


def _site(runtime: Runtime) -> str:
    return site_root(runtime.settings.djp_api_url)


def _link(runtime: Runtime, record: PackageRecord) -> str:
    return (
        f"[{escape_text(record.title or record.slug)}]({package_page(_site(runtime), record.slug)})"
    )


def grid_table(runtime: Runtime, grid: Grid, members: Sequence[StoredPackage]) -> discord.Embed:
    """The grid's packages ranked by stars: version, last commit and health on each line."""
    lines = []
    for rank, member in enumerate(members[:ROWS], start=1):
        record = member.record
        stars = "?" if record.repo_watchers is None else f"{record.repo_watchers:,}"
        version = escape_text(record.pypi_version or "not on PyPI")
        commit = f"{record.last_updated:%Y-%m-%d}" if record.last_updated else "unknown"
        state = health_of(runtime, record).state
        lines.append(
            f"{rank}. {_link(runtime, record)} · ★ {stars} · {version} · "
            f"last commit {commit} · {state}"
        )
    embed = discord.Embed(
        title=escape_text(grid.title),
        url=grid_page(_site(runtime), grid.slug),
        description="\n".join(lines) or "No packages in this grid.",
    )
    shown = min(len(members), ROWS)
    embed.set_footer(text=f"{shown} of {len(members)} packages, by stars · {grid.slug}")
    return embed


def stale_rows(
    runtime: Runtime, candidates: Sequence[StoredPackage]
) -> list[tuple[PackageRecord, Health]]:
    """The stale packages among `candidates`, longest quiet first."""
    rows = [(c.record, health_of(runtime, c.record)) for c in candidates]
    stale = [(record, health) for record, health in rows if health.state is HealthState.STALE]
    return sorted(stale, key=lambda row: -(row[1].weeks_since_commit or 0))


def stale_table(
    runtime: Runtime, title: str, rows: Sequence[tuple[PackageRecord, Health]], checked: int
) -> discord.Embed:
    """Each stale package with the reasons it is stale."""
    lines = [
        f"**{_link(runtime, record)}**: " + escape_text("; ".join(health.reasons))
        for record, health in rows[:ROWS]
    ]
    embed = discord.Embed(
        title=title,
        description="\n".join(lines) or "Nothing stale: every package had a commit recently.",
        colour=discord.Colour.red() if rows else discord.Colour.green(),
    )
    embed.set_footer(text=f"{len(rows)} stale of {checked} checked")
    return embed
