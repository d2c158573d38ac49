"""Benchmark: what following security advisories (OSV) adds to a poll cycle, for 1,000 and
6,000 watched packages of a synthetic 6,000-package catalog.

The fake Django Packages API and the fake OSV each run in a process of their own, so the CPU
figures are the bot's alone. The fake OSV gives one advisory (a copy of a real record) to
every fifth package. In a fresh child process per scenario:

1. sync the catalog into an empty SQLite database and watch the first N packages (not measured);
2. one Django Packages cycle with 5% of the catalog drifted, for scale (`djp_cycle_cpu_s`);
3. the first OSV pass (every name new: one batch per 1,000 names, then one record per
   advisory): `first_requests`, `first_cpu_s`;
4. an interval later, with 1% of the advisories' `modified` moved, the steady pass:
   `steady_requests`, `steady_cpu_s` (the median of `PASSES`);
5. the floor in the same process: the same batch requests and record reads through a bare
   `httpx` client, with `json.loads` of every answer and nothing else (`floor_cpu_s`).

`ratio` is the steady pass's CPU over the floor's. Each scenario prints one JSON line.

    python bench/osv.py [--packages 6000] [--latency 0.02]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import httpx
from common import ROOT, Clock, FakeApiProcess

sys.path.insert(0, str(ROOT))

from bot.app.runtime import tune_garbage_collection
from bot.config import Settings
from bot.core.pypi_names import pypi_project_name
from bot.djp.client import DjangoPackagesClient
from bot.osv.client import BATCH_SIZE, OsvClient
from bot.refresh.advisories import AdvisoryReport, AdvisoryWatch
from bot.refresh.monitor import Monitor, MonitorSettings
from storage import subscriptions
from storage.advisories import followed_packages
from storage.database import Database
from storage.models import TargetKind

SCENARIOS = {"watch-1000": 1000, "watch-6000": 6000}
INTERVAL = timedelta(hours=6)
SYNTHETIC_EVERY = 5
ADVISORY_DRIFT = 0.01
CATALOG_DRIFT = 0.05
PASSES = 3
T = TypeVar("T")


class FakeOsvProcess:
    """`python -m tests.fakes.osv_api` on a free port; entering it gives the base URL."""

    def __enter__(self) -> str:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.fakes.osv_api", "--port", "0", "--synthetic-every",
             str(SYNTHETIC_EVERY)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        banner = self.process.stdout.readline()
        match = re.search(r"(http://\S+/)", banner)
        if match is None:
            self.process.kill()
            raise RuntimeError(f"the fake OSV did not start: {banner!r}")
        return match.group(1)

    def __exit__(self, *exc_info: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@dataclass(frozen=True)
class Figures:
    scenario: str
    watched: int
    first_requests: int
    first_cpu_s: float
    steady_requests: int
    steady_batches: int
    steady_records: int
    steady_cpu_s: float
    floor_cpu_s: float
    ratio: float
    djp_cycle_cpu_s: float


async def measure(scenario: str, djp_url: str, osv_url: str, database_url: str) -> Figures:
    settings = Settings(_env_file=None, djp_api_url=djp_url, osv_api_url=osv_url)
    clock = Clock(datetime(2026, 6, 10, 12, tzinfo=UTC))
    database = Database.from_url(database_url)
    await database.upgrade()
    tune_garbage_collection()
    watched = SCENARIOS[scenario]
    async with (
        DjangoPackagesClient.from_settings(settings) as client,
        OsvClient.open(osv_url, timeout=30) as osv,
        httpx.AsyncClient(timeout=30) as control,
    ):
        monitor = Monitor(client, database, MonitorSettings(INTERVAL, 365), clock=clock)
        await monitor.sync_catalog()
        await _watch(database, watched)
        await control.post(
            djp_url.replace("/api/v4/", "/_fake/drift"), params={"fraction": CATALOG_DRIFT}
        )
        clock.advance(INTERVAL)
        djp_cpu, _ = await _timed(monitor.run_cycle())
        advisories = AdvisoryWatch(osv, database, interval=INTERVAL, clock=clock)
        first_cpu, first = await _timed(advisories.run())
        steady: list[tuple[float, AdvisoryReport]] = []
        for _ in range(PASSES):
            await control.post(f"{osv_url}_drift", params={"fraction": ADVISORY_DRIFT})
            clock.advance(INTERVAL)
            steady.append(await _timed(advisories.run()))
        steady_cpu, report = sorted(steady, key=lambda run: run[0])[PASSES // 2]
        floor = await _floor(osv_url, await _names(database), report.record_requests)
    await database.dispose()
    steady_requests = report.batch_requests + report.record_requests
    return Figures(
        scenario=scenario,
        watched=watched,
        first_requests=first.batch_requests + first.record_requests,
        first_cpu_s=round(first_cpu, 4),
        steady_requests=steady_requests,
        steady_batches=report.batch_requests,
        steady_records=report.record_requests,
        steady_cpu_s=round(steady_cpu, 4),
        floor_cpu_s=round(floor, 4),
        ratio=round(steady_cpu / floor, 2) if floor else 0.0,
        djp_cycle_cpu_s=round(djp_cpu, 4),
    )


async def _timed(work: Awaitable[T]) -> tuple[float, T]:
    """CPU seconds (every thread of the process) spent until `work` is done, and its result."""
    before = time.process_time()
    result = await work
    return time.process_time() - before, result


async def _names(database: Database) -> list[str]:
    """The PyPI names the OSV pass asks about."""
    async with database.session() as session:
        followed = await followed_packages(session)
    return sorted({n for p in followed if (n := pypi_project_name(p.pypi_url)) is not None})


async def _floor(osv_url: str, names: list[str], records: int) -> float:
    """CPU seconds of the same traffic with nothing but HTTP and `json.loads` (the median of
    `PASSES`): the batches for `names`, then `records` record reads."""
    runs = []
    async with httpx.AsyncClient(timeout=30) as http:
        for _ in range(PASSES):
            before = time.process_time()
            ids: list[str] = []
            for start in range(0, len(names), BATCH_SIZE):
                queries = [
                    {"package": {"name": name, "ecosystem": "PyPI"}}
                    for name in names[start : start + BATCH_SIZE]
                ]
                answer = await http.post(f"{osv_url}v1/querybatch", json={"queries": queries})
                results = json.loads(answer.content)["results"]
                ids += [v["id"] for result in results for v in result.get("vulns", ())]
            for vuln_id in ids[:records]:
                json.loads((await http.get(f"{osv_url}v1/vulns/{vuln_id}")).content)
            runs.append(time.process_time() - before)
    return statistics.median(runs)


async def _watch(database: Database, count: int) -> None:
    async with database.transaction() as session:
        for package_id in range(1, count + 1):
            await subscriptions.subscribe(
                session,
                guild_id=1,
                channel_id=2,
                target_kind=TargetKind.PACKAGE,
                target_id=package_id,
                created_by=3,
            )


def run_scenario(scenario: str, packages: int, latency: float) -> Figures:
    with (
        tempfile.TemporaryDirectory() as scratch,
        FakeApiProcess(packages, latency) as djp_url,
        FakeOsvProcess() as osv_url,
    ):
        database_url = f"sqlite+aiosqlite:///{scratch}/bench.db"
        return asyncio.run(measure(scenario, djp_url, osv_url, database_url))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=6000, help="synthetic catalog size")
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per DJP response")
    parser.add_argument("--scenario", choices=SCENARIOS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scenario:  # a child process: run one scenario, print its figures
        print(json.dumps(asdict(run_scenario(args.scenario, args.packages, args.latency))))
        return
    for scenario in SCENARIOS:
        child = subprocess.run(
            [sys.executable, __file__, "--scenario", scenario, "--packages", str(args.packages),
             "--latency", str(args.latency)],
            check=True,
            capture_output=True,
            text=True,
            env=os.environ | {"LOG_LEVEL": "WARNING"},
        )  # fmt: skip
        print(child.stdout.strip(), flush=True)


if __name__ == "__main__":
    main()
