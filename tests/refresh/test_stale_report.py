"""The weekly stale report: one outbox alert per opted-in channel, at its weekday and hour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.djp.client import DjangoPackagesClient
from bot.refresh.monitor import Monitor, MonitorSettings
from bot.refresh.stale_report import enqueue_stale_reports
from storage.database import Database
from storage.models import Alert, TargetKind
from tests.fakes.djp_api import FakeDjangoPackages
from tests.plugins.database import configure, follow, mark_complete

CHANNEL = 900_000_000_000_000_001
OTHER_CHANNEL = 900_000_000_000_000_002
FLATBLOCKS, REST_REGISTRATION = 265, 4100
FILE_MANAGERS = 87
START = datetime(2026, 2, 20, 12, tzinfo=UTC)  # a Friday
MONDAY_9 = datetime(2026, 2, 23, 9, tzinfo=UTC)  # the default report slot


async def reports(database: Database) -> list[Alert]:
    async with database.session() as session:
        return list(await session.scalars(select(Alert).order_by(Alert.id)))


async def report_at(database: Database, now: datetime) -> int:
    return await enqueue_stale_reports(database, now=now, default_stale_after_days=365)


@pytest.fixture
async def followed(
    database: Database, djp_api: FakeDjangoPackages, djp_client: DjangoPackagesClient
) -> Database:
    """CHANNEL follows Flatblocks (stale), Rest Registration (active) and the File Managers
    grid (two stale members), wants the report, and everything is stored."""
    await follow(database, CHANNEL, FLATBLOCKS)
    await follow(database, CHANNEL, REST_REGISTRATION)
    await follow(database, CHANNEL, FILE_MANAGERS, TargetKind.GRID)
    await configure(database, CHANNEL, now=START, stale_report=True)
    settings = MonitorSettings(poll_interval=timedelta(hours=6), stale_after_days=365)
    await Monitor(djp_client, database, settings, clock=lambda: START).run_cycle()
    return database


async def test_the_report_lists_the_stale_packages_followed_with_reasons(
    followed: Database,
) -> None:
    assert await report_at(followed, MONDAY_9) == 1

    [alert] = await reports(followed)
    assert alert.channel_id == CHANNEL
    assert alert.event == "stale-report"
    assert alert.dedup_key == f"{CHANNEL}:stale-report:2026-W09"
    assert alert.summary == "Weekly stale report: 3 stale packages among the 4 followed here"
    payload = alert.payload
    assert (payload["week"], payload["checked"]) == ("2026-W09", 4)
    assert payload["stale_after_days"] == 365
    assert [p["slug"] for p in payload["packages"]] == [
        "django-filetags",
        "django-flatblocks",
        "djangocms-filer-display-pages-where-files-are-used",
    ]  # longest quiet first
    flatblocks = payload["packages"][1]
    assert flatblocks["title"] == "django-flatblocks"
    assert flatblocks["state"] == "stale"
    assert flatblocks["last_commit"].startswith("2022-02-15")
    assert any(
        r.startswith("no commits in the 52 weeks before Django Packages last checked")
        for r in flatblocks["reasons"]
    )


async def test_one_report_a_week_however_often_the_job_runs(followed: Database) -> None:
    before = MONDAY_9 - timedelta(minutes=1)
    assert await report_at(followed, before) == 0

    written = [
        await report_at(followed, now)
        for now in (MONDAY_9, MONDAY_9 + timedelta(hours=6), MONDAY_9 + timedelta(hours=23))
    ]
    next_week = await report_at(followed, MONDAY_9 + timedelta(weeks=1, minutes=5))

    assert (written, next_week) == ([1, 0, 0], 1)
    assert [a.dedup_key for a in await reports(followed)] == [
        f"{CHANNEL}:stale-report:2026-W09",
        f"{CHANNEL}:stale-report:2026-W10",
    ]


async def test_the_report_comes_at_the_channel_weekday_and_hour(followed: Database) -> None:
    # Wednesday 17:00
    await configure(followed, CHANNEL, now=START, digest_weekday=2, digest_hour=17)
    wednesday_17 = MONDAY_9 + timedelta(days=2, hours=8)

    assert await report_at(followed, MONDAY_9) == 0
    assert await report_at(followed, wednesday_17 - timedelta(seconds=1)) == 0
    assert await report_at(followed, wednesday_17) == 1


async def test_a_report_missed_by_more_than_a_day_waits_for_next_week(
    followed: Database,
) -> None:
    assert await report_at(followed, MONDAY_9 + timedelta(days=1, minutes=1)) == 0


async def test_the_report_uses_the_channel_threshold_and_marks(followed: Database) -> None:
    # only Filetags, Flatblocks
    await configure(followed, CHANNEL, now=START, stale_after_days=1000)
    await mark_complete(followed, CHANNEL, FLATBLOCKS, now=START)

    await report_at(followed, MONDAY_9)

    [alert] = await reports(followed)
    assert alert.payload["stale_after_days"] == 1000
    assert [p["slug"] for p in alert.payload["packages"]] == ["django-filetags"]


async def test_no_report_when_nothing_followed_is_stale_or_none_was_asked(
    followed: Database,
) -> None:
    await follow(followed, OTHER_CHANNEL, REST_REGISTRATION)  # active
    await configure(followed, OTHER_CHANNEL, now=START, stale_report=True)
    await configure(followed, CHANNEL, now=START, stale_report=False)

    assert await report_at(followed, MONDAY_9) == 0
    assert await reports(followed) == []
