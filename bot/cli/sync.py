"""`djp-sentinel sync`: the whole catalog, with a progress bar on a terminal."""

from __future__ import annotations

import argparse

from rich.console import Console

from bot.app.runtime import open_runtime
from bot.cli.output import data_console, note
from bot.cli.progress import SyncProgress
from bot.config import Settings


async def sync(args: argparse.Namespace, settings: Settings) -> int:
    async with open_runtime(settings, metrics=False) as runtime:
        with SyncProgress(Console(stderr=True)) as progress:
            report = await runtime.monitor.sync_catalog(progress.update)
    data_console().print(
        f"Synced {report.packages_fetched} packages, {report.grids_fetched} grids and "
        f"{report.categories_fetched} categories in {report.requests} requests; "
        f"{len(report.changes)} changes, {len(report.failures)} skipped."
    )
    for target, error in report.failures.items():
        note(f"skipped {target}: {error}")
    return 0 if "catalog" not in report.failures else 1
