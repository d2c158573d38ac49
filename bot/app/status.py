"""How the bot is doing, for `/status` and `djp-sentinel status`: the last refresh cycle, the
outbox, each optional source (PyPI, endoflife.date, OSV) and the processes, all read from the
database, so a separate process (the command line) sees what the running bot did."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.app.runtime import Runtime
from bot.core.plural import counted
from bot.core.source_health import Source, SourceHealth
from bot.core.timefmt import describe_span
from bot.refresh.pypi_pass import ENDOFLIFE_FIRST_RETRY, ENDOFLIFE_INTERVAL
from storage import cycles, outbox, packages, source_health, workers
from storage.coordination import MONITOR_LOCK, lock_holders, shard_lock
from storage.models import Cycle
from storage.workers import LIVE_WITHIN

NO_REFRESH_YET = "none yet: the first one runs at start-up"
#: Delivery workers named in the status (a Discord field holds 1,024 characters).
NAMED_WORKERS = 5
#: The setting that turns each source off when empty.
SETTINGS = {Source.PYPI: "PYPI_URL", Source.ENDOFLIFE: "ENDOFLIFE_URL", Source.OSV: "OSV_API_URL"}
#: Words a moment (`format_dt` in Discord, a UTC time on a terminal).
When = Callable[[datetime], str]
#: Makes upstream text safe where it is shown (escaping for Discord, for a terminal).
Shown = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class SourceStatus:
    source: Source
    #: The setting that turns the source off when empty.
    setting: str
    on: bool
    health: SourceHealth | None

    def next_read(self) -> datetime | None:
        """When endoflife.date is asked next (PyPI's projects each keep their own time)."""
        if self.source is not Source.ENDOFLIFE or self.health is None:
            return None
        return self.health.next_ask(ENDOFLIFE_INTERVAL, ENDOFLIFE_FIRST_RETRY)

    def describe(self, now: datetime, when: When, shown: Shown) -> list[str]:
        """One line per fact: on or off, the last pass's requests, 304s and failures, the last
        good read (with the data's age for endoflife.date), the next read, the last error."""
        if not self.on:
            return [f"off ({self.setting} is empty)"]
        health = self.health
        if health is None:
            return ["on, not asked yet: the first pass runs after the first refresh"]
        run = health.last
        not_modified = "" if self.source is Source.OSV else f"{run.not_modified} not modified, "
        lines = [
            f"last pass {when(health.checked_at)}: {counted(run.requests, 'request')}, "
            f"{not_modified}{counted(run.failures, 'failure')}"
            + (" (gave up this cycle)" if run.gave_up else "")
        ]
        if health.read_at is None:
            lines.append("no good answer yet")
        elif self.source is Source.ENDOFLIFE:
            lines.append(f"last good read {when(health.read_at)} ({_age(now - health.read_at)})")
        else:
            lines.append(f"last good answer {when(health.read_at)}")
        if health.failed_runs:
            passes = counted(health.failed_runs, "pass", "passes")
            lines.append(f"failing: {passes} in a row read nothing")
        if (next_read := self.next_read()) is not None:
            lines.append(f"next read {when(next_read)}")
        if health.last_error and health.last_error_at:
            lines.append(f"last error {when(health.last_error_at)}: {shown(health.last_error)}")
        return lines


def _age(span: timedelta) -> str:
    """How old data read `span` ago is: "less than an hour old", "5 hours old", "2 days old"."""
    hours = span // timedelta(hours=1)
    if hours < 1:
        return "less than an hour old"
    if span < timedelta(days=1):
        return f"{counted(hours, 'hour')} old"
    return f"{describe_span(span)} old"


@dataclass(frozen=True, slots=True)
class ProcessesStatus:
    """Who does what, as far as the database can tell: the delivery workers that beat lately
    (every backend), and on PostgreSQL who holds the monitor's lock and each gateway shard's
    (by `application_name`; the shards only when `SHARD_COUNT` says how many there are)."""

    delivery_workers: list[str]
    #: None: the database cannot tell (SQLite, one process holding no lock).
    holders: dict[str, str] | None
    shard_count: int | None

    def describe(self, shown: Shown) -> list[str]:
        workers = self.delivery_workers
        named = [shown(name) for name in workers[:NAMED_WORKERS]]
        named += ["…"] if len(workers) > NAMED_WORKERS else []
        lines = [
            f"delivery workers: {len(workers)} live" + (f" ({', '.join(named)})" * bool(named))
        ]
        if self.holders is None:
            return [*lines, "monitor lead and gateway shards: unknown (SQLite keeps no record)"]
        leader = self.holders.get(MONITOR_LOCK)
        lines.append(f"monitor lead: {shown(leader)}" if leader else "monitor lead: none")
        if self.shard_count is None:
            return [*lines, "gateway shards: unknown (SHARD_COUNT is not set)"]
        owners: dict[str | None, list[int]] = {}
        for shard in range(self.shard_count):
            owner = self.holders.get(shard_lock(shard, self.shard_count))
            owners.setdefault(owner, []).append(shard)
        return lines + [
            f"gateway shard(s) {', '.join(map(str, shards))} of {self.shard_count}: "
            + (shown(owner) if owner else "not connected")
            for owner, shards in owners.items()
        ]


@dataclass(frozen=True, slots=True)
class BotStatus:
    last_cycle: Cycle | None
    tracked: int
    pending: int
    sources: tuple[SourceStatus, ...]
    processes: ProcessesStatus


async def processes_status(runtime: Runtime) -> ProcessesStatus:
    """`ProcessesStatus` read now."""
    shard_count = runtime.settings.shard_count or 0
    locks = [MONITOR_LOCK, *(shard_lock(shard, shard_count) for shard in range(shard_count))]
    async with runtime.database.connection() as connection:
        holders = await lock_holders(connection, locks) if _shared(connection) else None
    async with runtime.database.session() as session:
        live = await workers.live_names(session, now=runtime.clock(), within=LIVE_WITHIN)
    return ProcessesStatus(live, holders, runtime.settings.shard_count)


def _shared(connection: AsyncConnection) -> bool:
    return connection.dialect.name == "postgresql"


def next_refresh(runtime: Runtime, last: Cycle) -> datetime:
    """When the refresh after `last` is due."""
    return last.started_at + timedelta(seconds=runtime.settings.poll_interval_seconds)


def describe_cycle(cycle: Cycle) -> str:
    """A refresh cycle's figures in one line: "1 package and 2 grids fetched, …"."""
    return (
        f"{counted(cycle.packages_fetched, 'package')} and "
        f"{counted(cycle.grids_fetched, 'grid')} fetched, {counted(cycle.changes, 'change')}, "
        f"{counted(cycle.alerts_enqueued, 'alert')}, {counted(cycle.packages_failed, 'failure')}"
    )


def _on(runtime: Runtime) -> dict[Source, bool]:
    """Which sources this process reads (it has a client for)."""
    sources = runtime.sources
    return {
        Source.PYPI: sources is not None and sources.pypi is not None,
        Source.ENDOFLIFE: sources is not None and sources.endoflife is not None,
        Source.OSV: runtime.advisories is not None,
    }


async def bot_status(runtime: Runtime) -> BotStatus:
    async with runtime.database.session() as session:
        last = await cycles.last_cycle(session)
        tracked = await packages.package_count(session)
        pending = await outbox.pending_count(session)
        health = await source_health.source_health(session)
    sources = tuple(
        SourceStatus(source, SETTINGS[source], on, health.get(source))
        for source, on in _on(runtime).items()
    )
    return BotStatus(last, tracked, pending, sources, await processes_status(runtime))
