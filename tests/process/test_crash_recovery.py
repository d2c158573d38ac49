"""Crash tests: the real `djp-sentinel` in a subprocess, SIGKILLed at chosen moments.

The bot runs against the fake Discord and the fake Django Packages API served by this test's
event loop, on a SQLite file. It is killed during a refresh cycle (before, inside and after
the transaction that writes the release's alerts) and during the delivery of 250 alerts
(before a post reaches Discord; after Discord accepted a post, before the bot heard back),
then started again: every channel must end up with its alert exactly once, within 30 s of the
restart. Each case prints its figures as a JSON line (`pytest -s` shows them).

Two delivery processes (headless `poll`) on one PostgreSQL database must post every alert
exactly once between them; on one SQLite file the second is refused and the first posts every
alert once (the claims are atomic on SQLite too: `test_storage_outbox` races two engines).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.database import Database
from storage.models import Alert, AlertStatus
from tests.fakes.discord_api import WEBHOOK_TEST_HOST, FakeDiscord
from tests.fakes.discord_runner import DiscordScene
from tests.fakes.djp_api import FakeDjangoPackages
from tests.plugins.database import TEST_DATABASE_URL, migrated
from tests.plugins.fleet import fresh_postgres_database
from tests.plugins.release import FLATBLOCKS, NEW, follow_in_channels, release_in_channels

CHANNELS = 250
#: The promise under test: everything delivered this long after a restart.
RECOVERY = 30.0
KILLED = -signal.SIGKILL


@dataclass(frozen=True)
class Figures:
    """What a crash case measured: alerts expected, delivered, duplicated, and the time from
    the restart to the last alert posted."""

    case: str
    expected: int
    delivered: int
    duplicated: int
    seconds_after_restart: float

    def print(self) -> None:
        print(json.dumps(asdict(self)))


class Sentinel:
    """One `djp-sentinel` subprocess (`run` or `poll`) at a time, started and SIGKILLed."""

    def __init__(self, env: dict[str, str], cwd: Path, *args: str) -> None:
        self.env = env
        self.cwd = cwd
        self.args = args
        self.process: asyncio.subprocess.Process | None = None
        self.log = cwd / "sentinel.log"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def start(self) -> None:
        with self.log.open("a") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                *self.args,
                env=self.env,
                cwd=self.cwd,
                stdout=log,
                stderr=log,
            )

    async def kill(self) -> None:
        """SIGKILL, and reap the process (a zombie would still look alive to its successor)."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
        assert await self.process.wait() == KILLED

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


@dataclass
class World:
    """The fakes, the database file, and the bot's environment."""

    scene: DiscordScene
    api: FakeDjangoPackages
    database: Database
    db_path: Path
    env: dict[str, str]
    cwd: Path

    @property
    def fake(self) -> FakeDiscord:
        return self.scene.fake

    def bot(self) -> Sentinel:
        return Sentinel(self.env, self.cwd, "run")

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Sentinel]:
        """A bot started, and stopped on the way out however the test went."""
        bot = self.bot()
        await bot.start()
        try:
            yield bot
        finally:
            await bot.stop()

    async def pending(self) -> int:
        async with self.database.session() as session:
            query = select(func.count()).where(Alert.status == AlertStatus.PENDING)
            return await session.scalar(query) or 0

    async def alerts(self) -> int:
        async with self.database.session() as session:
            return await session.scalar(select(func.count()).select_from(Alert)) or 0

    async def restart(self, bot: Sentinel, case: str, channels: list[int]) -> Figures:
        """Start `bot` again; once every channel has a message and nothing is pending, count."""
        restarted = datetime.now(UTC)
        await bot.start()
        await self.fake.state.wait_until(
            lambda: all(self.fake.messages(c) for c in channels), "an alert in every channel"
        )
        async with asyncio.timeout(RECOVERY):
            while await self.pending():  # noqa: ASYNC110 (the database has no event to wait on)
                await asyncio.sleep(0.2)
        posted = {c: self.fake.messages(c) for c in channels}
        counts = [len(messages) for messages in posted.values()]
        last = max(datetime.fromisoformat(m.timestamp) for ms in posted.values() for m in ms)
        figures = Figures(
            case,
            expected=len(channels),
            delivered=sum(1 for n in counts if n),
            duplicated=sum(1 for n in counts if n > 1),
            seconds_after_restart=round(max((last - restarted).total_seconds(), 0.0), 2),
        )
        figures.print()
        return figures


