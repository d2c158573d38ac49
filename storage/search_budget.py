"""Searches of Django Packages counted per minute in the database: every process on one
PostgreSQL database spends from the same budgets (`bot.app.search_budget`)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage._sql import dialect_insert
from storage.models import SearchBudget


async def spend(session: AsyncSession, budgets: Sequence[tuple[str, int]], minute: int) -> bool:
    """Count one search against each (scope, limit) of `budgets` in `minute`; False as soon as
    one is spent, and then the caller rolls back what was counted (nothing is committed here).

    Each count is one guarded upsert: the row's lock makes processes counting at once take
    turns, and a count at its limit is not raised. Earlier minutes are deleted on the way."""
    table = SearchBudget.__table__
    for scope, limit in budgets:
        if limit <= 0:
            return False
        insert = dialect_insert(session, table)
        counted = await session.scalar(
            insert.values(scope=scope, minute=minute, used=1)
            .on_conflict_do_update(
                index_elements=["scope", "minute"],
                set_={"used": table.c.used + 1},
                where=table.c.used < limit,
            )
            .returning(table.c.used)
        )
        if counted is None:
            return False
    await session.execute(delete(table).where(table.c.minute < minute))
    return True
