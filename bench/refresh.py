"""Benchmark: one refresh cycle over a synthetic 6,000-package catalog.

The fake Django Packages API runs in its own process with a per-request latency, so the CPU
figures are the bot's alone (HTTP, JSON, validation, health, diff, SQL). Each scenario runs in
a fresh child process, so `peak_rss_mb` is that scenario's own peak:

1. take a baseline: sync the whole catalog into an empty SQLite database (not measured);
2. subscribe a channel to the watched packages;
3. let 5% of the catalog move on upstream (new releases, stars, commits);
4. measure one poll cycle: requests sent, wall time, CPU seconds per 1,000 packages refreshed,
   and peak resident memory.

`request_floor` is the fewest requests any plan could use: fetching each watched package once,
or paging the catalog in pages of 500, whichever is smaller.

    python bench/refresh.py [--packages 6000] [--latency 0.1] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import Settings  # noqa: E402
from bot.djp.client import DjangoPackagesClient  # noqa: E402
from bot.refresh.monitor import CATALOG_PAGE_SIZE, Monitor, MonitorSettings  # noqa: E402
from storage import subscriptions  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.models import TargetKind  # noqa: E402

SCENARIOS = {"watch-50": 50, "watch-all": None}
INTERVAL = timedelta(hours=6)
DRIFT = 0.05


@dataclass(frozen=True)
class Figures:
    scenario: str
    packages: int
    requests: int
    request_floor: int
    wall_s: float
    cpu_s_per_1000: float
    peak_rss_mb: float


class FakeApiProcess:
    """`python -m tests.fakes.djp_api` serving a synthetic catalog on a free port."""

    def __init__(self, packages: int, latency: float) -> None:
        self.args = [
            sys.executable,
            "-m",
            "tests.fakes.djp_api",
            "--port",
            "0",
            "--synthetic",
            str(packages),
            "--latency",
            str(latency),
        ]

    def __enter__(self) -> str:
        self.process = subprocess.Popen(self.args, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        banner = self.process.stdout.readline()
        match = re.search(r"(http://\S+/api/v4/)", banner)
        if match is None:
            self.process.kill()
            raise RuntimeError(f"the fake API did not start: {banner!r}")
        return match.group(1)

    def __exit__(self, *exc_info: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


async def measure(scenario: str, base_url: str, database_url: str) -> Figures:
    settings = Settings(_env_file=None, djp_api_url=base_url)
    clock = _Clock(datetime(2026, 6, 10, 12, tzinfo=UTC))
    database = Database.from_url(database_url)
    await database.upgrade()
    async with DjangoPackagesClient.from_settings(settings) as client:
        monitor = Monitor(
            client, database, MonitorSettings(INTERVAL, settings.stale_after_days), clock=clock
        )
        baseline = await monitor.sync_catalog()
        catalog = baseline.packages_fetched
        watched = SCENARIOS[scenario] or catalog
        await _watch(database, range(1, watched + 1))
        async with httpx.AsyncClient() as control:
            await control.post(
                base_url.replace("/api/v4/", "/_fake/drift"), params={"fraction": DRIFT}
            )

        clock.now += INTERVAL
        cpu_before, wall_before = time.process_time(), time.perf_counter()
        report = await monitor.run_cycle()
        cpu = time.process_time() - cpu_before
        wall = time.perf_counter() - wall_before
    await database.dispose()
    return Figures(
        scenario=scenario,
        packages=report.packages_fetched,
        requests=report.requests,
        request_floor=min(watched, math.ceil(catalog / CATALOG_PAGE_SIZE)),
        wall_s=round(wall, 3),
        cpu_s_per_1000=round(cpu / max(report.packages_fetched, 1) * 1000, 3),
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    )


class _Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


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
    parser.add_argument("--json", action="store_true", help="one JSON object per scenario")
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
        figures = json.loads(child.stdout.strip().splitlines()[-1])
        print(json.dumps(figures) if args.json else _table_row(figures))


def _passed_on(args: argparse.Namespace) -> list[str]:
    return ["--packages", str(args.packages), "--latency", str(args.latency)]


def _table_row(figures: dict[str, object]) -> str:
    return "  ".join(f"{key}={value}" for key, value in figures.items())


if __name__ == "__main__":
    main()
