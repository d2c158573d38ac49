"""Poll cycle figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from storage import cycles

NOW = datetime(2026, 2, 20, 12, 0, tzinfo=UTC)


async def test_the_last_cycle_and_the_last_catalog_size(session: AsyncSession) -> None:
    assert await cycles.last_cycle(session) is None
    assert await cycles.last_catalog_total(session) is None

    await cycles.record_cycle(
        session,
        started_at=NOW,
        finished_at=NOW + timedelta(minutes=2),
        mode="catalog",
        packages_fetched=6012,
        requests=13,
        catalog_total=6012,
    )
    await cycles.record_cycle(
        session,
        started_at=NOW + timedelta(hours=6),
        finished_at=NOW + timedelta(hours=6, seconds=3),
        mode="targets",
        packages_fetched=4,
        packages_failed=1,
        changes=2,
        alerts_enqueued=3,
        requests=5,
    )
    last = await cycles.last_cycle(session)
    assert last is not None
    assert (last.mode, last.packages_fetched, last.packages_failed, last.alerts_enqueued) == (
        "targets",
        4,
        1,
        3,
    )
    assert await cycles.last_catalog_total(session) == 6012
