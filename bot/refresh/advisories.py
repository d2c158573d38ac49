"""The OSV poll: security advisories of the followed packages, after the Django Packages pass.

At most once per poll interval per PyPI name: one `querybatch` (in chunks, pages followed)
lists each name's advisory ids with their `modified` times; only ids new, moved, or gone from
the list are read again (`GET v1/vulns/{id}`). Then, in one transaction of its own, the pure
decide step (`advisory_compare`, with `bot.core.advisories.news`) says what is news, and each
channel following the package hears of it once, worded against its imported pin; this shell
reads what the step needs and writes what it decided. Any OSV failure raises
`OsvUnavailable` before anything is written: the names stay due, and nothing else waits. A
name OSV answers badly on its own (its result in the batch, or a record it needs, malformed)
is left out of the pass instead: not decided, not marked checked, so it is asked again at the
next pass with what was known of it kept, and the other names go on.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.advisories import Advisory, FollowedPackage, News, parse_records
from bot.core.alerting import Follower, NewAlert
from bot.core.clock import Clock
from bot.core.events.advisory import PinView
from bot.core.plural import counted
from bot.core.source_health import Source, SourceRun
from bot.osv.client import OsvClient, OsvUnavailable, Requests
from bot.refresh.advisory_compare import (
    Asked,
    ChannelPin,
    Subject,
    answered_badly,
    by_name,
    decide_name,
    due_names,
    known_ids,
    plan_reads,
    retracted,
    subjects,
    to_those_told,
    unlisted_channels,
)
from storage import advisories, outbox, pins, subscriptions
from storage.database import Database
from storage.models import Pin
from storage.source_health import record_run
from storage.subscriptions import subscriptions_for_packages

log = logging.getLogger(__name__)


@dataclass(slots=True)
class AdvisoryReport:
    """What one OSV pass did."""

    names_checked: int = 0
    batch_requests: int = 0
    record_requests: int = 0
    news: list[News] = field(default_factory=list)
    alerts_enqueued: int = 0
    malformed: int = 0
    #: Names OSV answered badly, with why: asked again at the next pass.
    answered_badly: dict[str, str] = field(default_factory=dict)


class AdvisoryWatch:
    """Polls OSV for the followed packages and enqueues `advisory` alerts."""

    def __init__(
        self, client: OsvClient, database: Database, *, interval: timedelta, clock: Clock
    ) -> None:
        self.client = client
        self.database = database
        self.interval = interval
        self.clock = clock

    async def run(self) -> AdvisoryReport:
        """One pass over the names that are due (none: no request at all), kept as OSV's
        health (`/status`) whether it ends well or with `OsvUnavailable`."""
        before = self.client.requests
        try:
            report = await self._pass()
        except OsvUnavailable as exc:
            await self._record(before, SourceRun(failures=1, error=str(exc)))
            raise
        await self._record(before, SourceRun())
        return report

    async def _record(self, before: Requests, run: SourceRun) -> None:
        """Keep `run`, with the requests made since `before` (a failed one among them)."""
        after = self.client.requests
        asked = after.batches - before.batches + after.records - before.records + run.failures
        run = replace(run, requests=asked, read=not run.failures)
        async with self.database.transaction() as session:
            await record_run(session, Source.OSV, run, self.clock())

    async def _pass(self) -> AdvisoryReport:
        now = self.clock()
        report = AdvisoryReport()
        due, followed = await self._due(now)
        if not due:
            return report
        before = self.client.requests
        asked, report.answered_badly = await self._ask(due)
        report.batch_requests = self.client.requests.batches - before.batches
        report.record_requests = self.client.requests.records - before.records
        checked = [name for name in due if name not in report.answered_badly]
        async with self.database.transaction() as session:
            await advisories.save_records(session, asked.fetched, now=now)
            alerts = await self._decide(session, asked, followed, report, now)
            report.alerts_enqueued = await outbox.enqueue(session, alerts, now=now)
            await advisories.mark_checked(session, checked, now=now)
        if report.answered_badly:
            log.warning(
                "OSV answered badly for %s; asking again next pass, keeping what is known",
                "; ".join(
                    f"{name} ({why.rstrip('.')})" for name, why in report.answered_badly.items()
                ),
            )
        report.names_checked = len(checked)
        return report

    async def _due(self, now: datetime) -> tuple[list[str], dict[str, list[FollowedPackage]]]:
        """The names to ask about now, and the followed listings by name."""
        async with self.database.session() as session:
            followed = by_name(await advisories.followed_packages(session))
            names = set(followed) | await pins.unlisted_names(session)
            checked = await advisories.checked_at(session)
        return due_names(names, checked, self.interval, now), followed

    async def _ask(self, due: Sequence[str]) -> tuple[Asked, dict[str, str]]:
        """OSV's list for each name, and the records to read again: new, moved, or a known
        live id missing from the list (it may have been withdrawn); with the names OSV
        answered badly, left out."""
        listed = await self.client.list_vulns(due)
        modified = {
            name: {ref.id: ref.modified for ref in refs} for name, refs in listed.found.items()
        }
        async with self.database.session() as session:
            seen = await advisories.known(session, list(modified))
            ids = {vid for listing in modified.values() for vid in listing}
            stored = await advisories.stored_modified(session, ids | known_ids(seen))
        reads = plan_reads(modified, seen, stored)
        fetched = await self.client.read_vulns(reads.to_read)
        badly = answered_badly(reads, listed.malformed, fetched.malformed)
        return Asked(reads.listed, seen, reads.gone, fetched.found).leaving_out(badly), badly

    async def _decide(
        self,
        session: AsyncSession,
        asked: Asked,
        followed: Mapping[str, Sequence[FollowedPackage]],
        report: AdvisoryReport,
        now: datetime,
    ) -> list[NewAlert]:
        """For each name whose ids or records moved: read what `decide_name` needs, and keep
        what is known of the name from now on; the alerts, retractions only where heard."""
        moved = asked.moved()
        current_ids = asked.current_ids(moved)
        records = await advisories.records(session, set().union(*current_ids.values()))
        pinned = _channel_pins(await pins.pins_for(session, moved))
        heard_by = await _subjects(session, moved, followed, pinned)
        alerts: list[NewAlert] = []
        for name in moved:
            current = [records[i] for i in sorted(current_ids[name]) if i in records]
            decided = decide_name(
                name, current, asked.seen.get(name), heard_by[name], pinned.get(name, [])
            )
            if decided.malformed:
                report.malformed += decided.malformed
                skipped = counted(decided.malformed, "malformed OSV record")
                log.warning("skipped %s of %s", skipped, name)
            report.news += decided.news
            alerts += decided.alerts
            await advisories.remember(session, name, decided.known, now=now)
        retracts = retracted(alerts)
        told = await advisories.announced(session, set(retracts.values()))
        return to_those_told(alerts, retracts, told)

    async def advisories_of(self, name: str) -> list[Advisory]:
        """A PyPI name's advisories: as stored when the poll follows the name, otherwise asked
        of OSV now (nothing written). Raises `OsvUnavailable`."""
        async with self.database.session() as session:
            seen = (await advisories.known(session, [name])).get(name)
            stored = await advisories.records(session, seen) if seen is not None else {}
        if seen is None:
            listed = await self.client.vulns_for([name])
            stored = await self.client.vulns([ref.id for ref in listed[name]])
        return parse_records(stored.values(), name)[0]


async def _subjects(
    session: AsyncSession,
    names: Sequence[str],
    followed: Mapping[str, Sequence[FollowedPackage]],
    pinned: Mapping[str, Sequence[ChannelPin]],
) -> dict[str, list[Subject]]:
    """Read who can hear of each name's advisories, and let `subjects` say who does."""
    audience = await subscriptions_for_packages(
        session, [package.id for name in names for package in followed.get(name, ())]
    )
    unlisted = unlisted_channels(names, followed, pinned)
    routes = await subscriptions.active_by_channel(
        session, {channel for channels in unlisted.values() for channel in channels}
    )
    oldest = {
        channel: Follower(route.id, route.guild_id, route.channel_id, route.preferences)
        for channel, found in routes.items()
        for route in found[:1]
    }
    return subjects(names, followed, audience, unlisted, oldest)


def _channel_pins(pinned: Mapping[str, Sequence[Pin]]) -> dict[str, list[ChannelPin]]:
    """The stored pins of each name as the decide step reads them."""
    return {
        name: [
            ChannelPin(
                pin.channel_id, pin.package_id is not None, PinView(pin.specifier, pin.version)
            )
            for pin in found
        ]
        for name, found in pinned.items()
    }


__all__ = ["AdvisoryReport", "AdvisoryWatch"]
