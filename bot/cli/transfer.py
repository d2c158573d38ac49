"""`djp-sentinel export` and `djp-sentinel import FILE`."""

from __future__ import annotations

import argparse
import sys

from bot.app.runtime import open_runtime
from bot.app.transfer import document_json, export_document, import_document, parse_document
from bot.cli.common import database_name
from bot.cli.output import note
from bot.config import Settings


async def export(args: argparse.Namespace, settings: Settings) -> int:
    async with open_runtime(settings, metrics=False) as runtime:
        document = await export_document(runtime.database, now=runtime.clock(), guild_id=args.guild)
        if not document.subscriptions:
            note(f"note: no subscriptions in {database_name(runtime.database)}.")
    sys.stdout.write(document_json(document, webhook_urls=True))
    return 0


async def restore(args: argparse.Namespace, settings: Settings) -> int:
    with args.file:
        document = parse_document(args.file.read())  # all checked before the database is opened
    async with open_runtime(settings, metrics=False) as runtime:
        summary = await import_document(runtime.database, document, now=runtime.clock())
    print(summary.describe())
    return 0
