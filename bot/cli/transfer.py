"""`djp-sentinel export` and `djp-sentinel import FILE`."""

from __future__ import annotations

import argparse
import functools
import sys

from bot.app.runtime import open_runtime
from bot.app.transfer import (
    MAX_BYTES,
    document_json,
    export_backup,
    import_document,
    parse_document,
)
from bot.cli.common import database_name
from bot.cli.output import note
from bot.config import Settings
from bot.delivery.webhook import resolve_webhook, webhook_http_client


async def export(args: argparse.Namespace, settings: Settings) -> int:
    async with open_runtime(settings, metrics=False) as runtime:
        document = await export_backup(runtime.database, now=runtime.clock(), guild_id=args.guild)
        if not document.subscriptions:
            note(f"note: no subscriptions in {database_name(runtime.database)}.")
    sys.stdout.write(document_json(document, webhook_urls=True))
    return 0


async def restore(args: argparse.Namespace, settings: Settings) -> int:
    test_host = settings.webhook_test_host
    with args.file:
        text = args.file.read(MAX_BYTES + 1)  # a larger file is refused unread
    document = parse_document(text, test_host=test_host)  # checked before opening the database
    async with (
        open_runtime(settings, metrics=False) as runtime,
        webhook_http_client(settings.http_timeout_seconds) as http,
    ):
        summary = await import_document(
            runtime.database,
            document,
            now=runtime.clock(),
            settings=settings,
            guild=args.guild,
            resolve=functools.partial(resolve_webhook, http, test_host=test_host),
        )
    print(summary.describe())
    return 0
