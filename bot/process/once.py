"""`djp-sentinel poll --once`: one refresh cycle, the deliveries it made due, and the changes
that concern someone (those of watched packages and followed grids, unless all are asked for).

Deliveries go through webhook routes; alerts of channels reached by the bot wait for it.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from bot.app.runtime import Runtime
from bot.core.events import Change
from bot.delivery.worker import DeliveryReport
from bot.process.jobs import RefreshPass, delivery_worker, refresh_pass
from storage import grids, subscriptions
from storage.models import TargetKind


@dataclass(frozen=True, slots=True)
class OnceReport:
    refreshed: RefreshPass
    delivered: DeliveryReport
    #: The changes to show, and how many others the cycle found.
    changes: list[Change]
    unwatched: int


async def watched(runtime: Runtime) -> tuple[frozenset[int], frozenset[int]]:
    """The ids of the packages someone follows (directly or through a grid) and of the grids."""
    async with runtime.database.session() as session:
        active = [s for s in await subscriptions.all_subscriptions(session) if not s.paused_reason]
        grid_ids = frozenset(s.target_id for s in active if s.target_kind == TargetKind.GRID)
        package_ids = {s.target_id for s in active if s.target_kind == TargetKind.PACKAGE}
        for grid_id in grid_ids:
            package_ids |= await grids.grid_member_ids(session, grid_id)
    return frozenset(package_ids), grid_ids


def concerns(change: Change, package_ids: frozenset[int], grid_ids: frozenset[int]) -> bool:
    if change.grid_id is not None:
        return change.grid_id in grid_ids
    return change.package_id in package_ids


async def poll_once(runtime: Runtime, http: httpx.AsyncClient, *, everything: bool) -> OnceReport:
    """Refresh every watched target now, deliver what is due, and sort the changes."""
    refreshed = await refresh_pass(runtime, everything=True)
    worker = delivery_worker(runtime, None, http)
    delivered = await worker.run_once()
    found = refreshed.cycle.changes
    if everything:
        return OnceReport(refreshed, delivered, list(found), 0)
    package_ids, grid_ids = await watched(runtime)
    shown = [change for change in found if concerns(change, package_ids, grid_ids)]
    return OnceReport(refreshed, delivered, shown, len(found) - len(shown))
