"""`djp-sentinel run --role ...`: one process per role, its health and metrics, and what
SQLite allows (one long-running process) against what PostgreSQL allows (an elected monitor)."""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from bot.process.roles import ALL_ROLES, Role, parse_roles
from storage import packages
from storage.coordination import ONE_PROCESS, Leadership, ShardOwnership
from storage.database import Database
from tests.discordbot.test_discord_cli import fakes, finish, start
from tests.fakes.discord_runner import DiscordScene
from tests.fakes.djp_api import FakeDjangoPackages
from tests.plugins.database import follow, migrated
from tests.plugins.fleet import free_port, until_healthy
from tests.plugins.release import NEW, release_in_channels

PROBE_TIMEOUT = 20.0


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], ALL_ROLES),
        (["all"], ALL_ROLES),
        (["gateway"], {Role.GATEWAY}),
        (["monitor,delivery"], {Role.MONITOR, Role.DELIVERY}),
        (["Gateway", "delivery"], {Role.GATEWAY, Role.DELIVERY}),
    ],
)
def test_roles_repeat_or_separate_with_commas(values: list[str], expected: set[Role]) -> None:
    assert parse_roles(values) == expected


async def test_an_unknown_role_is_one_line(tmp_path: Path) -> None:
    code, out, err = await finish(await start(tmp_path, "run", "--role", "gateway,moniter"))

    assert code == 2
    assert out == ""
    assert "unknown role 'moniter': choose from all, gateway, monitor, delivery" in err
    assert "Traceback" not in err


async def test_monitor_and_delivery_post_alerts_without_a_gateway_and_serve_metrics(
    tmp_path: Path, discord_scene: DiscordScene, djp_api: FakeDjangoPackages
) -> None:
    fake = discord_scene.fake
    port = free_port()
    settings = fakes(discord_scene, djp_api) | {
        "METRICS_PORT": str(port),
        "POLL_INTERVAL_SECONDS": "1",
    }
    assert (await finish(await start(tmp_path, "db", "upgrade", **settings)))[0] == 0
    database = Database.from_url(f"sqlite+aiosqlite:///{tmp_path}/s.db")
    await follow(database, discord_scene.alerts.id, 265, guild=discord_scene.guild.id)
    process = await start(tmp_path, "run", "--role", "monitor,delivery", **settings)
    try:
        await until_stored(database, 265)  # the first cycle's silent baseline
        djp_api.update_package(265, pypi_version="9.0.0")
        [alert] = await fake.wait_for_messages(discord_scene.alerts.id, 1)
        await until_healthy(port)
        # The post reaches Discord a moment before the worker settles and counts it.
        metrics = await until_metric(port, 'djp_sentinel_alerts_total{outcome="posted"} 1.0')
    finally:
        process.send_signal(signal.SIGTERM)
        await database.dispose()
    code, _, err = await finish(process)

    assert code == 0, err
    assert "9.0.0" in alert.embeds[0]["title"]
    assert fake.connections == []  # no gateway role, no gateway session
    for series in (
        "djp_sentinel_monitor_leader 1.0",
        'djp_sentinel_alerts_enqueued_total{event="release"} 1.0',
        'djp_sentinel_alerts_total{outcome="posted"} 1.0',
        'djp_sentinel_api_requests_total{status="200"}',
        "djp_sentinel_outbox_oldest_pending_age_seconds 0.0",
        "djp_sentinel_cycle_duration_seconds_count",
        "djp_sentinel_packages_fetched_total",
    ):
        assert series in metrics


async def test_a_delivery_process_posts_over_rest_and_never_opens_the_gateway(
    tmp_path: Path, discord_scene: DiscordScene, djp_api: FakeDjangoPackages
) -> None:
    fake = discord_scene.fake
    settings = fakes(discord_scene, djp_api)
    url = f"sqlite+aiosqlite:///{tmp_path}/s.db"
    async with migrated(url) as database:
        [channel] = await release_in_channels(
            database, fake, discord_scene.guild, 1, now=datetime.now(UTC)
        )
    process = await start(tmp_path, "run", "--role", "delivery", **settings)
    try:
        [alert] = await fake.wait_for_messages(channel, 1)
    finally:
        process.send_signal(signal.SIGTERM)
    code, _, err = await finish(process)

    assert code == 0, err
    assert NEW in alert.embeds[0]["title"]
    assert fake.connections == []
    assert not any("/gateway" in request.path for request in fake.requests)


async def test_a_monitor_needs_no_token_and_never_calls_discord(
    tmp_path: Path, discord_scene: DiscordScene, djp_api: FakeDjangoPackages
) -> None:
    fake = discord_scene.fake
    port = free_port()
    settings = fakes(discord_scene, djp_api) | {"METRICS_PORT": str(port)}
    del settings["DISCORD_TOKEN"]
    process = await start(tmp_path, "run", "--role", "monitor", **settings)
    try:
        health = await until_healthy(port)
    finally:
        process.send_signal(signal.SIGTERM)
    code, _, err = await finish(process)

    assert code == 0, err
    assert health.text == "ok\n"  # its first refresh cycle ran
    assert fake.requests == []
    assert fake.connections == []


