"""What the terminal side is like to use: only what a command needs is imported, a closed pipe
ends it quietly, notes go to stderr, piped lines stay whole, tables fit 80 columns, and long
listings are cut with a line saying how many more there are."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from bot.cli.output import more_line
from bot.cli.running import EXIT_BROKEN_PIPE
from tests.fakes.discord_runner import DiscordScene
from tests.plugins.cli import djp_sentinel, djp_sentinel_process, run_process

#: Libraries no data command needs (Discord, migrations, charts, metrics, fuzzy matching).
HEAVY = {"discord", "alembic", "PIL", "prometheus_client", "aiohttp", "rapidfuzz"}
#: Runs the command line in a fresh interpreter, then names the heavy libraries it loaded.
LOADED = f"""
import sys
from bot.cli.main import main
code = main(sys.argv[1:])
print("LOADED", sorted({{name.split(".")[0] for name in sys.modules}} & {HEAVY!r}))
"""


async def loaded_by(env: dict[str, str], cwd: Path, *args: str) -> list[str]:
    ran = await run_process(env, cwd, sys.executable, "-c", LOADED, *args)
    assert ran.code == 0, ran.err
    line = ran.out.splitlines()[-1]
    assert line.startswith("LOADED ")
    loaded: list[str] = json.loads(line.removeprefix("LOADED ").replace("'", '"'))
    return loaded


@pytest.mark.parametrize(
    "command",
    [
        ["stale"],
        ["package", "django-flatblocks"],
        ["package", "django-flatblocks", "--json"],
        ["grid", "caching"],
        ["webhook", "list"],
        ["export"],
        ["status"],
    ],
)
async def test_a_data_command_on_a_current_database_imports_only_what_it_uses(
    cli_env: dict[str, str], tmp_path: Path, command: list[str]
) -> None:
    await djp_sentinel(cli_env, tmp_path, "sync")

    assert await loaded_by(cli_env, tmp_path, *command) == []


async def test_migrations_are_imported_only_when_a_database_needs_them(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    assert "alembic" in await loaded_by(cli_env, tmp_path, "db", "upgrade")  # a new database
    assert "alembic" not in await loaded_by(cli_env, tmp_path, "db", "upgrade")  # now current


@pytest.mark.parametrize("command", [["package", "django-flatblocks", "--json"], ["export"]])
async def test_a_reader_that_goes_away_ends_the_command_quietly(
    cli_env: dict[str, str], tmp_path: Path, command: list[str]
) -> None:
    await djp_sentinel(cli_env, tmp_path, "sync")
    read, write = os.pipe()
    os.close(read)  # `| head -1` that has already gone

    try:
        result = await djp_sentinel_process(cli_env, tmp_path, *command, stdout=write)
    finally:
        os.close(write)

    assert result.code == EXIT_BROKEN_PIPE == 141
    assert "Traceback" not in result.err
    assert "CRITICAL" not in result.err
    assert "Broken pipe" not in result.err


async def test_piped_output_is_never_wrapped(cli_env: dict[str, str], tmp_path: Path) -> None:
    piped = {k: v for k, v in cli_env.items() if k != "COLUMNS"}

    result = await djp_sentinel(piped, tmp_path, "package", "django-flatblocks")

    assert result.code == 0, result.err
    description = 'django-chunks + headerfield + variable chunknames + "inclusion tag" =='
    assert any(description in line for line in result.out.splitlines())
    assert max(len(line) for line in result.out.splitlines()) > 80


async def test_notes_go_to_stderr_and_data_to_stdout(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    result = await djp_sentinel(cli_env, tmp_path, "stale", "--json")  # nothing synced yet

    assert result.code == 0, result.err
    assert json.loads(result.out) == []
    assert "holds no packages yet" in result.err


async def test_webhook_list_shows_every_setting_in_80_columns(
    cli_env: dict[str, str], tmp_path: Path, discord_scene: DiscordScene
) -> None:
    hook = discord_scene.fake.create_webhook(discord_scene.alerts.id)
    await djp_sentinel(cli_env, tmp_path, "webhook", "add", hook.url, "django-flatblocks")

    listed = await djp_sentinel(cli_env | {"COLUMNS": "80"}, tmp_path, "webhook", "list")

    assert listed.code == 0, listed.err
    lines = listed.out.splitlines()
    assert max(len(line) for line in lines) <= 80
    text = " ".join(listed.out.split())
    for shown in (str(hook.id), str(discord_scene.alerts.id), "django-flatblocks"):
        assert shown in text
    for shown in ("release", "every release", "active"):
        assert shown in text


async def test_webhook_list_and_export_show_the_pin_a_guild_file_restored(
    cli_env: dict[str, str], tmp_path: Path, discord_scene: DiscordScene
) -> None:
    hook = discord_scene.fake.create_webhook(discord_scene.alerts.id)
    await djp_sentinel(cli_env, tmp_path, "webhook", "add", hook.url, "django-flatblocks")
    guild, channel = discord_scene.guild.id, discord_scene.alerts.id
    pin = {"guild_id": guild, "channel_id": channel, "pypi_name": "django-flatblocks"}
    guild_file = {
        "format": "djp-sentinel",
        "version": 1,
        "exported_at": "2026-12-07T12:00:00Z",
        "pins": [pin | {"specifier": ">=1.0,<1.1", "package_id": 265}],
    }
    (tmp_path / "pins.json").write_text(json.dumps(guild_file))

    imported = await djp_sentinel(cli_env, tmp_path, "import", "pins.json", "--guild", str(guild))
    listed = await djp_sentinel(cli_env | {"COLUMNS": "80"}, tmp_path, "webhook", "list")
    exported = await djp_sentinel(cli_env, tmp_path, "export")

    assert imported.code == 0, imported.err
    assert imported.out.strip().endswith("Restored 1 pin.")
    assert "pinned >=1.0,<1.1" in listed.out
    assert json.loads(exported.out)["pins"] == [
        pin | {"specifier": ">=1.0,<1.1", "version": None, "package_id": 265}
    ]


async def test_long_listings_stop_at_the_limit_and_say_how_many_more(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    await djp_sentinel(cli_env, tmp_path, "sync")
    everything = json.loads((await djp_sentinel(cli_env, tmp_path, "stale", "--json")).out)
    assert len(everything) > 2

    cut = await djp_sentinel(cli_env, tmp_path, "stale", "--limit", "2")
    cut_json = await djp_sentinel(cli_env, tmp_path, "stale", "--limit", "2", "--json")
    whole = await djp_sentinel(cli_env, tmp_path, "stale", "--limit", "0")

    assert cut.code == 0, cut.err
    assert [row["slug"] for row in json.loads(cut_json.out)] == [
        row["slug"] for row in everything[:2]
    ]
    assert f"… {len(everything) - 2} more stale packages" in cut.err
    assert everything[2]["slug"] not in cut.out
    assert all(row["slug"] in whole.out for row in everything)
    assert "more stale packages" not in whole.err


def test_a_listing_cut_one_short_counts_the_rest_in_the_singular() -> None:
    assert more_line(2, 3, "stale package") == (
        "… 1 more stale package: --limit N shows more, --limit 0 all of them."
    )
    assert more_line(3, 3, "stale package") is None
