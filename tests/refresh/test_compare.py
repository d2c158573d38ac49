"""The refresh's comparison step without a database: which payloads skip validation, which
values are kept when unknown, what each event kind sees, and which rows are written.

Each test states what is stored (a record, the fingerprint it was stored with, when it was
read) and runs the three stages as the monitor does, answering the reads each stage asks for.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.core.events import Event
from bot.core.health import Activity, state_at
from bot.core.observations import LastSeen, Revisited
from bot.core.records import PackagePayload, PackageRecord, parse_package
from bot.refresh.compare import Batch, Comparison, Stored, revisit, triage
from tests.plugins.data import seed_package

NOW = datetime(2026, 2, 20, 12, tzinfo=UTC)
#: When the stored copy was read: the cycle before.
SEEN_AT = NOW - timedelta(hours=6)
DAYS = 365
FLATBLOCKS = 265
#: django-flatblocks' last change a day short of the staleness threshold: dormant now, stale
#: two days later.
AGEING = {"last_updated": (NOW - timedelta(days=DAYS - 1)).isoformat()}
BUSY_WINDOW = [0] * 51 + [3]


def data(**changes: Any) -> dict[str, Any]:
    return seed_package("django-flatblocks") | changes


def payload(**changes: Any) -> PackagePayload:
    return PackagePayload.of(data(**changes))


def record(**changes: Any) -> PackageRecord:
    return parse_package(data(**changes))


def last_seen(
    kept: PackageRecord, fingerprint: str | None = None, at: datetime = SEEN_AT
) -> LastSeen:
    return LastSeen(kept.content_hash(), fingerprint, at, Activity.of(kept))


def stored(*seen: tuple[PackageRecord, LastSeen], ruled: frozenset[int] = frozenset()) -> Stored:
    return Stored({kept.id: found for kept, found in seen}, ruled, DAYS)


def compare(
    batch: Batch,
    kept: PackageRecord | None = None,
    *,
    fingerprint: str | None = None,
    at: datetime = SEEN_AT,
    ruled: frozenset[int] = frozenset(),
    known: frozenset[str] = frozenset(),
    now: datetime = NOW,
) -> Comparison:
    """The comparison of `batch` against `kept` (stored with `fingerprint`, read `at`), with the
    monitor's reads answered: the stored record of what moved, `known` versions."""
    on_file = stored((kept, last_seen(kept, fingerprint, at))) if kept else stored()
    triaged = triage(batch, on_file, now)
    assert kept is not None or triaged.moved == []
    settled = triaged.settle({package_id: kept for package_id in triaged.moved if kept})
    return settled.compare({package_id: known for package_id in settled.releases_moved}, now)


# -- which payloads skip validation ------------------------------------------------------------


def test_the_ageing_package_premise() -> None:
    """The ageing record is dormant when last read and stale two days on (the tests below rely
    on it)."""
    activity = Activity.of(record(**AGEING))
    assert state_at(activity, now=SEEN_AT, stale_after_days=DAYS).value == "dormant"
    assert state_at(activity, now=NOW + timedelta(days=2), stale_after_days=DAYS).value == "stale"


UNREADABLE = "not a timestamp"


@pytest.mark.parametrize(
    ("case", "arriving", "stored_as", "ruled", "now", "revisited"),
    [
        ("fingerprint equal, health unmoved", payload(), payload(), False, NOW, True),
        ("fingerprint differs", payload(repo_watchers=85), payload(), False, NOW, False),
        ("never stored", payload(), None, False, NOW, False),
        ("no fingerprint", PackagePayload(FLATBLOCKS, data(), None), payload(), False, NOW, False),
        (
            "a channel with its own staleness rule follows it",
            payload(),
            payload(),
            True,
            NOW,
            False,
        ),
        (
            "last_fetched does not read",
            payload(last_fetched=UNREADABLE),
            payload(),
            False,
            NOW,
            False,
        ),
        (
            "health would move (dormant to stale)",
            payload(**AGEING),
            payload(**AGEING),
            False,
            NOW + timedelta(days=2),
            False,
        ),
    ],
)
def test_which_payloads_skip_validation(
    case: str,
    arriving: PackagePayload,
    stored_as: PackagePayload | None,
    ruled: bool,
    now: datetime,
    revisited: bool,
) -> None:
    on_file = (
        stored(
            (stored_as.parse(), last_seen(stored_as.parse(), stored_as.fingerprint)),
            ruled=frozenset({FLATBLOCKS}) if ruled else frozenset(),
        )
        if stored_as
        else stored()
    )
    assert (revisit(arriving, on_file, now) is not None) is revisited, case
    triaged = triage(Batch(payloads=[arriving]), on_file, now)
    assert (FLATBLOCKS in triaged.revisits) is revisited
    validated = [r.id for r in triaged.records] + [e.record_id for e in triaged.invalid]
    assert validated == ([] if revisited else [FLATBLOCKS])


