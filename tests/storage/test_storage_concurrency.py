"""The same write from two places at once (two processes, a double click) is one write.

Each test holds the first write's transaction open while the second starts, so the second
meets an uncommitted row: a read-then-insert would raise a unique-constraint error there. The
writes are upserts, so the second waits for the first and then finds its row.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import channels, subscriptions
from storage.database import Database
from storage.models import ChannelSettings, FeatureComplete, Subscription
from tests.plugins.database import follow

NOW = datetime(2026, 2, 20, 12, 0, tzinfo=UTC)
GUILD = 800_000_000_000_000_001
CHANNEL = 900_000_000_000_000_001
#: Long enough for the second write to reach the first one's lock.
HEAD_START = 0.2

T = TypeVar("T")
Write = Callable[[AsyncSession], Awaitable[T]]


async def twice_at_once(database: Database, write: Write[T]) -> tuple[T, T]:
    """Run `write` in two transactions, the second starting while the first is still open."""

    async def in_transaction() -> T:
        async with database.transaction() as session:
            return await write(session)

    async with database.transaction() as session:
        first = await write(session)
        second = asyncio.create_task(in_transaction())
        await asyncio.sleep(HEAD_START)
    return first, await second


async def rows(database: Database, model: type[object]) -> int:
    async with database.session() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def test_subscribing_twice_at_once_leaves_one_row(database: Database) -> None:
    async def watch(session: AsyncSession) -> str:
        _subscription, outcome = await subscriptions.subscribe(
            session,
            guild_id=GUILD,
            channel_id=CHANNEL,
            target_kind="package",
            target_id=265,
            created_by=1,
            events=["release"],
        )
        return outcome

    outcomes = await twice_at_once(database, watch)

    assert outcomes == ("created", "unchanged")
    assert await rows(database, Subscription) == 1


async def test_unsubscribing_twice_at_once_removes_once(database: Database) -> None:
    await follow(database, CHANNEL, 265, guild=GUILD)

    async def unwatch(session: AsyncSession) -> bool:
        return await subscriptions.unsubscribe(
            session, channel_id=CHANNEL, target_kind="package", target_id=265
        )

    assert await twice_at_once(database, unwatch) == (True, False)
    assert await rows(database, Subscription) == 0


async def test_a_setting_written_twice_at_once_leaves_one_row(database: Database) -> None:
    async def cap(session: AsyncSession) -> int | None:
        preferences = await channels.update_preferences(
            session, guild_id=GUILD, channel_id=CHANNEL, updated_by=1, now=NOW, daily_cap=20
        )
        return preferences.daily_cap

    assert await twice_at_once(database, cap) == (20, 20)
    assert await rows(database, ChannelSettings) == 1


async def test_a_mark_made_twice_at_once_leaves_one_row(database: Database) -> None:
    async def mark(session: AsyncSession) -> bool:
        return await channels.mark_feature_complete(
            session, guild_id=GUILD, channel_id=CHANNEL, package_id=265, marked_by=1, now=NOW
        )

    assert await twice_at_once(database, mark) == (True, False)
    assert await rows(database, FeatureComplete) == 1
