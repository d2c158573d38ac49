"""The refresh's comparison step, pure: a fetched batch of Django Packages records and what is
stored of them in; the observations, the rows to write and the changes out.

It decides in three stages, each a value whose method takes what the shell read for it (the
shell, `bot.refresh.monitor`, does every read and write, in one transaction):

1. `triage`: a catalog payload whose fingerprint is the stored one, and whose health stays put
   under the global rule, is only revisited (`Revisited`), never validated; the others are
   parsed (an invalid one is skipped this cycle) and their content hashes compared with the
   stored ones. `Triage.moved` names the stored records the comparison needs.
2. `Triage.settle`: each record keeps the last known value of what it leaves unknown (a gap is
   never a change). `Settled.releases_moved` names the packages whose known versions release
   detection needs (telling a rollback from a new release).
3. `Settled.compare`: each package seen before is compared with its stored copy, in full when
   its content moved, otherwise only in health; new or moved content becomes an `Observed` row
   (with a history row), the rest a `Revisited` one.

A first observation is a silent baseline: stored, never compared.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.core.events import Change, DetectContext, detect_changes, detect_health_changes
from bot.core.health import Activity, state_at
from bot.core.observations import LastSeen, Observed, Revisited
from bot.core.records import PackagePayload, PackageRecord
from bot.errors import InvalidRecord


@dataclass(frozen=True, slots=True)
class Batch:
    """Packages fetched together: records fetched one by one, and payloads of catalog pages
    (validated only when they may have moved)."""

    records: Sequence[PackageRecord] = ()
    payloads: Sequence[PackagePayload] = ()

    @property
    def ids(self) -> list[int]:
        return [record.id for record in self.records] + [payload.id for payload in self.payloads]


@dataclass(frozen=True, slots=True)
class Stored:
    """What is stored of a batch's packages, and how the cycle judges their health."""

    seen: Mapping[int, LastSeen]
    #: The packages some channel with its own staleness rule follows: always compared, since
    #: their health can move for that channel while it stays put under the global rule.
    ruled: frozenset[int]
    stale_after_days: int


@dataclass(frozen=True, slots=True)
class Observation:
    """A package seen again: both records, the detection context, and the changes found with
    it (under the global staleness rule)."""

    previous: PackageRecord
    current: PackageRecord
    context: DetectContext
    changes: list[Change]


@dataclass(frozen=True, slots=True)
class Comparison:
    """What a batch's comparison decided: the rows to write and what changed."""

    #: Every record that validated (unknown fields filled from the last known copy).
    records: list[PackageRecord]
    #: The packages seen before, compared with their stored copy.
    observations: list[Observation]
    #: Packages whose content is new or moved: stored whole, with a history row.
    observed: list[Observed]
    #: Packages seen again with the same content: only their bookkeeping moves.
    revisited: list[Revisited]
    #: Payloads that failed validation: skipped this cycle, their stored copy kept.
    invalid: list[InvalidRecord]

    @property
    def changes(self) -> list[Change]:
        """Every change found, once each."""
        return list({c.key: c for seen in self.observations for c in seen.changes}.values())

    @property
    def stored_ids(self) -> set[int]:
        """The packages the batch stores: every one but the invalid."""
        return {seen.record.id for seen in self.observed} | {
            seen.package_id for seen in self.revisited
        }


@dataclass(frozen=True, slots=True)
class Triage:
    """A batch sorted: payloads revisited without validation, and records to compare."""

    stored: Stored
    revisits: dict[int, Revisited]
    records: list[PackageRecord]
    #: The fingerprint of each parsed payload (a record fetched on its own has none).
    fingerprints: dict[int, str | None]
    hashes: dict[int, str]
    invalid: list[InvalidRecord]

    @property
    def moved(self) -> list[int]:
        """The stored packages whose content moved: their stored record is compared in full."""
        seen = self.stored.seen
        return [
            r.id
            for r in self.records
            if r.id in seen and seen[r.id].content_hash != self.hashes[r.id]
        ]

    def settle(self, previous: Mapping[int, PackageRecord]) -> Settled:
        """The records keeping the last known value of what they leave unknown: from
        `previous` (the stored records of `moved`), else `last_fetched` from what was seen."""
        records = [
            keeping_known(record, self.stored.seen.get(record.id), previous.get(record.id))
            for record in self.records
        ]
        hashes = self.hashes | {r.id: r.content_hash() for r in records if r.id in previous}
        return Settled(self, records, hashes, previous)


