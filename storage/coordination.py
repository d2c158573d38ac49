"""Coordination between bot processes sharing one database, with what the database gives.

On PostgreSQL any number of processes may run: the monitor is elected with a session-level
advisory lock held on a connection of its own (`Leadership`), so exactly one refreshes and the
lock goes when its holder dies. SQLite serves one bot process: `sole_process` holds an
exclusive lock file beside the database file while a long-running process lives, and a second
one is refused with one line; short CLI commands do not take it and keep working beside it.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from sqlalchemy import make_url, text
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.database import Database
from storage.errors import DatabaseError

log = logging.getLogger(__name__)

ONE_PROCESS = "SQLite serves one bot process; use PostgreSQL to run several"
#: One lock per schema: processes of different installations on one server never collide.
_MONITOR_LOCK = "hashtext('djp-sentinel monitor ' || current_schema())"


@contextmanager
def sole_process(database_url: str) -> Iterator[None]:
    """Hold the SQLite database's process lock (`<file>.lock`); no-op on other backends.

    Raises `DatabaseError` when another long-running process holds it.
    """
    try:
        url = make_url(database_url)
    except ArgumentError:  # opening the database reports it in one line
        url = None
    path = url.database if url else None
    if url is None or url.get_backend_name() != "sqlite" or not path or path == ":memory:":
        yield
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    lock_path = Path(path).with_name(Path(path).name + ".lock")
    descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DatabaseError(f"{ONE_PROCESS} ({path} is in use).") from None
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


class Leadership:
    """Whether this process is the elected monitor; `hold()` before every cycle.

    On PostgreSQL the first process to take the advisory lock leads until its connection ends
    (stop, crash, network loss); the others stand by and take it over on their next `hold()`.
    Elsewhere (SQLite: one process) this process always leads.
    """

    def __init__(self, database: Database) -> None:
        self.database = database
        self.elected = database.engine.dialect.name != "postgresql"
        self._connection: AsyncConnection | None = None

    async def hold(self) -> bool:
        """Check that the lock is still ours, or try to take it; whether this process leads."""
        if self.database.engine.dialect.name != "postgresql":
            return True
        try:
            if self._connection is None:
                self._connection = await self.database.engine.connect()
                await self._connection.execution_options(isolation_level="AUTOCOMMIT")
            if self.elected:
                await self._connection.execute(text("SELECT 1"))
            else:
                result = await self._connection.execute(
                    text(f"SELECT pg_try_advisory_lock({_MONITOR_LOCK})")
                )
                self.elected = bool(result.scalar())
                if self.elected:
                    log.info("elected monitor: this process now runs the refresh cycles")
        except (DBAPIError, OSError) as exc:
            if self.elected:
                log.warning("lost the monitor lock with the database connection: %s", exc)
            await self._forget()
        return self.elected

    async def release(self) -> None:
        """Hand leadership over now (a standby takes it at its next `hold()`)."""
        if self._connection is not None and self.elected:
            with suppress(DBAPIError, OSError):
                await self._connection.execute(text(f"SELECT pg_advisory_unlock({_MONITOR_LOCK})"))
        await self._forget()

    async def _forget(self) -> None:
        """Drop the dedicated connection for good: a pooled one would keep the lock alive."""
        connection, self._connection = self._connection, None
        self.elected = self.database.engine.dialect.name != "postgresql"
        if connection is not None:
            with suppress(DBAPIError, OSError):
                await connection.invalidate()
            with suppress(DBAPIError, OSError):
                await connection.close()
