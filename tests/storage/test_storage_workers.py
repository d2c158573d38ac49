"""The registry of delivery workers: who is live, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage import workers
from storage.database import Database

START = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
WITHIN = timedelta(seconds=30)


async def live(database: Database, now: datetime) -> int:
    async with database.session() as session:
        return await workers.live_count(session, now=now, within=WITHIN)


async def beat(database: Database, name: str, now: datetime) -> None:
    async with database.transaction() as session:
        await workers.beat(session, name, now=now)


async def test_workers_count_while_they_beat(database: Database) -> None:
    await beat(database, "a", START)
    await beat(database, "b", START)
    assert await live(database, START) == 2

    later = START + timedelta(seconds=40)  # b stopped beating
    await beat(database, "a", later)
    assert await live(database, later) == 1


async def test_a_worker_leaving_hands_its_share_back_at_once(database: Database) -> None:
    await beat(database, "a", START)
    await beat(database, "b", START)
    async with database.transaction() as session:
        await workers.leave(session, "a")

    assert await live(database, START) == 1


async def test_a_forgotten_worker_joins_again(database: Database) -> None:
    await beat(database, "frozen", START)
    much_later = START + workers.FORGET_AFTER + timedelta(minutes=1)

    await beat(database, "other", much_later)  # deletes the frozen worker's row
    await beat(database, "frozen", much_later)

    assert await live(database, much_later) == 2


async def test_the_asking_worker_always_counts(database: Database) -> None:
    assert await live(database, START) == 1
