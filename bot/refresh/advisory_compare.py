"""What an OSV answer means: the pure decide step of the advisory pass (`advisories`).

Given what OSV listed for the due PyPI names and what is stored of them, it says which
records to read again (new, moved, or a known live id gone from the list), which names can
have news, who hears of each name (the subscriptions of its listings; for an imported
requirement not on Django Packages, the channels that imported it), and the alerts each
piece of news raises, worded against each channel's pin. What is news is
`bot.core.advisories.news`; a retraction goes only to the channels that heard of the advisory.
A name OSV answered badly (its list, or a record it needs) is left for the next pass.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from bot.core.advisories import FollowedPackage, News, Seen, news, parse_records
from bot.core.alerting import Follower, NewAlert
from bot.core.events import wants
from bot.core.events.advisory import (
    PinView,
    advisory_change,
    is_retraction,
    is_urgent,
    retracted_key,
)
from bot.core.events.base import one_line
from bot.core.pypi_names import pypi_project_name
from bot.refresh.audience import alert


def due_names(
    names: Iterable[str], checked: Mapping[str, datetime], interval: timedelta, now: datetime
) -> list[str]:
    """The names never checked, or last checked `interval` or more ago, sorted."""
    return sorted(
        name for name in names if (at := checked.get(name)) is None or at + interval <= now
    )


def by_name(followed: Sequence[FollowedPackage]) -> dict[str, list[FollowedPackage]]:
    """Followed packages by PyPI name (two listings may name one project)."""
    found: dict[str, list[FollowedPackage]] = {}
    for package in followed:
        name = pypi_project_name(package.pypi_url)
        if name is not None:
            found.setdefault(name, []).append(package)
    return found


def known_ids(seen: Mapping[str, Mapping[str, Seen]]) -> set[str]:
    """Every id known of any name."""
    return {vuln_id for known in seen.values() for vuln_id in known}


@dataclass(frozen=True, slots=True)
class Reads:
    """What OSV's lists mean before any record is read: the ids listed per name (with their
    `modified` times), the known live ids no longer listed, and the records to read again."""

    listed: dict[str, dict[str, str]]
    gone: dict[str, set[str]]
    to_read: list[str]


def plan_reads(
    listed: Mapping[str, Mapping[str, str]],
    seen: Mapping[str, Mapping[str, Seen]],
    stored_modified: Mapping[str, str],
) -> Reads:
    """From each due name's listed ids (with their `modified` times), what was known of the
    names and the stored `modified` times: the records new, moved, or a known live id gone
    from the list (it may have been withdrawn)."""
    stale = {
        vid
        for ids in listed.values()
        for vid, modified in ids.items()
        if stored_modified.get(vid) != modified
    }
    gone = {
        name: {
            vid
            for vid, known in seen.get(name, {}).items()
            if not known.withdrawn and vid not in listed[name]
        }
        for name in listed
    }
    return Reads(
        {name: dict(ids) for name, ids in listed.items()},
        gone,
        sorted(stale.union(*gone.values())),
    )


def answered_badly(
    reads: Reads, lists: Mapping[str, str], records: Mapping[str, str]
) -> dict[str, str]:
    """The names OSV answered badly, each with why: its own list (`lists`, by name), or a
    record it needs, listed or gone from its list (`records`, by id). They are left for the
    next pass, neither decided nor checked, so they keep what was known of them."""
    found = dict(lists)
    for name, ids in reads.listed.items():
        needed = sorted((ids.keys() | reads.gone[name]) & records.keys())
        if needed:
            found[name] = records[needed[0]]
    return found


@dataclass(frozen=True, slots=True)
class Asked:
    """What OSV answered for the due names: the ids listed per name (with their `modified`
    times), what was known of them, the known live ids no longer listed, and the records read
    again."""

    listed: dict[str, dict[str, str]]
    seen: dict[str, dict[str, Seen]]
    gone: dict[str, set[str]]
    fetched: dict[str, dict[str, Any]]

    def moved(self) -> list[str]:
        """The names that can have news (or take their baseline): new names, those with a
        known id gone from the list, and those listing a record as they have not read it (new
        to them, or modified since). Judged per name, not by which records this pass read: a
        record two names share is read again at the first one's check, and the second must
        still hear of it at its own. The others cost nothing more."""
        return [
            name
            for name, ids in self.listed.items()
            if name not in self.seen or self.gone[name] or _unread(ids, self.seen[name])
        ]

    def leaving_out(self, names: Collection[str]) -> Asked:
        """What was answered, but for `names` (left for the next pass)."""
        return replace(
            self,
            listed={name: ids for name, ids in self.listed.items() if name not in names},
            gone={name: ids for name, ids in self.gone.items() if name not in names},
        )

    def current_ids(self, names: Iterable[str]) -> dict[str, set[str]]:
        """The ids each name's news is decided from: listed now, or known before."""
        return {name: {*self.listed[name], *self.seen.get(name, {})} for name in names}


