"""Terminal rendering of cards, change lists and stale reports (rich).

Every string that came from upstream goes through `printable` (no control sequences reach
the operator's terminal) and, where rich reads markup, `escape`: `shown` does both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from bot.app.grid_table import GridTable
from bot.core.events import Change
from bot.core.health import Health
from bot.core.printable import printable
from bot.core.records import PackageRecord
from bot.messages.cards import Card

if TYPE_CHECKING:
    from bot.app.webhook_subscriptions import WebhookWatch

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
    """Upstream text as rich markup that prints it literally, without control sequences."""
    return escape(printable(text))


def card_panel(card: Card) -> Panel:
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column(overflow="fold")
    for field in card.fields:
        facts.add_row(shown(field.name), shown(field.value))
    links = Table.grid(padding=(0, 2))
    links.add_column(style="bold", no_wrap=True)
    links.add_column(style="cyan", overflow="fold")  # folded, never cut: a link stays whole
    for link in card.links:
        links.add_row(shown(link.label), shown(link.url))
    body = Group(Text(printable(card.description)), Text(), facts, Text(), links)
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


def print_stale(console: Console, rows: Sequence[tuple[PackageRecord, Health]]) -> None:
    if not rows:
        console.print("No stale packages.")
        return
    table = Table(title=f"{len(rows)} stale package{'s' if len(rows) != 1 else ''}")
    table.add_column("Package", style="bold")
    table.add_column("Last commit")
    table.add_column("Reasons")
    for record, health in rows:  # the last commit the reasons speak of, not raw last_updated
        last = f"{health.last_commit:%Y-%m-%d}" if health.last_commit else "unknown"
        table.add_row(shown(record.slug), last, "\n".join(map(shown, health.reasons)))
    console.print(table)


def print_grid_table(console: Console, table: GridTable) -> None:
    """A grid's ranked members: stars, latest version, last commit and health."""
    order = "most stars first" if table.sort == "stars" else "latest commit first"
    grid = Table(title=f"{shown(table.title)} ({shown(table.slug)}), {order}")
    grid.add_column("#", justify="right")
    grid.add_column("Package", style="bold")
    grid.add_column("Stars", justify="right")
    grid.add_column("Version")
    grid.add_column("Last commit")
    grid.add_column("Health")
    for row in table.rows:
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
    if not watches:
        console.print("No webhook subscriptions.")
        return
    table = Table(title="Webhook subscriptions (remove one with: webhook remove WEBHOOK TARGET)")
    for column in ("Webhook", "Channel", "Follows"):  # ids and names stay whole, on one line
        table.add_column(column, no_wrap=True)
    for column in ("Events", "Releases", "State"):
        table.add_column(column, overflow="fold")
    for watch in watches:
        where = str(watch.channel_id)
        if watch.thread_id is not None:
            where += f"\nthread {watch.thread_id}"
        table.add_row(
            str(watch.webhook_id),
            where,
            shown(f"{watch.kind} {watch.slug}"),
            ", ".join(watch.events),
            RELEASE_LEVELS[watch.min_release_level]
            + ("" if watch.include_prereleases else ", no pre-releases"),
            escape(f"paused: {watch.paused_reason}") if watch.paused_reason else "active",
        )
    console.print(table)


class SyncProgress:
    """`sync`'s progress, phase by phase (categories, packages, grids), on a terminal only."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.bar: Progress | None = None
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> SyncProgress:
        if self.console.is_terminal:
            self.bar = Progress(
                TextColumn("{task.description:<10}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self.bar.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def update(self, phase: str, done: int, total: int) -> None:
        if self.bar is None:
            return
        if phase not in self.tasks:
            self.tasks[phase] = self.bar.add_task(phase.capitalize(), total=total)
        self.bar.update(self.tasks[phase], completed=done, total=total)
