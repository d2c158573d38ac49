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

`watch-all-pypi` is `watch-all` with PyPI on (a fake PyPI in a third process answering every
project with the real django-crispy-forms capture renamed, ETags and 304s as PyPI, and keeping
PyPI's journal): the baseline also takes PyPI's first answers (every project asked once, the
journal's serial read), each cycle 5% of the projects publish a release too (three journal
entries each: the release and two files) while `JOURNAL_NOISE` entries name projects nobody
watches, and a cycle is the Django Packages refresh plus the PyPI pass. The cycles run
`SAFETY_PERIOD` (two weeks) after the baseline, so each pays the safety re-checks
(`pypi_plan.safety_period`) a steady state pays at most. Its floor adds `json.loads` of the changed
projects' answers and one plain upsert of them; `pypi_requests` counts the requests for projects of
a cycle, `pypi_not_modified` those answered 304, and `journal_requests` the journal's. The last line
compares the CPU per 1,000 packages of `watch-all-pypi` with `watch-all` (target: at most 2):
`watch-all` and `watch-all-pypi` run in turn `--rounds` times, each pair giving one ratio, and the
line gives their median and range (one run on a shared machine can be far off).

`request_floor` is the fewest requests any plan could use: fetching each watched package once,
or paging the catalog in pages of 500, whichever is smaller (with PyPI, plus one journal
request and one request per watched project that changed). `ratio` is the cycle's CPU over the
floor's. Each scenario prints one JSON line.

    python bench/refresh.py [--packages 6000] [--latency 0.1] [--pypi-latency 0.005] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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
from common import ROOT, Clock, FakeApiProcess, FakePypiProcess
from sqlalchemy import JSON, Column, Integer, MetaData, Table

sys.path.insert(0, str(ROOT))

from bot.app.runtime import tune_garbage_collection
from bot.config import Settings
from bot.djp.client import DjangoPackagesClient
from bot.refresh.monitor import Monitor, MonitorSettings
from bot.refresh.pypi_pass import SourcesPass, SourcesReport, open_sources
from bot.refresh.pypi_plan import SAFETY_PERIOD
from bot.refresh.report import CycleReport
from bot.refresh.schedule import CATALOG_PAGE_SIZE
from storage import subscriptions
from storage._sql import upsert
from storage.database import Database
from storage.models import TargetKind

SCENARIOS = {"watch-50": 50, "watch-all": None, "watch-all-pypi": None}
#: PyPI off and on, compared round by round.
PYPI_PAIR = ("watch-all", "watch-all-pypi")
INTERVAL = timedelta(hours=6)
DRIFT = 0.05
CYCLES = 3
FLOOR_RUNS = 3
#: PyPI's journal entries in one 6-hour interval: serial 24,891,358 was written on 2024-09-05
#: 11:11 UTC (PyPI's XML-RPC documentation) and asgiref's `last_serial` was 32,495,228 when its
#: 3.11.0 was uploaded on 2025-11-19 15:32 UTC (the capture): 7.6 million entries in 440 days,
#: about 17,300 a day.
JOURNAL_NOISE = 4300


@dataclass(frozen=True)
class Figures:
    scenario: str
    packages: int
    requests: int
    request_floor: int
    pypi_requests: int
    pypi_not_modified: int
    journal_requests: int
    wall_s: float
    cpu_s_per_1000: float
    floor_cpu_s_per_1000: float
    ratio: float
    peak_rss_mb: float


async def measure(scenario: str, base_url: str, database_url: str, pypi_url: str | None) -> Figures:
    settings = Settings(
        _env_file=None, djp_api_url=base_url, pypi_url=pypi_url or "", endoflife_url=""
    )
    clock = Clock(datetime(2026, 6, 10, 12, tzinfo=UTC))
    database = Database.from_url(database_url)
    await database.upgrade()
    tune_garbage_collection()
    schedule = MonitorSettings(INTERVAL, settings.stale_after_days)
    async with (
        DjangoPackagesClient.from_settings(settings) as client,
        open_sources(settings, database, schedule, clock=clock) as sources,
    ):
        monitor = Monitor(client, database, schedule, clock=clock)
        baseline = await monitor.sync_catalog()
        catalog = baseline.packages_fetched
        watched = SCENARIOS[scenario] or catalog
        await _watch(database, range(1, watched + 1))
        await sources.run()  # PyPI's baseline (nothing when off)
        clock.advance(SAFETY_PERIOD)
        cycles = [
            await _drifted_cycle(monitor, sources, clock, (base_url, pypi_url), seed)
            for seed in range(CYCLES)
        ]
    cpu, wall, report, pypi, changed = sorted(cycles, key=lambda cycle: cycle[0])[CYCLES // 2]
    floor = await measure_floor(base_url, database, catalog)
    if pypi_url:
        floor += await measure_pypi_floor(pypi_url, database, changed)
    await database.dispose()
    per_1000 = 1000 / max(report.packages_fetched, 1)
    return Figures(
        scenario=scenario,
        packages=report.packages_fetched,
        requests=report.requests,
        request_floor=min(watched, math.ceil(catalog / CATALOG_PAGE_SIZE))
        + (1 + changed if pypi_url else 0),
        pypi_requests=pypi.requests,
        pypi_not_modified=pypi.not_modified,
        journal_requests=pypi.journal_requests,
        wall_s=round(wall, 3),
        cpu_s_per_1000=round(cpu * per_1000, 4),
        floor_cpu_s_per_1000=round(floor * 1000 / catalog, 4),
        ratio=round(cpu * per_1000 / (floor * 1000 / catalog), 2),
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    )


async def _drifted_cycle(
    monitor: Monitor,
    sources: SourcesPass,
    clock: Clock,
    upstreams: tuple[str, str | None],
    seed: int,
) -> tuple[float, float, CycleReport, SourcesReport, int]:
    """Move `DRIFT` of the catalog (and of PyPI's projects, with the journal's noise) on
    upstream, then time one poll cycle and PyPI pass an interval later: CPU seconds, wall
    seconds, their reports, and how many PyPI projects changed."""
    base_url, pypi_url = upstreams
    changed = 0
    async with httpx.AsyncClient() as control:
        drift = {"fraction": DRIFT, "seed": seed}
        await control.post(base_url.replace("/api/v4/", "/_fake/drift"), params=drift)
        if pypi_url:
            published = await control.post(
                f"{pypi_url}_fake/drift", params=drift | {"noise": JOURNAL_NOISE}
            )
            changed = published.json()["changed"]
    clock.advance(INTERVAL)
    cpu_before, wall_before = time.process_time(), time.perf_counter()
    report = await monitor.run_cycle()
    pypi = await sources.run()
    cpu, wall = time.process_time() - cpu_before, time.perf_counter() - wall_before
    return cpu, wall, report, pypi, changed


async def measure_pypi_floor(pypi_url: str, database: Database, changed: int) -> float:
    """CPU seconds to `json.loads` `changed` project answers and upsert each once (median)."""
    async with httpx.AsyncClient() as http:
        body = (await http.get(f"{pypi_url}pypi/floor-project/json")).content
    rows = [{"id": i, "record": json.loads(body)} for i in range(1, changed + 1)]
    async with database.transaction() as session:
        await upsert(session, PYPI_FLOOR_TABLE, rows)  # created by `measure_floor`
    runs = []
    for _ in range(FLOOR_RUNS):
        cpu_before = time.process_time()
        rows = [{"id": i, "record": json.loads(body)} for i in range(1, changed + 1)]
        async with database.transaction() as session:
            await upsert(session, PYPI_FLOOR_TABLE, rows)
        runs.append(time.process_time() - cpu_before)
    return statistics.median(runs)


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


FLOOR_METADATA = MetaData()
FLOOR_TABLE = Table(
    "floor_packages",
    FLOOR_METADATA,
    Column("id", Integer, primary_key=True),
    Column("record", JSON),
)
PYPI_FLOOR_TABLE = Table(
    "floor_projects",
    FLOOR_METADATA,
    Column("id", Integer, primary_key=True),
    Column("record", JSON),
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


def run_scenario(scenario: str, packages: int, latency: float, pypi_latency: float) -> Figures:
    with (
        tempfile.TemporaryDirectory() as scratch,
        FakeApiProcess(packages, latency) as base_url,
        contextlib.ExitStack() as stack,
    ):
        pypi_url = None
        if scenario.endswith("-pypi"):
            pypi_url = stack.enter_context(FakePypiProcess(pypi_latency))
        database_url = f"sqlite+aiosqlite:///{scratch}/bench.db"
        return asyncio.run(measure(scenario, base_url, database_url, pypi_url))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=6000, help="synthetic catalog size")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per API response")
    parser.add_argument(
        "--pypi-latency",
        type=float,
        default=0.005,
        help="seconds per PyPI response (a CDN nearby)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="rounds of PyPI off then on; the ratio printed is their median",
    )
    parser.add_argument("--scenario", choices=SCENARIOS, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.scenario:  # a child process: run one scenario, print its figures
        print(
            json.dumps(
                asdict(run_scenario(args.scenario, args.packages, args.latency, args.pypi_latency))
            )
        )
        return
    print(_run_child("watch-50", args), flush=True)
    ratios = []
    for _ in range(args.rounds):  # off and on in turn, so a busy spell weighs on both
        off, on = (json.loads(_run_child(scenario, args)) for scenario in PYPI_PAIR)
        for figures in (off, on):
            print(json.dumps(figures), flush=True)
        ratios.append(on["cpu_s_per_1000"] / off["cpu_s_per_1000"])
    print(
        json.dumps(
            {
                "pypi_on_over_off_cpu": round(statistics.median(ratios), 2),
                "range": [round(min(ratios), 2), round(max(ratios), 2)],
                "rounds": len(ratios),
                "target": 2.0,
            }
        ),
        flush=True,
    )


def _run_child(scenario: str, args: argparse.Namespace) -> str:
    """One scenario in a fresh process: its JSON line."""
    child = subprocess.run(
        [sys.executable, __file__, "--scenario", scenario, *_passed_on(args)],
        check=True,
        capture_output=True,
        text=True,
        env=os.environ | {"LOG_LEVEL": "WARNING"},
    )
    return child.stdout.strip().splitlines()[-1]


def _passed_on(args: argparse.Namespace) -> list[str]:
    return [
        "--packages",
        str(args.packages),
        "--latency",
        str(args.latency),
        "--pypi-latency",
        str(args.pypi_latency),
    ]


if __name__ == "__main__":
    main()
