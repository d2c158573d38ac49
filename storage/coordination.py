"""Coordination between bot processes sharing one database, with what the database gives.

On PostgreSQL any number of processes may run: the monitor is elected with a session-level
advisory lock held on a connection of its own (`Leadership`), so exactly one refreshes and the
lock goes when its holder dies; gateway shards are owned the same way (`ShardOwnership`), so a
second gateway for the same shards waits as a hot spare. SQLite serves one bot process:
`sole_process` holds an exclusive lock file beside the database file while a long-running
process lives, and a second one is refused with one line; short CLI commands do not take it and
keep working beside it.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

from sqlalchemy import make_url, text
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.database import Database
from storage.errors import DatabaseError

log = logging.getLogger(__name__)

ONE_PROCESS = "SQLite serves one bot process; use PostgreSQL to run several"


def _lock_key(name: str) -> str:
    """The SQL of the key of the lock named by the SQL expression `name`: one lock per name and
    schema, so installations sharing a server never collide."""
    return f"hashtext('djp-sentinel ' || {name} || ' ' || current_schema())"


_LOCK_KEY = _lock_key(":name")


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


class Ownership:
    """Something one process of the deployment owns at a time, held through session-level
    advisory locks on a connection of its own; `hold()` before acting as the owner.

    On PostgreSQL the first process to take every lock of `names` owns them until its
    connection ends (stop, crash, network loss); the others stand by and take them over on
    their next `hold()`. Elsewhere (SQLite: one process) this process always owns them.
    """

    def __init__(self, database: Database, what: str, names: Sequence[str]) -> None:
        self.database = database
        self.what = what
        self.names = tuple(names)
        self.shared = database.engine.dialect.name == "postgresql"
        self.elected = not self.shared
        #: When (event-loop time) the last `hold()` that found the locks ours began: they were
        #: still held then, however long its answer took to come back.
        self.confirmed_at = float("-inf")
        self._connection: AsyncConnection | None = None
        self._busy = asyncio.Lock()  # one connection: one statement at a time
        #: Whether this process stood by or lost the locks since it last took them: taking
        #: them is then a takeover (the log says so), else a first start.
        self._waited = False

    async def hold(self) -> bool:
        """Check that the locks are still ours, or try to take them; whether this process owns
        them."""
        if not self.shared:
            return True
        async with self._busy:
            began = asyncio.get_running_loop().time()
            try:
                if self._connection is None:
                    self._connection = await self.database.engine.connect()
                    await self._connection.execution_options(isolation_level="AUTOCOMMIT")
                if self.elected:
                    await self._connection.execute(text("SELECT 1"))
                else:
                    self.elected = await self._take(self._connection)
                    if self.elected:
                        log.info("%s %s", "took over" if self._waited else "owns", self.what)
                    self._waited = not self.elected
            except (DBAPIError, OSError) as exc:
                if self.elected:
                    reason = " ".join(str(getattr(exc, "orig", exc)).split())
                    log.warning("lost %s with the database connection: %s", self.what, reason)
                    self._waited = True
                await self._forget()
            if self.elected:
                self.confirmed_at = began
            return self.elected

    async def abandon(self) -> None:
        """Give the locks up without a word to the database (whose answers stopped coming):
        the connection is dropped, and they go when the server notices."""
        async with self._busy:
            await self._forget()

    async def release(self) -> None:
        """Hand over now (a standby takes over at its next `hold()`)."""
        async with self._busy:
            if self._connection is not None and self.elected:
                with suppress(DBAPIError, OSError):
                    await self._unlock(self._connection, self.names)
            await self._forget()

    async def _take(self, connection: AsyncConnection) -> bool:
        """Every lock, or none: a partial hold is given back, so two processes wanting
        overlapping sets never block each other for good."""
        taken: list[str] = []
        for name in self.names:
            result = await connection.execute(
                text(f"SELECT pg_try_advisory_lock({_LOCK_KEY})"), {"name": name}
            )
            if not result.scalar():
                await self._unlock(connection, taken)
                return False
            taken.append(name)
        return True

    @staticmethod
    async def _unlock(connection: AsyncConnection, names: Sequence[str]) -> None:
        for name in names:
            await connection.execute(
                text(f"SELECT pg_advisory_unlock({_LOCK_KEY})"), {"name": name}
            )

    async def _forget(self) -> None:
        """Drop the dedicated connection for good: a pooled one would keep the locks alive."""
        connection, self._connection = self._connection, None
        self.elected = not self.shared
        if connection is not None:
            with suppress(DBAPIError, OSError):
                await connection.invalidate()
            with suppress(DBAPIError, OSError):
                await connection.close()


#: The name of the monitor's lock.
MONITOR_LOCK = "monitor"


class Leadership(Ownership):
    """Whether this process is the elected monitor, the one that refreshes."""

    def __init__(self, database: Database) -> None:
        super().__init__(database, "the monitor lead", [MONITOR_LOCK])


async def lock_holders(connection: AsyncConnection, names: Sequence[str]) -> dict[str, str]:
    """Who holds each of the locks `names` that is held (PostgreSQL only): the holding
    session's `application_name` (see `storage.database`), or its server process id.

    A bigint advisory lock shows in `pg_locks` as its high and low 32 bits (`classid`,
    `objid`, with `objsubid` 1)."""
    held = await connection.execute(
        text(
            "SELECT name, coalesce(nullif(activity.application_name, ''), 'pid ' || locks.pid) "
            "FROM unnest(CAST(:names AS text[])) AS name "
            "JOIN pg_locks AS locks ON locks.locktype = 'advisory' AND locks.granted "
            "AND locks.objsubid = 1 AND locks.database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database()) "
            f"AND ((locks.classid::bigint << 32) | locks.objid::bigint) = {_lock_key('name')} "
            "LEFT JOIN pg_stat_activity AS activity ON activity.pid = locks.pid"
        ),
        {"names": list(names)},
    )
    return {name: holder for name, holder in held.tuples()}


def shard_lock(shard: int, shard_count: int) -> str:
    """The name of the lock of one gateway shard."""
    return f"gateway shard {shard} of {shard_count}"


class ShardOwnership(Ownership):
    """The gateway shards `shard_ids` of `shard_count`: one process connects them, the others
    wait as hot spares."""

    def __init__(self, database: Database, shard_count: int, shard_ids: Sequence[int]) -> None:
        names = [shard_lock(shard, shard_count) for shard in sorted(shard_ids)]
        shards = ", ".join(str(shard) for shard in sorted(shard_ids))
        super().__init__(database, f"gateway shard(s) {shards} of {shard_count}", names)
