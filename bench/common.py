"""What the benchmarks share: the fake Django Packages API in a process of its own, a clock
they move by hand, and percentiles.

Each benchmark is a script (`python bench/NAME.py`) printing one JSON object per line.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class FakeApiProcess:
    """`python -m tests.fakes.djp_api` serving a synthetic catalog on a free port, so its CPU
    is not the bot's; entering it gives the API base URL."""

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


class Clock:
    """The monitor's clock: real time plus however far the benchmark moved it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, span: timedelta) -> None:
        self.now += span


def percentile(values: Sequence[float], fraction: float) -> float:
    """The value below which `fraction` of `values` fall (nearest rank)."""
    ordered = sorted(values)
    rank = max(1, round(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]