async def test_healthz_answers_from_the_start_and_names_discord_while_waiting_for_it(
    tmp_path: Path, discord_scene: DiscordScene, djp_api: FakeDjangoPackages
) -> None:
    port = free_port()
    unreachable = f"http://127.0.0.1:{free_port()}/api/v10"
    settings = fakes(discord_scene, djp_api) | {
        "METRICS_PORT": str(port),
        "DISCORD_API_BASE": unreachable,
    }
    process = await start(tmp_path, "run", "--role", "delivery", **settings)
    try:
        health = await first_answer(port, "/healthz")
        metrics = await first_answer(port, "/metrics")
    finally:
        process.send_signal(signal.SIGTERM)
    await finish(process)

    assert (health.status_code, health.text) == (503, "not working: waiting for Discord\n")
    assert metrics.status_code == 200
    assert "djp_sentinel_outbox_pending" in metrics.text


async def first_answer(port: int, path: str) -> httpx.Response:
    """The first answer on `path`, as soon as the process serves it."""
    async with httpx.AsyncClient() as http, asyncio.timeout(PROBE_TIMEOUT):
        while True:
            try:
                return await http.get(f"http://127.0.0.1:{port}{path}")
            except httpx.TransportError:
                await asyncio.sleep(0.1)


async def until_metric(port: int, series: str) -> str:
    """Scrape `/metrics` on `port` until it shows `series`; the whole page."""
    async with httpx.AsyncClient() as http, asyncio.timeout(PROBE_TIMEOUT):
        while True:
            metrics = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
            if series in metrics:
                return metrics
            await asyncio.sleep(0.1)


async def until_stored(database: Database, package_id: int) -> None:
    async with asyncio.timeout(PROBE_TIMEOUT):
        while True:
            async with database.session() as session:
                if await packages.find_package(session, package_id):
                    return
            await asyncio.sleep(0.2)


async def test_sqlite_refuses_a_second_bot_process_but_not_short_commands(
    tmp_path: Path, discord_scene: DiscordScene, djp_api: FakeDjangoPackages
) -> None:
    port = free_port()
    settings = fakes(discord_scene, djp_api)
    first = await start(tmp_path, "run", "--role", "delivery", METRICS_PORT=str(port), **settings)
    try:
        await until_healthy(port)
        second = await finish(await start(tmp_path, "run", "--role", "monitor", **settings))
        headless = await finish(await start(tmp_path, "poll", **settings))
        short = await finish(await start(tmp_path, "stale", **settings))
    finally:
        first.send_signal(signal.SIGTERM)
    code, _, err = await finish(first)

    for refused in (second, headless):
        assert refused[0] == 1
        [line] = [line for line in refused[2].splitlines() if line.startswith("error:")]
        assert line.startswith(f"error: {ONE_PROCESS} (")
        assert "Traceback" not in refused[2]
    assert short[0] == 0, short[2]
    assert code == 0, err


async def test_a_sharded_gateway_holds_every_shard_it_is_given(
    tmp_path: Path, discord_scene: DiscordScene, djp_api: FakeDjangoPackages
) -> None:
    fake = discord_scene.fake
    port = free_port()
    settings = fakes(discord_scene, djp_api) | {
        "SHARD_COUNT": "2",
        "SHARD_IDS": "0,1",
        "METRICS_PORT": str(port),
    }
    process = await start(tmp_path, "run", "--role", "gateway", **settings)
    try:
        await until_healthy(port)
        record = await fake.run_command("package", {"slug": "django-flatblocks"})
        async with httpx.AsyncClient() as http:
            metrics = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    finally:
        process.send_signal(signal.SIGTERM)
    code, _, err = await finish(process)

    assert code == 0, err
    assert sorted(c.shard or [] for c in fake.connections) == [[0, 2], [1, 2]]
    assert record.embeds[0]["title"] == "django-flatblocks"
    assert "djp_sentinel_shards_connected 2.0" in metrics
    assert 'djp_sentinel_interaction_latency_seconds_count{kind="application_command"} 1.0' in (
        metrics
    )


async def test_one_monitor_leads_and_a_standby_takes_over(database: Database) -> None:
    if database.engine.dialect.name != "postgresql":
        pytest.skip("the election is PostgreSQL's; SQLite serves one process")
    leader, standby = Leadership(database), Leadership(database)
    try:
        assert await leader.hold()
        assert not await standby.hold()
        assert await leader.hold()  # still ours
        await leader.release()
        assert await standby.hold()
        assert not await leader.hold()
    finally:
        await leader.release()
        await standby.release()


async def test_gateway_shards_are_owned_all_or_none(database: Database) -> None:
    if database.engine.dialect.name != "postgresql":
        pytest.skip("shards are owned on PostgreSQL; SQLite serves one process")
    both = ShardOwnership(database, 2, [0, 1])
    second, first = ShardOwnership(database, 2, [1]), ShardOwnership(database, 2, [0])
    try:
        assert await second.hold()
        assert not await both.hold()  # shard 1 is taken: it keeps neither
        assert await first.hold()  # so shard 0 is still free
        await second.release()
        await first.release()
        assert await both.hold()
        assert not await first.hold()
    finally:
        for ownership in (both, second, first):
            await ownership.release()
