"""`djp-sentinel db upgrade`."""

from __future__ import annotations

import argparse

from bot.cli.common import database_name
from bot.config import Settings
from bot.core.plural import counted
from storage.database import Database


async def db(args: argparse.Namespace, settings: Settings) -> int:
    database = Database.from_url(settings.database_url)
    try:
        applied = await database.upgrade()
        name = database_name(database)
    finally:
        await database.dispose()
    if not applied:
        print(f"The database {name} is up to date: no migration to apply.")
        return 0
    print(f"Applied {counted(len(applied), 'migration')} to {name}:")
    for migration in applied:
        print(f"  {migration}")
    return 0
