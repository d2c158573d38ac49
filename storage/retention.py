"""Pruning what only grows: settled alerts, poll-cycle figures and package history.

What is kept: every pending alert; the newest cycle (the next one is planned from it); per
package the newest history row, and the newest row of each PyPI version it has had (they tell
an old version coming back from a new release). A release alert that reached its channel is
kept as long as package history, not settled alerts: it is how a later yank of that release
knows the channel was told of it (`bot.refresh.audience.hears`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, exists, func, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.core.events.base import Event
from storage._sql import affected_rows
from storage.models import Alert, AlertStatus, Cycle, PackageHistory

SETTLED = (AlertStatus.SENT, AlertStatus.FAILED, AlertStatus.DROPPED)


@dataclass(frozen=True, slots=True)
class Pruned:
    """How many rows of each kind were deleted."""

    alerts: int
    cycles: int
    history: int


async def prune(
    session: AsyncSession, *, settled_before: datetime, history_before: datetime
) -> Pruned:
    """Delete alerts settled, and cycles finished, before `settled_before` (a release alert
    that was sent: before `history_before` too), and history rows observed before
    `history_before` that a newer row of their package makes redundant."""
    settled_at = func.coalesce(Alert.sent_at, Alert.created_at)
    told_a_release = and_(Alert.event == Event.RELEASE.value, Alert.status == AlertStatus.SENT)
    alerts = delete(Alert).where(
        Alert.status.in_(SETTLED),
        settled_at < settled_before,
        or_(not_(told_a_release), settled_at < history_before),
    )
    newest_cycle = select(func.max(Cycle.id)).scalar_subquery()
    cycles = delete(Cycle).where(Cycle.finished_at < settled_before, Cycle.id != newest_cycle)
    newer = aliased(PackageHistory)
    superseded = exists().where(
        newer.package_id == PackageHistory.package_id,
        newer.observed_at > PackageHistory.observed_at,
        or_(
            PackageHistory.pypi_version.is_(None),
            newer.pypi_version == PackageHistory.pypi_version,
        ),
    )
    history = delete(PackageHistory).where(PackageHistory.observed_at < history_before, superseded)
    return Pruned(
        alerts=await affected_rows(session, alerts),
        cycles=await affected_rows(session, cycles),
        history=await affected_rows(session, history),
    )
