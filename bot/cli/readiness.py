"""`djp-sentinel readiness [X.Y] [--grid SLUG] [--json]`."""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bot.app.readiness import ReadinessBoard, readiness_board
from bot.app.runtime import open_runtime
from bot.cli.common import empty_database
from bot.cli.output import data_console, note, print_json
from bot.config import Settings

#: Why the board of every watched package is empty when the database does hold packages.
NOTHING_WATCHED = (
    "No package is watched yet: a channel's /watch add or `djp-sentinel webhook add` watches "
    "one; --grid SLUG shows a grid's members."
)

#: Why every status is `unknown`: nothing was asked.
PYPI_OFF = "PyPI is off (PYPI_URL is empty): no package's Django versions are known."


async def readiness(args: argparse.Namespace, settings: Settings) -> int:
    async with open_runtime(settings, metrics=False) as runtime:
        if runtime.sources is not None:
            await runtime.sources.refresh_endoflife()
        board = await readiness_board(runtime, args.django, grid=args.grid)
        empty = await empty_database(runtime)
        pypi_off = runtime.sources is None or runtime.sources.pypi is None
    note(empty or (NOTHING_WATCHED if not board.rows and args.grid is None else None))
    note(PYPI_OFF if pypi_off and board.rows else None)
    for line in board.notes:
        note(line)
    if args.json:
        print_json([row.as_json() for row in board.rows])
    else:
        print_readiness(data_console(), board)
    return 0


def print_readiness(console: Console, board: ReadinessBoard) -> None:
    """The counts, the version's dates, then each package's status and declared versions."""
    console.print(f"[bold]{escape(board.headline())}[/bold]")
    if board.cycle is not None:
        console.print(escape(board.cycle.describe()))
    if not board.rows:
        console.print("No packages to show.")
        return
    table = Table()
    table.add_column("Package", style="bold")
    table.add_column("Status")
    table.add_column("Declares")
    for row in board.rows:
        declared = ", ".join(row.django_versions) or "nothing"
        table.add_row(escape(row.slug), row.status, declared)
    console.print(table)
