"""A monitor the test drives by hand: a clock that moves only when told, on the real database
and the fake Django Packages API.

The `clock` and `monitor` fixtures serve the poll-cycle tests under `tests/refresh/` (registered
by its conftest).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.djp.client import DjangoPackagesClient
from bot.refresh.monitor import Monitor, MonitorSettings
from storage.database import Database

POLL_INTERVAL = timedelta(hours=6)
#: Where a hand-driven clock starts: a Friday noon.
START = datetime(2026, 2, 20, 12, tzinfo=UTC)


class HandClock:
    """A clock the test moves by hand: cycles happen when the test says so."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta = POLL_INTERVAL) -> None:
        self.now += delta


def hand_driven_monitor(
    database: Database, client: DjangoPackagesClient, clock: HandClock
) -> Monitor:
    """A monitor polling every six hours, with the default 365-day staleness threshold."""
    settings = MonitorSettings(poll_interval=POLL_INTERVAL, stale_after_days=365)
    return Monitor(client, database, settings, clock=clock)


@pytest.fixture
def clock() -> HandClock:
    return HandClock(START)


@pytest.fixture
def monitor(database: Database, djp_client: DjangoPackagesClient, clock: HandClock) -> Monitor:
    return hand_driven_monitor(database, djp_client, clock)
