"""`djp-sentinel package SLUG [--json] [--chart FILE.png]`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bot.app.runtime import open_runtime
from bot.app.summaries import Lookup, look_up_package
from bot.cli.common import UserError, suggesting
from bot.cli.facts import package_facts
from bot.cli.output import data_console, note, print_json, status
from bot.cli.terminal import print_card
from bot.config import Settings
from bot.messages.cards import PackageSummary, package_card, package_links

UNREACHABLE = "Django Packages is unreachable: showing the stored copy."


async def package(args: argparse.Namespace, settings: Settings) -> int:
    async with (
        open_runtime(settings, metrics=False) as runtime,
        suggesting(runtime, "package", args.slug),
    ):
        lookup = await look_up_package(runtime, args.slug)
    if args.chart is not None:
        write_chart(args.chart, lookup.summary)
    if lookup.from_cache:
        note(UNREACHABLE)
    if args.json:
        print_json(package_json(lookup))
    else:
        print_card(data_console(), package_card(lookup.summary))
    return 0


def package_json(lookup: Lookup) -> dict[str, Any]:
    """`package --json`: the package's facts, with its category, grids and links."""
    summary = lookup.summary
    return package_facts(summary.record, summary.health) | {
        "category": summary.category,
        "grids": [{"slug": grid.slug, "title": grid.title} for grid in summary.grids],
        "links": {link.label: link.url for link in package_links(summary)},
        "from_cache": lookup.from_cache,
        "advisories": summary.advisories.as_json() if summary.advisories else None,
        "pypi": summary.pypi.as_json() if summary.pypi else None,
    }


def write_chart(path: Path, summary: PackageSummary) -> None:
    """Write the package's commit chart to `path`; a package without commit data has none."""
    from bot.messages.chart import package_chart  # Pillow, only when a chart is asked for

    chart = package_chart(summary)
    if chart is None:
        raise UserError(f"{summary.record.slug} has no commit data: no chart written.")
    try:
        path.write_bytes(chart)
    except OSError as exc:
        raise UserError(f"Cannot write the chart to {path}: {exc.strerror}.") from None
    status(f"Wrote the commit chart to {path} ({len(chart):,} bytes).")
