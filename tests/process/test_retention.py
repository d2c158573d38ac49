"""The retention job: settled alerts and cycle figures older than RETENTION_DAYS, and package
history older than HISTORY_RETENTION_DAYS that a newer row makes redundant, are deleted;
pending alerts, the newest cycle and every version a package has had are kept, and release
alerts that were sent are kept as long as package history."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bot.app.runtime import Runtime
from bot.core.records import parse_package
from bot.process.retention import retention_pass
from storage import cycles
from storage.models import Alert, AlertStatus, Cycle, PackageHistory
from tests.plugins.data import seed_package
from tests.plugins.packages import store_records

FLATBLOCKS = 265
DAY = timedelta(days=1)


def alert(number: int, status: AlertStatus, at: datetime, event: str = "popularity") -> Alert:
    return Alert(
        guild_id=1,
        channel_id=2,
        event=event,
        dedup_key=f"2:{event}:{number}",
        summary=f"alert {number}",
        payload={},
        status=status,
        next_attempt_at=at,
        created_at=at,
        sent_at=at if status == AlertStatus.SENT else None,
    )


def history(at: datetime, version: str | None) -> PackageHistory:
    return PackageHistory(
        package_id=FLATBLOCKS,
        observed_at=at,
        content_hash=f"{at.timestamp()}",
        pypi_version=version,
        repo_watchers=None,
        repo_forks=None,
        last_updated=None,
        commits_over_52=[],
    )


async def test_old_settled_rows_go_and_what_matters_stays(runtime: Runtime) -> None:
    now = runtime.clock()
    old, recent = now - 100 * DAY, now - 80 * DAY
    ancient, kept_history = now - 800 * DAY, now - 700 * DAY
    async with runtime.database.transaction() as session:
        await store_records(session, [parse_package(seed_package("django-flatblocks"))], now=now)
        session.add_all(
            [
                alert(1, AlertStatus.SENT, old),
                alert(2, AlertStatus.FAILED, old),
                alert(3, AlertStatus.DROPPED, old),
                alert(4, AlertStatus.PENDING, old),  # still to deliver: never pruned
                alert(5, AlertStatus.SENT, recent),
                # A release's alert that was sent tells a later yank the channel heard of it:
                # kept as long as package history.
                alert(6, AlertStatus.SENT, old, event="release"),
                alert(7, AlertStatus.SENT, ancient, event="release"),
                alert(8, AlertStatus.DROPPED, old, event="release"),  # never reached it
                history(ancient, "0.9"),  # the only row of 0.9: kept, 0.9 stays known
                history(ancient + DAY, "1.0"),  # superseded by a newer 1.0 row
                history(ancient + 2 * DAY, None),  # superseded by any newer row
                history(kept_history, "1.0"),
            ]
        )
        for finished in (old, old + DAY, recent):
            await cycles.record_cycle(
                session, started_at=finished, finished_at=finished, mode="due"
            )

    pruned = await retention_pass(runtime)

    async with runtime.database.session() as session:
        alerts = sorted((await session.scalars(select(Alert.summary))).all())
        cycle_ends = (await session.scalars(select(Cycle.finished_at))).all()
        versions = (
            await session.execute(
                select(PackageHistory.observed_at, PackageHistory.pypi_version).where(
                    PackageHistory.observed_at < now - DAY
                )
            )
        ).all()
    assert (pruned.alerts, pruned.cycles, pruned.history) == (5, 2, 2)
    assert alerts == ["alert 4", "alert 5", "alert 6"]
    assert cycle_ends == [recent]
    assert sorted(versions) == [(ancient, "0.9"), (kept_history, "1.0")]


async def test_the_newest_cycle_is_kept_however_old(runtime: Runtime) -> None:
    now = runtime.clock()
    async with runtime.database.transaction() as session:
        for days in (400, 300):
            at = now - days * DAY
            await cycles.record_cycle(session, started_at=at, finished_at=at, mode="due")

    await retention_pass(runtime)

    async with runtime.database.session() as session:
        assert (await session.scalars(select(Cycle.finished_at))).all() == [now - 300 * DAY]
