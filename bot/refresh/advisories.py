"""The OSV poll: security advisories of the followed packages, after the Django Packages pass.

At most once per poll interval per PyPI name: one `querybatch` (in chunks, pages followed)
lists each name's advisory ids with their `modified` times; only ids new, moved, or gone from
the list are read again (`GET v1/vulns/{id}`). Then, in one transaction of its own, the pure
decision (`bot.core.advisories.news`) says what is news, and each channel following the
package hears of it once, worded against its imported pin. Any OSV failure raises
`OsvUnavailable` before anything is written: the names stay due, and nothing else waits.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.advisories import Advisory, News, Seen, news, parse_records
from bot.core.alerting import Follower, NewAlert
from bot.core.clock import Clock
from bot.core.events import wants
from bot.core.events.advisory import PinView, advisory_change, is_urgent
from bot.core.events.base import one_line
from bot.core.pypi_names import pypi_project_name
from bot.osv.client import OsvClient
from storage import advisories, outbox, pins, subscriptions
from storage.advisories import FollowedPackage
from storage.database import Database
from storage.models import Pin
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


@dataclass(frozen=True, slots=True)
class Asked:
    """What OSV answered for the due names: the ids listed per name, what was known of them,
    the known live ids no longer listed, and the records read again."""

    listed: dict[str, set[str]]
    seen: dict[str, dict[str, Seen]]
    gone: dict[str, set[str]]
    fetched: dict[str, dict[str, Any]]

    def moved(self) -> list[str]:
        """The names that can have news (or take their baseline): new names, and those whose
        ids or records moved. The others cost nothing more."""
        return [
            name
            for name, ids in self.listed.items()
            if name not in self.seen
            or ids - set(self.seen[name])
            or self.gone[name]
            or not self.fetched.keys().isdisjoint(ids)
        ]


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
        """One pass over the names that are due (none: no request at all)."""
        now = self.clock()
        report = AdvisoryReport()
        due, by_name = await self._due(now)
        if not due:
            return report
        before = self.client.requests
        asked = await self._ask(due)
        report.batch_requests = self.client.requests.batches - before.batches
        report.record_requests = self.client.requests.records - before.records
        async with self.database.transaction() as session:
            await advisories.save_records(session, asked.fetched, now=now)
            alerts = await self._decide(session, asked, by_name, report, now)
            report.alerts_enqueued = await outbox.enqueue(session, alerts, now=now)
            await advisories.mark_checked(session, due, now=now)
        report.names_checked = len(due)
        return report

    async def _due(self, now: datetime) -> tuple[list[str], dict[str, list[FollowedPackage]]]:
        """The names to ask about now, and the followed listings by name."""
        async with self.database.session() as session:
            by_name = _by_name(await advisories.followed_packages(session))
            names = set(by_name) | await pins.unlisted_names(session)
            checked = await advisories.checked_at(session)
        due = sorted(
            name for name in names if (at := checked.get(name)) is None or at + self.interval <= now
        )
        return due, by_name

    async def _ask(self, due: Sequence[str]) -> Asked:
        """OSV's list for each name, and the records to read again: new, moved, or a known
        live id missing from the list (it may have been withdrawn)."""
        listed = await self.client.vulns_for(due)
        async with self.database.session() as session:
            seen = await advisories.known(session, due)
            ids = {ref.id for name in due for ref in listed[name]}
            stored = await advisories.stored_modified(session, ids | _ids(seen))
        stale = {
            ref.id for refs in listed.values() for ref in refs if stored.get(ref.id) != ref.modified
        }
        listed_ids = {name: {ref.id for ref in listed[name]} for name in due}
        gone = {
            name: {
                vid
                for vid, known in seen.get(name, {}).items()
                if not known.withdrawn and vid not in listed_ids[name]
            }
            for name in due
        }
        fetched = await self.client.vulns(sorted(stale.union(*gone.values())))
        return Asked(listed_ids, seen, gone, fetched)

    async def _decide(
        self,
        session: AsyncSession,
        asked: Asked,
        by_name: Mapping[str, Sequence[FollowedPackage]],
        report: AdvisoryReport,
        now: datetime,
    ) -> list[NewAlert]:
        """For each name whose ids or records moved: what is news (the pure decision), the
        alerts it raises, and what is known of the name from now on."""
        moved = asked.moved()
        current_ids = {name: asked.listed[name] | set(asked.seen.get(name, {})) for name in moved}
        records = await advisories.records(session, set().union(*current_ids.values()))
        pinned = await pins.pins_for(session, moved)
        subjects = await _subjects(session, moved, by_name, pinned)
        alerts: list[NewAlert] = []
        for name in moved:
            current, malformed = parse_records(
                [records[i] for i in sorted(current_ids[name]) if i in records], name
            )
            if malformed:
                report.malformed += malformed
                log.warning("skipped %d malformed OSV record(s) of %s", malformed, name)
            found = news(asked.seen.get(name), current)
            report.news += found
            for subject in subjects[name]:
                alerts += _alerts(subject, found, pinned.get(name, []))
            known = {a.id: Seen(a.material(), bool(a.withdrawn)) for a in current}
            await advisories.remember(session, name, known, now=now)
        return await _retractions_to_announced(session, alerts)

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
    by_name: Mapping[str, Sequence[FollowedPackage]],
    pinned: Mapping[str, Sequence[Pin]],
) -> dict[str, list[Subject]]:
    """Who hears of each name's advisories: the subscriptions of its listings, and for an
    imported requirement not on Django Packages, the channels that imported it."""
    audience = await subscriptions_for_packages(
        session, [package.id for name in names for package in by_name.get(name, ())]
    )
    unlisted = {
        name: [pin.channel_id for pin in pinned.get(name, ()) if pin.package_id is None]
        for name in names
        if name not in by_name
    }
    routes = await subscriptions.active_by_channel(
        session, {channel for channels in unlisted.values() for channel in channels}
    )
    found: dict[str, list[Subject]] = {}
    for name in names:
        found[name] = [
            Subject(
                package.id,
                one_line(package.title) or package.slug,
                package.latest,
                tuple(audience[package.id]),
            )
            for package in by_name.get(name, ())
        ]
        if name in unlisted:
            followers = tuple(
                Follower(route.id, route.guild_id, route.channel_id, route.preferences)
                for channel in unlisted[name]
                for route in routes[channel][:1]
            )
            found[name].append(Subject(None, name, None, followers))
    return found


def _by_name(followed: Sequence[FollowedPackage]) -> dict[str, list[FollowedPackage]]:
    """Followed packages by PyPI name (two listings may name one project)."""
    found: dict[str, list[FollowedPackage]] = {}
    for package in followed:
        name = pypi_project_name(package.pypi_url)
        if name is not None:
            found.setdefault(name, []).append(package)
    return found


def _ids(seen: Mapping[str, Mapping[str, Seen]]) -> set[str]:
    return {vuln_id for known in seen.values() for vuln_id in known}


@dataclass(frozen=True, slots=True)
class Subject:
    """What advisory alerts are about, and who hears of them: a followed listing and its
    subscriptions, or a requirement a channel imported that is not on Django Packages (heard
    of through the channel's oldest subscription)."""

    package_id: int | None
    label: str
    latest: str | None
    followers: tuple[Follower, ...]

    @property
    def key(self) -> str:
        return str(self.package_id) if self.package_id is not None else f"pypi:{self.label}"


def _alerts(subject: Subject, found: Sequence[News], pins: Sequence[Pin]) -> list[NewAlert]:
    """One alert per (channel, vulnerability), worded against the channel's pin."""
    pin_of = {pin.channel_id: PinView(pin.specifier, pin.version) for pin in pins}
    rows: dict[str, NewAlert] = {}
    for item in found:
        for follower in subject.followers:
            change = advisory_change(
                subject.key,
                subject.package_id or 0,
                subject.label,
                item.vulnerability,
                status=item.status,
                latest=subject.latest,
                pin=pin_of.get(follower.channel_id),
            )
            if not wants(follower.preferences, change):
                continue
            key = f"{follower.channel_id}:{change.key}"
            rows.setdefault(
                key,
                NewAlert(
                    subscription_id=follower.id,
                    guild_id=follower.guild_id,
                    channel_id=follower.channel_id,
                    event=change.event.value,
                    dedup_key=key,
                    summary=change.summary,
                    payload=change.data,
                    package_id=subject.package_id,
                    urgent=is_urgent(change.data),
                ),
            )
    return list(rows.values())


async def _retractions_to_announced(
    session: AsyncSession, alerts: list[NewAlert]
) -> list[NewAlert]:
    """Retractions only for the channels that heard of the advisory."""
    originals = {
        alert.dedup_key: alert.dedup_key.removesuffix(":withdrawn")
        for alert in alerts
        if alert.payload.get("status") == "withdrawn"
    }
    told = await advisories.announced(session, set(originals.values()))
    return [a for a in alerts if a.dedup_key not in originals or originals[a.dedup_key] in told]


__all__ = ["AdvisoryReport", "AdvisoryWatch"]
