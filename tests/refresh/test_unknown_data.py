"""Unknown data is never a change, in either direction, for every event kind.

Each row of `GAPS` names an event kind, the fields that go unknown for a cycle, the values they
have before (the last known ones), and different values they may come back with. Three things
must hold whatever the kind, through whole poll cycles on a real database:

- a field going missing (or null) raises nothing;
- the field coming back with its last known value raises nothing;
- the field coming back with another value is compared with the last known one, as if the gap
  never happened: exactly the alert a direct change would have raised.

Each holds when the package is fetched on its own and when the catalog is paged, where a
payload seen before unchanged is not validated again (its fingerprint matches): the gap lasts
two cycles, so the second one reads the gapped payload through that path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

import pytest
from sqlalchemy import select

from bot.core.events import Event
from bot.refresh.monitor import Monitor
from bot.refresh.report import CycleReport
from storage import packages
from storage.database import Database
from storage.models import Alert, TargetKind
from tests.fakes.djp_api import FakeDjangoPackages
from tests.plugins.database import follow
from tests.plugins.monitor import START, HandClock

FLATBLOCKS = 265
CACHE_MACHINE = 155
FLATPAGES_GRID = 48
CHANNEL = 900_000_000_000_000_001
#: Longer than any retry delay a single failure causes, short enough to keep health steady.
STEP = timedelta(days=1)
QUIET = [0] * 52


def days_ago(days: int) -> str:
    return (START - timedelta(days=days)).isoformat()


@dataclass(frozen=True)
class Gap:
    """One event kind's gap: `fields` go unknown while the package has `known` values."""

    event: Event
    fields: Sequence[str]
    known: dict[str, Any]
    different: dict[str, Any]
    #: The one alert `different` raises against `known`: its dedup key and summary.
    key: str
    summary: str


GAPS = {
    "release": Gap(
        Event.RELEASE,
        ["pypi_version"],
        {"pypi_version": "0.12.4"},
        {"pypi_version": "0.13.0"},
        f"{FLATBLOCKS}:release:0.13.0",
        "django-flatblocks 0.13.0 released (minor release, was 0.12.4)",
    ),
    "release-reported-record": Gap(  # the record of the report: three fields gone at once
        Event.RELEASE,
        ["pypi_version", "repo_watchers", "commits_over_52"],
        {"pypi_version": "0.12.4"},
        {"pypi_version": "0.12.5"},
        f"{FLATBLOCKS}:release:0.12.5",
        "django-flatblocks 0.12.5 released (patch release, was 0.12.4)",
    ),
    "popularity": Gap(
        Event.POPULARITY,
        ["repo_watchers"],
        {"repo_watchers": 95},
        {"repo_watchers": 105},
        f"{FLATBLOCKS}:popularity:stars:100:up",
        "django-flatblocks reached 100 stars (now 105)",
    ),
    "activity": Gap(
        Event.ACTIVITY,
        ["last_updated", "commits_over_52"],
        {"last_updated": days_ago(10), "commits_over_52": QUIET},
        {"last_updated": days_ago(150)},
        f"{FLATBLOCKS}:activity:slowing:{START - timedelta(days=150):%Y-%m-%d}",
        "django-flatblocks is slowing down: no commits for 21 weeks",
    ),
    "stale": Gap(  # without its date, a quiet window alone would read as merely dormant
        Event.STALE,
        ["last_updated"],
        {"last_updated": days_ago(1500), "commits_over_52": QUIET},
        {"last_updated": days_ago(5)},
        f"{FLATBLOCKS}:stale:left:{START - timedelta(days=5):%Y-%m-%d}",
        "django-flatblocks is no longer stale, now active: last commit "
        f"{START - timedelta(days=5):%Y-%m-%d} (1 week ago)",
    ),
    "repo": Gap(
        Event.REPO,
        ["documentation_url", "repo_url"],
        {"documentation_url": "https://a.example/", "repo_url": "https://github.com/a/b"},
        {"documentation_url": "https://b.example/"},
        f"{FLATBLOCKS}:repo:documentation_url:https://b.example/",
        "django-flatblocks: documentation changed to https://b.example/ (was https://a.example/)",
    ),
}

