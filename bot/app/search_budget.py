"""The search budgets of Django Packages shared by every process on one database.

Each process first spends from its own budgets (`Runtime.lookups`, in memory, free); on
PostgreSQL, where several processes (gateway shards, their spares, CLI commands) may search at
once, a search that fits them is counted in the database too (`storage.search_budget`), per
minute, so the settings bound the whole deployment rather than each process. On SQLite one bot
process runs, and its own budgets are the whole story: no write is spent on them.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import DBAPIError

from bot.app.runtime import Runtime
from storage import search_budget

log = logging.getLogger(__name__)


async def may_search_everywhere(runtime: Runtime, person: int | None) -> bool:
    """Count one search for `person` (None: the operator, bound by the shared budget only) in
    the deployment's budgets; False when one is spent, or the database cannot say."""
    if runtime.database.engine.dialect.name != "postgresql":
        return True
    settings = runtime.settings
    budgets = [("all", settings.upstream_searches_per_minute)]
    if person is not None:
        budgets.append((f"user {person}", settings.upstream_searches_per_user_minute))
    minute = int(runtime.clock().timestamp() // 60)
    try:
        async with runtime.database.session() as session:
            if not await search_budget.spend(session, budgets, minute):
                return False
            await session.commit()
    except (DBAPIError, OSError) as exc:
        log.info("search skipped: the shared budget cannot be read (%s)", type(exc).__name__)
        return False
    return True
