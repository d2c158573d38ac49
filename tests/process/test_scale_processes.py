"""The bot split into real processes on one PostgreSQL database, as `compose.yaml` runs it: two
gateway processes on two shards, two monitors (one elected), two delivery workers; 500 channels
in guilds on both shards watch one package.

The figures the closing note quotes are printed (`pytest -s` shows them): alerts expected,
posted and duplicated, API requests per interval with one and two monitors, takeover time.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage import packages, subscriptions
from storage.database import Database
from storage.models import TargetKind
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.discord_gateway import shard_of
from tests.fakes.discord_models import FakeChannel, FakeGuild
from tests.fakes.djp_api import FakeDjangoPackages
from tests.plugins.app import alerts_in
from tests.plugins.database import TEST_DATABASE_URL
from tests.plugins.fleet import Fleet, postgres_fleet, until

pytestmark = pytest.mark.skipif(
    not TEST_DATABASE_URL, reason="set TEST_DATABASE_URL: several processes need PostgreSQL"
)

#: Seconds between refresh cycles: short, so that several pass within the test.
INTERVAL = 4.0
GUILDS, CHANNELS_PER_GUILD = 20, 25
PACKAGE = 265  # django-flatblocks
WAIT = 120.0


async def guilds_on_both_shards(fake: FakeDiscord) -> list[FakeGuild]:
    """`GUILDS` guilds with `CHANNELS_PER_GUILD` channels each, falling on both shards."""
    guilds: list[FakeGuild] = []
    while len(guilds) < GUILDS or {shard_of(g.id, 2) for g in guilds} != {0, 1}:
        await asyncio.sleep(0.002)  # ids come from the clock: spread them over the shards
        guild = fake.add_guild(f"Guild {len(guilds)}")
        fake.add_member(guild, "member")
        for index in range(CHANNELS_PER_GUILD):
            guild.add_text_channel(f"alerts-{index}")
        guilds.append(guild)
    return guilds


@pytest.fixture
async def fleet(
    tmp_path: Path, djp_api: FakeDjangoPackages
) -> AsyncIterator[tuple[Fleet, FakeDiscord, list[FakeChannel]]]:
    async with (
        FakeDiscord(wait_timeout=WAIT, shards=2) as fake,
        postgres_fleet(
            tmp_path,
            fake,
            djp_api,
            DISCORD_TOKEN=fake.token,
            POLL_INTERVAL_SECONDS=str(INTERVAL),
            SHARD_COUNT="2",
        ) as processes,
    ):
        guilds = await guilds_on_both_shards(fake)
        channels = [channel for guild in guilds for channel in guild.channels]
        await watch(Database.from_url(processes.environment["DATABASE_URL"]), channels, guilds)
        yield processes, fake, channels


async def watch(database: Database, channels: list[FakeChannel], guilds: list[FakeGuild]) -> None:
    """Every channel follows the package, written as `/watch add` would."""
    guild_of = {channel.id: guild.id for guild in guilds for channel in guild.channels}
    try:
        async with database.transaction() as session:
            for channel in channels:
                await subscriptions.subscribe(
                    session,
                    guild_id=guild_of[channel.id],
                    channel_id=channel.id,
                    target_kind=TargetKind.PACKAGE,
                    target_id=PACKAGE,
                    created_by=1,
                )
    finally:
        await database.dispose()


def package_requests(djp_api: FakeDjangoPackages) -> int:
    return sum(PACKAGE_PATH in request.path for request in djp_api.requests)


PACKAGE_PATH = f"/packages/{PACKAGE}/"


#: Poll intervals each request count runs over.
INTERVALS = 4


async def requests_per_interval(djp_api: FakeDjangoPackages, intervals: int = INTERVALS) -> float:
    before = package_requests(djp_api)
    await asyncio.sleep(INTERVAL * intervals)
    return (package_requests(djp_api) - before) / intervals


def delivered(fake: FakeDiscord, channels: list[FakeChannel], version: str) -> Counter[int]:
    """Per channel, how many alerts about `version` it holds."""
    return Counter(
        {
            channel.id: sum(version in str(m.embeds) for m in alerts_in(fake, channel.id))
            for channel in channels
        }
    )


async def test_a_split_bot_alerts_every_channel_once_and_survives_sigkill_of_its_parts(
    fleet: tuple[Fleet, FakeDiscord, list[FakeChannel]], djp_api: FakeDjangoPackages
) -> None:
    processes, fake, channels = fleet
    await processes.start("gateway-0", "gateway", SHARD_IDS="0")
    await processes.start("gateway-1", "gateway", SHARD_IDS="1")
    await processes.start("monitor-a", "monitor")
    await processes.start("delivery-a", "delivery")
    await processes.start("delivery-b", "delivery")
    await processes.healthy("monitor-a")
    await until(lambda: stored(processes), "the silent baseline of the package")
    one_monitor = await requests_per_interval(djp_api)
    await processes.start("monitor-b", "monitor")
    await processes.healthy("gateway-0", "gateway-1", "monitor-b", "delivery-a", "delivery-b")
    two_monitors = await requests_per_interval(djp_api)
    leaders = {
        name: await processes.series(name, "djp_sentinel_monitor_leader")
        for name in ("monitor-a", "monitor-b")
    }

    answers = []
    for shard in (0, 1):
        channel = next(c for c in channels if shard_of(guild_id(fake, c), 2) == shard)
        answers.append(
            await fake.run_command("package", {"slug": "django-flatblocks"}, channel_id=channel.id)
        )

    djp_api.update_package(PACKAGE, pypi_version="9.9.9")
    fan_out = await until(
        lambda: min(delivered(fake, channels, "9.9.9").values()) >= 1, "every alert"
    )
    await asyncio.sleep(INTERVAL * 2)  # time for any second copy to show up
    first = delivered(fake, channels, "9.9.9")

    leader = "monitor-a" if leaders["monitor-a"] else "monitor-b"
    standby = "monitor-b" if leader == "monitor-a" else "monitor-a"
    processes.kill(leader)
    takeover = await until(
        lambda: processes.cycled(standby), "the standby's first cycle", INTERVAL * 5
    )

    djp_api.update_package(PACKAGE, pypi_version="10.0.0")
    await until(lambda: sum(delivered(fake, channels, "10.0.0").values()) >= 50, "a first few")
    processes.kill("delivery-a")  # mid-batch: it had claimed some and posted some
    killed_at = time.monotonic()
    await until(lambda: min(delivered(fake, channels, "10.0.0").values()) >= 1, "the rest")
    recovery = time.monotonic() - killed_at
    await asyncio.sleep(INTERVAL * 2)
    second = delivered(fake, channels, "10.0.0")

    print(
        f"\nalerts expected {len(channels)}, posted {sum(first.values())}, "
        f"channels with 0: {sum(1 for n in first.values() if n == 0)}, "
        f"duplicated: {sum(n - 1 for n in first.values() if n > 1)}, "
        f"all posted {fan_out:.1f} s after the release; "
        f"package requests per {INTERVAL:.0f} s interval: one monitor {one_monitor:.2f}, "
        f"two monitors {two_monitors:.2f}; takeover after SIGKILL {takeover:.1f} s; "
        f"after SIGKILL of a delivery worker mid-batch: posted {sum(second.values())}, "
        f"duplicated {sum(n - 1 for n in second.values() if n > 1)}, "
        f"the last {recovery:.1f} s after the kill"
    )
    assert sorted(leaders.values()) == [0.0, 1.0], processes.logs()
    for answer in answers:
        assert answer.embeds[0]["title"] == "django-flatblocks"
        assert answer.errors == []
    assert set(first.values()) == {1}, "every channel gets the release exactly once"
    assert set(second.values()) == {1}, "a killed worker's alerts are neither lost nor doubled"
    # Once per interval, however many monitors; a window of N intervals may catch N + 1 cycles.
    assert max(one_monitor, two_monitors) <= 1 + 1 / INTERVALS
    assert takeover <= INTERVAL + 2.0, processes.logs()
    assert fake.violations == []


def guild_id(fake: FakeDiscord, channel: FakeChannel) -> int:
    guild, _ = fake.state.find_channel(channel.id)
    return guild.id


async def stored(processes: Fleet) -> bool:
    database = Database.from_url(processes.environment["DATABASE_URL"])
    try:
        async with database.session() as session:
            return await packages.find_package(session, PACKAGE) is not None
    finally:
        await database.dispose()
