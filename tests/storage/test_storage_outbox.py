"""The alert outbox: deduplicated enqueueing, claiming what is due, settling attempts."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.alerting import NewAlert
from storage import outbox, subscriptions
from storage.database import Database
from storage.models import Alert, AlertStatus
from tests.plugins.database import migrated

NOW = datetime(2026, 2, 20, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)
LATER = NOW + timedelta(minutes=5)


async def claim(
    session: AsyncSession, now: datetime, *, worker: str = "w1", limit: int | None = 100
) -> list[Alert]:
    return await outbox.claim_due(
        session, worker=worker, now=now, lease_until=now + LEASE, limit=limit
    )


def alert(channel_id: int, key: str, subscription_id: int | None = None) -> NewAlert:
    return NewAlert(
        subscription_id=subscription_id,
        guild_id=1,
        channel_id=channel_id,
        event="release",
        dedup_key=f"{channel_id}:{key}",
        summary=f"django-flatblocks {key}",
        payload={"package": "django-flatblocks", "versions": ["1.0.0", "1.0.1"]},
        package_id=265,
    )


async def test_enqueue_counts_new_alerts_and_ignores_repeats(session: AsyncSession) -> None:
    assert await outbox.enqueue(session, [alert(10, "265:release:1.0.1")], now=NOW) == 1
    repeated = [alert(10, "265:release:1.0.1"), alert(11, "265:release:1.0.1")]
    assert await outbox.enqueue(session, repeated, now=LATER) == 1
    assert await outbox.enqueue(session, repeated, now=LATER) == 0
    assert await outbox.enqueue(session, [], now=LATER) == 0
    assert await outbox.pending_count(session) == 2


async def test_a_value_flapping_back_is_not_announced_twice(session: AsyncSession) -> None:
    await outbox.enqueue(session, [alert(10, "265:release:1.0.1")], now=NOW)
    claimed = await claim(session, NOW)
    await outbox.mark_sent(session, [a.id for a in claimed], message_id=42, now=NOW)
    assert await outbox.enqueue(session, [alert(10, "265:release:1.0.1")], now=LATER) == 0
    assert await claim(session, LATER) == []


async def test_claim_returns_due_pending_alerts_by_channel(session: AsyncSession) -> None:
    await outbox.enqueue(session, [alert(20, "a"), alert(10, "b"), alert(20, "c")], now=NOW)
    await outbox.enqueue(session, [alert(10, "later")], now=LATER)
    claimed = await claim(session, NOW)
    assert [(a.channel_id, a.dedup_key) for a in claimed] == [
        (10, "10:b"),
        (20, "20:a"),
        (20, "20:c"),
    ]
    assert claimed[0].payload == alert(10, "b").payload
    assert claimed[0].created_at == NOW
    assert len(await claim(session, LATER, limit=2)) == 2


async def test_sent_alerts_are_not_claimed_again(session: AsyncSession) -> None:
    await outbox.enqueue(session, [alert(10, "a"), alert(10, "b")], now=NOW)
    first, second = await claim(session, NOW)
    await outbox.mark_sent(session, [first.id], message_id=2**62, now=LATER)
    assert (first.status, first.message_id, first.sent_at) == (AlertStatus.SENT, 2**62, LATER)
    assert await claim(session, LATER) == [second]
    assert await outbox.pending_count(session) == 1


async def test_a_retry_waits_for_its_time(session: AsyncSession) -> None:
    await outbox.enqueue(session, [alert(10, "a")], now=NOW)
    (claimed,) = await claim(session, NOW)
    await outbox.mark_retry(session, [claimed.id], error="HTTP 502", next_attempt_at=LATER)
    assert await claim(session, NOW) == []
    (again,) = await claim(session, LATER)
    assert (again.attempts, again.last_error, again.status) == (1, "HTTP 502", "pending")


async def test_failed_alerts_are_kept_but_never_retried(session: AsyncSession) -> None:
    await outbox.enqueue(session, [alert(10, "a")], now=NOW)
    (claimed,) = await claim(session, NOW)
    await outbox.mark_failed(session, [claimed.id], error="HTTP 403: Missing Access")
    assert (claimed.status, claimed.last_error) == ("failed", "HTTP 403: Missing Access")
    assert await claim(session, LATER) == []
    assert await outbox.pending_count(session) == 0


async def test_unsubscribing_keeps_the_alert_history(session: AsyncSession) -> None:
    subscription, _ = await subscriptions.subscribe(
        session, guild_id=1, channel_id=10, target_kind="package", target_id=265, created_by=None
    )
    await outbox.enqueue(session, [alert(10, "a", subscription.id)], now=NOW)
    await subscriptions.unsubscribe(session, channel_id=10, target_kind="package", target_id=265)
    session.expunge_all()
    (kept,) = await claim(session, NOW)
    assert kept.subscription_id is None


async def test_a_claimed_alert_is_skipped_by_other_workers(database: Database) -> None:
    if database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: there is no row locking to skip")
    async with database.transaction() as session:
        await outbox.enqueue(session, [alert(10, "a"), alert(11, "b")], now=NOW)
    async with database.transaction() as first, database.transaction() as second:
        mine = await claim(first, NOW, limit=1)
        theirs = await claim(second, NOW, worker="w2")
    assert [a.dedup_key for a in mine] == ["10:a"]
    assert [a.dedup_key for a in theirs] == ["11:b"]


async def test_the_same_change_is_one_row_per_channel(session: AsyncSession) -> None:
    same_key = [alert(10, "x"), replace(alert(11, "x"), dedup_key="10:x")]
    assert await outbox.enqueue(session, same_key, now=NOW) == 2
    row = asdict(alert(10, "x")) | {"status": "pending", "attempts": 0, "created_at": NOW}
    with pytest.raises(IntegrityError):
        await session.execute(insert(Alert), [row | {"next_attempt_at": NOW}])


async def test_a_lease_keeps_other_workers_off_until_it_ends_or_is_released(
    session: AsyncSession,
) -> None:
    await outbox.enqueue(session, [alert(10, "a"), alert(11, "b")], now=NOW)
    mine = await claim(session, NOW, worker="w1")
    assert len(mine) == 2
    assert await claim(session, NOW + LEASE / 2, worker="w2") == []
    renewed = NOW + LEASE / 2
    assert await outbox.renew(session, worker="w1", now=renewed, lease_until=renewed + LEASE) == 2
    assert await claim(session, NOW + LEASE, worker="w2") == []
    assert await outbox.claimants(session, now=NOW + LEASE) == ["w1"]
    assert await outbox.release(session, ["w1"]) == 2
    assert len(await claim(session, NOW + LEASE, worker="w2")) == 2
    assert len(await claim(session, NOW + 2 * LEASE, worker="w3")) == 2


async def test_two_processes_racing_on_one_sqlite_file_never_claim_the_same_alert(
    tmp_path: Path,
) -> None:
    """Two engines on one file stand for two processes: every alert goes to exactly one."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'race.db'}"
    async with migrated(url) as first, migrated(url) as second:
        async with first.transaction() as session:
            await outbox.enqueue(session, [alert(c, "x") for c in range(1, 401)], now=NOW)

        async def drain(database: Database, worker: str) -> list[int]:
            got: list[int] = []
            while True:
                async with database.transaction() as session:
                    batch = await claim(session, NOW, worker=worker, limit=7)
                    ids = [a.id for a in batch]
                    await outbox.mark_sent(session, ids, message_id=1, now=NOW)
                    if not batch and not await outbox.pending_count(session):
                        return got
                got += ids
                await asyncio.sleep(0)

        mine, theirs = await asyncio.gather(drain(first, "w1"), drain(second, "w2"))
    assert mine
    assert theirs
    assert sorted(mine + theirs) == sorted(set(mine + theirs))
    assert len(mine) + len(theirs) == 400


async def test_a_noisy_server_cannot_starve_the_others(session: AsyncSession) -> None:
    """Claims were by channel id: a server with 300 alerts in low-id channels filled claim
    after claim while a quieter server waited."""
    noisy = [
        replace(alert(channel_id, str(n)), guild_id=1)
        for n in range(300)
        for channel_id in (10, 11)
    ]
    quiet = [replace(alert(99, str(n)), guild_id=2) for n in range(3)]
    await outbox.enqueue(session, [*noisy, *quiet], now=NOW)

    claimed = await claim(session, NOW, limit=100)

    assert len(claimed) == 100
    assert [a.dedup_key for a in claimed if a.guild_id == 2] == ["99:0", "99:1", "99:2"]
    by_channel = [a.channel_id for a in claimed]
    assert by_channel == sorted(by_channel)  # still grouped by channel, oldest first