def _unread(listed: Mapping[str, str], seen: Mapping[str, Seen]) -> bool:
    """Whether a name lists a record (by id, with its `modified` time) other than as it last
    read it."""
    return any(
        vid not in seen or seen[vid].modified != modified for vid, modified in listed.items()
    )


@dataclass(frozen=True, slots=True)
class ChannelPin:
    """A channel's imported requirement of a PyPI name: what its alerts are worded against;
    `listed` when the requirement is a package on Django Packages."""

    channel_id: int
    listed: bool
    view: PinView


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


def unlisted_channels(
    names: Iterable[str],
    followed: Mapping[str, Sequence[FollowedPackage]],
    pinned: Mapping[str, Sequence[ChannelPin]],
) -> dict[str, list[int]]:
    """For each name no followed listing has, the channels that imported it."""
    return {
        name: [pin.channel_id for pin in pinned.get(name, ()) if not pin.listed]
        for name in names
        if name not in followed
    }


def subjects(
    names: Iterable[str],
    followed: Mapping[str, Sequence[FollowedPackage]],
    audience: Mapping[int, Sequence[Follower]],
    unlisted: Mapping[str, Sequence[int]],
    oldest: Mapping[int, Follower],
) -> dict[str, list[Subject]]:
    """Who hears of each name's advisories: `audience` (the subscriptions reaching each
    package) for its listings, and for a name in `unlisted`, each importing channel's
    `oldest` subscription (a channel with none hears nothing)."""
    found: dict[str, list[Subject]] = {}
    for name in names:
        found[name] = [
            Subject(
                package.id,
                one_line(package.title) or package.slug,
                package.latest,
                tuple(audience[package.id]),
            )
            for package in followed.get(name, ())
        ]
        if name in unlisted:
            channels = [oldest[channel] for channel in unlisted[name] if channel in oldest]
            found[name].append(Subject(None, name, None, tuple(channels)))
    return found


def alerts_for(
    subject: Subject, found: Sequence[News], pins: Sequence[ChannelPin]
) -> list[NewAlert]:
    """One alert per (channel, vulnerability), worded against the channel's pin."""
    pin_of = {pin.channel_id: pin.view for pin in pins}
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
            rows.setdefault(key, alert(follower, change, key, urgent=is_urgent(change.data)))
    return list(rows.values())


@dataclass(frozen=True, slots=True)
class NameNews:
    """One name's news, the alerts it raises, what is known of the name from now on, and how
    many of its records could not be read."""

    news: list[News]
    alerts: list[NewAlert]
    known: dict[str, Seen]
    malformed: int


def decide_name(
    name: str,
    records: Sequence[Mapping[str, Any]],
    seen: Mapping[str, Seen] | None,
    heard_by: Sequence[Subject],
    pins: Sequence[ChannelPin],
) -> NameNews:
    """What a name's current records (`records`) are news of against what was known
    (`seen`; None: a first check, the silent baseline), and who is told."""
    current, malformed = parse_records(records, name)
    found = news(seen, current)
    alerts = [alert for subject in heard_by for alert in alerts_for(subject, found, pins)]
    known = {a.id: Seen(a.material(), bool(a.withdrawn), a.modified) for a in current}
    return NameNews(found, alerts, known, malformed)


def retracted(alerts: Iterable[NewAlert]) -> dict[str, str]:
    """Each retraction's key, with the key of the alert it retracts."""
    return {
        alert.dedup_key: retracted_key(alert.dedup_key)
        for alert in alerts
        if is_retraction(alert.event, alert.payload)
    }


def to_those_told(
    alerts: Sequence[NewAlert], retracts: Mapping[str, str], told: Mapping[str, bool]
) -> list[NewAlert]:
    """The alerts, with retractions only for the channels that heard of the advisory (`told`:
    the retracted keys announced, each with whether it was urgent). A retraction takes its
    original's lane: an urgent original's retraction is urgent too, so no digest holds it."""
    return [
        replace(a, urgent=told[retracts[a.dedup_key]]) if a.dedup_key in retracts else a
        for a in alerts
        if a.dedup_key not in retracts or retracts[a.dedup_key] in told
    ]
