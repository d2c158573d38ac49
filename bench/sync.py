"""Benchmark: `djp-sentinel sync` of a synthetic catalog (6,000 packages, 400 grids) into an
empty SQLite database, with the fake Django Packages API in its own process at 100 ms a
response.

Runs `Monitor.sync_catalog` (what the command runs) twice: the first sync of an empty database,
then a re-sync where little changed (what a later `sync` does). Each prints one JSON line:
wall seconds of each phase (categories, packages, grids), the grids' share of the whole,
CPU seconds and requests.

    python bench/sync.py [--packages 6000] [--latency 0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from datetime import UTC, datetime

from common import ROOT, Clock, FakeApiProcess

sys.path.insert(0, str(ROOT))

from bot.app.runtime import monitor_settings
from bot.config import Settings
from bot.djp.client import DjangoPackagesClient
from bot.refresh.monitor import Monitor
from storage.database import Database


async def run(packages: int, latency: float) -> None:
    with tempfile.TemporaryDirectory() as scratch, FakeApiProcess(packages, latency) as base_url:
        settings = Settings(
            _env_file=None,
            djp_api_url=base_url,
            database_url=f"sqlite+aiosqlite:///{scratch}/bench.db",
        )
        database = Database.from_url(settings.database_url)
        await database.upgrade()
        async with DjangoPackagesClient.from_settings(settings) as client:
            clock = Clock(datetime.now(UTC))
            monitor = Monitor(client, database, monitor_settings(settings), clock=clock)
            for case in ("first sync", "re-sync"):
                cpu_before, wall_before = time.process_time(), time.perf_counter()
                report = await monitor.sync_catalog()
                cpu, wall = time.process_time() - cpu_before, time.perf_counter() - wall_before
                phases = {name: round(seconds, 3) for name, seconds in report.phase_seconds.items()}
                figures = {
                    "case": case,
                    "packages": report.packages_fetched,
                    "grids": report.grids_fetched,
                    "requests": report.requests,
                    "wall_s": round(wall, 3),
                    "cpu_s": round(cpu, 3),
                    "phase_wall_s": phases,
                    "grids_share": round(report.phase_seconds["grids"] / wall, 3),
                }
                print(json.dumps(figures), flush=True)
        await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=6000, help="synthetic catalog size")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per API response")
    args = parser.parse_args()
    asyncio.run(run(args.packages, args.latency))


if __name__ == "__main__":
    main()
