"""The poll cycle: refresh what is due, detect changes, and write alerts to the outbox.

One cycle fetches each due package once, however many subscriptions point at it, choosing
between paging the whole catalog and fetching the targets one by one by the number of requests
each plan needs. Each batch of records is written with its history rows and outbox rows in one
transaction, so a crash loses no alert and a restart never duplicates one. Health-dependent
events (`activity`, `stale`) are judged per channel rule: its threshold and feature-complete
marks (see `package_alerts`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.backoff import backoff
from bot.core.clock import Clock, utcnow
from bot.core.events import (
    HEALTH_EVENTS,
    Change,
    DetectContext,
    detect_changes,
    detect_health_changes,
    grid_membership_changes,
    removed_change,
    wants,
)
from bot.core.health import Activity, state_at
from bot.core.records import GridRecord, PackagePayload, PackageRecord
from bot.djp.client import DjangoPackagesClient
from bot.errors import ApiUnavailable, InvalidRecord, NotFound, SentinelError
from bot.refresh.names import CatalogNames
from bot.refresh.staleness import ChannelStaleness, StaleRule, channel_staleness
from storage import channels, cycles, grids, outbox, packages, subscriptions
from storage.database import Database
from storage.subscriptions import Follower

log = logging.getLogger(__name__)

CATALOG_PAGE_SIZE = 500
#: Catalog packages stored per transaction: each costs a dozen statements whatever its size,
#: and 2,000 stays within every backend's limit on bound parameters.
INGEST_BATCH = 2000
#: Used to plan a cycle before the first catalog crawl has told us the real size.
ASSUMED_CATALOG_SIZE = 6000
#: A package that keeps failing is retried after poll_interval * 2**(failures-1), capped here.
MAX_BACKOFF = timedelta(days=7)
#: Consecutive 404s before a package counts as removed from Django Packages.
REMOVED_AFTER_MISSES = 2
FAR_FUTURE = datetime.max.replace(tzinfo=UTC)
#: A target falling due within this fraction of an interval after a cycle starts is refreshed by
#: it: cycles start one interval apart, and a clock read a moment early must not skip a cycle.
DUE_SLACK = 0.1

Plan = Literal["catalog", "targets", "idle"]


def _keeping_known(
    record: PackageRecord, seen: packages.LastSeen | None, previous: PackageRecord | None
) -> PackageRecord:
    """`record` with what it leaves unknown taken from the last known copy: every field from
    `previous` (the stored record, loaded when the content moved), else `last_fetched`, the one
    field a content hash ignores, from what was last seen."""
    if previous is not None:
        return record.keeping_known(previous)
    if record.last_fetched is None and seen is not None and seen.last_fetched is not None:
        return record.model_copy(update={"last_fetched": seen.last_fetched})
    return record


def _version_moved(previous: PackageRecord, current: PackageRecord) -> bool:
    """Whether release detection needs the versions known before (a lookup worth batching)."""
    return current.pypi_version is not None and current.pypi_version != previous.pypi_version


#: A sync's progress: phase, items done, items in the phase.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class MonitorSettings:
    poll_interval: timedelta
    stale_after_days: int


@dataclass(slots=True)
class CycleReport:
    """What one cycle did; printed by `poll --once` and summarised by `/status`."""

    started_at: datetime
    plan: Plan = "idle"
    finished_at: datetime | None = None
    packages_fetched: int = 0
    grids_fetched: int = 0
    categories_fetched: int = 0
    requests: int = 0
    catalog_total: int | None = None
    changes: list[Change] = field(default_factory=list)
    alerts_enqueued: int = 0
    failures: dict[str, str] = field(default_factory=dict)

    #: Wall-clock seconds of each phase of a sync (categories, packages, grids).
    phase_seconds: dict[str, float] = field(default_factory=dict)

    def fail(self, target: str, error: BaseException | str) -> None:
        self.failures[target] = str(error)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.phase_seconds[name] = time.perf_counter() - started


def choose_plan(due: int, catalog_size: int, page_size: int = CATALOG_PAGE_SIZE) -> Plan:
    """Page the catalog when that takes fewer requests than fetching each due package."""
    if due == 0:
        return "idle"
    pages = max(1, math.ceil(catalog_size / page_size))
    return "catalog" if pages < due else "targets"


def retry_delay(poll_interval: timedelta, failures: int) -> timedelta:
    """Exponential backoff for a package or grid that keeps failing."""
    return backoff(poll_interval, failures, MAX_BACKOFF)


def alerts_for(
    changes: Iterable[Change], audience: dict[int, list[Follower]], *, by: str
) -> list[outbox.NewAlert]:
    """One outbox row per (subscription that wants it, change); the channel dedups repeats."""
    rows: dict[str, outbox.NewAlert] = {}
    for change in changes:
        target = change.grid_id if by == "grid" else change.package_id
        if target is None:  # a change outside any grid has no grid audience
            continue
        for subscription in audience.get(target, ()):
            if not wants(subscription.preferences, change):
                continue
            key = f"{subscription.channel_id}:{change.key}"
            rows.setdefault(
                key,
                outbox.NewAlert(
                    subscription_id=subscription.id,
                    guild_id=subscription.guild_id,
                    channel_id=subscription.channel_id,
                    event=change.event.value,
                    dedup_key=key,
                    summary=change.summary,
                    payload=change.data,
                    package_id=change.package_id,
                    grid_id=change.grid_id,
                    release_level=change.release_level,
                ),
            )
    return list(rows.values())


@dataclass(frozen=True, slots=True)
class Observation:
    """A package seen again: both records, the detection context, and the changes found with
    it (the global staleness rule)."""

    previous: PackageRecord
    current: PackageRecord
    context: DetectContext
    changes: list[Change]


def package_alerts(
    seen: Observation,
    subscribers: Sequence[Follower],
    staleness: Mapping[int, ChannelStaleness],
) -> list[outbox.NewAlert]:
    """The alerts a package's changes raise among its subscribers.

    Events that do not depend on health reach every subscriber. `activity` and `stale` are
    worked out once per distinct rule (threshold, feature-complete mark) among the subscribers'
    channels, and each result reaches only the channels applying that rule: a channel hears of
    a transition as one or the other, never both.
    """
    package_id, context = seen.current.id, seen.context
    others = [change for change in seen.changes if change.event not in HEALTH_EVENTS]
    alerts = alerts_for(others, {package_id: list(subscribers)}, by="package")
    by_rule: dict[StaleRule, list[Follower]] = {}
    for subscription in subscribers:
        by_rule.setdefault(staleness[subscription.channel_id].rule(package_id), []).append(
            subscription
        )
    global_rule = StaleRule(context.stale_after_days, context.feature_complete)
    for rule, group in by_rule.items():
        if rule == global_rule:  # most channels: the global detection already answered
            health = [change for change in seen.changes if change.event in HEALTH_EVENTS]
        else:
            ruled = replace(
                context,
                stale_after_days=rule.stale_after_days,
                feature_complete=rule.feature_complete,
            )
            health = detect_changes(seen.previous, seen.current, ruled, events=HEALTH_EVENTS)
        alerts += alerts_for(health, {package_id: group}, by="package")
    return alerts


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

        `everything=True` treats every watched target as due (a manual `poll --once`).
        """
        report = CycleReport(started_at=self.clock())
        requests_before = self.client.requests_made
        interval = self.settings.poll_interval
        due_by = FAR_FUTURE if everything else report.started_at + interval * DUE_SLACK
        async with self.database.transaction() as session:
            # A schedule made under a longer interval gives way to this one.
            await packages.bring_schedule_forward(session, report.started_at + interval)
            await grids.bring_schedule_forward(session, report.started_at + interval)
            due_grids = await grids.due_grid_ids(session, due_by)
        fetched = await asyncio.gather(
            *(self._fetch_grid(grid_id, report) for grid_id in due_grids)
        )
        await self._ingest_grids([grid for grid in fetched if grid is not None], report)

        async with self.database.session() as session:
            due = await packages.due_package_ids(session, due_by)
            catalog_size = await self._catalog_size_estimate(session)
        report.plan = choose_plan(len(due), catalog_size)
        log.debug(
            "cycle plan %s: %d grids and %d packages due, catalog of about %d",
            report.plan,
            len(due_grids),
            len(due),
            catalog_size,
        )
        if report.plan == "catalog":
            missed = await self._crawl_catalog(set(due), report)
            await self._fetch_targets(sorted(missed), report)
        elif report.plan == "targets":
            await self._fetch_targets(due, report)

        report.requests = self.client.requests_made - requests_before
        await self._record(report)
        return report

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
        await self._ingest([record], report)
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
                    wanted -= await self._ingest((), report, pending)
                    pending = []
                seen += len(page.payloads) + len(page.invalid)
                if progress:
                    progress(seen, page.total)
        except ApiUnavailable as exc:
            log.warning("catalog crawl stopped: %s", exc)
            report.fail("catalog", exc)
        wanted -= await self._ingest((), report, pending)
        return wanted

    async def _fetch_targets(self, ids: Sequence[int], report: CycleReport) -> None:
        """Fetch packages one by one (bounded by the client's concurrency) and ingest them."""
        results = await asyncio.gather(*(self._fetch_one(pid, report) for pid in ids))
        await self._ingest([record for record in results if record is not None], report)

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
        now = self.clock()
        async with self.database.transaction() as session:
            stored = await packages.load_packages(session, [package_id])
            failures = stored[package_id].failure_count + 1 if package_id in stored else 1
            retry_at = now + retry_delay(self.settings.poll_interval, failures)
            await packages.record_failure(session, package_id, str(error), retry_at=retry_at)

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
            change = removed_change(stored[package_id].record)
            report.changes.append(change)
            audience = await subscriptions.subscriptions_for_packages(session, [package_id])
            report.alerts_enqueued += await outbox.enqueue(
                session, alerts_for([change], audience, by="package"), now=now
            )

    async def _ingest(
        self,
        records: Sequence[PackageRecord],
        report: CycleReport,
        payloads: Sequence[PackagePayload] = (),
    ) -> set[int]:
        """Store one batch of packages and the alerts their changes raise, atomically; return
        the ids stored (a payload that fails validation is not).

        `payloads` (a catalog page) are validated only when they may have changed: one whose
        fingerprint matches the stored one has the stored content, so only its health can
        have moved, which its stored `Activity` settles (`_revisits`). Records, and payloads
        that moved, compare content hashes next: only the packages whose content moved have
        their stored record rebuilt and compared field by field (with their known versions, in
        one query). The others can only have moved in health, which `detect_health_changes`
        settles cheaply, and only their bookkeeping is written.

        Fields a record leaves unknown keep their stored value first (`PackageRecord.keeping_known`
        for a moved record, the stored `last_fetched` for any): the stored record is the last
        known one, so a gap is never compared nor stored.
        """
        if not records and not payloads:
            return set()
        now = self.clock()
        async with self.database.transaction() as session:
            stored = await packages.last_seen(
                session, [r.id for r in records] + [p.id for p in payloads]
            )
            ruled = await self._ruled_packages(session)
            revisits = self._revisits(payloads, stored, ruled, now)
            to_parse = [payload for payload in payloads if payload.id not in revisits]
            fingerprints = {payload.id: payload.fingerprint for payload in to_parse}
            records = [*records, *self._parse(to_parse, report)]
            hashes = {record.id: record.content_hash() for record in records}
            moved = [
                r.id
                for r in records
                if r.id in stored and stored[r.id].content_hash != hashes[r.id]
            ]
            previous = {
                package_id: package.record
                for package_id, package in (await packages.load_packages(session, moved)).items()
            }
            records = [
                _keeping_known(record, stored.get(record.id), previous.get(record.id))
                for record in records
            ]
            hashes |= {r.id: r.content_hash() for r in records if r.id in previous}
            known = await packages.known_versions_of(
                session,
                [r.id for r in records if r.id in previous and _version_moved(previous[r.id], r)],
            )
            observed = [
                self._observe(record, stored[record.id], previous.get(record.id), known, now)
                for record in records
                if record.id in stored  # a first observation is a silent baseline
            ]
            alerts = await self._alerts(session, observed, ruled)
            new_content = {
                r.id
                for r in records
                if r.id not in stored or stored[r.id].content_hash != hashes[r.id]
            }
            await packages.write_observations(
                session,
                [
                    packages.Observed(r, hashes[r.id], fingerprints.get(r.id))
                    for r in records
                    if r.id in new_content
                ],
                [
                    *revisits.values(),
                    *(
                        packages.Revisited(r.id, r.last_fetched, fingerprints.get(r.id))
                        for r in records
                        if r.id not in new_content
                    ),
                ],
                stored,
                now=now,
                next_poll_at=self._next_poll(report),
            )
            report.alerts_enqueued += await outbox.enqueue(session, alerts, now=now)
        self.names.packages_stored(records)
        report.packages_fetched += len(records) + len(revisits)
        report.changes.extend({c.key: c for seen in observed for c in seen.changes}.values())
        return {record.id for record in records} | revisits.keys()

    def _revisits(
        self,
        payloads: Sequence[PackagePayload],
        stored: Mapping[int, packages.LastSeen],
        ruled: frozenset[int],
        now: datetime,
    ) -> dict[int, packages.Revisited]:
        """The payloads that need no validation, by id, with what their rows need.

        A payload qualifies when its fingerprint is the stored one (the content is the stored
        content) and its health stays put under the global rule. A package some channel judges
        by its own staleness rule is validated and compared as before (`_alerts`), and so is
        anything odd (an unreadable `last_fetched`), so that its error is reported as usual.
        """
        revisits: dict[int, packages.Revisited] = {}
        stale_after_days = self.settings.stale_after_days
        for payload in payloads:
            seen = stored.get(payload.id)
            if (
                seen is None
                or payload.fingerprint is None  # nothing vouches for it
                or payload.fingerprint != seen.payload_hash
                or payload.id in ruled
            ):
                continue
            try:
                last_fetched = payload.last_fetched()
            except ValueError:
                continue
            if last_fetched is None or (
                not payload.commits_known and seen.activity.newest_busy_week is not None
            ):
                # As `keeping_known`: the stored window is kept with the moment it was read.
                last_fetched = seen.last_fetched
            activity = seen.activity
            before = state_at(activity, now=seen.fetched_at, stale_after_days=stale_after_days)
            if last_fetched != activity.last_fetched:
                activity = Activity(activity.last_updated, activity.newest_busy_week, last_fetched)
            if before == state_at(activity, now=now, stale_after_days=stale_after_days):
                revisits[payload.id] = packages.Revisited(
                    payload.id, last_fetched, payload.fingerprint
                )
        return revisits

    def _parse(
        self, payloads: Sequence[PackagePayload], report: CycleReport
    ) -> list[PackageRecord]:
        """The records of `payloads` that validate; the others are skipped this cycle."""
        records = []
        for payload in payloads:
            try:
                records.append(payload.parse())
            except InvalidRecord as exc:
                self._skip_invalid(exc, report)
        return records

    def _observe(
        self,
        record: PackageRecord,
        seen: packages.LastSeen,
        previous: PackageRecord | None,
        known_versions: Mapping[int, frozenset[str]],
        now: datetime,
    ) -> Observation:
        """Compare a record with its stored copy: in full when the content moved (`previous`
        is its stored record), otherwise only its health."""
        context = DetectContext(
            now=now,
            previous_at=seen.fetched_at,
            stale_after_days=self.settings.stale_after_days,
            known_versions=known_versions.get(record.id, frozenset()),
        )
        if previous is not None:
            return Observation(previous, record, context, detect_changes(previous, record, context))
        if record.last_fetched != seen.last_fetched:
            previous = record.model_copy(update={"last_fetched": seen.last_fetched})
        else:
            previous = record
        return Observation(
            previous, record, context, detect_health_changes(previous, record, context)
        )

    async def _ruled_packages(self, session: AsyncSession) -> frozenset[int]:
        """The packages some channel with its own staleness rule follows."""
        own_rule = await channels.own_staleness_channel_ids(session)
        followed = await subscriptions.followed_package_ids(session, own_rule) if own_rule else {}
        return frozenset().union(*followed.values())

    async def _alerts(
        self, session: AsyncSession, observed: Sequence[Observation], ruled: frozenset[int]
    ) -> list[outbox.NewAlert]:
        """The alerts of a batch's changes, for the packages that can have any.

        A package unchanged under the global rule can still change for a channel with its own
        staleness rule (`ruled`); every other package is skipped without loading its
        subscribers.
        """
        candidates = [seen for seen in observed if seen.changes or seen.current.id in ruled]
        audience = await subscriptions.subscriptions_for_packages(
            session, [seen.current.id for seen in candidates]
        )
        staleness = await channel_staleness(
            session,
            {sub.channel_id for subs in audience.values() for sub in subs},
            default_days=self.settings.stale_after_days,
        )
        alerts: list[outbox.NewAlert] = []
        for seen in candidates:
            alerts += package_alerts(seen, audience[seen.current.id], staleness)
        return alerts

    async def _fetch_grid(self, grid_id: int, report: CycleReport) -> GridRecord | None:
        """A due grid, or None (with the failure recorded and a retry planned)."""
        try:
            return await self.client.grid(grid_id)
        except SentinelError as exc:
            report.fail(f"grid {grid_id}", exc)
            now = self.clock()
            async with self.database.transaction() as session:
                await grids.record_grid_failure(
                    session,
                    grid_id,
                    str(exc),
                    retry_at=now + retry_delay(self.settings.poll_interval, 1),
                )
            return None

    async def _ingest_grids(self, fetched: Sequence[GridRecord], report: CycleReport) -> None:
        """Store grids and their memberships in one transaction, and the alerts of members
        joining or leaving. Members never seen are fetched first (as baselines) so that join
        alerts can name them and the rest of the cycle does not fetch them again."""
        if not fetched:
            return
        members = {package_id for grid in fetched for package_id in grid.package_ids}
        async with self.database.session() as session:
            stored = await packages.package_titles(session, members)
        await self._fetch_targets(sorted(members - stored.keys()), report)
        now = self.clock()
        async with self.database.transaction() as session:
            memberships = await grids.save_grids(
                session, fetched, now=now, next_poll_at=self._next_poll(report)
            )
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
            if changes:
                audience = await subscriptions.subscriptions_for_grids(
                    session, {change.grid_id for change in changes if change.grid_id is not None}
                )
                report.alerts_enqueued += await outbox.enqueue(
                    session, alerts_for(changes, audience, by="grid"), now=now
                )
        for grid in fetched:
            self.names.grid_stored(grid)
        report.grids_fetched += len(fetched)
        report.changes.extend(changes)

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
