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


class FakeServerProcess:
    """`python -m MODULE ARGS` (a fake upstream) in a process of its own, so its CPU is not
    the bot's; entering it gives the base URL its first line announces."""

    def __init__(self, module: str, args: list[str], announced: str) -> None:
        self.args = [sys.executable, "-m", module, "--port", "0", *args]
        self.announced = re.compile(announced)

    def __enter__(self) -> str:
        self.process = subprocess.Popen(self.args, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        banner = self.process.stdout.readline()
        match = self.announced.search(banner)
        if match is None:
            self.process.kill()
            raise RuntimeError(f"the fake did not start: {banner!r}")
        return match.group(1)

    def __exit__(self, *exc_info: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


class FakeApiProcess(FakeServerProcess):
    """The fake Django Packages API serving a synthetic catalog; gives the API base URL."""

    def __init__(self, packages: int, latency: float) -> None:
        args = ["--synthetic", str(packages), "--latency", str(latency)]
        super().__init__("tests.fakes.djp_api", args, r"(http://\S+/api/v4/)")


class FakePypiProcess(FakeServerProcess):
    """The fake PyPI answering for any project name; gives the `PYPI_URL` to use."""

    def __init__(self, latency: float) -> None:
        args = ["--synthetic", "--latency", str(latency)]
        super().__init__("tests.fakes.pypi_api", args, r"PYPI_URL=(http://\S+/)")


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
