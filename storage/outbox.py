"""The alert outbox: the poll cycle enqueues, delivery workers claim and settle."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage._sql import dialect_insert
from storage.models import Alert, AlertStatus


@dataclass(frozen=True, slots=True)
class NewAlert:
    """An alert to deliver; `dedup_key` (`f"{channel_id}:{change.key}"`) makes it unique."""

    subscription_id: int | None
    guild_id: int
    channel_id: int
    event: str
    dedup_key: str
    summary: str
    payload: dict[str, Any]
    package_id: int | None = None
    grid_id: int | None = None


async def enqueue(session: AsyncSession, alerts: Sequence[NewAlert], *, now: datetime) -> int:
    """Add alerts to the outbox, skipping dedup keys already there; return how many were new."""
    if not alerts:
        return 0
    rows = [
        asdict(alert)
        | {"status": AlertStatus.PENDING, "attempts": 0, "next_attempt_at": now, "created_at": now}
        for alert in alerts
    ]
    insert = dialect_insert(session, Alert.__table__)
    statement = insert.on_conflict_do_nothing(index_elements=["dedup_key"]).returning(
        insert.table.c.id
    )
    return len((await session.execute(statement, rows)).all())


async def claim_due(
    session: AsyncSession,
    *,
    now: datetime,
    limit: int | None = 100,
    where: Sequence[ColumnElement[bool]] = (),
) -> list[Alert]:
    """Pending alerts due by `now` (and matching `where`), grouped by channel, oldest first.

    On PostgreSQL the rows stay locked until the caller's transaction ends and other workers
    skip them (`FOR UPDATE SKIP LOCKED`), so settle or lease them in the same transaction.
    """
    query = (
        select(Alert)
        .where(Alert.status == AlertStatus.PENDING, Alert.next_attempt_at <= now, *where)
        .order_by(Alert.channel_id, Alert.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(await session.scalars(query.execution_options(populate_existing=True)))


async def _settle(session: AsyncSession, alert_ids: Collection[int], **values: Any) -> None:
    """Record one delivery attempt's outcome on each alert."""
    await session.execute(
        update(Alert)
        .where(Alert.id.in_(set(alert_ids)))
        .values(attempts=Alert.attempts + 1, **values)
    )


async def mark_sent(
    session: AsyncSession, alert_ids: Collection[int], *, message_id: int | None, now: datetime
) -> None:
    await _settle(
        session,
        alert_ids,
        status=AlertStatus.SENT,
        sent_at=now,
        message_id=message_id,
        last_error=None,
    )


async def mark_retry(
    session: AsyncSession, alert_ids: Collection[int], *, error: str, next_attempt_at: datetime
) -> None:
    """Keep the alerts pending, to be tried again at `next_attempt_at`."""
    await _settle(session, alert_ids, last_error=error, next_attempt_at=next_attempt_at)


async def mark_failed(session: AsyncSession, alert_ids: Collection[int], *, error: str) -> None:
    """Give up on the alerts: they are kept, with the error, but never retried."""
    await _settle(session, alert_ids, status=AlertStatus.FAILED, last_error=error)


async def pending_count(session: AsyncSession) -> int:
    count = await session.scalar(
        select(func.count()).select_from(Alert).where(Alert.status == AlertStatus.PENDING)
    )
    return count or 0
