"""The long-lived resources every entry point shares: database, API client, monitor, clock."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from bot.app.batching import Batcher
from bot.app.throttles import LookupThrottle
from bot.config import Settings
from bot.core.clock import Clock, utcnow
from bot.delivery.pacing import Pacer, delivery_budget
from bot.djp.client import DjangoPackagesClient
from bot.osv.client import OsvClient
from bot.refresh.advisories import AdvisoryWatch
from bot.refresh.monitor import Monitor, MonitorSettings
from bot.refresh.pypi_pass import SourcesPass, open_sources
from storage import lookups
from storage.database import Database
from storage.lookups import PackageLookup


@dataclass(frozen=True, slots=True)
class Runtime:
    """What every entry point shares; `clock` is the one clock (the monitor and delivery run
    on it too)."""

    settings: Settings
    database: Database
    client: DjangoPackagesClient
    monitor: Monitor
    clock: Clock
    #: Delivery's share of Discord's global budget, shared by every delivery worker here.
    pacer: Pacer
    #: The OSV poll (None when `OSV_API_URL` is empty: advisories off).
    advisories: AdvisoryWatch | None = None
    #: The PyPI and endoflife.date pass run after each refresh cycle (None: not in this role).
    sources: SourcesPass | None = None
    #: Lookups of stored packages (by id or slug), read together: one batch in flight.
    stored_packages: Batcher[int | str, PackageLookup] = field(
        init=False, repr=False, compare=False
    )
    #: How often names may be looked up and Django Packages searched, per person and in all.
    lookups: LookupThrottle = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        batcher = Batcher(partial(find_stored_packages, self.database), name="stored packages")
        # fields of a frozen dataclass
        object.__setattr__(self, "stored_packages", batcher)
        object.__setattr__(self, "lookups", LookupThrottle.from_settings(self.settings))


async def find_stored_packages(
    database: Database, keys: Sequence[int | str]
) -> dict[int | str, PackageLookup]:
    """One batch of `Runtime.stored_packages`: one short read on one connection."""
    async with database.connection() as connection:
        return await lookups.find_packages(connection, keys)


def monitor_settings(settings: Settings) -> MonitorSettings:
    return MonitorSettings(
        poll_interval=timedelta(seconds=settings.poll_interval_seconds),
        stale_after_days=settings.stale_after_days,
    )


#: Allocations between two collections of the youngest generation (Python's default is 700).
GC_YOUNG_THRESHOLD = 10_000


def tune_garbage_collection() -> None:
    """Freeze what start-up built (modules, the schema, settings) out of the collector's sight,
    and collect young objects less often.

    A refresh cycle allocates a few containers per package, almost all freed at once by
    reference counting; with the default thresholds the collector still ran every few dozen
    packages, re-walking long-lived objects each time: about a tenth of a cycle's CPU. No full
    collection first: start-up leaves next to no garbage, and one would add about 60 ms to
    every command.
    """
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 20, 20)


@asynccontextmanager
async def open_runtime(
    settings: Settings, *, metrics: bool = True, label: str = "cli"
) -> AsyncIterator[Runtime]:
    """Connect to the database (applying migrations) and open the HTTP client; `metrics=False`
    for a one-shot command, which serves no metrics (its requests are not counted). `label`
    (a long-running process's roles) names its database sessions on PostgreSQL."""
    database = Database.from_url(settings.database_url, label=label)
    try:
        await database.upgrade()
        tune_garbage_collection()
        async with AsyncExitStack() as stack:
            client = await stack.enter_async_context(
                DjangoPackagesClient.from_settings(settings, metrics=metrics)
            )
            monitor = Monitor(client, database, monitor_settings(settings), clock=utcnow)
            pacer = Pacer(delivery_budget(settings.discord_global_rate))
            advisories = None
            if settings.osv_api_url:
                osv = await stack.enter_async_context(
                    OsvClient.open(settings.osv_api_url, timeout=settings.http_timeout_seconds)
                )
                advisories = AdvisoryWatch(
                    osv, database, interval=monitor.settings.poll_interval, clock=utcnow
                )
            sources = await stack.enter_async_context(
                open_sources(settings, database, monitor.settings, clock=utcnow)
            )
            try:
                yield Runtime(
                    settings,
                    database,
                    client,
                    monitor,
                    utcnow,
                    pacer,
                    advisories=advisories,
                    sources=sources,
                )
            finally:
                monitor.cancel_background_refreshes()
                await monitor.background_refreshes()
    finally:
        await database.dispose()
