"""Terminal rendering of cards, change lists and stale reports (rich).

Every string that came from upstream goes through `printable` (no control sequences reach
the operator's terminal) and, where rich reads markup, `escape`: `shown` does both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeAlias

from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from bot.app.grid_table import GridRow, GridTable
from bot.core.card import Card
from bot.core.events import Change
from bot.core.health import Health
from bot.core.plural import counted
from bot.core.printable import printable
from bot.core.records import PackageRecord

if TYPE_CHECKING:
    from bot.app.webhook_subscriptions import WebhookWatch

#: A stale package and the health that says so.
StaleRow: TypeAlias = tuple[PackageRecord, Health]

RELEASE_LEVELS = {
    "major": "major only",
    "minor": "minor and major",
    "patch": "every release",
}

HEALTH_STYLES = {
    "active": "green",
    "slowing": "yellow",
    "dormant": "dark_orange",
    "stale": "red",
    "unknown": "grey50",
}


def shown(text: str) -> str:
    """Upstream text as rich markup that prints it literally, without control sequences (its
    line breaks kept: a card's values and reasons are laid out in lines)."""
    return escape(printable(text, lines=True))


def card_panel(card: Card) -> Panel:
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column(overflow="fold")
    for fact in card.facts:
        facts.add_row(shown(fact.name), shown(fact.value))
    links = Table.grid(padding=(0, 2))
    links.add_column(style="bold", no_wrap=True)
    links.add_column(style="cyan", overflow="fold")  # folded, never cut: a link stays whole
    for link in card.links:
        links.add_row(shown(link.label), shown(link.url))
    body = Group(Text(printable(card.description, lines=True)), Text(), facts, Text(), links)
    return Panel(
        body,
        title=Text(printable(card.title), style="bold"),
        subtitle=Text(printable(card.footer), style="dim"),
        border_style=HEALTH_STYLES.get(card.health, "white"),
        expand=False,
    )


def print_card(console: Console, card: Card) -> None:
    console.print(card_panel(card))


def print_changes(console: Console, changes: Sequence[Change]) -> None:
    if not changes:
        console.print("No changes.")
        return
    for change in changes:
        console.print(f"[bold]{change.event}[/bold]  {shown(change.summary)}")


def print_stale(console: Console, rows: Sequence[StaleRow], *, total: int) -> None:
    """`rows`, the first of `total` stale packages."""
    if not total:
        console.print("No stale packages.")
        return
    title = counted(total, "stale package")
    if len(rows) < total:
        title += f", the {len(rows):,} quiet longest"
    table = Table(title=title)
    table.add_column("Package", style="bold")
    table.add_column("Last commit")
    table.add_column("Reasons")
    for record, health in rows:  # the last commit the reasons speak of, not raw last_updated
        last = f"{health.last_commit:%Y-%m-%d}" if health.last_commit else "unknown"
        table.add_row(shown(record.slug), last, "\n".join(map(shown, health.reasons)))
    console.print(table)


def print_grid_table(console: Console, table: GridTable, rows: Sequence[GridRow]) -> None:
    """A grid's ranked members (`rows`, the first of `table.rows`): stars, latest version, last
    commit and health."""
    order = "most stars first" if table.sort == "stars" else "latest commit first"
    grid = Table(title=f"{shown(table.title)} ({shown(table.slug)}), {order}")
    grid.add_column("#", justify="right")
    grid.add_column("Package", style="bold")
    grid.add_column("Stars", justify="right")
    grid.add_column("Version")
    grid.add_column("Last commit")
    grid.add_column("Health")
    for row in rows:
        commit = (
            f"{row.last_commit:%Y-%m-%d} ({row.last_commit_age})" if row.last_commit else "unknown"
        )
        state = row.health.state
        grid.add_row(
            str(row.rank),
            shown(row.slug),
            "unknown" if row.stars is None else f"{row.stars:,}",
            shown(row.version or "not on PyPI"),
            commit,
            Text(state, style=HEALTH_STYLES[state]),
        )
    console.print(grid)
    if not table.rows:
        console.print("No packages stored for this grid.")


def print_webhook_watches(console: Console, watches: Sequence[WebhookWatch]) -> None:
    """One row per subscription, in three columns that fit 80: where it posts (webhook id,
    channel, thread), what it follows, and which alerts (events, releases, state)."""
    if not watches:
        console.print("No webhook subscriptions.")
        return
    table = Table(title="Webhook subscriptions (remove one with: webhook remove WEBHOOK TARGET)")
    table.add_column("Webhook / channel", no_wrap=True)  # ids stay whole, one to a line
    table.add_column("Follows", overflow="fold", ratio=1)
    table.add_column("Alerts", overflow="fold", ratio=2)
    for watch in watches:
        where = f"{watch.webhook_id}\nchannel {watch.channel_id}"
        if watch.thread_id is not None:
            where += f"\nthread {watch.thread_id}"
        releases = RELEASE_LEVELS[watch.min_release_level] + (
            "" if watch.include_prereleases else ", no pre-releases"
        )
        state = f"paused: {watch.paused_reason}" if watch.paused_reason else "active"
        alerts = "\n".join((", ".join(watch.events), releases, state))
        follows = f"{watch.kind} {watch.slug}" + (f"\npinned {watch.pin}" if watch.pin else "")
        table.add_row(where, shown(follows), escape(alerts))
    console.print(table)
