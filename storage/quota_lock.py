"""One guild's quota-checked additions, one at a time.

A quota is a count read, then an insert: two additions at once would both read the count
before either inserts, and both pass. `hold_guild` makes them take turns until the adding
transaction ends, so the second reads the first's row. PostgreSQL gets a transaction-level
advisory lock per guild (other guilds go on at once); SQLite, one writer at a time anyway, has
the transaction take the write lock before it reads, which is what a guarded `INSERT … SELECT`
would need too on SQLite, without a second copy of every insert.
"""

from __future__ import annotations

from sqlalchemy import false, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Subscription

#: Two 32-bit keys: the installation's (per schema), and the guild's. Advisory locks on two
#: keys never meet the one-key locks of `storage.coordination` or the migrations.
_GUILD_LOCK = (
    "SELECT pg_advisory_xact_lock(hashtext('djp-sentinel quotas ' || current_schema()), "
    "hashtext(:guild))"
)


async def hold_guild(session: AsyncSession, guild_id: int) -> None:
    """Wait until no other transaction adds to `guild_id`'s quotas, and keep them waiting
    until this one ends. Call it first in the transaction that checks a quota and adds."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text(_GUILD_LOCK), {"guild": str(guild_id)})
        return
    # A write that changes nothing: SQLite takes its write lock, and the reads that follow see
    # every addition committed before it.
    table = Subscription.__table__
    await session.execute(update(table).where(false()).values(guild_id=table.c.guild_id))
