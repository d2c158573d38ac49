"""`djp-sentinel status`: how the running bot is doing, as `/status` tells it, read from the
database (the bot and this command are separate processes)."""

from __future__ import annotations

import argparse
from datetime import datetime

from rich.console import Console

from bot.app.runtime import open_runtime
from bot.app.status import NO_REFRESH_YET, BotStatus, bot_status, describe_cycle, next_refresh
from bot.cli.output import data_console
from bot.cli.terminal import shown
from bot.config import Settings


async def status(_args: argparse.Namespace, settings: Settings) -> int:
    async with open_runtime(settings, metrics=False) as runtime:
        found = await bot_status(runtime)
        last = found.last_cycle
        upcoming = next_refresh(runtime, last) if last else None
        print_status(data_console(), found, upcoming, now=runtime.clock())
    return 0


def moment(when: datetime) -> str:
    return f"{when:%Y-%m-%d %H:%M} UTC"


def print_status(
    console: Console, found: BotStatus, upcoming: datetime | None, *, now: datetime
) -> None:
    """The last refresh and its figures, the outbox, each optional source's facts, then who
    does what."""
    last = found.last_cycle
    if last is None or upcoming is None:
        console.print(f"Last refresh: {NO_REFRESH_YET}")
    else:
        console.print(f"Last refresh: {moment(last.finished_at)} (next {moment(upcoming)})")
        console.print(f"Last cycle: {describe_cycle(last)}")
    console.print(f"Packages tracked: {found.tracked:,}")
    console.print(f"Alerts waiting: {found.pending:,}")
    for source in found.sources:
        console.print(f"[bold]{source.source.display_name}[/bold]")
        for line in source.describe(now, moment, shown):
            console.print(f"  {line}")
    console.print("[bold]Processes[/bold]")
    for line in found.processes.describe(shown):
        console.print(f"  {line}")
