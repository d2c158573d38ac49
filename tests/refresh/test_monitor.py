"""Whole poll cycles against the fake Django Packages API and a real database."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import get_args

import pytest
from sqlalchemy import select

from bot.core.events import Event
from bot.refresh.monitor import Monitor
from bot.refresh.report import CycleReport
from bot.refresh.schedule import choose_plan
from storage import grids, packages
from storage.database import Database
from storage.models import Alert, PackageHistory, TargetKind
from tests.fakes.djp_api import FakeDjangoPackages, ServerFault
from tests.plugins.database import configure, follow, mark_complete
from tests.plugins.djp_api import TEST_RETRY
from tests.plugins.monitor import POLL_INTERVAL, START, HandClock

FLATBLOCKS = 265
CACHE_MACHINE = 155
CHANNEL = 900_000_000_000_000_001
OTHER_CHANNEL = 900_000_000_000_000_002
INTERVAL = POLL_INTERVAL


async def outbox(database: Database) -> list[Alert]:
    async with database.session() as session:
        return list(await session.scalars(select(Alert).order_by(Alert.id)))


async def next_cycle(monitor: Monitor, clock: HandClock) -> CycleReport:
    clock.advance()
    return await monitor.run_cycle()


async def test_first_observation_is_a_silent_baseline(
    monitor: Monitor, database: Database, djp_api: FakeDjangoPackages
) -> None:
    await follow(database, CHANNEL, FLATBLOCKS)

    report = await monitor.run_cycle()

    assert report.plan == "targets"
    assert report.packages_fetched == 1
    assert report.changes == []
    assert await outbox(database) == []


async def test_a_version_bump_becomes_exactly_one_alert(
    monitor: Monitor, database: Database, djp_api: FakeDjangoPackages, clock: HandClock
) -> None:
    await follow(database, CHANNEL, FLATBLOCKS)
    await monitor.run_cycle()

    djp_api.update_package(FLATBLOCKS, pypi_version="1.0.1")
    report = await next_cycle(monitor, clock)
    await next_cycle(monitor, clock)

    assert [change.event for change in report.changes] == [Event.RELEASE]
    [alert] = await outbox(database)
    assert alert.channel_id == CHANNEL
    assert alert.dedup_key == f"{CHANNEL}:{FLATBLOCKS}:release:1.0.1"
    assert alert.status == "pending"
    assert "1.0.1" in alert.summary


async def test_a_package_watched_by_many_channels_is_fetched_once(
    monitor: Monitor, database: Database, djp_api: FakeDjangoPackages, clock: HandClock
) -> None:
    for channel in (CHANNEL, OTHER_CHANNEL):
        await follow(database, channel, FLATBLOCKS)
    await follow(database, CHANNEL, 48, TargetKind.GRID)
    await monitor.run_cycle()
    djp_api.update_package(FLATBLOCKS, pypi_version="2.0.0")
    djp_api.reset_log()

    await next_cycle(monitor, clock)

    package_requests = [r for r in djp_api.requests if r.path.endswith(f"/packages/{FLATBLOCKS}/")]
    assert len(package_requests) == 1
    alerts = await outbox(database)
    assert sorted(alert.channel_id for alert in alerts) == [CHANNEL, OTHER_CHANNEL]


async def test_many_due_packages_page_the_catalog_instead(
    monitor: Monitor, database: Database, djp_api: FakeDjangoPackages, clock: HandClock
) -> None:
    await monitor.sync_catalog()  # learns the catalog's size: one page here
    ids = sorted(djp_api.packages)
    for package_id in ids:
        await follow(database, CHANNEL, package_id)

    djp_api.update_package(CACHE_MACHINE, repo_watchers=1000)
    djp_api.reset_log()
    report = await next_cycle(monitor, clock)

    assert report.plan == "catalog"
    assert report.requests == 1 == djp_api.request_count
    assert report.packages_fetched == len(ids)
    assert [c.key for c in report.changes] == [f"{CACHE_MACHINE}:popularity:stars:1000:up"]


@pytest.mark.parametrize(
    ("due", "catalog", "expected"),
    [(0, 6000, "idle"), (1, 6000, "targets"), (12, 6000, "targets"), (13, 6000, "catalog")],
)
def test_plan_takes_whichever_needs_fewer_requests(due: int, catalog: int, expected: str) -> None:
    assert choose_plan(due, catalog) == expected


@pytest.mark.parametrize("fault", get_args(ServerFault))
async def test_a_broken_cycle_raises_nothing_and_the_next_recovers(
    monitor: Monitor,
    database: Database,
    djp_api: FakeDjangoPackages,
    clock: HandClock,
    fault: ServerFault,
) -> None:
    await follow(database, CHANNEL, FLATBLOCKS)
    await follow(database, CHANNEL, CACHE_MACHINE)
    await monitor.run_cycle()
    djp_api.update_package(FLATBLOCKS, pypi_version="1.1.0")
    # Every attempt of this cycle fails; the next cycle finds the API healthy again.
    djp_api.inject(fault, times=TEST_RETRY.attempts, path=f"/packages/{FLATBLOCKS}/", retry_after=0)

    broken = await next_cycle(monitor, clock)

    assert f"package {FLATBLOCKS}" in broken.failures
    assert broken.packages_fetched == 1  # the other package still went through
    assert await outbox(database) == []

    clock.advance(INTERVAL * 2)  # past the backoff of one failure
    recovered = await monitor.run_cycle()

    assert recovered.failures == {}
    [alert] = await outbox(database)
    assert alert.event == "release"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("repo_watchers", "lots"),
        ("commits_over_52", [1, 2, 3]),
        ("last_updated", "not a date"),
        ("grids", "48"),
    ],
)
async def test_an_invalid_record_is_skipped_without_alerts(
    monitor: Monitor,
    database: Database,
    djp_api: FakeDjangoPackages,
    clock: HandClock,
    field: str,
    value: object,
) -> None:
    await follow(database, CHANNEL, FLATBLOCKS)
    await monitor.run_cycle()
    djp_api.corrupt_package(FLATBLOCKS, field, value)

    report = await next_cycle(monitor, clock)

    assert field in report.failures[f"package {FLATBLOCKS}"]
    assert report.changes == []
    async with database.session() as session:
        stored = (await packages.load_packages(session, [FLATBLOCKS]))[FLATBLOCKS]
    assert stored.record.repo_watchers == 84  # the good copy is kept
    assert stored.failure_count == 1

    djp_api.restore_package(FLATBLOCKS)
    clock.advance(INTERVAL * 2)
    assert (await monitor.run_cycle()).failures == {}
    assert await outbox(database) == []


@pytest.mark.parametrize("field", ["pypi_version", "repo_watchers", "commits_over_52", "grids"])
async def test_missing_fields_are_unknown_not_changes(
    monitor: Monitor, database: Database, djp_api: FakeDjangoPackages, clock: HandClock, field: str
) -> None:
    await follow(database, CHANNEL, FLATBLOCKS)
    await monitor.run_cycle()
    djp_api.drop_field(FLATBLOCKS, field)

    report = await next_cycle(monitor, clock)

    assert report.failures == {}
    assert report.changes == []
    assert await outbox(database) == []


async def test_a_failing_package_backs_off_without_stalling_the_rest(
    monitor: Monitor, database: Database, djp_api: FakeDjangoPackages, clock: HandClock
) -> None:
    await follow(database, CHANNEL, FLATBLOCKS)
    await follow(database, CHANNEL, CACHE_MACHINE)
    await monitor.run_cycle()
    djp_api.inject("500", times=1000, path=f"/packages/{FLATBLOCKS}/")

    fetched_per_cycle = []
    for _ in range(4):
        djp_api.reset_log()
        await next_cycle(monitor, clock)
        fetched_per_cycle.append(
            sum(r.path.endswith(f"/packages/{FLATBLOCKS}/") for r in djp_api.requests) > 0
        )

    # Fails at cycle 1 (retry after 1 interval) and cycle 2 (after 2): skipped at cycle 3.
    assert fetched_per_cycle == [True, True, False, True]
    async with database.session() as session:
        stored = await packages.load_packages(session, [FLATBLOCKS, CACHE_MACHINE])
    assert stored[FLATBLOCKS].failure_count == 3
    assert stored[CACHE_MACHINE].fetched_at == clock.now


async def test_a_failing_grid_backs_off_as_a_package_does(
    monitor: Monitor, database: Database, djp_api: FakeDjangoPackages, clock: HandClock
) -> None:
    await follow(database, CHANNEL, 48, TargetKind.GRID)
    await monitor.run_cycle()
    djp_api.inject("500", times=1000, path="/grids/48/")

    fetched_per_cycle = []
    for _ in range(4):
        djp_api.reset_log()
        await next_cycle(monitor, clock)
        fetched_per_cycle.append(any(r.path.endswith("/grids/48/") for r in djp_api.requests))

    # As a package: one interval after the first failure, two after the second.
    assert fetched_per_cycle == [True, True, False, True]
    async with database.session() as session:
        grid = await grids.find_grid(session, 48)
    assert grid is not None
    assert grid.failure_count == 3


async def test_a_package_gone_twice_is_announced_removed_once(
    monitor: Monitor, database: Database, djp_api: FakeDjangoPackages, clock: HandClock
) -> None:
    await follow(database, CHANNEL, FLATBLOCKS)
    await monitor.run_cycle()
    djp_api.remove_package(FLATBLOCKS)

    first = await next_cycle(monitor, clock)
    assert first.changes == []
    second = await next_cycle(monitor, clock)
    third = await next_cycle(monitor, clock)

    assert [c.event for c in second.changes] == [Event.REMOVED]
    assert third.changes == []
    [alert] = await outbox(database)
    assert alert.event == "removed"


async def test_grid_joins_and_leaves_reach_the_grid_channel(
    monitor: Monitor, database: Database, djp_api: FakeDjangoPackages, clock: HandClock
) -> None:
    await follow(database, CHANNEL, 48, TargetKind.GRID)
    baseline = await monitor.run_cycle()
    assert baseline.changes == []

    djp_api.set_grid_members(48, [FLATBLOCKS, CACHE_MACHINE])
    joined = await next_cycle(monitor, clock)
    djp_api.set_grid_members(48, [CACHE_MACHINE])
    left = await next_cycle(monitor, clock)

    assert [(c.event, c.package_id) for c in joined.changes] == [(Event.GRID, CACHE_MACHINE)]
    assert [(c.event, c.package_id) for c in left.changes] == [(Event.GRID, FLATBLOCKS)]
    summaries = [alert.summary for alert in await outbox(database)]
    assert "django-cache-machine" in summaries[0]
    assert "django-flatblocks" in summaries[1]


async def test_becoming_stale_is_announced_once_over_many_cycles(
    monitor: Monitor, database: Database, djp_api: FakeDjangoPackages, clock: HandClock
) -> None:
    last_commit = START - timedelta(days=364)
    djp_api.update_package(
        CACHE_MACHINE,
        last_updated=last_commit.isoformat(),
        last_fetched=START.isoformat(),
        commits_over_52=[0] * 52,
    )
    await follow(database, CHANNEL, CACHE_MACHINE)
    await monitor.run_cycle()

    events = []
    for _ in range(8):  # two days: the package crosses 365 days without a commit
        clock.advance()
        djp_api.update_package(CACHE_MACHINE, last_fetched=clock.now.isoformat())
        events += [change.event for change in (await monitor.run_cycle()).changes]

    assert events == [Event.STALE]
    [alert] = await outbox(database)
    assert alert.dedup_key.endswith(f"{CACHE_MACHINE}:stale:entered:{last_commit:%Y-%m-%d}")


async def test_every_change_is_kept_in_history_even_unwatched(
    monitor: Monitor, database: Database, djp_api: FakeDjangoPackages
) -> None:
    await monitor.refresh_package("django-flatblocks")
    djp_api.update_package(FLATBLOCKS, repo_watchers=90)
    await monitor.refresh_package("django-flatblocks")
    djp_api.update_package(FLATBLOCKS, last_fetched="2026-02-21T01:00:00-05:00")
    await monitor.refresh_package("django-flatblocks")

    async with database.session() as session:
        stars = await session.scalars(
            select(PackageHistory.repo_watchers)
            .where(PackageHistory.package_id == FLATBLOCKS)
            .order_by(PackageHistory.id)
        )
    assert list(stars) == [84, 90]


# -- staleness per channel ------------------------------------------------------------------

THIRD_CHANNEL = 900_000_000_000_000_003


def last_commit_at(djp_api: FakeDjangoPackages, when: datetime) -> None:
    """Cache Machine's last commit at `when`, with a window that agrees with it."""
    djp_api.update_package(
        CACHE_MACHINE,
        last_updated=when.isoformat(),
        last_fetched=START.isoformat(),
        commits_over_52=[0] * 21 + [3] + [0] * 30,
    )


