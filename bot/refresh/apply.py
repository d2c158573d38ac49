"""Applying the refresh's decisions in the caller's transaction: read what a pure step needs,
call it, write what it decided.

Each function is one upstream part of a cycle: `apply_packages` (Django Packages records,
decided by `bot.refresh.compare` and `bot.refresh.audience`), `apply_grids` (grid
memberships). `announce` enqueues the alerts of any changes followed by package or by grid;
a new source's apply function ends with it. The monitor (`bot.refresh.monitor`) fetches, opens
the transaction and keeps the cycle's report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.alerting import NewAlert
from bot.core.events import Change, grid_membership_changes
from bot.core.records import GridRecord
from bot.refresh import audience, compare, release_truth
from bot.refresh.audience import Followed, alerts_for
from bot.refresh.compare import Batch, Comparison
from bot.refresh.stale_reads import channel_staleness
from storage import channels, grids, outbox, packages, subscriptions

#: How the followers of what each change is about are read.
_FOLLOWERS = {
    Followed.PACKAGE: subscriptions.subscriptions_for_packages,
    Followed.GRID: subscriptions.subscriptions_for_grids,
}


@dataclass(frozen=True, slots=True)
class Applied:
    """What one applied batch changed, and how many new alerts it enqueued."""

    changes: list[Change]
    alerts_enqueued: int


@dataclass(frozen=True, slots=True)
class AppliedPackages(Applied):
    """An applied batch of packages, with its comparison: what was written, what failed
    validation."""

    comparison: Comparison


async def apply_packages(
    session: AsyncSession,
    batch: Batch,
    *,
    stale_after_days: int,
    now: datetime,
    next_poll_at: datetime,
) -> AppliedPackages:
    """Store one batch of packages and the alerts their changes raise."""
    stored = compare.Stored(
        await packages.last_seen(session, batch.ids),
        await _ruled_packages(session),
        stale_after_days,
    )
    comparison = await _compare(session, batch, stored, now)
    comparison = await release_truth.reconcile(session, comparison, now=now)
    alerts = await _package_alerts(session, comparison.observations, stored, now)
    await packages.write_observations(
        session,
        comparison.observed,
        comparison.revisited,
        stored.seen,
        now=now,
        next_poll_at=next_poll_at,
    )
    enqueued = await outbox.enqueue(session, alerts, now=now)
    return AppliedPackages(comparison.changes, enqueued, comparison)


async def _compare(
    session: AsyncSession, batch: Batch, stored: compare.Stored, now: datetime
) -> Comparison:
    """Run the comparison step, reading the stored records and known versions it asks for."""
    triage = compare.triage(batch, stored, now)
    loaded = await packages.load_packages(session, triage.moved)
    settled = triage.settle({package_id: found.record for package_id, found in loaded.items()})
    known = await packages.known_versions_of(session, settled.releases_moved)
    return settled.compare(known, now)


async def _ruled_packages(session: AsyncSession) -> frozenset[int]:
    """The packages some channel with its own staleness rule follows."""
    own_rule = await channels.own_staleness_channel_ids(session)
    followed = await subscriptions.followed_package_ids(session, own_rule) if own_rule else {}
    return frozenset().union(*followed.values())


async def _package_alerts(
    session: AsyncSession,
    observations: Sequence[compare.Observation],
    stored: compare.Stored,
    now: datetime,
) -> list[NewAlert]:
    """Run the audience step over a batch's observations, reading the followers (and their
    channels' staleness rules) of the packages that can raise alerts."""
    candidates = audience.may_alert(observations, stored.ruled)
    followers = await subscriptions.subscriptions_for_packages(
        session, [seen.current.id for seen in candidates]
    )
    staleness = await channel_staleness(
        session,
        {follower.channel_id for found in followers.values() for follower in found},
        default_days=stored.stale_after_days,
    )
    return audience.package_alerts(candidates, followers, staleness)


async def apply_grids(
    session: AsyncSession, fetched: Sequence[GridRecord], *, now: datetime, next_poll_at: datetime
) -> Applied:
    """Store grids and their memberships, and the alerts of members joining or leaving."""
    memberships = await grids.save_grids(session, fetched, now=now, next_poll_at=next_poll_at)
    moved = {
        package_id
        for previous, current in memberships.values()
        if previous is not None
        for package_id in previous ^ current
    }
    titles = await packages.package_titles(session, moved)
    changes = [
        change
        for grid in fetched
        for change in grid_membership_changes(grid, *memberships[grid.id], titles)
    ]
    return Applied(changes, await announce(session, changes, Followed.GRID, now))


async def announce(
    session: AsyncSession, changes: Sequence[Change], by: Followed, now: datetime
) -> int:
    """Enqueue the alerts of changes that no channel's staleness rule bears on (a grid's
    members, a removal, a new source's events); return how many were new. Reads which
    channels were told of the releases that yanks among them are about."""
    targets = {target for change in changes if (target := by.target_of(change)) is not None}
    if not targets:
        return 0
    followers = await _FOLLOWERS[by](session, targets)
    told = await outbox.told(session, audience.evidence_needed(changes, followers, by=by))
    alerts = alerts_for(changes, followers, by=by, told=told)
    return await outbox.enqueue(session, alerts, now=now)