How = Literal["missing", "null"]
Plan = Literal["targets", "catalog"]
#: Cycles the fields stay unknown: the second sees an unchanged (gapped) payload.
GAP_CYCLES = 2


# A test taking `gap`, `how` and `plan` runs for every gap, its fields missing or null, with
# the package fetched on its own and with the catalog paged.


@pytest.fixture(params=list(GAPS.values()), ids=list(GAPS))
def gap(request: pytest.FixtureRequest) -> Gap:
    chosen: Gap = request.param
    return chosen


@pytest.fixture(params=["missing", "null"])
def how(request: pytest.FixtureRequest) -> How:
    chosen: How = request.param
    return chosen


@pytest.fixture(params=["targets", "catalog"])
def plan(request: pytest.FixtureRequest) -> Plan:
    chosen: Plan = request.param
    return chosen


async def cycle(monitor: Monitor, clock: HandClock) -> CycleReport:
    clock.now += STEP
    return await monitor.run_cycle()


async def outbox(database: Database) -> list[Alert]:
    async with database.session() as session:
        return list(await session.scalars(select(Alert).order_by(Alert.id)))


def go_unknown(api: FakeDjangoPackages, fields: Sequence[str], how: How) -> None:
    for name in fields:
        if how == "missing":
            api.drop_field(FLATBLOCKS, name)
        else:
            api.corrupt_package(FLATBLOCKS, name, [] if name == "commits_over_52" else None)


async def watch_everything(database: Database, target: int, kind: TargetKind) -> None:
    """Subscribe the channel to every event of a package or grid (`repo` included)."""
    await follow(database, CHANNEL, target, kind, events=list(Event))


async def baseline(
    monitor: Monitor,
    database: Database,
    api: FakeDjangoPackages,
    gap: Gap,
    plan: Plan = "targets",
) -> None:
    """The package with its known values, watched; with `plan="catalog"` every seed package
    is watched and the catalog synced once (which tells its size), so that paging the catalog
    takes fewer requests than fetching each."""
    api.update_package(FLATBLOCKS, **gap.known)
    watched = sorted(api.packages) if plan == "catalog" else [FLATBLOCKS]
    for package_id in watched:
        await watch_everything(database, package_id, TargetKind.PACKAGE)
    if plan == "catalog":
        await monitor.sync_catalog()
    else:
        await monitor.run_cycle()


async def through_a_gap(
    monitor: Monitor,
    database: Database,
    api: FakeDjangoPackages,
    clock: HandClock,
    gap: Gap,
    how: How,
    plan: Plan,
    *,
    back_as: dict[str, Any] | None = None,
) -> tuple[list[CycleReport], CycleReport]:
    """The baseline, `GAP_CYCLES` cycles with the gap, then a cycle with the fields back (as
    `back_as` says, else as they were); the reports of the gap's cycles and of the last one."""
    await baseline(monitor, database, api, gap, plan)
    go_unknown(api, gap.fields, how)
    during = [await cycle(monitor, clock) for _ in range(GAP_CYCLES)]
    api.restore_package(FLATBLOCKS)
    api.update_package(FLATBLOCKS, **(back_as or {}))
    after = await cycle(monitor, clock)
    assert {report.plan for report in [*during, after]} == {plan}
    return during, after


async def test_a_gap_and_a_return_to_the_last_known_value_are_silent(
    monitor: Monitor,
    database: Database,
    djp_api: FakeDjangoPackages,
    clock: HandClock,
    gap: Gap,
    how: How,
    plan: Plan,
) -> None:
    during, after = await through_a_gap(monitor, database, djp_api, clock, gap, how, plan)

    fetched = 1 if plan == "targets" else len(djp_api.packages)
    assert [report.packages_fetched for report in [*during, after]] == [fetched] * 3
    assert [report.changes for report in [*during, after]] == [[]] * 3
    assert await outbox(database) == []