async def run_days(
    monitor: Monitor, djp_api: FakeDjangoPackages, clock: HandClock, days: int
) -> None:
    """A poll every interval for `days`, upstream refreshing the record each time."""
    for _ in range(days * 4):
        clock.advance()
        djp_api.update_package(CACHE_MACHINE, last_fetched=clock.now.isoformat())
        await monitor.run_cycle()


async def test_a_channel_with_a_shorter_threshold_alone_hears_of_staleness(
    monitor: Monitor, database: Database, djp_api: FakeDjangoPackages, clock: HandClock
) -> None:
    last_commit = START - timedelta(days=179)
    last_commit_at(djp_api, last_commit)
    for channel in (CHANNEL, OTHER_CHANNEL):
        await follow(database, channel, CACHE_MACHINE)
    await configure(database, CHANNEL, now=START, stale_after_days=180)
    await monitor.run_cycle()

    await run_days(monitor, djp_api, clock, 3)  # crosses 180 days, far from 365

    [alert] = await outbox(database)
    assert alert.channel_id == CHANNEL
    assert alert.event == "stale"
    assert alert.dedup_key == f"{CHANNEL}:{CACHE_MACHINE}:stale:entered:{last_commit:%Y-%m-%d}"
    assert "180-day staleness threshold" in alert.summary


