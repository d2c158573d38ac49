"""`djp-sentinel status` on OSV's health and on who does what, read from the database the
processes share."""

from __future__ import annotations

import re
from pathlib import Path

from tests.fakes.osv_api import FakeOsv
from tests.plugins.cli import djp_sentinel
from tests.plugins.database import follow, migrated
from tests.plugins.release import FLATBLOCKS


async def test_status_says_how_osv_is_doing_as_for_pypi(
    cli_env: dict[str, str], osv_api: FakeOsv, tmp_path: Path
) -> None:
    env = cli_env | {"OSV_API_URL": osv_api.base_url}
    assert (await djp_sentinel(env, tmp_path, "sync")).code == 0
    async with migrated(env["DATABASE_URL"]) as database:
        await follow(database, channel=2, target_id=FLATBLOCKS)
    osv_api.failure = "down"
    assert (await djp_sentinel(env, tmp_path, "poll", "--once")).code == 0

    found = await djp_sentinel(env, tmp_path, "status")

    assert found.code == 0, found.err
    osv = found.out.split("\nOSV\n")[1].split("\nProcesses\n")[0]
    assert re.search(r"^  last pass .+ UTC: 1 request, 1 failure$", osv, re.M), osv
    assert "  no good answer yet" in osv
    assert "  failing: 1 pass in a row read nothing" in osv
    assert re.search(r"^  last error .+ UTC: .*OSV", osv, re.M), osv


async def test_status_on_sqlite_says_what_it_cannot_know_of_the_processes(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    assert (await djp_sentinel(cli_env, tmp_path, "db", "upgrade")).code == 0

    found = await djp_sentinel(cli_env, tmp_path, "status")

    assert found.out.endswith(
        "OSV\n  off (OSV_API_URL is empty)\n"
        "Processes\n  delivery workers: 0 live\n"
        "  monitor lead and gateway shards: unknown (SQLite keeps no record)\n"
    ), found.out
