"""Benchmark: one refresh cycle over a synthetic 6,000-package catalog.

The fake Django Packages API runs in its own process with a per-request latency, so the CPU
figures are the bot's alone (HTTP, JSON, validation, health, diff, SQL). Each scenario runs in
a fresh child process, so `peak_rss_mb` is that scenario's own peak:

1. take a baseline: sync the whole catalog into an empty SQLite database (not measured), with
   the process set up as the bot sets itself up (`tune_garbage_collection`);
2. subscribe a channel to the watched packages;
3. `CYCLES` times: let 5% of the catalog move on upstream (new releases, stars, commits; a
   different 5% each time) and measure one poll cycle: requests sent, wall time, CPU seconds
   (every thread of the process) per 1,000 packages refreshed; the median cycle is reported,
   with peak resident memory;
4. measure the floor in the same process: `json.loads` of the same catalog pages plus one plain
   upsert of every payload (id and JSON) into a scratch table of the same database.

`request_floor` is the fewest requests any plan could use: fetching each watched package once,
or paging the catalog in pages of 500, whichever is smaller. `ratio` is the cycle's CPU over the
floor's. Each scenario prints one JSON line.

    python bench/refresh.py [--packages 6000] [--latency 0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

import httpx
from common import ROOT, Clock, FakeApiProcess
from sqlalchemy import JSON, Column, Integer, MetaData, Table

sys.path.insert(0, str(ROOT))

from bot.app.runtime import tune_garbage_collection
from bot.config import Settings
from bot.djp.client import DjangoPackagesClient
from bot.refresh.monitor import Monitor, MonitorSettings
from bot.refresh.report import CycleReport
from bot.refresh.schedule import CATALOG_PAGE_SIZE
from storage import subscriptions
from storage._sql import upsert
from storage.database import Database
from storage.models import TargetKind

SCENARIOS = {"watch-50": 50, "watch-all": None}
INTERVAL = timedelta(hours=6)
DRIFT = 0.05
CYCLES = 3
FLOOR_RUNS = 3


@dataclass(frozen=True)
class Figures:
    scenario: str
    packages: int
    requests: int
    request_floor: int
    wall_s: float
    cpu_s_per_1000: float
    floor_cpu_s_per_1000: float
    ratio: float
    peak_rss_mb: float


async def measure(scenario: str, base_url: str, database_url: str) -> Figures:
    settings = Settings(_env_file=None, djp_api_url=base_url)
    clock = Clock(datetime(2026, 6, 10, 12, tzinfo=UTC))
    database = Database.from_url(database_url)
    await database.upgrade()
    tune_garbage_collection()
    async with DjangoPackagesClient.from_settings(settings) as client:
        monitor = Monitor(
            client, database, MonitorSettings(INTERVAL, settings.stale_after_days), clock=clock
        )
        baseline = await monitor.sync_catalog()
        catalog = baseline.packages_fetched
        watched = SCENARIOS[scenario] or catalog
        await _watch(database, range(1, watched + 1))
        cycles = [await _drifted_cycle(monitor, clock, base_url, seed) for seed in range(CYCLES)]
    cpu, wall, report = sorted(cycles, key=lambda cycle: cycle[0])[CYCLES // 2]
    floor = await measure_floor(base_url, database, catalog)
    await database.dispose()
    per_1000 = 1000 / max(report.packages_fetched, 1)
    return Figures(
        scenario=scenario,
        packages=report.packages_fetched,
        requests=report.requests,
        request_floor=min(watched, math.ceil(catalog / CATALOG_PAGE_SIZE)),
        wall_s=round(wall, 3),
        cpu_s_per_1000=round(cpu * per_1000, 4),
        floor_cpu_s_per_1000=round(floor * 1000 / catalog, 4),
        ratio=round(cpu * per_1000 / (floor * 1000 / catalog), 2),
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    )


async def _drifted_cycle(
    monitor: Monitor, clock: Clock, base_url: str, seed: int
) -> tuple[float, float, CycleReport]:
    """Move `DRIFT` of the catalog on upstream, then time one poll cycle an interval later: CPU
    seconds, wall seconds, and the cycle's report."""
    async with httpx.AsyncClient() as control:
        await control.post(
            base_url.replace("/api/v4/", "/_fake/drift"), params={"fraction": DRIFT, "seed": seed}
        )
    clock.advance(INTERVAL)
    cpu_before, wall_before = time.process_time(), time.perf_counter()
    report = await monitor.run_cycle()
    return time.process_time() - cpu_before, time.perf_counter() - wall_before, report


async def measure_floor(base_url: str, database: Database, catalog: int) -> float:
    """CPU seconds to `json.loads` the catalog pages and upsert every payload once (the
    median of `FLOOR_RUNS`, as one run on a busy machine can be far off).

    The pages are downloaded first (not measured); the scratch table is filled once beforehand,
    so the measured upserts update existing rows, as a refresh does.
    """
    async with httpx.AsyncClient(headers={"Accept": "application/json"}) as http:
        pages = [
            (
                await http.get(
                    f"{base_url}packages/", params={"limit": CATALOG_PAGE_SIZE, "offset": offset}
                )
            ).content
            for offset in range(0, catalog, CATALOG_PAGE_SIZE)
        ]
    async with database.engine.begin() as connection:
        await connection.run_sync(FLOOR_TABLE.metadata.create_all)
    await _plain_upsert(database, pages)
    runs = []
    for _ in range(FLOOR_RUNS):
        cpu_before = time.process_time()
        await _plain_upsert(database, pages)
        runs.append(time.process_time() - cpu_before)
    return statistics.median(runs)


FLOOR_TABLE = Table(
    "floor_packages", MetaData(), Column("id", Integer, primary_key=True), Column("record", JSON)
)


async def _plain_upsert(database: Database, pages: list[bytes]) -> None:
    rows = [
        {"id": payload["id"], "record": payload}
        for page in pages
        for payload in json.loads(page)["results"]
    ]
    async with database.transaction() as session:
        await upsert(session, FLOOR_TABLE, rows)


async def _watch(database: Database, package_ids: range) -> None:
    async with database.transaction() as session:
        for package_id in package_ids:
            await subscriptions.subscribe(
                session,
                guild_id=1,
                channel_id=2,
                target_kind=TargetKind.PACKAGE,
                target_id=package_id,
                created_by=3,
            )


def run_scenario(scenario: str, packages: int, latency: float) -> Figures:
    with tempfile.TemporaryDirectory() as scratch, FakeApiProcess(packages, latency) as base_url:
        database_url = f"sqlite+aiosqlite:///{scratch}/bench.db"
        return asyncio.run(measure(scenario, base_url, database_url))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=6000, help="synthetic catalog size")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per API response")
    parser.add_argument("--scenario", choices=SCENARIOS, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.scenario:  # a child process: run one scenario, print its figures
        print(json.dumps(asdict(run_scenario(args.scenario, args.packages, args.latency))))
        return
    for scenario in SCENARIOS:
        child = subprocess.run(
            [sys.executable, __file__, "--scenario", scenario, *_passed_on(args)],
            check=True,
            capture_output=True,
            text=True,
            env=os.environ | {"LOG_LEVEL": "WARNING"},
        )
        print(child.stdout.strip().splitlines()[-1], flush=True)


def _passed_on(args: argparse.Namespace) -> list[str]:
    return ["--packages", str(args.packages), "--latency", str(args.latency)]


if __name__ == "__main__":
    main()
