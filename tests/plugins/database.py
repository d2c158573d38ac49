"""The `database` fixture: a migrated database on SQLite, and on PostgreSQL when configured.

Every test that requests `database` runs once per backend. The PostgreSQL run needs
`TEST_DATABASE_URL` (it is skipped otherwise).

The migrations run once per backend and session, into a template; each test gets a copy of
it, so tests never see each other's rows and concurrent runs against one server do not collide:

- SQLite: the migrated template file is copied into the test's own directory.
- PostgreSQL: every write the migrations sent to a template schema is recorded once, and
  replayed in one transaction into a fresh schema (unique name) per test, dropped afterwards.
  That is measured faster than `CREATE DATABASE … TEMPLATE` on a server shared by several
  runs: creating and dropping a database each forces a checkpoint (see docs/decisions.md).
"""

from __future__ import annotations

import itertools
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from storage import channels, subscriptions
from storage.database import Database
from storage.models import TargetKind

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql",
        id="postgresql",
        marks=pytest.mark.skipif(
            not TEST_DATABASE_URL, reason="set TEST_DATABASE_URL to run on PostgreSQL"
        ),
    ),
]


def unique_name(prefix: str) -> str:
    """A schema name no other test or concurrent run uses."""
    return f"{prefix}_{uuid.uuid4().hex}"


@asynccontextmanager
async def migrated(url: str, **engine_options: Any) -> AsyncIterator[Database]:
    """A `Database` at `url` with every migration applied, disposed of on exit."""
    database = Database.from_url(url, **engine_options)
    try:
        await database.upgrade()
        yield database
    finally:
        await database.dispose()


def in_schema(schema: str) -> dict[str, Any]:
    """Engine options that make `schema` the only one a PostgreSQL connection sees."""
    return {"connect_args": {"server_settings": {"search_path": schema}}}


async def run_on_server(url: str, *statements: str) -> None:
    """Run `statements` in one transaction on the server at `url`, from a short-lived engine."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


#: A statement and its bound values, as the driver received them.
Statement = tuple[str, Sequence[Any]]


async def replay(database: Database, statements: Sequence[Statement]) -> None:
    """Run `statements` in one transaction; the unbound ones in a row go as one query, so a
    schema's worth of DDL costs one round trip."""
    async with database.engine.connect() as connection:
        asyncpg_connection = (await connection.get_raw_connection()).driver_connection
        assert asyncpg_connection is not None
        async with asyncpg_connection.transaction():
            for bound, run in itertools.groupby(statements, key=lambda s: bool(s[1])):
                if not bound:
                    await asyncpg_connection.execute(";\n".join(sql for sql, _ in run))
                    continue
                for sql, values in run:
                    await asyncpg_connection.execute(sql, *values)


