"""The poll cycle: refresh what is due, detect changes, and write alerts to the outbox.

One cycle fetches each due package once, however many subscriptions point at it, choosing
between paging the whole catalog and fetching the targets one by one by the number of requests
each plan needs (`bot.refresh.schedule`). The monitor is the shell: it fetches, and hands each
batch to `bot.refresh.apply`, which reads what the pure steps need, lets them decide
(`bot.refresh.compare`: what moved and what to write; `bot.refresh.audience`: who hears of
it) and writes records, history rows and outbox rows in one transaction, so a crash loses no
alert and a restart never duplicates one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock, utcnow
from bot.core.events import removed_change
from bot.core.plural import counted
from bot.core.records import GridRecord, PackagePayload, PackageRecord
from bot.djp.client import DjangoPackagesClient
from bot.errors import ApiUnavailable, InvalidRecord, NotFound, SentinelError
from bot.refresh.apply import Applied, AppliedPackages, announce, apply_grids, apply_packages
from bot.refresh.audience import Followed
from bot.refresh.compare import Batch
from bot.refresh.names import CatalogNames
from bot.refresh.report import CycleReport, Progress
from bot.refresh.schedule import (
    ASSUMED_CATALOG_SIZE,
    CATALOG_PAGE_SIZE,
    DUE_SLACK,
    Plan,
    choose_plan,
    retry_delay,
)
from storage import cycles, grids, packages
from storage.database import Database

log = logging.getLogger(__name__)

#: Catalog packages stored per transaction: each costs a dozen statements whatever its size,
#: and 2,000 stays within every backend's limit on bound parameters.
INGEST_BATCH = 2000
#: Consecutive 404s before a package counts as removed from Django Packages.
REMOVED_AFTER_MISSES = 2
FAR_FUTURE = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class MonitorSettings:
    poll_interval: timedelta
    stale_after_days: int


class Monitor:
    """Refreshes watched records from Django Packages into storage and the outbox."""

    def __init__(
        self,
        client: DjangoPackagesClient,
        database: Database,
        settings: MonitorSettings,
        *,
        clock: Clock = utcnow,
    ) -> None:
        self.client = client
        self.database = database
        self.settings = settings
        self.clock = clock
        self.names = CatalogNames(database)
        self._background: dict[int, asyncio.Task[None]] = {}

    # -- whole cycles ------------------------------------------------------------------------

    async def run_cycle(self, *, everything: bool = False) -> CycleReport:
        """Refresh every due grid, then every due package, and record the cycle.

        `everything=True` treats every watched target as due (a manual `poll --once`). Each
        upstream's part of the cycle is one step here: it reads what it needs, calls its pure
        decide step, and writes in one transaction (see docs/architecture.md).
        """
        report = CycleReport(started_at=self.clock())
        requests_before = self.client.requests_made
        interval = self.settings.poll_interval
        due_by = FAR_FUTURE if everything else report.started_at + interval * DUE_SLACK
        async with self.database.transaction() as session:
            # A schedule made under a longer interval gives way to this one.
            await packages.bring_schedule_forward(session, report.started_at + interval)
            await grids.bring_schedule_forward(session, report.started_at + interval)
        await self._refresh_grids(due_by, report)
        await self._refresh_packages(due_by, report)
        report.requests = self.client.requests_made - requests_before
        await self._record(report)
        return report

    async def _refresh_grids(self, due_by: datetime, report: CycleReport) -> None:
        async with self.database.session() as session:
            due = await grids.due_grid_ids(session, due_by)
        fetched = await asyncio.gather(*(self._fetch_grid(grid_id, report) for grid_id in due))
        await self._ingest_grids([grid for grid in fetched if grid is not None], report)

    async def _refresh_packages(self, due_by: datetime, report: CycleReport) -> None:
        async with self.database.session() as session:
            due = await packages.due_package_ids(session, due_by)
        report.plan = await self._fetch_by_plan(due, report)

    async def _fetch_by_plan(self, ids: Sequence[int], report: CycleReport) -> Plan:
        """Fetch and ingest `ids` by the plan taking fewer requests: the catalog's pages (then
        each id the crawl did not deliver), or each package; return the plan taken."""
        async with self.database.session() as session:
            catalog_size = await self._catalog_size_estimate(session)
        plan = choose_plan(len(ids), catalog_size)
        log.debug(
            "fetch plan %s: %s wanted, catalog of about %d",
            plan,
            counted(len(ids), "package"),
            catalog_size,
        )
        if plan == "catalog":
            missed = await self._crawl_catalog(set(ids), report)
            await self._fetch_targets(sorted(missed), report)
        elif plan == "targets":
            await self._fetch_targets(ids, report)
        return plan

    async def sync_catalog(self, progress: Progress | None = None) -> CycleReport:
        """Pull the whole catalog: categories, every package, every grid (each phase timed in
        `report.phase_seconds`). `progress` hears each phase's ("categories", "packages",
        "grids") items done and total."""
        report = CycleReport(started_at=self.clock(), plan="catalog")
        requests_before = self.client.requests_made
        with report.phase("categories"):
            categories = await self.client.categories()
            async with self.database.transaction() as session:
                await grids.save_categories(session, categories)
        report.categories_fetched = len(categories)
        if progress:
            progress("categories", len(categories), len(categories))
        with report.phase("packages"):
            await self._crawl_catalog(
                set(), report, progress=partial(progress, "packages") if progress else None
            )
        with report.phase("grids"):
            all_grids = await self.client.grids()
            if progress:
                progress("grids", 0, len(all_grids))
            await self._ingest_grids(all_grids, report)
            if progress:
                progress("grids", len(all_grids), len(all_grids))
        report.requests = self.client.requests_made - requests_before
        await self._record(report)
        return report

    # -- single targets (used by commands) ---------------------------------------------------

    async def refresh_package(self, key: int | str) -> PackageRecord:
        """Fetch one package now through the normal pipeline (a first fetch is a baseline).

        Raises NotFound, InvalidRecord or ApiUnavailable for the caller to report.
        """
        record = await self.client.package(key)
        report = CycleReport(started_at=self.clock(), plan="targets")
        await self._ingest(Batch(records=[record]), report)
        return record

    def refresh_in_background(self, package_id: int) -> None:
        """Refresh a stored package behind an answer already given from its stored copy.

        One refresh per package at a time, however many people ask; a failure is logged and
        leaves the stored copy as it was (the next cycle or request tries again).
        """
        if package_id not in self._background:
            task = asyncio.create_task(self._refresh_quietly(package_id))
            self._background[package_id] = task
            task.add_done_callback(lambda _: self._background.pop(package_id, None))

    async def background_refreshes(self) -> None:
        """Wait for the background refreshes under way."""
        await asyncio.gather(*self._background.values(), return_exceptions=True)

    def cancel_background_refreshes(self) -> None:
        """Stop the background refreshes under way; each one's transaction rolls back."""
        for task in self._background.values():
            task.cancel()

    async def _refresh_quietly(self, package_id: int) -> None:
        try:
            await self.refresh_package(package_id)
        except SentinelError as exc:
            log.warning("background refresh of package %s failed: %s", package_id, exc)

    async def refresh_grid(self, key: int | str) -> GridRecord:
        grid = await self.client.grid(key)
        report = CycleReport(started_at=self.clock(), plan="targets")
        await self._ingest_grids([grid], report)
        return grid

    # -- internals ---------------------------------------------------------------------------

    def _next_poll(self, report: CycleReport) -> datetime:
        """One interval after the cycle started, not after the fetch: cycles start an interval
        apart, so a target fetched late in one cycle is still due at the next."""
        return report.started_at + self.settings.poll_interval

    async def _catalog_size_estimate(self, session: AsyncSession) -> int:
        last = await cycles.last_catalog_total(session)
        return last or max(ASSUMED_CATALOG_SIZE, await packages.package_count(session))

    async def _crawl_catalog(
        self,
        wanted: set[int],
        report: CycleReport,
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> set[int]:
        """Ingest every catalog page, `INGEST_BATCH` packages a transaction; return the wanted
        ids the crawl did not deliver."""
        seen = 0
        pending: list[PackagePayload] = []
        try:
            async for page in self.client.catalog(page_size=CATALOG_PAGE_SIZE):
                report.catalog_total = page.total
                for invalid in page.invalid:
                    self._skip_invalid(invalid, report)
                pending += page.payloads
                if len(pending) >= INGEST_BATCH:
                    wanted -= await self._ingest(Batch(payloads=pending), report)
                    pending = []
                seen += len(page.payloads) + len(page.invalid)
                if progress:
                    progress(seen, page.total)
        except ApiUnavailable as exc:
            log.warning("catalog crawl stopped: %s", exc)
            report.fail("catalog", exc)
        wanted -= await self._ingest(Batch(payloads=pending), report)
        return wanted

    async def _fetch_targets(self, ids: Sequence[int], report: CycleReport) -> None:
        """Fetch packages one by one (bounded by the client's concurrency) and ingest them."""
        results = await asyncio.gather(*(self._fetch_one(pid, report) for pid in ids))
        await self._ingest(Batch(records=[r for r in results if r is not None]), report)

    async def _fetch_one(self, package_id: int, report: CycleReport) -> PackageRecord | None:
        try:
            return await self.client.package(package_id)
        except NotFound:
            await self._package_missing(package_id, report)
        except InvalidRecord as exc:
            self._skip_invalid(exc, report)
            await self._package_failed(package_id, exc, report)
        except SentinelError as exc:
            await self._package_failed(package_id, exc, report)
        return None

    def _skip_invalid(self, error: InvalidRecord, report: CycleReport) -> None:
        log.warning("%s; skipped this cycle", error)
        report.fail(f"package {error.record_id}", error)

    async def _package_failed(self, package_id: int, error: Exception, report: CycleReport) -> None:
        report.fail(f"package {package_id}", error)
        async with self.database.transaction() as session:
            await packages.record_failure(session, package_id, str(error), retry_at=self._retry_at)

    def _retry_at(self, failures: int) -> datetime:
        """When to poll a package or grid again after `failures` consecutive failures."""
        return self.clock() + retry_delay(self.settings.poll_interval, failures)

    async def _package_missing(self, package_id: int, report: CycleReport) -> None:
        report.fail(f"package {package_id}", "not found on Django Packages")
        now = self.clock()
        async with self.database.transaction() as session:
            retry_at = now + retry_delay(self.settings.poll_interval, 1)
            misses = await packages.record_missing(session, package_id, retry_at=retry_at)
            if misses < REMOVED_AFTER_MISSES:
                return
            stored = await packages.load_packages(session, [package_id])
            if package_id not in stored or stored[package_id].removed_at is not None:
                return
            await packages.mark_removed(session, package_id, now=now)
            self.names.package_removed(stored[package_id].record.slug)
            changes = [removed_change(stored[package_id].record)]
            enqueued = await announce(session, changes, Followed.PACKAGE, now)
        report.applied(Applied(changes, enqueued))

    async def _ingest(self, batch: Batch, report: CycleReport) -> set[int]:
        """Store one batch of packages and the alerts their changes raise, atomically; return
        the ids stored (a payload that fails validation is not)."""
        if not batch.records and not batch.payloads:
            return set()
        try:
            applied = await self._apply(batch, report)
        except IntegrityError:
            # Another writer stored one of these new packages between this transaction's
            # read and its insert (two `/watch add` of it at once, or a command beside the
            # cycle): PostgreSQL's ON CONFLICT covers the id, not the slug's unique index.
            # Read again: the package is stored now and this batch is compared with it.
            applied = await self._apply(batch, report)
        comparison = applied.comparison
        for error in comparison.invalid:
            self._skip_invalid(error, report)
        self.names.packages_stored(comparison.records)
        report.packages_fetched += len(comparison.stored_ids)
        report.applied(applied)
        return comparison.stored_ids

    async def _apply(self, batch: Batch, report: CycleReport) -> AppliedPackages:
        async with self.database.transaction() as session:
            return await apply_packages(
                session,
                batch,
                stale_after_days=self.settings.stale_after_days,
                now=self.clock(),
                next_poll_at=self._next_poll(report),
            )

    async def _fetch_grid(self, grid_id: int, report: CycleReport) -> GridRecord | None:
        """A due grid, or None (with the failure recorded and a retry planned)."""
        try:
            return await self.client.grid(grid_id)
        except SentinelError as exc:
            report.fail(f"grid {grid_id}", exc)
            async with self.database.transaction() as session:
                await grids.record_grid_failure(session, grid_id, str(exc), retry_at=self._retry_at)
            return None

    async def _ingest_grids(self, fetched: Sequence[GridRecord], report: CycleReport) -> None:
        """Store grids and their memberships in one transaction, and the alerts of members
        joining or leaving. Members never seen are fetched first (as baselines) so that join
        alerts can name them and the rest of the cycle does not fetch them again), by the
        cheaper plan: a large grid on a fresh database costs the catalog's pages, not a request
        per member."""
        if not fetched:
            return
        members = {package_id for grid in fetched for package_id in grid.package_ids}
        async with self.database.session() as session:
            stored = await packages.package_titles(session, members)
        await self._fetch_by_plan(sorted(members - stored.keys()), report)
        async with self.database.transaction() as session:
            applied = await apply_grids(
                session, fetched, now=self.clock(), next_poll_at=self._next_poll(report)
            )
        for grid in fetched:
            self.names.grid_stored(grid)
        report.grids_fetched += len(fetched)
        report.applied(applied)

    async def _record(self, report: CycleReport) -> None:
        report.finished_at = self.clock()
        async with self.database.transaction() as session:
            await cycles.record_cycle(
                session,
                started_at=report.started_at,
                finished_at=report.finished_at,
                mode=report.plan,
                packages_fetched=report.packages_fetched,
                packages_failed=len(report.failures),
                grids_fetched=report.grids_fetched,
                changes=len(report.changes),
                alerts_enqueued=report.alerts_enqueued,
                requests=report.requests,
                catalog_total=report.catalog_total,
            )
        if report.catalog_total is not None:
            self.names.catalog_synced = True
