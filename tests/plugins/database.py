"""The `database` fixture: a migrated database on SQLite, and on PostgreSQL when configured.

Every test that requests `database` runs once per backend. The PostgreSQL run needs
`TEST_DATABASE_URL` (it is skipped otherwise) and gets a schema of its own, dropped afterwards,
so tests never see each other's rows and concurrent runs against one server do not collide.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from storage import subscriptions
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


@asynccontextmanager
async def postgres_schema(url: str) -> AsyncIterator[str]:
    """A fresh, empty schema on the server at `url`, dropped with everything in it on exit."""
    name = f"test_{uuid.uuid4().hex}"
    admin = create_async_engine(url)
    try:
        async with admin.begin() as connection:
            await connection.execute(text(f'CREATE SCHEMA "{name}"'))
        yield name
    finally:
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        await admin.dispose()


@asynccontextmanager
async def migrated(url: str, **engine_options: object) -> AsyncIterator[Database]:
    """A `Database` at `url` with every migration applied, disposed of on exit."""
    database = Database.from_url(url, **engine_options)
    try:
        await database.upgrade()
        yield database
    finally:
        await database.dispose()


@asynccontextmanager
async def open_database(backend: str, directory: Path) -> AsyncIterator[Database]:
    """An empty, migrated database on `backend`; SQLite's file lives in `directory`."""
    if backend == "sqlite":
        async with migrated(f"sqlite+aiosqlite:///{directory / 'sentinel.db'}") as database:
            yield database
        return
    assert TEST_DATABASE_URL is not None
    async with (
        postgres_schema(TEST_DATABASE_URL) as schema,
        migrated(
            TEST_DATABASE_URL, connect_args={"server_settings": {"search_path": schema}}
        ) as database,
    ):
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


async def follow(
    database: Database,
    channel: int,
    target_id: int,
    kind: TargetKind = TargetKind.PACKAGE,
    *,
    guild: int = 800_000_000_000_000_001,
) -> None:
    """Subscribe `channel` to a package (or grid) with the default settings."""
    async with database.transaction() as session:
        await subscriptions.subscribe(
            session,
            guild_id=guild,
            channel_id=channel,
            target_kind=kind,
            target_id=target_id,
            created_by=1,
        )
