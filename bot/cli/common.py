"""What several commands share: the user's mistakes as one-line errors, naming the database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.app.lookup import not_found
from bot.app.runtime import Runtime
from bot.errors import NotFound, SentinelError
from bot.refresh.names import Kind
from storage import packages
from storage.database import Database


class UserError(SentinelError):
    """A mistake in what the user asked for (e.g. an unknown grid)."""


@asynccontextmanager
async def suggesting(runtime: Runtime, kind: Kind, text: str) -> AsyncIterator[None]:
    """Turn "not on Django Packages" into a `UserError` naming the closest slugs."""
    try:
        yield
    except NotFound:
        raise UserError(await not_found(runtime, kind, text)) from None


def database_name(database: Database) -> str:
    """The file of a SQLite database, or the URL (password hidden) of any other."""
    url = database.engine.url
    if url.get_backend_name() == "sqlite" and url.database:
        return str(Path(url.database).resolve())
    return database.url


async def empty_database(runtime: Runtime) -> str | None:
    """A line naming the database when it holds no packages yet (a wrong file, or no sync)."""
    async with runtime.database.session() as session:
        if await packages.package_count(session):
            return None
    return (
        f"The database {database_name(runtime.database)} holds no packages yet: "
        "run `djp-sentinel sync`, or point DATABASE_URL at the one the bot uses."
    )
