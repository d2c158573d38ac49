"""Running the `djp-sentinel` command line as a real subprocess against the fakes."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fakes.djp_api import FakeDjangoPackages


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli_env(djp_api: FakeDjangoPackages, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DISCORD_TOKEN", "DATABASE_URL"}}
    env |= {
        "DJP_API_URL": djp_api.base_url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
        "LOG_LEVEL": "WARNING",
        "COLUMNS": "120",
    }
    return env


async def djp_sentinel(env: dict[str, str], cwd: Path, *args: str) -> Result:
    """Run the CLI while this event loop keeps serving the fake API."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return Result(process.returncode, out.decode(), err.decode())
