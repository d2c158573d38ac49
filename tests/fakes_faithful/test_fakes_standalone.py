"""The fakes run as programs (`python -m tests.fakes.…`, as the README starts them): each one's
first line is the setting that points djp-sentinel at it, and that URL serves what the bot
reads there (Django Packages': `test_fake_djp_api.py`); a port already taken is one line."""

from __future__ import annotations

import asyncio
import re
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).parents[2]
EXPORT = re.compile(r"export (?P<name>[A-Z_]+)=(?P<url>\S+)")


@asynccontextmanager
async def running(module: str, port: int) -> AsyncIterator[str]:
    """`python -m MODULE --port PORT` running; gives the first line it printed."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", module, "--port", str(port), cwd=ROOT,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        yield (await asyncio.wait_for(process.stdout.readline(), timeout=60)).decode()
    finally:
        process.terminate()
        await process.wait()


@pytest.mark.parametrize(
    ("module", "setting", "read_there"),
    [
        ("tests.fakes.pypi_api", "PYPI_URL", "pypi/django-flatblocks/json"),
        ("tests.fakes.osv_api", "OSV_API_URL", "v1/vulns/GHSA-pghf-347x-c2gj"),
    ],
)
async def test_the_first_line_is_the_setting_that_reaches_the_fake(
    module: str, setting: str, read_there: str
) -> None:
    async with running(module, 0) as banner, httpx.AsyncClient() as client:
        found = EXPORT.search(banner)
        assert found is not None, banner
        answer = await client.get(found["url"] + read_there)

    assert found["name"] == setting
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("module", ["djp_api", "pypi_api", "osv_api", "discord_console"])
async def test_a_port_already_taken_is_one_line(module: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", f"tests.fakes.{module}", "--port", str(port), cwd=ROOT,
            stdin=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, err = await asyncio.wait_for(process.communicate(), timeout=60)

    assert process.returncode == 1
    [line] = err.decode().splitlines()
    assert re.fullmatch(
        rf"error: cannot listen on 127\.0\.0\.1 ports? {port}\b.*: Address already in use", line
    ), line
