"""Several real `djp-sentinel run --role ...` processes on one PostgreSQL database.

async def test_x(fleet: Fleet) -> None:
    await fleet.start("monitor-a", "monitor")
    leader = await fleet.series("monitor-a", "djp_sentinel_monitor_leader")

Each process gets a metrics port of its own; `/healthz` and `/metrics` are read over HTTP, the
way an operator's probes would. The database is a fresh one on the `TEST_DATABASE_URL` server
(not a schema: separate processes cannot be handed a search path), dropped afterwards;
`fleet_on` takes any database URL (one SQLite file: one long-running process).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.fakes.discord_api import WEBHOOK_TEST_HOST, FakeDiscord
from tests.fakes.djp_api import FakeDjangoPackages
from tests.plugins.database import TEST_DATABASE_URL

ROOT = Path(__file__).resolve().parent.parent.parent
PROBE_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
#: How long `until` waits by default.
SETTLE = 120.0


@asynccontextmanager
async def fresh_postgres_database(server_url: str) -> AsyncIterator[str]:
    """A new, empty database on the server of `server_url`; yields its URL, drops it on exit."""
    name = f"test_{uuid.uuid4().hex}"
    admin = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@asynccontextmanager
async def postgres_fleet(
    directory: Path, fake: FakeDiscord, djp_api: FakeDjangoPackages, **settings: str
) -> AsyncIterator[Fleet]:
    """A `fleet_on` a fresh database of the `TEST_DATABASE_URL` server."""
    assert TEST_DATABASE_URL is not None
    async with (
        fresh_postgres_database(TEST_DATABASE_URL) as url,
        fleet_on(url, directory, fake, djp_api, **settings) as fleet,
    ):
        yield fleet


@asynccontextmanager
async def fleet_on(
    url: str, directory: Path, fake: FakeDiscord, djp_api: FakeDjangoPackages, **settings: str
) -> AsyncIterator[Fleet]:
    """A `Fleet` on the database at `url`, migrated, pointed at the fakes, with `settings` on top
    (no Discord token unless given); every process it started is stopped on exit."""
    names = ("DISCORD_", "DATABASE_URL", "DJP_API_URL", "POLL_INTERVAL", "SHARD_", "METRICS_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(names)}
    env |= {
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": url,
        "DISCORD_API_BASE": fake.api_base,
        "WEBHOOK_TEST_HOST": WEBHOOK_TEST_HOST,
        "DJP_API_URL": djp_api.base_url,
        "OSV_API_URL": "",  # no advisory source: nothing here reaches the internet
        "PYPI_URL": "",  # nor PyPI, nor endoflife.date
        "ENDOFLIFE_URL": "",
        "LOG_LEVEL": "INFO",
        **settings,
    }
    fleet = Fleet(env, directory)
    code, err = await fleet.cli("db", "upgrade")
    assert code == 0, err
    try:
        yield fleet
    finally:
        await fleet.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def until_healthy(port: int) -> httpx.Response:
    """Poll `/healthz` on `port` until it answers 200 (or give up after `PROBE_TIMEOUT`)."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        async with asyncio.timeout(PROBE_TIMEOUT):
            while True:
                try:
                    response = await http.get("/healthz")
                    if response.status_code == 200:
                        return response
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)


async def until(condition: Callable[[], object], what: str, within: float = SETTLE) -> float:
    """Wait until `condition()` (sync or async) is true; the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return time.monotonic() - started
        await asyncio.sleep(0.1)
    raise TimeoutError(f"{what}: not within {within:.0f} s")


@dataclass
class Member:
    """One process of the fleet."""

    name: str
    process: asyncio.subprocess.Process
    port: int
    log: Path


@dataclass
class Fleet:
    """Starts, probes and stops the processes; every one shares `environment`."""

    environment: dict[str, str]
    directory: Path
    members: dict[str, Member] = field(default_factory=dict)

    async def cli(self, *args: str) -> tuple[int, str]:
        """Run a short command to completion; its exit code and stderr."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            *args,
            cwd=self.directory,
            env=self.environment,
            stderr=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
        )
        _, err = await asyncio.wait_for(process.communicate(), PROBE_TIMEOUT)
        assert process.returncode is not None
        return process.returncode, err.decode()

    async def start(self, name: str, roles: str, **settings: str) -> Member:
        """`djp-sentinel run --role roles` with its own metrics port; its log in a file."""
        return await self.launch(name, "run", "--role", roles, **settings)

    async def launch(self, name: str, *args: str, **settings: str) -> Member:
        """`djp-sentinel args` (a long-running command: `run`, `poll`) with its own metrics port;
        its log in a file."""
        port = free_port()
        log = self.directory / f"{name}.log"
        env = self.environment | settings | {"METRICS_PORT": str(port)}
        with log.open("wb") as output:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                *args,
                cwd=self.directory,
                env=env,
                stdout=output,
                stderr=output,
            )
        member = Member(name, process, port, log)
        self.members[name] = member
        return member

    async def healthy(self, *names: str) -> None:
        """Wait until every named process answers 200 on `/healthz`."""
        for name in names:
            await until_healthy(self.members[name].port)

    async def series(self, name: str, metric: str, **labels: str) -> float:
        """The sum of a metric's samples matching `labels` on the process's `/metrics`."""
        async with httpx.AsyncClient() as http:
            body = (await http.get(self._url(name, "/metrics"))).text
        return sum(
            sample.value
            for family in text_string_to_metric_families(body)
            for sample in family.samples
            if sample.name == metric and labels.items() <= sample.labels.items()
        )

    def kill(self, name: str) -> None:
        """SIGKILL: no goodbye, no lock released by hand, no lease settled."""
        self.members[name].process.send_signal(signal.SIGKILL)

    async def leader(self, *names: str) -> str:
        """Which of the named monitors leads, once exactly one does (within `PROBE_TIMEOUT`)."""
        async with asyncio.timeout(PROBE_TIMEOUT):
            while True:
                leading = [n for n in names if await self.series(n, "djp_sentinel_monitor_leader")]
                if len(leading) == 1:
                    return leading[0]
                await asyncio.sleep(0.2)

    async def cycled(self, name: str) -> bool:
        """Whether the process leads and has run a refresh cycle."""
        leads = await self.series(name, "djp_sentinel_monitor_leader")
        return bool(leads) and await self.series(name, "djp_sentinel_cycles_total") > 0

    async def stop(self) -> dict[str, int]:
        """SIGTERM every process still running; their exit codes."""
        for member in self.members.values():
            if member.process.returncode is None:
                member.process.send_signal(signal.SIGTERM)
        codes = {}
        for name, member in self.members.items():
            codes[name] = await asyncio.wait_for(member.process.wait(), STOP_TIMEOUT)
        return codes

    def logs(self) -> str:
        return "\n".join(
            f"--- {m.name}\n{m.log.read_text()[-3000:]}" for m in self.members.values()
        )

    def _url(self, name: str, path: str) -> str:
        return f"http://127.0.0.1:{self.members[name].port}{path}"
