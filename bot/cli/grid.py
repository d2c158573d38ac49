"""`djp-sentinel grid SLUG [--sort stars|activity] [--limit N] [--json]`."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from bot.app.grid_table import GridRow, GridTable, load_grid_table
from bot.app.runtime import open_runtime
from bot.cli.common import suggesting
from bot.cli.facts import package_facts
from bot.cli.output import data_console, limited, more_line, note, print_json
from bot.cli.package import UNREACHABLE
from bot.cli.terminal import print_grid_table
from bot.config import Settings


async def grid(args: argparse.Namespace, settings: Settings) -> int:
    async with (
        open_runtime(settings, metrics=False) as runtime,
        suggesting(runtime, "grid", args.slug),
    ):
        table = await load_grid_table(runtime, args.slug, sort=args.sort)
    if table.from_cache:
        note(UNREACHABLE)
    rows = limited(table.rows, args.limit, json=args.json)
    if args.json:
        print_json(grid_json(table, rows))
    else:
        print_grid_table(data_console(), table, rows)
    note(more_line(len(rows), len(table.rows), "package"))
    return 0


def grid_json(table: GridTable, rows: Sequence[GridRow]) -> dict[str, Any]:
    """`grid --json`: the grid, and each member's facts with its rank."""
    return {
        "slug": table.slug,
        "title": table.title,
        "sort": table.sort,
        "from_cache": table.from_cache,
        "packages": [{"rank": row.rank} | package_facts(row.record, row.health) for row in rows],
    }