async def test_a_feature_complete_mark_silences_staleness_in_that_channel_only(
    monitor: Monitor, database: Database, djp_api: FakeDjangoPackages, clock: HandClock
) -> None:
    last_commit_at(djp_api, START - timedelta(days=179))
    for channel in (CHANNEL, OTHER_CHANNEL, THIRD_CHANNEL):
        await follow(database, channel, CACHE_MACHINE)
        await configure(database, channel, now=START, stale_after_days=180)
    await mark_complete(database, OTHER_CHANNEL, CACHE_MACHINE, now=START)
    await monitor.run_cycle()

    await run_days(monitor, djp_api, clock, 3)

    alerts = await outbox(database)
    assert sorted((alert.channel_id, alert.event) for alert in alerts) == [
        (CHANNEL, "stale"),
        (OTHER_CHANNEL, "activity"),  # past its threshold but marked: dormant, not stale
        (THIRD_CHANNEL, "stale"),
    ]


async def test_reviving_is_one_no_longer_stale_alert_for_the_channel_that_saw_it_stale(
    monitor: Monitor, database: Database, djp_api: FakeDjangoPackages, clock: HandClock
) -> None:
    last_commit_at(djp_api, START - timedelta(days=200))
    await follow(database, CHANNEL, CACHE_MACHINE)
    await follow(database, OTHER_CHANNEL, CACHE_MACHINE)
    await configure(database, CHANNEL, now=START, stale_after_days=180)
    await monitor.run_cycle()  # stale for CHANNEL from the start: a baseline, no alert

    djp_api.update_package(
        CACHE_MACHINE,
        last_updated=(START + INTERVAL).isoformat(),
        commits_over_52=[0] * 51 + [4],
    )
    await run_days(monitor, djp_api, clock, 2)

    stale = [alert for alert in await outbox(database) if alert.event == "stale"]
    [left] = stale
    assert left.channel_id == CHANNEL
    assert ":stale:left:" in left.dedup_key
    assert "no longer stale" in left.summary