@dataclass(frozen=True, slots=True)
class Settled:
    """A batch's records with their last known values kept, ready to compare."""

    triage: Triage
    records: list[PackageRecord]
    hashes: dict[int, str]
    previous: Mapping[int, PackageRecord]

    @property
    def releases_moved(self) -> list[int]:
        """The packages whose release detection needs the versions known before."""
        previous = self.previous
        return [
            r.id for r in self.records if r.id in previous and _version_moved(previous[r.id], r)
        ]

    def compare(self, known_versions: Mapping[int, frozenset[str]], now: datetime) -> Comparison:
        """Compare each record with its stored copy and sort the rows to write."""
        triage, stored = self.triage, self.triage.stored.seen
        fingerprints = triage.fingerprints
        new_content = {
            r.id
            for r in self.records
            if r.id not in stored or stored[r.id].content_hash != self.hashes[r.id]
        }
        return Comparison(
            records=self.records,
            observations=[
                self._observe(record, known_versions, now)
                for record in self.records
                if record.id in stored  # a first observation is a silent baseline
            ],
            observed=[
                Observed(r, self.hashes[r.id], fingerprints.get(r.id))
                for r in self.records
                if r.id in new_content
            ],
            revisited=[
                *triage.revisits.values(),
                *(
                    Revisited(r.id, r.last_fetched, fingerprints.get(r.id))
                    for r in self.records
                    if r.id not in new_content
                ),
            ],
            invalid=triage.invalid,
        )

    def _observe(
        self, record: PackageRecord, known_versions: Mapping[int, frozenset[str]], now: datetime
    ) -> Observation:
        seen = self.triage.stored.seen[record.id]
        context = DetectContext(
            now=now,
            previous_at=seen.fetched_at,
            stale_after_days=self.triage.stored.stale_after_days,
            known_versions=known_versions.get(record.id, frozenset()),
        )
        return observe(record, seen, self.previous.get(record.id), context)


def triage(batch: Batch, stored: Stored, now: datetime) -> Triage:
    """Sort a batch: revisits (`revisit`) apart, the rest parsed and hashed."""
    revisits = {
        payload.id: found
        for payload in batch.payloads
        if (found := revisit(payload, stored, now)) is not None
    }
    to_parse = [payload for payload in batch.payloads if payload.id not in revisits]
    records = list(batch.records)
    invalid = []
    for payload in to_parse:
        try:
            records.append(payload.parse())
        except InvalidRecord as exc:
            invalid.append(exc)
    return Triage(
        stored=stored,
        revisits=revisits,
        records=records,
        fingerprints={payload.id: payload.fingerprint for payload in to_parse},
        hashes={record.id: record.content_hash() for record in records},
        invalid=invalid,
    )


def revisit(payload: PackagePayload, stored: Stored, now: datetime) -> Revisited | None:
    """The row of a payload that needs no validation, or None when it must be validated.

    A payload qualifies when its fingerprint is the stored one (the content is the stored
    content) and its health stays put under the global rule. A package some channel judges by
    its own staleness rule is validated and compared as usual, and so is anything odd (no
    fingerprint, an unreadable `last_fetched`), so that its error is reported as usual.
    """
    seen = stored.seen.get(payload.id)
    if (
        seen is None
        or payload.fingerprint is None  # nothing vouches for it
        or payload.fingerprint != seen.payload_hash
        or payload.id in stored.ruled
    ):
        return None
    try:
        last_fetched = payload.last_fetched()
    except ValueError:
        return None
    if last_fetched is None or (
        not payload.commits_known and seen.activity.newest_busy_week is not None
    ):
        # As `keeping_known`: the stored window is kept with the moment it was read.
        last_fetched = seen.last_fetched
    activity, days = seen.activity, stored.stale_after_days
    before = state_at(activity, now=seen.fetched_at, stale_after_days=days)
    if last_fetched != activity.last_fetched:
        activity = Activity(activity.last_updated, activity.newest_busy_week, last_fetched)
    if before != state_at(activity, now=now, stale_after_days=days):
        return None
    return Revisited(payload.id, last_fetched, payload.fingerprint)


def keeping_known(
    record: PackageRecord, seen: LastSeen | None, previous: PackageRecord | None
) -> PackageRecord:
    """`record` with what it leaves unknown taken from the last known copy: every field from
    `previous` (the stored record, loaded when the content moved), else `last_fetched`, the one
    field a content hash ignores, from what was last seen."""
    if previous is not None:
        return record.keeping_known(previous)
    if record.last_fetched is None and seen is not None and seen.last_fetched is not None:
        return record.model_copy(update={"last_fetched": seen.last_fetched})
    return record


def observe(
    record: PackageRecord, seen: LastSeen, previous: PackageRecord | None, context: DetectContext
) -> Observation:
    """Compare a record with its stored copy: in full when the content moved (`previous` is
    its stored record), otherwise only its health."""
    if previous is not None:
        return Observation(previous, record, context, detect_changes(previous, record, context))
    if record.last_fetched != seen.last_fetched:
        previous = record.model_copy(update={"last_fetched": seen.last_fetched})
    else:
        previous = record
    return Observation(previous, record, context, detect_health_changes(previous, record, context))


def _version_moved(previous: PackageRecord, current: PackageRecord) -> bool:
    """Whether release detection needs the versions known before (a lookup worth batching)."""
    return current.pypi_version is not None and current.pypi_version != previous.pypi_version