@dataclass(frozen=True)
class PostgresTemplate:
    """The migrations as sent to PostgreSQL, recorded from a run into a throwaway schema."""

    statements: tuple[Statement, ...]

    @classmethod
    async def record(cls, url: str) -> PostgresTemplate:
        schema = unique_name("test_template")
        await run_on_server(url, f'CREATE SCHEMA "{schema}"')
        writes: list[Statement] = []

        def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            if statement.lstrip().upper().startswith("SELECT"):
                return  # reads (Alembic looking at the catalog) change nothing
            assert schema not in f"{statement}{parameters}", f"names its schema: {statement}"
            writes.append((statement, tuple(parameters or ())))

        try:
            database = Database.from_url(url, **in_schema(schema))
            event.listen(database.engine.sync_engine, "before_cursor_execute", keep)
            try:
                await database.upgrade()
            finally:
                await database.dispose()
        finally:
            await run_on_server(url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        return cls(tuple(writes))

    @asynccontextmanager
    async def copy(self, url: str) -> AsyncIterator[Database]:
        """A fresh schema with the migrations replayed, dropped with everything in it on exit."""
        schema = unique_name("test")
        database = Database.from_url(url, **in_schema(schema))
        try:
            await replay(database, [(f'CREATE SCHEMA "{schema}"', ()), *self.statements])
            yield database
        finally:
            await replay(database, [(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE', ())])
            await database.dispose()


class Templates:
    """One migrated template per backend, made when a test first needs it."""

    def __init__(self) -> None:
        self.directory: Path | None = None
        self._sqlite: Path | None = None
        self._postgres: PostgresTemplate | None = None

    async def sqlite(self) -> Path:
        if self._sqlite is None:
            assert self.directory is not None, "the database_templates fixture is not active"
            path = self.directory / "template.db"
            async with migrated(f"sqlite+aiosqlite:///{path}"):
                pass
            self._sqlite = checkpointed(path)
        return self._sqlite

    async def postgres(self) -> PostgresTemplate:
        assert TEST_DATABASE_URL is not None
        if self._postgres is None:
            self._postgres = await PostgresTemplate.record(TEST_DATABASE_URL)
        return self._postgres


TEMPLATES = Templates()


def checkpointed(path: Path) -> Path:
    """`path`, once sure its last connection folded the write-ahead log into it."""
    assert not path.with_name(f"{path.name}-wal").exists(), "a connection to it is still open"
    return path


def sqlite_copy(template: Path, directory: Path) -> str:
    """The URL of a copy of `template` in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "sentinel.db"
    shutil.copyfile(template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(scope="session", autouse=True)
def database_templates(tmp_path_factory: pytest.TempPathFactory) -> Templates:
    """Where the session's SQLite template lives (a directory pytest removes in due course)."""
    TEMPLATES.directory = tmp_path_factory.mktemp("templates")
    return TEMPLATES


@asynccontextmanager
async def open_database(backend: str, directory: Path) -> AsyncIterator[Database]:
    """An empty, migrated database on `backend`; SQLite's file lives in `directory`."""
    if backend == "sqlite":
        database = Database.from_url(sqlite_copy(await TEMPLATES.sqlite(), directory))
        try:
            yield database
        finally:
            await database.dispose()
        return
    assert TEST_DATABASE_URL is not None
    template = await TEMPLATES.postgres()
    async with template.copy(TEST_DATABASE_URL) as database:
        yield database


@pytest.fixture(params=BACKENDS)
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with open_database(request.param, tmp_path) as db:
        yield db


@pytest.fixture
async def session(database: Database) -> AsyncIterator[AsyncSession]:
    """A session on `database`; the test commits when it wants its writes visible elsewhere."""
    async with database.session() as db_session:
        yield db_session


#: The server the helpers below act in unless told.
GUILD = 800_000_000_000_000_001


async def follow(
    database: Database,
    channel: int,
    target_id: int,
    kind: TargetKind = TargetKind.PACKAGE,
    *,
    guild: int = GUILD,
    created_by: int | None = 1,
    **options: Any,
) -> int:
    """Subscribe `channel` to a package (or grid), with the default settings unless `options`
    (events, role_id, webhook_url, ...) say otherwise; the subscription's id."""
    async with database.transaction() as session:
        subscription, _ = await subscriptions.subscribe(
            session,
            guild_id=guild,
            channel_id=channel,
            target_kind=kind,
            target_id=target_id,
            created_by=created_by,
            **options,
        )
    return subscription.id


async def configure(
    database: Database,
    channel: int,
    *,
    now: datetime,
    guild: int = GUILD,
    updated_by: int | None = 1,
    **settings: Any,
) -> None:
    """Change `channel`'s settings (digest, staleness threshold, stale report, ...) at `now`."""
    async with database.transaction() as session:
        await channels.update_preferences(
            session,
            guild_id=guild,
            channel_id=channel,
            updated_by=updated_by,
            now=now,
            **settings,
        )


async def mark_complete(
    database: Database, channel: int, package_id: int, *, now: datetime, guild: int = GUILD
) -> None:
    """Mark a package feature-complete in `channel` at `now`."""
    async with database.transaction() as session:
        await channels.mark_feature_complete(
            session,
            guild_id=guild,
            channel_id=channel,
            package_id=package_id,
            marked_by=1,
            now=now,
        )