async def test_a_revival_reaches_each_channel_once_worded_by_its_own_threshold(
    monitor: Monitor, database: Database, djp_api: FakeDjangoPackages, clock: HandClock
) -> None:
    last_commit_at(djp_api, START - timedelta(weeks=19))  # stale past 120 days, slowing at 365
    await follow(database, CHANNEL, CACHE_MACHINE)
    await follow(database, OTHER_CHANNEL, CACHE_MACHINE)
    await configure(database, CHANNEL, now=START, stale_after_days=120)
    await monitor.run_cycle()

    djp_api.update_package(
        CACHE_MACHINE, last_updated=(START + INTERVAL).isoformat(), commits_over_52=[0] * 51 + [4]
    )
    revival = await next_cycle(monitor, clock)

    alerts = await outbox(database)
    assert sorted((alert.channel_id, alert.event) for alert in alerts) == [
        (CHANNEL, "stale"),
        (OTHER_CHANNEL, "activity"),
    ]
    summaries = {alert.channel_id: alert.summary for alert in alerts}
    assert summaries[CHANNEL].startswith("django-cache-machine is no longer stale, now active")
    assert summaries[OTHER_CHANNEL] == "django-cache-machine revived after 19 weeks without commits"
    assert [change.event for change in revival.changes] == [Event.ACTIVITY]  # the global rule
