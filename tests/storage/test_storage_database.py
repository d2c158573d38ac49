"""The database wrapper: URLs, connection settings, migrations and time zones."""

from __future__ import annotations

import logging
import os
import re
import stat
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, column, insert, select, table, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from bot.core.records import parse_package
from storage import cycles
from storage.database import Database, alembic_config
from storage.errors import DatabaseError
from storage.models import Alert, Base, Package, PackageHistory
from storage.revisions import head_revision, is_current
from tests.plugins.data import seed_package
from tests.plugins.database import TEST_DATABASE_URL, in_schema, migrated

NOW = datetime(2026, 2, 20, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "url",
    [
        "not a database url",
        "nosuchdb+driver://admin:hunter2@db.example/sentinel",
        "sqlite:///sync-driver.db",
        "mysql+nosuchdriver://admin:hunter2@db.example/sentinel",
    ],
)
def test_an_unusable_url_is_one_clear_error(url: str) -> None:
    with pytest.raises(DatabaseError, match=r"^Cannot use DATABASE_URL") as caught:
        Database.from_url(url)
    assert "hunter2" not in str(caught.value)


async def test_an_unreachable_server_is_a_database_error_without_the_password() -> None:
    database = Database.from_url("postgresql+asyncpg://admin:hunter2@127.0.0.1:1/sentinel")
    try:
        with pytest.raises(DatabaseError, match=re.escape("admin:***@127.0.0.1")) as caught:
            await database.upgrade()
    finally:
        await database.dispose()
    assert "hunter2" not in str(caught.value)


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="set TEST_DATABASE_URL: needs PostgreSQL")
async def test_pooled_connections_the_server_ended_are_replaced_unnoticed() -> None:
    """As after a failover or an operator's `pg_terminate_backend`: the next units of work
    succeed on new connections instead of failing once per dead pooled one."""
    assert TEST_DATABASE_URL is not None
    database = Database.from_url(TEST_DATABASE_URL)
    try:
        ended = await backend_pids(database, POOLED)
        await end_backends(TEST_DATABASE_URL, ended)
        after = await backend_pids(database, POOLED)
    finally:
        await database.dispose()
    assert len(set(ended)) == POOLED
    assert not set(after) & set(ended)


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="set TEST_DATABASE_URL: needs PostgreSQL")
async def test_a_labelled_process_names_its_sessions_and_keeps_other_server_settings() -> None:
    assert TEST_DATABASE_URL is not None
    database = Database.from_url(TEST_DATABASE_URL, label="monitor+delivery", **in_schema("x"))
    try:
        async with database.connection() as connection:
            name, path = (
                await connection.execute(
                    text(
                        "SELECT current_setting('application_name'), current_setting('search_path')"
                    )
                )
            ).one()
    finally:
        await database.dispose()
    assert name == f"djp-sentinel:monitor+delivery:{os.getpid()}"
    assert path == "x"


#: Connections held at once, so that the pool keeps that many.
POOLED = 3


async def backend_pids(database: Database, count: int) -> list[int]:
    """The server processes of `count` connections taken from the pool at once."""
    pid = text("SELECT pg_backend_pid()")
    async with AsyncExitStack() as stack:
        taken = [await stack.enter_async_context(database.connection()) for _ in range(count)]
        return [(await connection.execute(pid)).scalar_one() for connection in taken]


