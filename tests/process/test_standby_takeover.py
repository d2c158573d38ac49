"""Standbys taking over after a SIGKILL of the process they back up, on one PostgreSQL database:
a headless `poll`, a `run --role monitor` (with no Discord token), and a second gateway for the
same shards. The poll interval is an hour: a standby must not wait for it. Each takeover time
is printed (`pytest -s` shows it) beside the bound it is held to.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from bot.discordbot.gateway import LEASE
from bot.discordbot.gateway import STANDBY_CHECK as GATEWAY_STANDBY_CHECK
from bot.process.assembly import STANDBY_CHECK
from tests.fakes.cable import Cable
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.discord_gateway import GatewayConnection
from tests.fakes.discord_runner import DiscordScene
from tests.fakes.djp_api import FakeDjangoPackages
from tests.plugins.database import TEST_DATABASE_URL
from tests.plugins.fleet import Fleet, postgres_fleet, until

pytestmark = pytest.mark.skipif(
    not TEST_DATABASE_URL, reason="set TEST_DATABASE_URL: standbys need PostgreSQL"
)

#: The promise is a first cycle within `STANDBY_CHECK` of the leader's death; on top, the time
#: the cycle itself and the metrics probe take.
MONITOR_BOUND = STANDBY_CHECK + 5.0
#: A spare gateway asks every `GATEWAY_STANDBY_CHECK`, then waits out the owner's `LEASE`; on
#: top, the time its shards connect.
GATEWAY_BOUND = GATEWAY_STANDBY_CHECK + LEASE + 9.0


@pytest.fixture
async def fleet(
    tmp_path: Path, djp_api: FakeDjangoPackages
) -> AsyncIterator[tuple[Fleet, FakeDiscord]]:
    """A migrated database and the fakes; the processes get no Discord token unless given."""
    async with (
        FakeDiscord(wait_timeout=60) as fake,
        postgres_fleet(tmp_path, fake, djp_api, POLL_INTERVAL_SECONDS="3600") as processes,
    ):
        yield processes, fake


@pytest.mark.parametrize(
    "command", [("poll",), ("run", "--role", "monitor")], ids=["poll", "run-monitor"]
)
async def test_a_standby_monitor_cycles_within_seconds_of_the_leaders_death(
    fleet: tuple[Fleet, FakeDiscord], command: tuple[str, ...]
) -> None:
    processes, fake = fleet
    await processes.launch("a", *command)
    await processes.healthy("a")
    await processes.launch("b", *command)
    await processes.healthy("b")
    leader = await processes.leader("a", "b")
    standby = "b" if leader == "a" else "a"
    cycled_before = await processes.cycled(standby)

    processes.kill(leader)
    takeover = await until(
        lambda: processes.cycled(standby), "the standby's first cycle", 3 * MONITOR_BOUND
    )

    print(
        f"\n{' '.join(command)}: standby's first cycle {takeover:.1f} s after SIGKILL of the "
        f"leader (poll interval 3600 s; bound {MONITOR_BOUND:.0f} s)"
    )
    assert not cycled_before
    assert takeover <= MONITOR_BOUND, processes.logs()
    assert fake.requests == []  # no token, no bot: Discord never hears from a monitor
    assert fake.connections == []


async def test_a_leader_whose_lock_went_to_another_says_so_within_seconds(
    fleet: tuple[Fleet, FakeDiscord],
) -> None:
    """The leader's database sessions end while it lives (a failover, an operator) and another
    session takes the monitor's lock: the deposed leader's gauge drops within seconds, not at
    its next cycle an hour later, so no two processes read as leader."""
    processes, _ = fleet
    await processes.start("leader", "monitor")
    await processes.healthy("leader")
    await processes.leader("leader")
    name = f"djp-sentinel:monitor:{processes.members['leader'].process.pid}"

    engine = create_async_engine(processes.environment["DATABASE_URL"])
    try:
        async with engine.connect() as usurper:
            assert await take_the_lead_from(usurper, name)
            await until(lambda: leads(processes, "leader", False), "the gauge at 0", 30)
    finally:
        await engine.dispose()

    log = processes.members["leader"].log.read_text()
    assert "lost the monitor lead with the database connection" in log


async def take_the_lead_from(usurper: AsyncConnection, application_name: str) -> bool:
    """End every session of the process named `application_name`, then take the monitor's
    lock on `usurper`, in one statement (before the process can ask for it again)."""
    taken = await usurper.execute(
        text(
            "WITH ended AS (SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
            "WHERE application_name = :name) "
            "SELECT pg_try_advisory_lock(hashtext('djp-sentinel monitor ' || current_schema())) "
            "FROM (SELECT count(*) FROM ended) AS waited"
        ),
        {"name": application_name},
    )
    return bool(taken.scalar())


async def leads(processes: Fleet, name: str, expected: bool) -> bool:
    return bool(await processes.series(name, "djp_sentinel_monitor_leader")) is expected


async def test_a_second_gateway_stands_by_and_takes_the_shards_over_after_sigkill(
    fleet: tuple[Fleet, FakeDiscord],
) -> None:
    processes, fake = fleet
    DiscordScene.build(fake)  # a guild with a member to run the command
    await processes.start("gateway-a", "gateway", DISCORD_TOKEN=fake.token)
    await until(lambda: len(fake.gateway.live) == 1, "the owner's session", 60)
    await processes.start("gateway-b", "gateway", DISCORD_TOKEN=fake.token)
    await until(lambda: "standing by" in processes.members["gateway-b"].log.read_text(), "spare")
    await processes.healthy("gateway-b")  # a spare is working as it should
    [owner] = fake.gateway.live
    before = await fake.run_command("package", {"slug": "django-flatblocks"})

    processes.kill("gateway-a")
    takeover = await until(lambda: spare_session(fake, owner), "the spare's session", 60)
    after = await fake.run_command("package", {"slug": "django-flatblocks"})

    print(
        f"\ngateway: the spare's session ready {takeover:.1f} s after SIGKILL of the owner "
        f"(bound {GATEWAY_BOUND:.0f} s)"
    )
    assert takeover <= GATEWAY_BOUND, processes.logs()
    assert len(fake.connections) == 2  # the spare never connected beside the owner
    assert "owns gateway shard(s) 0 of 1" in processes.members["gateway-a"].log.read_text()
    assert "took over gateway shard(s) 0 of 1" in processes.members["gateway-b"].log.read_text()
    for answer in (before, after):
        assert answer.embeds[0]["title"] == "django-flatblocks"
        assert answer.errors == []  # answered once: a second answer is refused
    assert fake.violations == []


def spare_session(fake: FakeDiscord, owner: GatewayConnection) -> bool:
    """The one live session is a new one: the spare's."""
    return [c is owner for c in fake.gateway.live] == [False]


