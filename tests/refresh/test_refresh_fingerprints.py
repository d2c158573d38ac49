"""Paging the catalog: a package whose payload did not move is not validated again, and still
nothing it should announce goes unannounced.

A crawl stores each payload's fingerprint; the next crawl skips validation for a payload with
the same fingerprint and judges its health from stored columns. These tests walk whole poll
cycles (the fake API, a real database) through what that path must still see: time passing,
a channel's own staleness rule, upstream's `last_fetched` moving, and content that another path
stored in between.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.core.events import Event
from bot.refresh.monitor import Monitor
from bot.refresh.report import CycleReport
from storage import packages
from storage.database import Database
from storage.models import Alert, PackageHistory
from tests.fakes.djp_api import FakeDjangoPackages
from tests.plugins.database import configure, follow
from tests.plugins.monitor import START, HandClock

FLATBLOCKS = 265
CHANNEL = 900_000_000_000_000_001
STRICT_CHANNEL = 900_000_000_000_000_002
DAY = timedelta(days=1)
QUIET = [0] * 52


async def crawled(
    monitor: Monitor, database: Database, api: FakeDjangoPackages, *channels: int
) -> None:
    """Every seed package watched by `channels` (or the one channel) and the catalog synced
    once: from then on a cycle pages the catalog, as it takes fewer requests."""
    for channel in channels or (CHANNEL,):
        for package_id in api.packages:
            await follow(database, channel, package_id)
    await monitor.sync_catalog()


async def crawl(monitor: Monitor, clock: HandClock, after: timedelta = DAY) -> CycleReport:
    clock.now += after
    report = await monitor.run_cycle()
    assert report.plan == "catalog"
    return report


async def outbox(database: Database) -> list[Alert]:
    async with database.session() as session:
        return list(await session.scalars(select(Alert).order_by(Alert.id)))


async def history_rows(database: Database, package_id: int) -> int:
    async with database.session() as session:
        query = select(func.count()).where(PackageHistory.package_id == package_id)
        return await session.scalar(query) or 0


def quiet_since(days: int) -> dict[str, object]:
    """A package whose last commit was `days` before the walk starts, read at its start."""
    return {
        "last_updated": (START - timedelta(days=days)).isoformat(),
        "last_fetched": START.isoformat(),
        "commits_over_52": QUIET,
    }


async def test_time_alone_turns_an_unchanged_package_stale_once(
    monitor: Monitor, database: Database, djp_api: FakeDjangoPackages, clock: HandClock
) -> None:
    djp_api.update_package(FLATBLOCKS, **quiet_since(363))
    await crawled(monitor, database, djp_api)

    reports = [await crawl(monitor, clock) for _ in range(5)]

    assert [[c.event for c in report.changes] for report in reports] == [
        [],
        [],
        [Event.STALE],
        [],
        [],
    ]
    [alert] = await outbox(database)
    assert alert.summary.startswith("django-flatblocks went stale")


async def test_a_channel_with_its_own_threshold_hears_of_an_unchanged_package(
    monitor: Monitor, database: Database, djp_api: FakeDjangoPackages, clock: HandClock
) -> None:
    djp_api.update_package(FLATBLOCKS, **quiet_since(28))
    await configure(database, STRICT_CHANNEL, now=START, stale_after_days=30)
    await crawled(monitor, database, djp_api, CHANNEL, STRICT_CHANNEL)

    for _ in range(4):
        await crawl(monitor, clock)

    alerts = [alert for alert in await outbox(database) if alert.package_id == FLATBLOCKS]
    assert [(alert.channel_id, alert.event) for alert in alerts] == [(STRICT_CHANNEL, "stale")]


async def test_upstream_refreshing_a_package_moves_only_its_last_fetched(
    monitor: Monitor, database: Database, djp_api: FakeDjangoPackages, clock: HandClock
) -> None:
    await crawled(monitor, database, djp_api)
    refreshed = START + timedelta(hours=20)

    djp_api.update_package(FLATBLOCKS, last_fetched=refreshed.isoformat())
    report = await crawl(monitor, clock)

    async with database.session() as session:
        stored = (await packages.load_packages(session, [FLATBLOCKS]))[FLATBLOCKS]
    assert stored.record.last_fetched == refreshed
    assert stored.fetched_at == clock.now
    assert report.changes == []
    assert await history_rows(database, FLATBLOCKS) == 1
    assert await outbox(database) == []


async def test_content_stored_by_a_lone_fetch_is_compared_in_full_at_the_next_crawl(
    monitor: Monitor, database: Database, djp_api: FakeDjangoPackages, clock: HandClock
) -> None:
    """The crawl's fingerprint vouches only for what the crawl stored: a release fetched on
    its own in between, then withdrawn upstream, is still seen going back."""
    djp_api.update_package(FLATBLOCKS, pypi_version="1.0.0")
    await crawled(monitor, database, djp_api)

    djp_api.update_package(FLATBLOCKS, pypi_version="1.1.0")
    clock.now += timedelta(hours=1)
    await monitor.refresh_package(FLATBLOCKS)  # e.g. someone asked `/package`
    djp_api.update_package(FLATBLOCKS, pypi_version="1.0.0")  # the payload the crawl saw
    report = await crawl(monitor, clock)

    assert [change.summary for change in report.changes] == [
        "django-flatblocks: latest release is back to 1.0.0 (was 1.1.0)"
    ]
    async with database.session() as session:
        stored = (await packages.load_packages(session, [FLATBLOCKS]))[FLATBLOCKS]
    assert stored.record.pypi_version == "1.0.0"


async def test_a_bad_record_is_reported_at_every_crawl_and_the_stored_copy_kept(
    monitor: Monitor, database: Database, djp_api: FakeDjangoPackages, clock: HandClock
) -> None:
    """A payload that does not validate is never taken for the stored content, however often
    it comes: not after a crawl stored another fingerprint, nor after a lone fetch left none."""
    await crawled(monitor, database, djp_api)
    await monitor.refresh_package(FLATBLOCKS)  # stores no fingerprint
    djp_api.corrupt_package(FLATBLOCKS, "repo_watchers", 2**70)

    reports = [await crawl(monitor, clock) for _ in range(2)]

    assert [f"package {FLATBLOCKS}" in report.failures for report in reports] == [True, True]
    async with database.session() as session:
        stored = (await packages.load_packages(session, [FLATBLOCKS]))[FLATBLOCKS]
    assert stored.record.repo_watchers == 84