async def test_a_different_value_after_a_gap_is_compared_with_the_last_known_one(
    monitor: Monitor,
    database: Database,
    djp_api: FakeDjangoPackages,
    clock: HandClock,
    gap: Gap,
    how: How,
    plan: Plan,
) -> None:
    _, report = await through_a_gap(
        monitor, database, djp_api, clock, gap, how, plan, back_as=gap.different
    )

    assert [(c.event, c.key, c.summary) for c in report.changes] == [
        (gap.event, gap.key, gap.summary)
    ]
    assert [alert.dedup_key for alert in await outbox(database)] == [f"{CHANNEL}:{gap.key}"]


async def test_the_stored_record_keeps_the_last_known_values_through_a_gap(
    monitor: Monitor, database: Database, djp_api: FakeDjangoPackages, clock: HandClock
) -> None:
    gap = GAPS["release-reported-record"]
    await baseline(monitor, database, djp_api, gap)
    async with database.session() as session:
        before = (await packages.load_packages(session, [FLATBLOCKS]))[FLATBLOCKS].record

    go_unknown(djp_api, gap.fields, "missing")
    await cycle(monitor, clock)

    async with database.session() as session:
        stored = (await packages.load_packages(session, [FLATBLOCKS]))[FLATBLOCKS].record
    assert stored.pypi_version == "0.12.4"
    assert stored.repo_watchers == before.repo_watchers
    assert (stored.commits_over_52, stored.last_fetched) == (
        before.commits_over_52,
        before.last_fetched,
    )


async def test_a_grid_served_without_its_members_changes_nothing(
    monitor: Monitor, database: Database, djp_api: FakeDjangoPackages, clock: HandClock
) -> None:
    await watch_everything(database, FLATPAGES_GRID, TargetKind.GRID)
    await monitor.run_cycle()

    djp_api.hide_grid_members(FLATPAGES_GRID)
    during = await cycle(monitor, clock)
    djp_api.hide_grid_members(FLATPAGES_GRID, hidden=False)
    back = await cycle(monitor, clock)
    djp_api.hide_grid_members(FLATPAGES_GRID)
    await cycle(monitor, clock)
    djp_api.set_grid_members(FLATPAGES_GRID, [FLATBLOCKS, CACHE_MACHINE])
    djp_api.hide_grid_members(FLATPAGES_GRID, hidden=False)
    joined = await cycle(monitor, clock)

    assert [c for c in during.changes if c.event is Event.GRID] == []
    assert f"grid {FLATPAGES_GRID}" in during.failures
    assert back.changes == []
    assert [(c.event, c.package_id) for c in joined.changes] == [(Event.GRID, CACHE_MACHINE)]
    assert [alert.event for alert in await outbox(database)] == ["grid"]


@pytest.mark.parametrize(
    ("comes_back", "removed"), [(False, True), (True, False)], ids=["404-again", "found-again"]
)
async def test_a_failed_fetch_between_two_answers_is_no_answer(
    monitor: Monitor,
    database: Database,
    djp_api: FakeDjangoPackages,
    clock: HandClock,
    comes_back: bool,
    removed: bool,
) -> None:
    """Removal takes two 404s in a row; a failure in between is neither a 404 nor a sighting."""
    await watch_everything(database, FLATBLOCKS, TargetKind.PACKAGE)
    await monitor.run_cycle()
    payload = djp_api.packages[FLATBLOCKS]

    djp_api.remove_package(FLATBLOCKS)
    await cycle(monitor, clock)
    djp_api.inject("500", times=3, path=f"/packages/{FLATBLOCKS}/")
    failed = await cycle(monitor, clock)
    if comes_back:
        djp_api.add_package(payload)
    last = await cycle(monitor, clock)

    assert f"package {FLATBLOCKS}" in failed.failures
    events = [c.event for c in last.changes]
    assert events == ([Event.REMOVED] if removed else [])
    assert [alert.event for alert in await outbox(database)] == events