async def test_an_owner_that_loses_its_shard_locks_stops_and_the_spare_answers_alone(
    fleet: tuple[Fleet, FakeDiscord],
) -> None:
    processes, fake = fleet
    DiscordScene.build(fake)
    await processes.start("gateway-a", "gateway", DISCORD_TOKEN=fake.token)
    await until(lambda: len(fake.gateway.live) == 1, "the owner's session", 60)
    await processes.start("gateway-b", "gateway", DISCORD_TOKEN=fake.token)
    await until(lambda: "standing by" in processes.members["gateway-b"].log.read_text(), "spare")
    [owner] = fake.gateway.live

    await end_lock_holders(processes)  # the owner's database connection ends; it is alive
    await until(lambda: spare_session(fake, owner), "the spare's session", 60)
    code = await asyncio.wait_for(processes.members["gateway-a"].process.wait(), 30)
    answer = await fake.run_command("package", {"slug": "django-flatblocks"})

    log = processes.members["gateway-a"].log.read_text()
    assert code == 1, log
    assert "error: Lost gateway shard(s) 0 of 1 with the database connection" in log
    assert "Traceback" not in log
    assert answer.errors == []
    assert fake.violations == []


async def test_an_owner_cut_off_from_the_database_stops_before_the_spare_connects(
    fleet: tuple[Fleet, FakeDiscord],
) -> None:
    """The owner's database link breaks without either end noticing: its checks get no answer,
    while the server ends its session and so frees its locks for the spare. The owner must
    have stopped its gateway by the time the spare connects."""
    processes, fake = fleet
    DiscordScene.build(fake)
    url = make_url(processes.environment["DATABASE_URL"])
    async with Cable(url.port or 5432) as cable:
        await cable.plug_in()
        through_cable = url.set(host="127.0.0.1", port=cable.port)
        await processes.start(
            "gateway-a",
            "gateway",
            DISCORD_TOKEN=fake.token,
            DATABASE_URL=through_cable.render_as_string(hide_password=False),
        )
        await until(lambda: len(fake.gateway.live) == 1, "the owner's session", 60)
        await processes.start("gateway-b", "gateway", DISCORD_TOKEN=fake.token)
        await until(
            lambda: "standing by" in processes.members["gateway-b"].log.read_text(), "spare"
        )
        [owner] = fake.gateway.live

        cable.freeze()
        await end_lock_holders(processes)
        await until(lambda: spare_session(fake, owner), "the spare alone", 60)
        answer = await fake.run_command("package", {"slug": "django-flatblocks"})

    assert fake.gateway.most_live_per_shard == 1, processes.logs()
    log = processes.members["gateway-a"].log.read_text()
    assert "no word from the database on gateway shard(s) 0 of 1" in log
    assert answer.errors == []
    assert fake.violations == []


async def end_lock_holders(processes: Fleet) -> None:
    """Terminate the database sessions holding advisory locks, as a failover or a network cut
    would."""
    engine = create_async_engine(processes.environment["DATABASE_URL"])
    try:
        async with engine.connect() as connection:
            await connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND granted AND database = "
                    "(SELECT oid FROM pg_database WHERE datname = current_database())"
                )
            )
    finally:
        await engine.dispose()
