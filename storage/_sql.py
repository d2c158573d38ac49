"""Statement helpers shared by the query modules: the "leave unchanged" marker, upserts, slug
hand-overs, search."""

from __future__ import annotations

import functools
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Delete,
    Executable,
    String,
    Table,
    Update,
    cast,
    false,
    func,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.slugs import InvalidSlug, checked_key
from storage.models import Grid, Package

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite


class Keep(Enum):
    """The type of `KEEP`."""

    KEEP = "keep"


#: The default of a write function's optional settings: leave the stored value as it is.
#: Every storage write function reads its arguments this way: a setting left out (`KEEP`) is
#: unchanged, `None` clears it, any other value sets it.
KEEP: Final = Keep.KEEP


def given(**settings: object) -> dict[str, Any]:
    """The settings that are not `KEEP`: what a write function changes."""
    return {name: value for name, value in settings.items() if value is not KEEP}


def dialect_insert(session: AsyncSession, table: Table) -> sqlite.Insert | postgresql.Insert:
    """An INSERT that understands `ON CONFLICT` on the session's backend."""
    return _insert_for(session.get_bind().dialect.name, table)


def _insert_for(dialect: str, table: Table) -> sqlite.Insert | postgresql.Insert:
    """The dialect's INSERT; each dialect module is imported by the first statement for it
    (on SQLite, the PostgreSQL dialect is never loaded)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def chunks(ids: Sequence[int], size: int = 500) -> Iterator[Sequence[int]]:
    """`ids` in slices small enough for any backend's limit on bound parameters."""
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


async def affected_rows(session: AsyncSession, statement: Delete | Update) -> int:
    """Run an UPDATE or DELETE; how many rows it changed."""
    result = await session.execute(statement)
    # The session types every result alike; an UPDATE or DELETE yields a cursor result.
    return typing.cast(CursorResult[Any], result).rowcount


async def upsert(session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows`, or update every given column of those whose primary key exists."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    await session.execute(_upsert_statement(dialect, table, tuple(rows[0])), rows)


@functools.cache
def _upsert_statement(dialect: str, table: Table, columns: tuple[str, ...]) -> Executable:
    """Built once per table and columns: `excluded` copies the table's whole column collection,
    which costs more than running the statement on a small batch."""
    insert = _insert_for(dialect, table)
    keys = [column.name for column in table.primary_key]
    changes = {name: insert.excluded[name] for name in columns if name not in keys}
    return insert.on_conflict_do_update(index_elements=keys, set_=changes)


async def release_slugs(
    session: AsyncSession, model: type[Package] | type[Grid], slugs: Mapping[int, str]
) -> None:
    """Rename to `<slug>~<id>` the rows whose slug upstream now gives to another id.

    Upstream slugs are unique but can move to another id (a package deleted and its name
    reused); the stale row would otherwise make the unique index reject a whole batch. It gets
    its real slug back if it is ever observed again.
    """
    await session.execute(
        update(model)
        .where(model.slug.in_(list(slugs.values())), model.id.not_in(list(slugs)))
        .values(slug=model.slug + "~" + cast(model.id, String))
        .execution_options(synchronize_session=False)
    )


async def bring_schedule_forward(
    session: AsyncSession, model: type[Package] | type[Grid], latest: datetime
) -> None:
    """Move the next poll of every row not backing off after failures to `latest` at the
    latest: a schedule made under a longer poll interval gives way to the current one."""
    await session.execute(
        update(model)
        .where(model.next_poll_at > latest, model.failure_count == 0)
        .values(next_poll_at=latest)
        .execution_options(synchronize_session=False)
    )


#: When to poll a target again after this many consecutive failures (its backoff).
RetryAt = Callable[[int], datetime]


async def record_failure(
    session: AsyncSession,
    model: type[Package] | type[Grid],
    target_id: int,
    error: str,
    retry_at: RetryAt,
) -> int:
    """Count a failed fetch of a stored package or grid and note the error; its next poll
    is `retry_at(failures)` for the count this write returns, so the backoff follows the
    stored count. Returns the count (0 for a target never stored: there is no row to mark)."""
    count = await session.scalar(
        update(model)
        .where(model.id == target_id)
        .values(failure_count=model.failure_count + 1, last_error=error)
        .returning(model.failure_count)
    )
    if not count:
        return 0
    await session.execute(
        update(model).where(model.id == target_id).values(next_poll_at=retry_at(count))
    )
    return count


def by_id_or_slug(model: type[Package] | type[Grid], key: int | str) -> ColumnElement[bool]:
    """Match a row by id (an int or a string of digits) or by slug, case-insensitively.

    A key no package or grid can have (see `bot.core.slugs`) matches nothing.
    """
    try:
        checked = checked_key(key, "grid" if model is Grid else "package")
    except InvalidSlug:
        return false()
    if isinstance(checked, str):
        return func.lower(model.slug) == checked.lower()
    return model.id == checked
