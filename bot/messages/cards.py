"""Package cards: what a package summary says, as a `bot.core.card.Card`.

The Discord adapter turns the card into an embed with link buttons; the CLI turns it into a
terminal panel. Text here is plain upstream text: escaping for a medium is the adapter's job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from bot.core.advisories import PackageAdvisories, open_advisories_line
from bot.core.card import Card, Fact, Link
from bot.core.health import Health
from bot.core.pypi import PypiProject
from bot.core.records import PackageRecord
from bot.core.shortcodes import render_shortcodes
from bot.core.sparkline import NO_DATA, commit_summary, sparkline
from bot.core.timefmt import describe_age
from bot.messages.limits import link_url


@dataclass(frozen=True, slots=True)
class GridRef:
    slug: str
    title: str


@dataclass(frozen=True, slots=True)
class PackageSummary:
    """Everything `/package` and `djp-sentinel package` show about one package."""

    record: PackageRecord
    health: Health
    category: str | None
    grids: tuple[GridRef, ...]
    site_url: str
    observed_at: datetime
    #: Security advisories (None: the bot does not follow them).
    advisories: PackageAdvisories | None = None
    #: What PyPI says of the latest release (None: PyPI off, unknown or unreachable).
    pypi: PypiProject | None = None


def site_root(api_url: str) -> str:
    """`https://djangopackages.org/api/v4/` → `https://djangopackages.org/`."""
    parts = urlsplit(api_url)
    return f"{parts.scheme}://{parts.netloc}/"


def package_page(site_url: str, slug: str) -> str:
    return f"{site_url}packages/p/{slug}/"


def grid_page(site_url: str, slug: str) -> str:
    return f"{site_url}grids/g/{slug}/"


def _count(value: int | None) -> str:
    return "unknown" if value is None else f"{value:,}"


def _last_commit(health: Health, now: datetime) -> str:
    """The last commit the health reasons speak of (the newer of the date and the weekly
    counts), so the card's lines agree."""
    if health.last_commit is None:
        return "unknown"
    return f"{health.last_commit:%Y-%m-%d} ({describe_age(health.last_commit, now)})"


def _activity(record: PackageRecord, now: datetime) -> str:
    """The sparkline over its summary, which says which weeks it covers; unknown data is said
    once."""
    counts = record.commits_over_52
    if not counts:
        return NO_DATA
    return f"{sparkline(counts)}\n{commit_summary(counts, record.last_fetched, now)}"


def pypi_facts(pypi: PypiProject | None, now: datetime) -> tuple[Fact, ...]:
    """What PyPI says of the latest release: declared Django versions, Python, upload, yank."""
    if pypi is None:
        return (Fact("PyPI", "unknown (off, not asked yet, or unreachable)", inline=False),)
    released = (
        f"{pypi.released:%Y-%m-%d %H:%M} UTC ({describe_age(pypi.released, now)})"
        if pypi.released
        else "unknown"
    )
    yanked = f"yes: {pypi.yanked_reason or 'no reason given'}" if pypi.yanked else "no"
    return (
        Fact("Django (declared)", ", ".join(pypi.django_versions) or "not declared"),
        Fact("Python", pypi.requires_python or "not declared"),
        Fact(f"{pypi.version} uploaded", released),
        Fact("Yanked", yanked),
    )


def package_links(summary: PackageSummary) -> tuple[Link, ...]:
    record = summary.record
    candidates = (
        ("Django Packages", package_page(summary.site_url, record.slug)),
        ("Repository", record.repo_url),
        ("PyPI", record.pypi_url),
        ("Docs", record.documentation_url),
    )
    return tuple(
        Link(label, url) for label, candidate in candidates if (url := link_url(candidate))
    )


def package_card(summary: PackageSummary) -> Card:
    record, health = summary.record, summary.health
    grids = ", ".join(grid.title for grid in summary.grids) or "none"
    facts: tuple[Fact, ...] = (
        Fact("Latest version", record.pypi_version or "not on PyPI"),
        Fact("Stars", _count(record.repo_watchers)),
        Fact("Forks", _count(record.repo_forks)),
        Fact("Last commit", _last_commit(health, summary.observed_at)),
        Fact("Category", summary.category or "unknown"),
        Fact("Grids", grids),
        *(pypi_facts(summary.pypi, summary.observed_at) if record.pypi_url else ()),
        Fact("52-week activity", _activity(record, summary.observed_at), inline=False),
        Fact(f"Health: {health.state}", "\n".join(f"• {r}" for r in health.reasons), inline=False),
    )
    if summary.advisories is not None:
        facts += (Fact("Advisories", open_advisories_line(summary.advisories.views), inline=False),)
    return Card(
        title=render_shortcodes(record.title),
        url=package_page(summary.site_url, record.slug),
        description=render_shortcodes(record.repo_description) or "No description.",
        facts=facts,
        links=package_links(summary),
        footer=f"{record.slug} · id {record.id} · data from Django Packages",
        health=health.state,
    )
