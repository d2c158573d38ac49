"""The alert outbox: deduplicated enqueueing, claiming what is due, settling attempts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from storage import outbox, subscriptions
from storage.database import Database
from storage.models import AlertStatus
from storage.outbox import NewAlert

NOW = datetime(2026, 2, 20, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)


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
    claimed = await outbox.claim_due(session, now=NOW)
    await outbox.mark_sent(session, [a.id for a in claimed], message_id=42, now=NOW)
    assert await outbox.enqueue(session, [alert(10, "265:release:1.0.1")], now=LATER) == 0
    assert await outbox.claim_due(session, now=LATER) == []


async def test_claim_returns_due_pending_alerts_by_channel(session: AsyncSession) -> None:
    await outbox.enqueue(session, [alert(20, "a"), alert(10, "b"), alert(20, "c")], now=NOW)
    await outbox.enqueue(session, [alert(10, "later")], now=LATER)
    claimed = await outbox.claim_due(session, now=NOW)
    assert [(a.channel_id, a.dedup_key) for a in claimed] == [
        (10, "10:b"),
        (20, "20:a"),
        (20, "20:c"),
    ]
    assert claimed[0].payload == alert(10, "b").payload
    assert claimed[0].created_at == NOW
    assert len(await outbox.claim_due(session, now=LATER, limit=2)) == 2


async def test_sent_alerts_are_not_claimed_again(session: AsyncSession) -> None:
    await outbox.enqueue(session, [alert(10, "a"), alert(10, "b")], now=NOW)
    first, second = await outbox.claim_due(session, now=NOW)
    await outbox.mark_sent(session, [first.id], message_id=2**62, now=LATER)
    assert (first.status, first.message_id, first.sent_at) == (AlertStatus.SENT, 2**62, LATER)
    assert await outbox.claim_due(session, now=LATER) == [second]
    assert await outbox.pending_count(session) == 1


async def test_a_retry_waits_for_its_time(session: AsyncSession) -> None:
    await outbox.enqueue(session, [alert(10, "a")], now=NOW)
    (claimed,) = await outbox.claim_due(session, now=NOW)
    await outbox.mark_retry(session, [claimed.id], error="HTTP 502", next_attempt_at=LATER)
    assert await outbox.claim_due(session, now=NOW) == []
    (again,) = await outbox.claim_due(session, now=LATER)
    assert (again.attempts, again.last_error, again.status) == (1, "HTTP 502", "pending")


async def test_failed_alerts_are_kept_but_never_retried(session: AsyncSession) -> None:
    await outbox.enqueue(session, [alert(10, "a")], now=NOW)
    (claimed,) = await outbox.claim_due(session, now=NOW)
    await outbox.mark_failed(session, [claimed.id], error="HTTP 403: Missing Access")
    assert (claimed.status, claimed.last_error) == ("failed", "HTTP 403: Missing Access")
    assert await outbox.claim_due(session, now=LATER) == []
    assert await outbox.pending_count(session) == 0


async def test_unsubscribing_keeps_the_alert_history(session: AsyncSession) -> None:
    subscription, _ = await subscriptions.subscribe(
        session, guild_id=1, channel_id=10, target_kind="package", target_id=265, created_by=None
    )
    await outbox.enqueue(session, [alert(10, "a", subscription.id)], now=NOW)
    await subscriptions.unsubscribe(session, channel_id=10, target_kind="package", target_id=265)
    session.expunge_all()
    (kept,) = await outbox.claim_due(session, now=NOW)
    assert kept.subscription_id is None


async def test_a_claimed_alert_is_skipped_by_other_workers(database: Database) -> None:
    if database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: there is no row locking to skip")
    async with database.transaction() as session:
        await outbox.enqueue(session, [alert(10, "a"), alert(11, "b")], now=NOW)
    async with database.transaction() as first, database.transaction() as second:
        mine = await outbox.claim_due(first, now=NOW, limit=1)
        theirs = await outbox.claim_due(second, now=NOW)
    assert [a.dedup_key for a in mine] == ["10:a"]
    assert [a.dedup_key for a in theirs] == ["11:b"]