def sentinel_env(api: FakeDjangoPackages, fake: FakeDiscord, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "DATABASE_"))}
    return env | {
        "DISCORD_TOKEN": fake.token,
        "DISCORD_API_BASE": fake.api_base,
        "DISCORD_GATEWAY_URL": fake.gateway_url,
        "WEBHOOK_TEST_HOST": WEBHOOK_TEST_HOST,
        "DATABASE_URL": database_url,
        "DJP_API_URL": api.base_url,
        "OSV_API_URL": "",
        "PYPI_URL": "",  # off: nothing here may reach the internet
        "ENDOFLIFE_URL": "",
        "POLL_INTERVAL_SECONDS": "3600",
        "LOG_LEVEL": "INFO",
    }


@pytest.fixture
async def world(djp_api: FakeDjangoPackages, tmp_path: Path) -> AsyncIterator[World]:
    db_path = tmp_path / "sentinel.db"
    url = f"sqlite+aiosqlite:///{db_path}"
    async with FakeDiscord(wait_timeout=RECOVERY) as fake, migrated(url) as database:
        env = sentinel_env(djp_api, fake, url)
        yield World(DiscordScene.build(fake), djp_api, database, db_path, env, tmp_path)


def assert_exactly_once(figures: Figures) -> None:
    assert (figures.delivered, figures.duplicated) == (figures.expected, 0)


