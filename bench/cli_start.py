"""Benchmark: CPU of `djp-sentinel` commands, each beside a floor measured in the same run.

Data commands (`stale`, `package`, `grid`, `webhook list`) run against a small database (the 9
real packages of the fake Django Packages API, synced once); each one's floor is a bare
interpreter importing the libraries that command needs (storage, settings and terminal; HTTP
for the commands that fetch), and the target is at most 1.3 times it. Commands that need
neither the database nor Discord (`--version`, `--help`, …) are compared with `python -c pass`.

Runs alternate command and floor, each a fresh process; the median CPU seconds (user + system)
of each are printed as JSON lines.

    python bench/cli_start.py [--runs 9]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from common import ROOT, FakeApiProcess

TARGET_RATIO = 1.3
LIMIT_CPU_S = 0.3
#: What every data command needs: SQLAlchemy's asyncio ORM on SQLite, settings, rich tables.
STORAGE_SETTINGS_TERMINAL = (
    "sqlalchemy.ext.asyncio",
    "sqlalchemy.orm",
    "sqlalchemy.dialects.sqlite.aiosqlite",
    "aiosqlite",
    "pydantic_settings",
    "rich.console",
    "rich.table",
)
HTTP = ("httpx",)
#: Each data command, and the libraries of its floor.
DATA_COMMANDS: dict[str, tuple[list[str], tuple[str, ...]]] = {
    "stale": (["stale"], STORAGE_SETTINGS_TERMINAL),
    "package": (["package", "django-flatblocks"], (*STORAGE_SETTINGS_TERMINAL, "rich.panel")),
    "grid": (["grid", "caching"], (*STORAGE_SETTINGS_TERMINAL, *HTTP)),
    "webhook list": (["webhook", "list"], STORAGE_SETTINGS_TERMINAL),
}
LIGHT_COMMANDS = {
    "--version": ["--version"],
    "--help": ["--help"],
    "stale --help": ["stale", "--help"],
    "run without DISCORD_TOKEN": ["run"],
}


def cpu_of(args: list[str], env: dict[str, str]) -> float:
    """CPU seconds (user + system) of one run of `python ARGS`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def compare(
    name: str, command: list[str], floor: list[str], floor_name: str, env: dict[str, str], runs: int
) -> dict[str, object]:
    """Median CPU of `command` and of `floor`, run alternately."""
    measured, floors = [], []
    for _ in range(runs):
        measured.append(cpu_of(command, env))
        floors.append(cpu_of(floor, env))
    cpu, floor_cpu = statistics.median(measured), statistics.median(floors)
    return {
        "bench": "cli-start",
        "command": name,
        "runs": runs,
        "cpu_s_median": round(cpu, 3),
        "floor": floor_name,
        "floor_cpu_s_median": round(floor_cpu, 3),
        "ratio": round(cpu / floor_cpu, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="runs per command and floor")
    runs = parser.parse_args().runs
    env = {k: v for k, v in os.environ.items() if k not in {"DISCORD_TOKEN", "COLUMNS"}}
    env["LOG_LEVEL"] = "WARNING"
    with FakeApiProcess(0, 0.0) as api_url, tempfile.TemporaryDirectory() as folder:
        env |= {
            "DJP_API_URL": api_url,
            "DATABASE_URL": f"sqlite+aiosqlite:///{Path(folder) / 'cli.db'}",
        }
        subprocess.run(
            [sys.executable, "-m", "bot", "sync"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        for name, (args, libraries) in DATA_COMMANDS.items():
            floor = ["-c", "import " + ", ".join(libraries)]
            line = compare(
                name, ["-m", "bot", *args], floor, "import " + ", ".join(libraries), env, runs
            )
            print(json.dumps(line | {"target_ratio": TARGET_RATIO}), flush=True)
    for name, args in LIGHT_COMMANDS.items():
        line = compare(name, ["-m", "bot", *args], ["-c", "pass"], "python -c pass", env, runs)
        print(json.dumps(line | {"limit_cpu_s": LIMIT_CPU_S}), flush=True)


if __name__ == "__main__":
    main()
