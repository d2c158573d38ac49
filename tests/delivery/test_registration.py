"""Delivery workers sharing one database split Discord's budget: each paces at budget / live."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.delivery import identity
from bot.delivery.pacing import Pacer
from bot.delivery.registration import Registration
from storage.database import Database

BUDGET = 45
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def worker(database: Database, slot: int) -> Registration:
    return Registration(
        database,
        Pacer(BUDGET),
        budget=BUDGET,
        clock=lambda: NOW,
        delivery_interval=5.0,
        worker=identity.current(slot),
    )


async def test_live_workers_split_the_budget_and_a_leaver_hands_its_share_back(
    database: Database,
) -> None:
    first, second = worker(database, 1), worker(database, 2)

    await first.beat()
    alone = first.pacer.rate
    await second.beat()
    await first.beat()
    shared = (first.pacer.rate, second.pacer.rate)
    await second.leave()
    await first.beat()

    assert alone == BUDGET
    assert shared == (BUDGET // 2, BUDGET // 2)
    assert first.pacer.rate == BUDGET


async def test_a_pass_beats_while_it_runs(database: Database) -> None:
    first, second = worker(database, 1), worker(database, 2)
    await first.beat()

    async with second.beating():  # joins: both count each other from here on
        await first.beat()
        during = (first.pacer.rate, second.pacer.rate, second.live)

    assert during == (BUDGET // 2, BUDGET // 2, 2)