# --- killed during delivery -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "accepted"),
    [("delivery: before a post", False), ("delivery: after Discord accepted a post", True)],
)
async def test_killed_while_delivering_every_channel_still_gets_its_alert_once(
    world: World, case: str, accepted: bool
) -> None:
    channels = await release_in_channels(
        world.database, world.fake, world.scene.guild, CHANNELS, now=datetime.now(UTC)
    )
    held = world.fake.hold_post(CHANNELS // 2, accepted=accepted)
    async with world.running() as bot:
        await asyncio.wait_for(held.reached.wait(), RECOVERY)
        await bot.kill()
        held.release()
        figures = await world.restart(bot, case, channels)
    assert_exactly_once(figures)


# --- killed during a refresh cycle ------------------------------------------------------------


def kill_inside_a_write(pid: int, db_path: Path, armed: threading.Event) -> bool:
    """Once `armed`, freeze the process the moment it holds SQLite's write lock, and SIGKILL it
    there.

    Probes the lock with `BEGIN IMMEDIATE` (no wait); when it is taken, SIGSTOP the process and
    probe again: still taken means the process is frozen inside its write transaction.
    """
    if not armed.wait(RECOVERY):
        return False
    probe = sqlite3.connect(db_path, timeout=0, isolation_level=None)
    deadline = time.monotonic() + RECOVERY
    try:
        while time.monotonic() < deadline:
            try:
                probe.execute("BEGIN IMMEDIATE")
                probe.execute("ROLLBACK")
                continue
            except sqlite3.OperationalError:
                pass
            os.kill(pid, signal.SIGSTOP)
            try:
                probe.execute("BEGIN IMMEDIATE")
                probe.execute("ROLLBACK")
            except sqlite3.OperationalError:
                os.kill(pid, signal.SIGKILL)
                return True
            os.kill(pid, signal.SIGCONT)
        return False
    finally:
        probe.close()


async def refresh_with_release(world: World) -> list[int]:
    """Channels following django-flatblocks, whose next refresh finds a new release."""
    followed = await follow_in_channels(
        world.database, world.fake, world.scene.guild, CHANNELS, now=datetime.now(UTC)
    )
    world.api.update_package(FLATBLOCKS, pypi_version=NEW)
    return list(followed)


async def test_killed_before_the_cycles_transaction_the_next_start_announces_the_release_once(
    world: World,
) -> None:
    channels = await refresh_with_release(world)
    world.api.inject("hang", path=f"/packages/{FLATBLOCKS}/")
    async with world.running() as bot:
        await until(lambda: any(str(FLATBLOCKS) in r.path for r in world.api.requests))
        await bot.kill()
        assert await world.alerts() == 0
        figures = await world.restart(bot, "refresh: before the transaction", channels)
    assert_exactly_once(figures)


async def test_killed_inside_the_cycles_transaction_nothing_of_it_remains_and_it_runs_again(
    world: World,
) -> None:
    channels = await refresh_with_release(world)
    world.api.latency = 0.3  # time to arm the probe between the fetch and the transaction
    armed = threading.Event()
    async with world.running() as bot:
        try:
            # A task, so the probe's thread starts now and waits for `armed`, not at `await`.
            inside = asyncio.create_task(
                asyncio.to_thread(kill_inside_a_write, bot.pid, world.db_path, armed)
            )
            await until(lambda: any(str(FLATBLOCKS) in r.path for r in world.api.requests))
            armed.set()
            assert await inside
            await bot.kill()
            assert await world.alerts() == 0
            world.api.latency = 0.0
            figures = await world.restart(bot, "refresh: inside the transaction", channels)
        finally:
            armed.set()
    assert_exactly_once(figures)


async def test_killed_after_the_cycles_transaction_its_alerts_are_delivered_once(
    world: World,
) -> None:
    channels = await refresh_with_release(world)
    held = world.fake.hold_post(1, accepted=False)
    async with world.running() as bot:
        await asyncio.wait_for(held.reached.wait(), RECOVERY)
        await bot.kill()
        held.release()
        assert await world.alerts() == CHANNELS
        figures = await world.restart(bot, "refresh: after the transaction", channels)
    assert_exactly_once(figures)


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(RECOVERY):
        while not condition():  # noqa: ASYNC110 (a request log to watch, not an event)
            await asyncio.sleep(0.02)


# --- two delivery processes on one database ----------------------------------------------------


async def deliver_with_two_processes(
    url: str, api: FakeDjangoPackages, directory: Path
) -> list[bool]:
    """400 webhook alerts pending, two `poll` processes started at once: they share them."""
    async with FakeDiscord(wait_timeout=RECOVERY) as fake, migrated(url) as database:
        scene = DiscordScene.build(fake)
        channels = await release_in_channels(
            database, fake, scene.guild, 400, now=datetime.now(UTC), webhooks=True
        )
        env = sentinel_env(api, fake, url)
        workers = [Sentinel(env, directory, "poll") for _ in range(2)]
        try:
            await asyncio.gather(*(worker.start() for worker in workers))
            await fake.state.wait_until(
                lambda: all(fake.messages(c) for c in channels), "an alert in every channel"
            )
            await asyncio.sleep(1.0)  # room for a second post, if one were coming
            running = [w.process.returncode is None for w in workers]  # type: ignore[union-attr]
        finally:
            for worker in workers:
                await worker.stop()
        counts = [len(fake.messages(c)) for c in channels]
        print(json.dumps({"processes": sum(running), "alerts": 400, "posted": sum(counts)}))
        assert counts == [1] * 400
        return running


async def test_two_delivery_processes_on_postgresql_post_every_alert_once(
    djp_api: FakeDjangoPackages, tmp_path: Path
) -> None:
    if TEST_DATABASE_URL is None:
        pytest.skip("set TEST_DATABASE_URL to run on PostgreSQL")
    async with fresh_postgres_database(TEST_DATABASE_URL) as url:
        running = await deliver_with_two_processes(url, djp_api, tmp_path)
    assert running == [True, True]


async def test_a_second_process_on_one_sqlite_file_is_refused_and_every_alert_goes_out_once(
    djp_api: FakeDjangoPackages, tmp_path: Path
) -> None:
    """SQLite serves one long-running process (`storage.coordination`); the claims would be
    atomic anyway (`test_storage_outbox`), the second process simply never starts."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    running = await deliver_with_two_processes(url, djp_api, tmp_path)
    assert sorted(running) == [False, True]
    assert "SQLite serves one bot process" in (tmp_path / "sentinel.log").read_text()
