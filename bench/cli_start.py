"""Benchmark: CPU and memory of `djp-sentinel` commands that need neither Discord nor the
database schema (`--version`, `--help`, a subcommand's `--help`, `run` without a token).

Each command runs as a fresh process several times; printed as JSON lines with the median CPU
seconds (user + system) and the limit (0.3 CPU-s). The floor is a bare
`python -c pass` on the same interpreter.

    python bench/cli_start.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT_CPU_S = 0.3
COMMANDS = {
    "floor (python -c pass)": ["-c", "pass"],
    "--version": ["-m", "bot", "--version"],
    "--help": ["-m", "bot", "--help"],
    "stale --help": ["-m", "bot", "stale", "--help"],
    "run without DISCORD_TOKEN": ["-m", "bot", "run"],
}


def measure(args: list[str]) -> float:
    """CPU seconds of one run of `python ARGS`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per command")
    runs = parser.parse_args().runs
    for name, args in COMMANDS.items():
        cpu = statistics.median(measure(args) for _ in range(runs))
        line = {
            "bench": "cli-start",
            "command": name,
            "runs": runs,
            "cpu_s_median": round(cpu, 3),
            "limit_cpu_s": LIMIT_CPU_S,
        }
        print(json.dumps(line))


if __name__ == "__main__":
    main()
