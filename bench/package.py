"""Benchmark: `/package` latency with the upstream at 100 ms, one user and 20 at once.

Measured through the code path the cog runs, without the Discord round trip:
`bot.app.summaries.look_up_package(..., background=True)` and `package_card` (`summary`), and
the same with the commit chart rendered as the cog renders it, in a worker thread (`chart`);
on SQLite, with the fake Django Packages API in its own process. Three cases, each sequential
and then in rounds of 20 concurrent calls, each call a different package:

- `fresh`: every package stored by a sync a moment ago (answered from the stored copy);
- `stale`: the same copies two hours later (answered from the stored copy, each refreshed in
  the background: one API request per call, counted once the refreshes are done);
- `unseen`: an empty database (every call fetched live, as for a package never seen).

Each case draws its charts anew: the cache of recently drawn charts is emptied first.

One JSON line per case, mode and path: p50, p95 and max in milliseconds, API requests per
call, what was measured (`measured_through`) and the p95 an answer from the stored copy should
stay under (`target_p95_ms`, issue 9; null for `unseen`, which waits on the API by design).

    python bench/package.py [--packages 6000] [--latency 0.1] [--calls 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta

from common import ROOT, Clock, FakeApiProcess, percentile

sys.path.insert(0, str(ROOT))

from bot.app.runtime import Runtime, monitor_settings
from bot.app.summaries import look_up_package
from bot.config import Settings
from bot.delivery.pacing import Pacer, delivery_budget
from bot.djp.client import DjangoPackagesClient
from bot.messages.cards import package_card
from bot.messages.chart import commit_chart, package_chart
from bot.refresh.monitor import Monitor
from storage.database import Database
from tests.fakes.djp_data import synthetic_catalog

CONCURRENT_USERS = 20
#: Issue 9: 20 people at once answered from the stored copy, p95 at most this.
TARGET_P95_MS = 20.0
#: What each path measures, by the name its lines carry.
MEASURED_THROUGH = {
    "summary": "bot.app.summaries.look_up_package + package_card (the cog, minus Discord and "
    "the chart)",
    "chart": "bot.app.summaries.look_up_package + package_card + "
    "asyncio.to_thread(package_chart) (the cog, minus Discord)",
}


async def ask(runtime: Runtime, slug: str, path: str) -> float:
    """One `/package` answer; its latency in seconds."""
    started = time.perf_counter()
    lookup = await look_up_package(runtime, slug, background=True)
    if path == "chart":
        await asyncio.to_thread(package_chart, lookup.summary)
    package_card(lookup.summary)
    return time.perf_counter() - started


async def sequential(runtime: Runtime, slugs: Sequence[str], path: str) -> list[float]:
    return [await ask(runtime, slug, path) for slug in slugs]


async def concurrent(runtime: Runtime, slugs: Sequence[str], path: str) -> list[float]:
    latencies: list[float] = []
    for start in range(0, len(slugs), CONCURRENT_USERS):
        batch = slugs[start : start + CONCURRENT_USERS]
        latencies += await asyncio.gather(*(ask(runtime, slug, path) for slug in batch))
    return latencies


Mode = Callable[[Runtime, Sequence[str], str], Awaitable[list[float]]]
MODES: tuple[Mode, ...] = (sequential, concurrent)


async def measure(
    case: str, mode: Mode, path: str, runtime: Runtime, slugs: Sequence[str]
) -> dict[str, object]:
    commit_chart.cache_clear()  # `stale` asks for `fresh`'s packages: every chart drawn anew
    requests_before = runtime.client.requests_made
    latencies = await mode(runtime, slugs, path)
    await runtime.monitor.background_refreshes()
    requests = runtime.client.requests_made - requests_before
    return {
        "case": case,
        "mode": mode.__name__,
        "path": path,
        "users": CONCURRENT_USERS if mode is concurrent else 1,
        "calls": len(latencies),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 2),
        "max_ms": round(max(latencies) * 1000, 2),
        "target_p95_ms": None if case == "unseen" else TARGET_P95_MS,
        "api_requests_per_call": round(requests / len(latencies), 2),
        "measured_through": MEASURED_THROUGH[path],
    }


async def run(packages: int, latency: float, calls: int) -> None:
    slugs = [payload["slug"] for payload in synthetic_catalog(packages)]
    runs = [(mode, path) for path in MEASURED_THROUGH for mode in MODES]
    picks = iter(random.Random(0).sample(slugs, 2 * len(runs) * calls))
    unseen_picks = [[next(picks) for _ in range(calls)] for _ in runs]
    seen_picks = [[next(picks) for _ in range(calls)] for _ in runs]
    with tempfile.TemporaryDirectory() as scratch, FakeApiProcess(packages, latency) as base_url:
        settings = Settings(
            _env_file=None,
            djp_api_url=base_url,
            database_url=f"sqlite+aiosqlite:///{scratch}/bench.db",
        )
        clock = Clock(datetime.now(UTC))
        database = Database.from_url(settings.database_url)
        await database.upgrade()
        async with DjangoPackagesClient.from_settings(settings) as client:
            monitor = Monitor(client, database, monitor_settings(settings), clock=clock)
            pacer = Pacer(delivery_budget(settings.discord_global_rate))
            runtime = Runtime(settings, database, client, monitor, clock=clock, pacer=pacer)
            for (mode, path), chosen in zip(runs, unseen_picks, strict=True):
                emit(await measure("unseen", mode, path, runtime, chosen))
            await monitor.sync_catalog()
            for (mode, path), chosen in zip(runs, seen_picks, strict=True):
                clock.now = datetime.now(UTC)
                emit(await measure("fresh", mode, path, runtime, chosen))
                clock.advance(timedelta(hours=2))
                emit(await measure("stale", mode, path, runtime, chosen))
        await database.dispose()


def emit(figures: dict[str, object]) -> None:
    print(json.dumps(figures), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=6000, help="synthetic catalog size")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per API response")
    parser.add_argument("--calls", type=int, default=100, help="calls per case and mode")
    args = parser.parse_args()
    asyncio.run(run(args.packages, args.latency, args.calls))


if __name__ == "__main__":
    main()
