"""Engine and session setup, and migrations to the latest schema.

`Database.from_url` accepts any SQLAlchemy async URL. SQLite gets foreign keys, WAL and a busy
timeout on every connection; PostgreSQL goes through asyncpg. Whatever goes wrong with the URL
surfaces as one `DatabaseError` whose message never shows the password.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import URL, Connection, event, make_url, text
from sqlalchemy.exc import ArgumentError, DBAPIError, InvalidRequestError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.errors import DatabaseError
from storage.revisions import is_current

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: `cache_size` in KiB (16 MiB, SQLite's default is 2): a refresh writes 2,000 packages a
#: transaction, and a smaller cache spills their pages to the WAL mid-transaction and reads
#: them back (about twice the disk calls, and a tenth of a cycle's CPU in the kernel).
#: The advisory lock migrations run under, one per schema (see `storage.coordination`'s own).
_MIGRATION_LOCK = "hashtext('djp-sentinel migrations ' || current_schema())"
PRIVATE_DIRECTORY = 0o700
PRIVATE_FILE = 0o600
SQLITE_PRAGMAS = ("foreign_keys=ON", "journal_mode=WAL", "busy_timeout=5000", "cache_size=-16384")


def hide_password(url: str) -> str:
    """`url` with its password shown as `***`, found by parsing the URL as SQLAlchemy does (a
    password may hold `/`, `:` or spaces). A URL SQLAlchemy cannot parse, or with more than one
    `@` (an unescaped one in the password), shows `***` for all between `://` and its last `@`."""
    if "@" not in url:
        return url  # no credentials
    if url.count("@") == 1:
        try:
            return make_url(url).render_as_string(hide_password=True)
        except (ArgumentError, ValueError):
            pass
    scheme, separator, rest = url.partition("://")
    _userinfo, _at, host = rest.rpartition("@")
    return f"{scheme}{separator}***@{host}"


class Database:
    """An async engine and its session factory; sessions are opened per unit of work."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str, *, label: str | None = None, **engine_options: Any) -> Database:
        """Build the engine for `url`; `engine_options` go to `create_async_engine`. On
        PostgreSQL, a `label` names this process's sessions (`application_name`).

        Pooled connections are pinged as they are taken from the pool: one the server ended (a
        restart, a failover, an operator's `pg_terminate_backend`) is replaced unnoticed
        instead of failing the next unit of work."""
        try:
            parsed = make_url(url)
            if parsed.get_backend_name() == "sqlite":
                _create_private_file(parsed)
            elif parsed.get_backend_name() == "postgresql" and label is not None:
                engine_options = _named(engine_options, application_name(label))
            engine = create_async_engine(
                parsed,
                json_serializer=_json_text,
                json_deserializer=orjson.loads,
                **{"pool_pre_ping": True} | engine_options,
            )
        except (ArgumentError, InvalidRequestError, ImportError, ValueError, OSError) as exc:
            raise _unusable(url, exc) from None
        if engine.dialect.name == "sqlite":
            event.listen(engine.sync_engine, "connect", _apply_sqlite_pragmas)
        return cls(engine)

    @property
    def url(self) -> str:
        """The database URL with the password hidden, fit for logs and `/status`."""
        return self.engine.url.render_as_string(hide_password=True)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session whose transaction the caller commits (or not)."""
        async with self._sessions() as session:
            yield session

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection]:
        """A plain connection for a short read: no session, no ORM, cheaper on a hot path
        (`storage.lookups`); whatever it began is rolled back when it returns to the pool."""
        async with self.engine.connect() as connection:
            yield connection

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside a transaction: committed on exit, rolled back on an exception."""
        async with self._sessions() as session, session.begin():
            yield session

    async def upgrade(self, revision: str = "head") -> list[str]:
        """Apply the Alembic migrations up to `revision` on this engine's connection; return
        the ones applied, oldest first, as "0002 channel settings" ([] when up to date).

        A database already at the head is told apart without importing Alembic
        (`storage.revisions`): commands that find it current start faster. Otherwise, on
        PostgreSQL, the transaction first takes an advisory lock (per schema), so processes
        starting at once migrate one after the other: the first applies the migrations, the
        others wait for its commit, then find the database current."""
        connection = self.engine.connect()
        try:
            await connection.start()
        except (DBAPIError, OSError) as exc:
            raise _unusable(self.url, exc) from None
        try:
            async with connection.begin():
                if revision == "head" and await connection.run_sync(is_current):
                    return []
                if connection.dialect.name == "postgresql":
                    await connection.execute(
                        text(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
                    )
                return await connection.run_sync(_run_upgrade, revision)
        finally:
            await connection.close()

    async def dispose(self) -> None:
        await self.engine.dispose()


def application_name(label: str) -> str:
    """How this process's sessions show in `pg_stat_activity` (and so who holds which lock in
    `pg_locks`): `djp-sentinel:<label>:<pid>`, e.g. `djp-sentinel:monitor+delivery:4242`."""
    return f"djp-sentinel:{label}:{os.getpid()}"


def _named(engine_options: dict[str, Any], name: str) -> dict[str, Any]:
    """`engine_options` with asyncpg's `application_name` set to `name`, beside any other
    server settings they give (those win)."""
    connect_args = engine_options.get("connect_args", {})
    server_settings = {"application_name": name} | connect_args.get("server_settings", {})
    return engine_options | {"connect_args": connect_args | {"server_settings": server_settings}}


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, built in code: no `alembic.ini` is needed at runtime."""
    from alembic.config import Config  # imported when a migration runs, not at every start

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def _run_upgrade(connection: Connection, revision: str) -> list[str]:
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = alembic_config(connection)
    before = MigrationContext.configure(connection).get_current_revision()
    command.upgrade(config, revision)
    after = MigrationContext.configure(connection).get_current_revision()
    if after is None or after == before:
        return []
    applied = ScriptDirectory.from_config(config).iterate_revisions(after, before or "base")
    return [
        f"{script.revision} {' '.join(script.doc.split()).rstrip('.')}"
        for script in reversed(list(applied))
    ]


def _json_text(value: Any) -> str:
    """JSON columns are written with orjson, several times faster than the standard library (a
    refresh stores records by the hundred); keys that are not strings become strings, as
    `json.dumps` makes them."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _create_private_file(url: URL) -> None:
    """Make the SQLite file (webhook URLs in it are credentials) readable by its owner only:
    missing directories are created 0700, an existing data directory (the file's own) is
    narrowed to 0700 (`_narrow_directory`), a new database file is created 0600 before SQLite
    opens it (SQLite gives its WAL and shared-memory files the database file's mode), and an
    existing one, with its WAL and shared-memory files, is narrowed to 0600."""
    database = url.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if path.parent.exists():
        _narrow_directory(path.parent)
    for directory in reversed([p for p in path.parents if not p.exists()]):
        directory.mkdir(mode=PRIVATE_DIRECTORY, exist_ok=True)
        directory.chmod(PRIVATE_DIRECTORY)  # mkdir's mode is narrowed by the umask only
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE))
    for file in (path, path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm")):
        with contextlib.suppress(FileNotFoundError, PermissionError):  # not ours to narrow
            if file.stat().st_mode & 0o077:
                file.chmod(PRIVATE_FILE)


def _narrow_directory(directory: Path) -> None:
    """Narrow the existing data directory to 0700 when this process's user owns it, saying so
    in one line; one line of warning instead when another user owns it (not ours to change,
    even for root) or it cannot be changed."""
    status = directory.stat()
    was = stat.S_IMODE(status.st_mode)
    if not was & 0o077:
        return
    if status.st_uid == os.geteuid():
        try:
            directory.chmod(PRIVATE_DIRECTORY)
        except OSError as exc:
            log.warning("data directory %s is open to others (%04o): %s", directory, was, exc)
        else:
            log.warning("narrowed data directory %s from %04o to 0700 (owner only)", directory, was)
        return
    log.warning(
        "data directory %s is open to others (%04o) and owned by another user: left as it is; "
        "make it 0700, or move the database to a directory of its own",
        directory,
        was,
    )


def _apply_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _unusable(url: str, exc: BaseException) -> DatabaseError:
    reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    return DatabaseError(f"Cannot use DATABASE_URL '{hide_password(url)}': {reason}")
