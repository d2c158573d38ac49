"""`djp-sentinel stale [--grid SLUG] [--limit N] [--json]`."""

from __future__ import annotations

import argparse

from bot.app.lookup import not_found
from bot.app.runtime import Runtime, open_runtime
from bot.cli.common import UserError, empty_database
from bot.cli.facts import package_facts
from bot.cli.output import data_console, limited, more_line, note, print_json
from bot.cli.terminal import StaleRow, print_stale
from bot.config import Settings
from bot.refresh.staleness import ChannelStaleness, stale_packages
from storage import grids, packages


async def stale(args: argparse.Namespace, settings: Settings) -> int:
    async with open_runtime(settings, metrics=False) as runtime:
        rows = await stale_rows(runtime, args.grid)
        empty = await empty_database(runtime)
    note(empty)
    listed = limited(rows, args.limit, json=args.json)
    if args.json:
        print_json([package_facts(record, health) for record, health in listed])
    else:
        print_stale(data_console(), listed, total=len(rows))
    note(more_line(len(listed), len(rows), "stale package"))
    return 0


async def stale_rows(runtime: Runtime, grid_slug: str | None) -> list[StaleRow]:
    """Every stale package stored (or every stale member of a grid), stalest first."""
    now = runtime.clock()
    async with runtime.database.session() as session:
        if grid_slug is None:
            candidates = await packages.all_packages(session)
        else:
            grid = await grids.find_grid(session, grid_slug)
            if grid is None:
                message = await not_found(runtime, "grid", grid_slug)
                raise UserError(f"{message} (Grids are stored by `djp-sentinel sync`.)")
            candidates = await packages.packages_in_grid(session, grid.id)
    staleness = ChannelStaleness(runtime.settings.stale_after_days)
    return stale_packages((stored.record for stored in candidates), staleness, now)
