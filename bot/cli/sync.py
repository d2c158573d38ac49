"""`djp-sentinel sync`: the whole catalog, with a progress bar on a terminal; then the changes
it found of what is watched (as `poll --once` shows them) and the alerts it queued."""

from __future__ import annotations

import argparse

from rich.console import Console

from bot.app.runtime import open_runtime
from bot.cli.output import data_console, note
from bot.cli.progress import SyncProgress
from bot.cli.terminal import print_changes
from bot.config import Settings
from bot.core.plural import counted
from bot.process.once import concerns, watched


async def sync(args: argparse.Namespace, settings: Settings) -> int:
    async with open_runtime(settings, metrics=False) as runtime:
        with SyncProgress(Console(stderr=True)) as progress:
            report = await runtime.monitor.sync_catalog(progress.update)
        package_ids, grid_ids = await watched(runtime)
    console = data_console()
    console.print(
        f"Synced {counted(report.packages_fetched, 'package')}, "
        f"{counted(report.grids_fetched, 'grid')} and "
        f"{counted(report.categories_fetched, 'category', 'categories')} "
        f"in {counted(report.requests, 'request')}; "
        f"{counted(len(report.changes), 'change')}, {len(report.failures)} skipped."
    )
    concerning = [c for c in report.changes if concerns(c, package_ids, grid_ids)]
    if concerning:
        print_changes(console, concerning)
    if unwatched := len(report.changes) - len(concerning):
        note(f"({counted(unwatched, 'change')} of packages nobody watches not shown)")
    if report.alerts_enqueued:
        console.print(
            f"Queued {counted(report.alerts_enqueued, 'alert')}: "
            "the bot or `poll --once` delivers them."
        )
    for target, error in report.failures.items():
        note(f"skipped {target}: {error}")
    return 0 if "catalog" not in report.failures else 1
