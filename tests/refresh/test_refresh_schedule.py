"""A watched package is refreshed once per POLL_INTERVAL_SECONDS, measured on a real process.

`djp-sentinel poll` (headless) runs against the fake Django Packages with a one-second
interval; the test counts the package's requests over several intervals. Nothing here asserts
a time: the window is only where the requests are counted.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tests.fakes.djp_api import FakeDjangoPackages
from tests.plugins.database import follow, migrated

FLATBLOCKS = 265
INTERVALS = 10
#: Refreshes per interval may be off by one over the window, no more (10% of 10 intervals).
TOLERANCE = 1


def package_requests(api: FakeDjangoPackages) -> int:
    return sum(1 for r in api.requests if r.path.endswith(f"/packages/{FLATBLOCKS}/"))


async def until_fetched(api: FakeDjangoPackages, times: int) -> None:
    """Wait (at most 60 s, for a process starting on a busy machine) for the `times`-th fetch."""
    async with asyncio.timeout(60):
        while True:
            if package_requests(api) >= times:
                return
            await asyncio.sleep(0.05)


@asynccontextmanager
async def polling(env: dict[str, str], cwd: Path, interval: int) -> AsyncIterator[None]:
    """`djp-sentinel poll` running with this interval, stopped with SIGTERM on exit."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "poll",
        env=env | {"POLL_INTERVAL_SECONDS": str(interval)},
        cwd=cwd,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, err.decode()


async def test_a_watched_package_is_refreshed_once_per_interval_even_after_a_longer_one(
    cli_env: dict[str, str], tmp_path: Path, djp_api: FakeDjangoPackages
) -> None:
    async with migrated(cli_env["DATABASE_URL"]) as database:
        await follow(database, channel=2, target_id=FLATBLOCKS, guild=1)
    async with polling(cli_env, tmp_path, interval=3600):  # stored: next refresh in an hour
        await until_fetched(djp_api, 1)

    async with polling(cli_env, tmp_path, interval=1):
        await until_fetched(djp_api, 2)  # at once: the hour-long schedule is not waited out
        before = package_requests(djp_api)
        await asyncio.sleep(INTERVALS)
        refreshes = package_requests(djp_api) - before

    assert abs(refreshes - INTERVALS) <= TOLERANCE, f"{refreshes} refreshes in {INTERVALS} s"
