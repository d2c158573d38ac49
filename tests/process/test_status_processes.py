"""`djp-sentinel status` beside real processes on one PostgreSQL database: it names the process
leading the monitor and each shard's owner by their sessions' `application_name`, and counts
the live delivery workers."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.discord_api import FakeDiscord
from tests.fakes.djp_api import FakeDjangoPackages
from tests.plugins.cli import djp_sentinel
from tests.plugins.database import TEST_DATABASE_URL
from tests.plugins.fleet import postgres_fleet, until

pytestmark = pytest.mark.skipif(
    not TEST_DATABASE_URL, reason="set TEST_DATABASE_URL: several processes need PostgreSQL"
)


async def test_status_names_who_leads_the_monitor_and_owns_each_shard(
    tmp_path: Path, djp_api: FakeDjangoPackages
) -> None:
    async with (
        FakeDiscord(shards=2) as fake,
        postgres_fleet(
            tmp_path, fake, djp_api, DISCORD_TOKEN=fake.token, SHARD_COUNT="2"
        ) as processes,
    ):
        monitor = await processes.start("monitor", "monitor,delivery")
        gateway = await processes.start("gateway-0", "gateway", SHARD_IDS="0")
        await processes.healthy("monitor")
        await processes.leader("monitor")
        await until(
            lambda: processes.series("monitor", "djp_sentinel_delivery_workers_live"), "a beat"
        )
        await until(lambda: len(fake.gateway.live) == 1, "shard 0's session", 60)

        found = await djp_sentinel(processes.environment, tmp_path, "status")

    processes_part = found.out.split("\nProcesses\n")[1]
    assert processes_part.startswith("  delivery workers: 1 live ("), found.out
    assert f"  monitor lead: djp-sentinel:monitor+delivery:{monitor.process.pid}\n" in found.out
    gateway_name = f"djp-sentinel:gateway:{gateway.process.pid}"
    assert f"  gateway shard(s) 0 of 2: {gateway_name}\n" in found.out
    assert "  gateway shard(s) 1 of 2: not connected\n" in found.out
