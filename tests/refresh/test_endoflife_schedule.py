"""When endoflife.date is asked: once a day while it answers, within hours after a failure (an
hour, doubling, at most a day), through the real pass and client against its fake."""

from __future__ import annotations

from datetime import timedelta

from bot.refresh.pypi_pass import SourcesPass
from tests.fakes.pypi_api import FakeEndOfLife
from tests.plugins.monitor import HandClock

STEP = timedelta(minutes=30)


async def hours_asked(
    sources: SourcesPass, clock: HandClock, api: FakeEndOfLife, hours: int
) -> list[float]:
    """The hours (from now) at which the pass, run every half hour for `hours`, asked."""
    asked, start = [], clock()
    for _ in range(hours * 2):
        before = len(api.served)
        await sources.refresh_endoflife()
        if len(api.served) > before:
            asked.append((clock() - start) / timedelta(hours=1))
        clock.advance(STEP)
    return asked


async def test_a_source_that_answers_is_asked_once_a_day(
    pypi_sources: SourcesPass, endoflife_api: FakeEndOfLife, clock: HandClock
) -> None:
    assert await hours_asked(pypi_sources, clock, endoflife_api, 72) == [0, 24, 48]


async def test_after_a_failure_it_is_asked_again_within_hours_then_daily_once_it_answers(
    pypi_sources: SourcesPass, endoflife_api: FakeEndOfLife, clock: HandClock
) -> None:
    endoflife_api.inject("503", times=2 * 5)  # five reads, two attempts each

    failing = await hours_asked(pypi_sources, clock, endoflife_api, 20)
    answering = await hours_asked(pypi_sources, clock, endoflife_api, 60)

    assert failing == [0, 1, 3, 7, 15]
    assert [20 + hour for hour in answering] == [31, 55, 79]
