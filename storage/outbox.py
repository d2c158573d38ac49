"""The alert outbox and every change of an alert's state, in one place.

The poll cycle enqueues; delivery workers claim (leaving out what a digest holds) and settle:
sent, retry, failed, dropped, or counted in a daily-cap summary line.

At most one row exists per (channel, dedup key), so a cycle re-run after a crash enqueues
nothing twice. A claim is a lease: the worker's name in `claimed_by` until `lease_until`,
taken by one conditional UPDATE, so two workers never hold the same row on SQLite or
PostgreSQL; settling an alert (or giving it back) ends its lease.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, not_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.alerting import NewAlert
from bot.core.bypass import Bypass
from storage._sql import affected_rows, dialect_insert
from storage.models import Alert, AlertStatus, Subscription

#: Attempts at a claim when other workers keep taking every candidate first.
CLAIM_ROUNDS = 3
#: Alerts a server gets per turn of a claim (a message's worth of embeds): a claim takes the
#: first turn of every server before any server's second, so one noisy server cannot starve
#: the others of the shared Discord budget.
GUILD_TURN = 10


_NEW_ALERT_FIELDS = tuple(field.name for field in fields(NewAlert))


@dataclass(frozen=True, slots=True)
class Hold:
    """Alerts of `channel_ids` created after `since` wait for their next digest, except those
    matching a `bypass` entry (`bot.delivery.digest` builds these from the channels' settings)."""

    since: datetime
    bypass: tuple[str, ...]
    channel_ids: frozenset[int]


async def enqueue(session: AsyncSession, alerts: Sequence[NewAlert], *, now: datetime) -> int:
    """Add alerts to the outbox, skipping dedup keys already there; return how many were new."""
    if not alerts:
        return 0
    new = {"status": AlertStatus.PENDING, "attempts": 0, "next_attempt_at": now, "created_at": now}
    # Not `asdict`, which deep-copies every payload.
    rows = [{name: getattr(alert, name) for name in _NEW_ALERT_FIELDS} | new for alert in alerts]
    insert = dialect_insert(session, Alert.__table__)
    statement = insert.on_conflict_do_nothing(index_elements=["channel_id", "dedup_key"]).returning(
        insert.table.c.id
    )
    return len((await session.execute(statement, rows)).all())


async def told(session: AsyncSession, dedup_keys: Mapping[int, Collection[str]]) -> set[str]:
    """Those of `dedup_keys` (by channel) whose alert reached its channel or is on its way
    to it: sent or pending, not dropped, summarized or failed."""
    if not dedup_keys:
        return set()
    rows = await session.scalars(
        select(Alert.dedup_key).where(
            Alert.channel_id.in_(set(dedup_keys)),  # the (channel, key) index
            Alert.dedup_key.in_(set().union(*dedup_keys.values())),
            Alert.status.in_((AlertStatus.SENT, AlertStatus.PENDING)),
        )
    )
    return set(rows)


def matches_bypass(entries: Collection[str]) -> ColumnElement[bool]:
    """Alerts that digest-bypass entries let through (`bot.core.bypass`): every alert of the
    kinds under a named event ("stale": stale alerts and the weekly stale report), and releases
    of a level and above ("release:minor": minor and major)."""
    bypass = Bypass.of(entries)
    return or_(
        Alert.event.in_(sorted(bypass.kinds)),
        Alert.release_level.in_(sorted(bypass.release_levels)),
    )


def _held(hold: Hold) -> ColumnElement[bool]:
    held = and_(
        Alert.channel_id.in_(hold.channel_ids), Alert.created_at > hold.since, not_(Alert.urgent)
    )
    return and_(held, not_(matches_bypass(hold.bypass))) if hold.bypass else held


def unleased(now: datetime) -> ColumnElement[bool]:
    """Alerts no worker holds at `now`: never claimed, given back, or their lease ran out."""
    return or_(Alert.lease_until.is_(None), Alert.lease_until <= now)


def due(now: datetime) -> ColumnElement[bool]:
    """Pending alerts whose time has come and that no worker holds."""
    return and_(Alert.status == AlertStatus.PENDING, Alert.next_attempt_at <= now, unleased(now))


async def claim_due(
    session: AsyncSession,
    *,
    worker: str,
    now: datetime,
    lease_until: datetime,
    holds: Sequence[Hold] = (),
    limit: int | None = 100,
    channel_ids: Collection[int] | None = None,
    webhooks_only: bool = False,
) -> list[Alert]:
    """Lease to `worker` the alerts due by `now`, grouped by channel, oldest first, at most
    `limit`, and return those it got: leaving out what a digest `holds`, optionally only those
    of `channel_ids`, and with `webhooks_only` only alerts routed through a webhook (for a
    process without a bot). Servers take turns (`GUILD_TURN` alerts each), so a full claim
    holds every server with alerts due, however many one of them has.

    The lease is one `UPDATE ... WHERE` the row is still free, so of two workers racing for a
    row exactly one gets it, whatever the backend (PostgreSQL re-checks the condition after a
    concurrent update; SQLite runs one writer at a time). `FOR UPDATE SKIP LOCKED` only spares
    PostgreSQL workers from waiting on each other's candidates.
    """
    where = [not_(_held(hold)) for hold in holds]
    if channel_ids is not None:
        where.append(Alert.channel_id.in_(set(channel_ids)))
    if webhooks_only:
        routed = select(Subscription.id).where(Subscription.webhook_url.is_not(None))
        where.append(Alert.subscription_id.in_(routed))
    position = func.row_number().over(
        partition_by=Alert.guild_id, order_by=(Alert.channel_id, Alert.id)
    )
    ranked = select(Alert.id, (position - 1).label("position")).where(due(now), *where).subquery()
    turn = ranked.c.position / GUILD_TURN  # integer division on both backends
    candidates = (
        select(Alert.id)
        .join(ranked, ranked.c.id == Alert.id)
        .order_by(turn, Alert.guild_id, Alert.channel_id, Alert.id)
        .limit(limit)
        .with_for_update(of=Alert, skip_locked=True)
    )
    won: list[int] = []
    for _ in range(CLAIM_ROUNDS):
        ids = list(await session.scalars(candidates))
        if not ids:
            break
        lease = (
            update(Alert)
            .where(Alert.id.in_(ids), due(now))
            .values(claimed_by=worker, lease_until=lease_until)
            .returning(Alert.id)
            .execution_options(synchronize_session=False)
        )
        won = list(await session.scalars(lease))
        if won:  # else another worker took every candidate first: look again
            break
    claimed = select(Alert).where(Alert.id.in_(won)).order_by(Alert.channel_id, Alert.id)
    return list(await session.scalars(claimed.execution_options(populate_existing=True)))


async def renew(session: AsyncSession, *, worker: str, now: datetime, lease_until: datetime) -> int:
    """Extend every lease `worker` still holds (unsettled, not expired); how many it holds."""
    return await affected_rows(
        session,
        update(Alert)
        .where(
            Alert.claimed_by == worker,
            Alert.status == AlertStatus.PENDING,
            Alert.lease_until > now,
        )
        .values(lease_until=lease_until),
    )


async def claimants(session: AsyncSession, *, now: datetime) -> list[str]:
    """The workers holding a lease on some pending alert at `now`."""
    rows = await session.scalars(
        select(Alert.claimed_by)
        .where(Alert.status == AlertStatus.PENDING, Alert.lease_until > now)
        .distinct()
    )
    return [name for name in rows if name is not None]


async def channels_held_elsewhere(
    session: AsyncSession, channel_ids: Collection[int], *, worker: str, now: datetime
) -> set[int]:
    """Of `channel_ids`, those with a pending alert another worker holds at `now`."""
    if not channel_ids:
        return set()
    held = await session.scalars(
        select(Alert.channel_id)
        .where(
            Alert.channel_id.in_(set(channel_ids)),
            Alert.status == AlertStatus.PENDING,
            Alert.lease_until > now,
            Alert.claimed_by != worker,
        )
        .distinct()
    )
    return set(held)


async def release(session: AsyncSession, workers: Collection[str]) -> int:
    """Give back the pending alerts `workers` hold (a stopping worker, or dead ones)."""
    if not workers:
        return 0
    return await affected_rows(
        session,
        update(Alert)
        .where(Alert.claimed_by.in_(set(workers)), Alert.status == AlertStatus.PENDING)
        .values(claimed_by=None, lease_until=None),
    )


async def postpone(session: AsyncSession, alert_ids: Collection[int], *, until: datetime) -> None:
    """Give claimed alerts back, due again at `until`, without counting an attempt (to wait
    for a sender, or behind a failed message of their destination)."""
    await session.execute(
        update(Alert)
        .where(Alert.id.in_(set(alert_ids)), Alert.status == AlertStatus.PENDING)
        .values(next_attempt_at=until, claimed_by=None, lease_until=None)
    )


async def drop_pending(
    session: AsyncSession,
    *,
    reason: str,
    alert_ids: Collection[int] = (),
    subscription_ids: Collection[int] = (),
) -> int:
    """Give up on pending alerts, by id or by subscription, without an attempt; how many."""
    return await affected_rows(
        session,
        update(Alert)
        .where(
            Alert.status == AlertStatus.PENDING,
            or_(Alert.id.in_(set(alert_ids)), Alert.subscription_id.in_(set(subscription_ids))),
        )
        .values(status=AlertStatus.DROPPED, last_error=reason),
    )


async def _settle(session: AsyncSession, alert_ids: Collection[int], **values: Any) -> None:
    """Record one delivery attempt's outcome on each alert, ending its lease."""
    await session.execute(
        update(Alert)
        .where(Alert.id.in_(set(alert_ids)))
        .values(attempts=Alert.attempts + 1, claimed_by=None, lease_until=None, **values)
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


async def mark_summarized(
    session: AsyncSession,
    alert_ids: Collection[int],
    *,
    message_id: int | None,
    now: datetime,
    reason: str,
) -> None:
    """Settle alerts counted in a daily-cap summary line: dropped, never posted on their own,
    with the summary's message and time (which is how
    `storage.delivery_queries.summary_posted_since` finds it)."""
    await _settle(
        session,
        alert_ids,
        status=AlertStatus.DROPPED,
        sent_at=now,
        message_id=message_id,
        last_error=reason,
    )


async def pending_count(session: AsyncSession) -> int:
    count = await session.scalar(
        select(func.count()).select_from(Alert).where(Alert.status == AlertStatus.PENDING)
    )
    return count or 0


async def pending_backlog(session: AsyncSession) -> tuple[int, datetime | None]:
    """How many alerts are pending, and when the oldest of them was enqueued."""
    count, oldest = (
        await session.execute(
            select(func.count(), func.min(Alert.created_at)).where(
                Alert.status == AlertStatus.PENDING
            )
        )
    ).one()
    return count, oldest


async def enqueued_since(session: AsyncSession, since: datetime) -> dict[str, int]:
    """Alerts enqueued at or after `since`, counted by event."""
    rows = await session.execute(
        select(Alert.event, func.count()).where(Alert.created_at >= since).group_by(Alert.event)
    )
    return {event: count for event, count in rows.tuples()}