def test_a_revisited_payload_is_never_validated() -> None:
    """Its fingerprint vouches for the stored content: even a payload that would fail
    validation now (say, a parser that changed without the salt) is not parsed."""
    good = payload()
    broken = PackagePayload(FLATBLOCKS, {**good.data, "repo_watchers": "many"}, good.fingerprint)
    comparison = compare(Batch(payloads=[broken]), good.parse(), fingerprint=good.fingerprint)
    assert comparison.invalid == []
    assert comparison.revisited == [
        Revisited(FLATBLOCKS, good.parse().last_fetched, good.fingerprint)
    ]
    assert comparison.observed == []


def test_a_payload_that_must_be_validated_and_fails_is_skipped_and_reported() -> None:
    kept = record()
    comparison = compare(Batch(payloads=[payload(repo_watchers="many")]), kept)
    assert [error.record_id for error in comparison.invalid] == [FLATBLOCKS]
    assert comparison.stored_ids == set()
    assert comparison.observed == []
    assert comparison.revisited == []


LATER = "2026-02-19T08:00:00+00:00"


@pytest.mark.parametrize(
    ("case", "arriving", "seen", "last_fetched"),
    [
        (
            "upstream's new last_fetched",
            payload(last_fetched=LATER),
            Activity(None, 52, datetime(2026, 2, 1, tzinfo=UTC)),
            datetime(2026, 2, 19, 8, tzinfo=UTC),
        ),
        (
            "no last_fetched: the stored one",
            payload(last_fetched=None),
            Activity(None, 52, datetime(2026, 2, 1, tzinfo=UTC)),
            datetime(2026, 2, 1, tzinfo=UTC),
        ),
        (
            "no commit window while one is stored: the stored moment, which the window was read at",
            payload(last_fetched=LATER, commits_over_52=[]),
            Activity(None, 3, datetime(2026, 2, 1, tzinfo=UTC)),
            datetime(2026, 2, 1, tzinfo=UTC),
        ),
    ],
)
def test_what_a_revisit_writes(
    case: str, arriving: PackagePayload, seen: Activity, last_fetched: datetime
) -> None:
    on_file = Stored(
        {FLATBLOCKS: LastSeen("hash", arriving.fingerprint, SEEN_AT, seen)}, frozenset(), DAYS
    )
    assert revisit(arriving, on_file, NOW) == Revisited(
        FLATBLOCKS, last_fetched, arriving.fingerprint
    ), case


# -- which values are kept when unknown --------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "arriving", "kept_value"),
    [
        ("a missing star count", {"repo_watchers": None}, ("repo_watchers", 84)),
        ("a missing version", {"pypi_version": None}, ("pypi_version", "1.0.0")),
        (
            "a missing repository",
            {"repo_url": None},
            ("repo_url", "https://github.com/jazzband/django-flatblocks"),
        ),
        (
            "a missing commit window keeps the stored one, with its moment",
            {"commits_over_52": [], "last_fetched": LATER},
            ("commits_over_52", tuple(BUSY_WINDOW)),
        ),
    ],
)
def test_a_moved_record_keeps_what_it_leaves_unknown(
    case: str, arriving: dict[str, Any], kept_value: tuple[str, Any]
) -> None:
    """The content moved (forks), so the stored record is read: every unknown field takes its
    last known value, which is then neither a change nor stored as a gap."""
    kept = record(commits_over_52=BUSY_WINDOW)
    moved = record(**{"repo_forks": 33, "commits_over_52": BUSY_WINDOW, **arriving})
    comparison = compare(Batch(records=[moved]), kept)
    (written,) = comparison.observed
    field, value = kept_value
    assert getattr(written.record, field) == value, case
    assert written.record.last_fetched == kept.last_fetched
    assert written.content_hash == written.record.content_hash()
    assert [change.event for change in comparison.changes] == []


def test_an_unmoved_record_without_last_fetched_keeps_the_stored_one() -> None:
    kept = record()
    comparison = compare(Batch(records=[record(last_fetched=None)]), kept)
    assert comparison.revisited == [Revisited(FLATBLOCKS, kept.last_fetched, None)]
    assert comparison.records[0].last_fetched == kept.last_fetched


