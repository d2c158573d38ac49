"""Benchmark: `/package` latency with the upstream at 100 ms, one user and 20 at once.

Measured through the code path the cog runs, without the Discord round trip:
`bot.app.summaries.look_up_package(..., background=True)` and `package_card`, on SQLite, with
the fake Django Packages API in its own process. Three cases, each sequential and then in
rounds of 20 concurrent calls, each call a different package:

- `fresh`: every package stored by a sync a moment ago (answered from the stored copy);
- `stale`: the same copies two hours later (answered from the stored copy, each refreshed in
  the background: one API request per call, counted once the refreshes are done);
- `unseen`: an empty database (every call fetched live, as for a package never seen).

One JSON line per case and mode: p50, p95 and max in milliseconds, and API requests per call.

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
from bot.refresh.monitor import Monitor
from storage.database import Database
from tests.fakes.djp_data import synthetic_catalog

CONCURRENT_USERS = 20
MEASURED_THROUGH = "bot.app.summaries.look_up_package + package_card (the cog, minus Discord)"


async def ask(runtime: Runtime, slug: str) -> float:
    """One `/package` answer; its latency in seconds."""
    started = time.perf_counter()
    lookup = await look_up_package(runtime, slug, background=True)
    package_card(lookup.summary)
    return time.perf_counter() - started


async def sequential(runtime: Runtime, slugs: Sequence[str]) -> list[float]:
    return [await ask(runtime, slug) for slug in slugs]


async def concurrent(runtime: Runtime, slugs: Sequence[str]) -> list[float]:
    latencies: list[float] = []
    for start in range(0, len(slugs), CONCURRENT_USERS):
        batch = slugs[start : start + CONCURRENT_USERS]
        latencies += await asyncio.gather(*(ask(runtime, slug) for slug in batch))
    return latencies


Mode = Callable[[Runtime, Sequence[str]], Awaitable[list[float]]]


async def measure(
    case: str, mode: Mode, runtime: Runtime, slugs: Sequence[str]
) -> dict[str, object]:
    requests_before = runtime.client.requests_made
    latencies = await mode(runtime, slugs)
    await runtime.monitor.background_refreshes()
    requests = runtime.client.requests_made - requests_before
    return {
        "case": case,
        "mode": mode.__name__,
        "users": CONCURRENT_USERS if mode is concurrent else 1,
        "calls": len(latencies),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 2),
        "max_ms": round(max(latencies) * 1000, 2),
        "api_requests_per_call": round(requests / len(latencies), 2),
        "measured_through": MEASURED_THROUGH,
    }


async def run(packages: int, latency: float, calls: int) -> None:
    slugs = [payload["slug"] for payload in synthetic_catalog(packages)]
    picks = random.Random(0).sample(slugs, 4 * calls)
    unseen_picks, seen_picks = picks[: 2 * calls], picks[2 * calls :]
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
            for mode, chosen in (
                (sequential, unseen_picks[:calls]),
                (concurrent, unseen_picks[calls:]),
            ):
                emit(await measure("unseen", mode, runtime, chosen))
            await monitor.sync_catalog()
            for mode, chosen in (
                (sequential, seen_picks[:calls]),
                (concurrent, seen_picks[calls:]),
            ):
                clock.now = datetime.now(UTC)
                emit(await measure("fresh", mode, runtime, chosen))
                clock.advance(timedelta(hours=2))
                emit(await measure("stale", mode, runtime, chosen))
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