async def end_backends(url: str, pids: list[int]) -> None:
    """Terminate the server processes `pids`, waiting (up to 10 s) until each has ended."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            ended = await connection.execute(
                text("SELECT pg_terminate_backend(pid, 10000) FROM unnest(:pids ::int[]) pid"),
                {"pids": pids},
            )
            assert all(ended.scalars())
    finally:
        await engine.dispose()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_a_sqlite_file_gets_its_directory_created(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "data" / "sentinel.db"
    async with migrated(f"sqlite+aiosqlite:///{path}"):
        pass
    assert path.is_file()


async def test_a_new_sqlite_database_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "data" / "sentinel.db"
    previous = os.umask(0o022)  # the usual umask: files 0644, directories 0755
    try:
        async with migrated(f"sqlite+aiosqlite:///{path}"):
            files = [path, path.with_name("sentinel.db-wal"), path.with_name("sentinel.db-shm")]
            assert {file.name: mode(file) for file in files} == {
                "sentinel.db": 0o600,
                "sentinel.db-wal": 0o600,
                "sentinel.db-shm": 0o600,
            }
    finally:
        os.umask(previous)

    assert (mode(path.parent), mode(path.parent.parent)) == (0o700, 0o700)


async def test_an_existing_world_readable_database_and_its_directory_are_narrowed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = tmp_path / "data"
    path = directory / "sentinel.db"
    async with migrated(f"sqlite+aiosqlite:///{path}"):
        pass
    path.chmod(0o644)
    directory.chmod(0o755)

    with caplog.at_level(logging.WARNING, logger="storage.database"):
        async with (
            migrated(f"sqlite+aiosqlite:///{path}") as database,
            database.session() as session,
        ):
            assert (await session.execute(text("select count(*) from packages"))).scalar() == 0

    assert (mode(path), mode(directory)) == (0o600, 0o700)
    assert caplog.messages == [
        f"narrowed data directory {directory} from 0755 to 0700 (owner only)"
    ]


@pytest.mark.skipif(os.geteuid() != 0, reason="handing a directory to another user needs root")
async def test_a_data_directory_of_another_user_is_left_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = tmp_path / "shared"
    directory.mkdir(mode=0o777)
    directory.chmod(0o777)
    os.chown(directory, 65534, -1)  # nobody's

    with caplog.at_level(logging.WARNING, logger="storage.database"):
        async with migrated(f"sqlite+aiosqlite:///{directory / 'sentinel.db'}"):
            pass

    assert mode(directory) == 0o777
    [warning] = caplog.messages
    assert warning.startswith(f"data directory {directory} is open to others (0777) and owned")


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    async with (
        migrated(f"sqlite+aiosqlite:///{tmp_path / 'sentinel.db'}") as database,
        database.session() as session,
    ):
        assert await session.scalar(text("PRAGMA journal_mode")) == "wal"
        assert await session.scalar(text("PRAGMA foreign_keys")) == 1
        assert await session.scalar(text("PRAGMA busy_timeout")) == 5000


async def test_foreign_keys_are_enforced(database: Database) -> None:
    orphan = {
        "package_id": 404,
        "observed_at": NOW,
        "content_hash": "0" * 32,
        "commits_over_52": [],
    }
    with pytest.raises(IntegrityError):
        async with database.transaction() as session:
            await session.execute(insert(PackageHistory), [orphan])


def _schema_differences(connection: Connection) -> list[object]:
    return compare_metadata(MigrationContext.configure(connection), Base.metadata)


async def test_migrations_build_exactly_the_models_schema(database: Database) -> None:
    async with database.engine.connect() as connection:
        assert await connection.run_sync(_schema_differences) == []


async def test_upgrading_again_keeps_the_data(database: Database) -> None:
    async with database.transaction() as session:
        await cycles.record_cycle(session, started_at=NOW, finished_at=NOW, mode="targets")
    await database.upgrade()
    async with database.session() as session:
        assert await cycles.last_cycle(session) is not None


#: The alerts table as revision 0002 left it.
ALERTS_0002 = table(
    "alerts",
    *(column(c.name, c.type) for c in Alert.__table__.c if c.name not in {"id", "release_level"}),
)


def _old_alert(key: str, event: str, payload: dict[str, object]) -> dict[str, object]:
    return {
        "guild_id": 1,
        "channel_id": 2,
        "event": event,
        "dedup_key": key,
        "summary": key,
        "payload": payload,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": NOW,
        "created_at": NOW,
    }


async def test_0003_moves_release_levels_to_a_column_and_reports_to_a_kind(
    database: Database,
) -> None:
    async with database.engine.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), "0002"))
        old = [
            _old_alert("minor", "release", {"new": "1.1.0", "kind": "new", "level": "minor"}),
            _old_alert("rollback", "release", {"new": "1.0.0", "kind": "changed", "level": None}),
            _old_alert("report", "stale", {"kind": "report", "week": "2026-W08"}),
            _old_alert("stale", "stale", {"direction": "entered", "state": "stale"}),
        ]
        await connection.execute(insert(ALERTS_0002), old)
    await database.upgrade()

    async with database.session() as session:
        rows = await session.execute(select(Alert.dedup_key, Alert.event, Alert.release_level))
        moved = {key: (event, level) for key, event, level in rows}
        report = await session.scalar(select(Alert.payload).where(Alert.dedup_key == "report"))
    assert moved == {
        "minor": ("release", "minor"),
        "rollback": ("release", None),
        "report": ("stale-report", None),
        "stale": ("stale", None),
    }
    assert report == {"week": "2026-W08"}


async def test_0008_works_out_each_stored_package_s_newest_busy_week(
    database: Database,
) -> None:
    windows = {1: [0] * 51 + [3], 2: [2] + [0] * 51, 3: [0] * 52, 4: []}
    async with database.engine.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), "0004"))
        await connection.execute(
            insert(PACKAGES_0004),
            [_old_package(package_id, window) for package_id, window in windows.items()],
        )
    await database.upgrade()

    async with database.session() as session:
        rows = await session.execute(select(Package.id, Package.newest_busy_week))
        busy = dict(rows.tuples().all())
        fingerprints = set(await session.scalars(select(Package.payload_hash)))
    assert busy == {1: 0, 2: 51, 3: 52, 4: None}
    assert fingerprints == {None}  # the next crawl validates every package once


PACKAGES_0004 = table(
    "packages",
    *(
        column(c.name, c.type)
        for c in Package.__table__.c
        if c.name not in {"payload_hash", "newest_busy_week"}
    ),
)


def _old_package(package_id: int, window: list[int]) -> dict[str, object]:
    record = parse_package(seed_package("django-flatblocks") | {"id": package_id})
    return {
        "id": package_id,
        "slug": f"package-{package_id}",
        "title": "A package",
        "repo_description": "",
        "commits_over_52": window,
        "grid_ids": [],
        "record": record.model_dump(mode="json"),
        "content_hash": record.content_hash(),
        "fetched_at": NOW,
        "next_poll_at": NOW,
        "failure_count": 0,
        "missing_count": 0,
    }


async def test_datetimes_come_back_as_the_same_instant_in_utc(database: Database) -> None:
    new_york = datetime(2026, 2, 20, 7, 30, 15, 123456, tzinfo=ZoneInfo("America/New_York"))
    async with database.transaction() as session:
        await cycles.record_cycle(session, started_at=new_york, finished_at=NOW, mode="targets")
    async with database.session() as session:
        cycle = await cycles.last_cycle(session)
    assert cycle is not None
    assert cycle.started_at == new_york
    assert cycle.started_at.tzinfo is UTC
    assert cycle.finished_at == NOW


async def test_a_failed_transaction_leaves_nothing_behind(database: Database) -> None:
    async def crash_mid_cycle() -> None:
        async with database.transaction() as session:
            await cycles.record_cycle(session, started_at=NOW, finished_at=NOW, mode="targets")
            raise RuntimeError("crash mid-cycle")

    with pytest.raises(RuntimeError, match="crash mid-cycle"):
        await crash_mid_cycle()
    async with database.session() as session:
        assert await cycles.last_cycle(session) is None


def test_the_head_read_without_alembic_is_alembic_s_head() -> None:
    scripts = ScriptDirectory.from_config(alembic_config())

    assert head_revision() == scripts.get_current_head()


def test_a_chain_that_is_not_plain_leaves_the_decision_to_alembic(tmp_path: Path) -> None:
    for name, down in (("0001", "None"), ("0002", '"0001"'), ("0003", '"0001"')):  # a branch
        (tmp_path / f"{name}.py").write_text(f'revision = "{name}"\ndown_revision = {down}\n')

    assert head_revision(tmp_path) is None


async def test_a_database_behind_the_head_is_migrated_and_then_current(
    database: Database,
) -> None:
    async with database.engine.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), "0007"))
        assert not await connection.run_sync(is_current)

    applied = await database.upgrade()

    # 0007 is followed by 0004 and 0008, then whatever the later branches chained on.
    assert [migration.split()[0] for migration in applied][:2] == ["0004", "0008"]
    assert await database.upgrade() == []