def test_only_moved_content_reads_the_stored_record() -> None:
    kept = record()
    on_file = stored((kept, last_seen(kept)))
    batch = Batch(records=[record(), record(id=1, slug="new-one"), record(id=2, slug="two")])
    assert triage(batch, on_file, NOW).moved == []
    assert triage(Batch(records=[record(repo_forks=40)]), on_file, NOW).moved == [FLATBLOCKS]


@pytest.mark.parametrize(
    ("case", "arriving", "asks"),
    [
        ("a new version", {"pypi_version": "1.1.0"}, [FLATBLOCKS]),
        ("the same version", {"repo_forks": 40}, []),
        ("no version (kept from the stored one)", {"pypi_version": None, "repo_forks": 40}, []),
    ],
)
def test_only_a_moved_version_reads_the_known_versions(
    case: str, arriving: dict[str, Any], asks: list[int]
) -> None:
    kept = record()
    triaged = triage(Batch(records=[record(**arriving)]), stored((kept, last_seen(kept))), NOW)
    assert triaged.settle({FLATBLOCKS: kept}).releases_moved == asks, case


# -- what each event kind sees ------------------------------------------------------------------

NEW_COMMITS = {
    "last_updated": (NOW - timedelta(days=1)).isoformat(),
    "commits_over_52": BUSY_WINDOW,
    "last_fetched": NOW.isoformat(),
}


@pytest.mark.parametrize(
    ("case", "before", "after", "now", "events"),
    [
        ("a new version", {}, {"pypi_version": "1.1.0"}, NOW, [Event.RELEASE]),
        ("stars past a milestone", {}, {"repo_watchers": 120}, NOW, [Event.POPULARITY]),
        ("a new repository", {}, {"repo_url": "https://github.com/x/y"}, NOW, [Event.REPO]),
        ("new commits on a dormant package", AGEING, NEW_COMMITS, NOW, [Event.ACTIVITY]),
        ("time passing the threshold", AGEING, AGEING, NOW + timedelta(days=2), [Event.STALE]),
        ("nothing", {}, {}, NOW, []),
    ],
)
def test_each_event_kind(
    case: str, before: dict[str, Any], after: dict[str, Any], now: datetime, events: list[Event]
) -> None:
    comparison = compare(Batch(records=[record(**after)]), record(**before), now=now)
    assert [change.event for change in comparison.changes] == events, case
    (seen,) = comparison.observations
    assert seen.context.now == now
    assert seen.context.previous_at == SEEN_AT


def test_a_version_known_before_is_no_new_release() -> None:
    """Going back to a version seen before is worded as such, not as news."""
    comparison = compare(
        Batch(records=[record(pypi_version="0.9.0")]), record(), known=frozenset({"0.9.0", "1.0.0"})
    )
    (change,) = comparison.changes
    assert change.data["kind"] != "new"


def test_a_first_observation_is_a_silent_baseline() -> None:
    comparison = compare(Batch(records=[record()], payloads=[payload(id=7, slug="seven")]))
    assert comparison.observations == []
    assert comparison.changes == []
    assert sorted(seen.record.id for seen in comparison.observed) == [7, FLATBLOCKS]
    assert comparison.stored_ids == {7, FLATBLOCKS}


# -- which rows are written ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "arriving", "observed", "revisited"),
    [
        ("the same content", {}, False, True),
        ("the same content, a later last_fetched", {"last_fetched": LATER}, False, True),
        ("moved content", {"repo_forks": 40}, True, False),
    ],
)
def test_rows_written(case: str, arriving: dict[str, Any], observed: bool, revisited: bool) -> None:
    """New or moved content is stored whole (with a history row); the rest only moves its
    bookkeeping. A payload's fingerprint travels with its row."""
    arriving_payload = payload(**arriving)
    comparison = compare(Batch(payloads=[arriving_payload]), record(), fingerprint="older")
    assert bool(comparison.observed) is observed, case
    assert bool(comparison.revisited) is revisited, case
    fingerprints = [row.payload_hash for row in comparison.observed] + [
        row.payload_hash for row in comparison.revisited
    ]
    assert fingerprints == [arriving_payload.fingerprint]


def test_a_change_found_twice_in_a_batch_is_reported_once() -> None:
    kept = record()
    comparison = compare(Batch(records=[record(pypi_version="1.1.0")] * 2), kept)
    assert [change.event for change in comparison.changes] == [Event.RELEASE]
