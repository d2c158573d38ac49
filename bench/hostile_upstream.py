"""Benchmark: what a hostile upstream costs the client, in peak memory.

The fake Django Packages API runs in this process; each scenario runs the real
`DjangoPackagesClient` in a child process of its own and reports that process's peak resident
memory (`VmHWM`: unlike `ru_maxrss`, which Linux carries over from the forking parent
across `exec`, it is this process's own), so each figure is one crawl's alone. Printed as
JSON lines:

- `imports`: the child with the client imported and nothing fetched;
- `floor`: a normal crawl of the same synthetic catalog (the least a crawl costs);
- `huge-count`: the same catalog, but page 1 claims `count` = 1,000,000,000 (before the
  bound: 499,998 page tasks scheduled and 1.3 GB);
- `gzip-bomb`: every answer for one package is a ~1 MiB gzip body inflating to 1.1 GB
  (before the cap: inflated whole, 1.1 GB);
- `deep-json`: JSON nested 100,000 deep (before: a `RecursionError` escaped).

    python bench/hostile_upstream.py [--packages 6000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.djp.client import DjangoPackagesClient  # noqa: E402
from bot.djp.retry import RetryPolicy  # noqa: E402
from bot.errors import SentinelError  # noqa: E402
from tests.fakes.djp_api import FakeDjangoPackages, synthetic_content  # noqa: E402

BOMB_BYTES = 1_100_000_000
NO_WAITING = RetryPolicy(attempts=4, base_delay=0.0)


def peak_kib() -> int:
    """This process's peak resident memory so far, in KiB (Linux's `VmHWM`)."""
    status = Path("/proc/self/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1])


async def child(scenario: str, base_url: str) -> None:
    """One crawl (or one package) against the fake; prints the outcome and peak memory."""
    import httpx

    imported_kib = peak_kib()
    started = time.perf_counter()
    async with DjangoPackagesClient(
        httpx.AsyncClient(timeout=30), base_url=base_url, retry=NO_WAITING, owns_http=True
    ) as client:
        try:
            if scenario == "imports":
                outcome = "nothing fetched"
            elif scenario == "gzip-bomb":
                await client.package(1)
                outcome = "read"
            else:
                seen = {p.id async for page in client.catalog() for p in page.payloads}
                outcome = f"{len(seen)} packages"
        except SentinelError as exc:
            outcome = f"{type(exc).__name__}: {exc}"
        requests = client.requests_made
    peak = peak_kib()
    print(
        json.dumps(
            {
                "scenario": scenario,
                "peak_rss_mib": round(peak / 1024, 1),
                "peak_after_imports_mib": round(imported_kib / 1024, 1),
                "requests": requests,
                "seconds": round(time.perf_counter() - started, 2),
                "outcome": outcome[:160],
            }
        ),
        flush=True,
    )


async def run_child(scenario: str, base_url: str) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--child", scenario, base_url, cwd=ROOT
    )
    await process.wait()


async def main(packages: int) -> None:
    async with FakeDjangoPackages(synthetic_content(packages, 0)) as api:
        await run_child("imports", api.base_url)
        await run_child("floor", api.base_url)
        api.claimed_count = 10**9
        await run_child("huge-count", api.base_url)
        api.claimed_count = None
        api.bomb_bytes = BOMB_BYTES
        api.inject("gzip-bomb", times=NO_WAITING.attempts, path="/packages/1/")
        await run_child("gzip-bomb", api.base_url)
        api.inject("deep-json", times=NO_WAITING.attempts, path="/packages/")
        await run_child("deep-json", api.base_url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=6000)
    parser.add_argument("--child", nargs=2, metavar=("SCENARIO", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(child(*args.child))
    else:
        asyncio.run(main(args.packages))
