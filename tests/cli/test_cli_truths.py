"""The command line tells the truth: what `poll --once` delivers and shows, where the database
is, what `--help` and DEBUG say, and webhook routes as `list` shows them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import get_args

from bot.app.grid_table import SortKey
from bot.cli import main
from bot.config import Settings
from bot.core.event_meanings import MEANINGS
from bot.core.events import MIN_RELEASE_LEVELS, Event
from tests.fakes.discord_runner import DiscordScene
from tests.fakes.djp_api import FakeDjangoPackages
from tests.plugins.cli import djp_sentinel


async def test_poll_once_delivers_to_a_webhook_and_shows_only_watched_changes(
    cli_env: dict[str, str],
    tmp_path: Path,
    djp_api: FakeDjangoPackages,
    discord_scene: DiscordScene,
) -> None:
    fake, alerts = discord_scene.fake, discord_scene.alerts
    hook = fake.create_webhook(alerts.id)
    await djp_sentinel(cli_env, tmp_path, "sync")
    await djp_sentinel(cli_env, tmp_path, "webhook", "add", hook.url, "django-flatblocks")
    djp_api.update_package(265, pypi_version="1.1.0")  # watched
    [cache_machine] = [p for p in djp_api.packages.values() if p["slug"] == "django-cache-machine"]
    djp_api.update_package(cache_machine["id"], repo_watchers=5000)  # nobody watches it

    once = await djp_sentinel(cli_env, tmp_path, "poll", "--once")
    everything = await djp_sentinel(cli_env, tmp_path, "poll", "--once", "--all")

    assert once.code == 0, once.err
    [alert] = fake.messages(alerts.id)
    assert alert.webhook_id == hook.id
    assert "1.1.0" in alert.embeds[0]["title"]
    assert alert.components[0]["components"][0]["label"] == "PyPI 1.1.0"
    assert "release  django-flatblocks 1.1.0 released" in once.out
    assert "cache-machine" not in once.out
    assert "Delivered 1 alert in 1 message." in once.out
    assert everything.code == 0, everything.err
    assert fake.violations == []


async def test_stale_and_grid_print_json(cli_env: dict[str, str], tmp_path: Path) -> None:
    await djp_sentinel(cli_env, tmp_path, "sync")

    stale = await djp_sentinel(cli_env, tmp_path, "stale", "--grid", "flatpages", "--json")
    grid = await djp_sentinel(cli_env, tmp_path, "grid", "caching", "--json")

    [flatblocks] = json.loads(stale.out)
    assert flatblocks["slug"] == "django-flatblocks"
    assert flatblocks["last_commit"] == "2022-02-15"
    assert flatblocks["health"]["reasons"][0] == "last commit 2022-02-15 (4 years ago)"
    table = json.loads(grid.out)
    assert table["slug"] == "caching"
    assert table["packages"][0]["rank"] == 1
    assert {"slug", "stars", "version", "last_commit", "health"} <= set(table["packages"][0])


async def test_a_package_has_one_json_shape_in_package_grid_and_stale(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    await djp_sentinel(cli_env, tmp_path, "sync")

    package = json.loads((await djp_sentinel(cli_env, tmp_path, "package", "265", "--json")).out)
    [stale] = json.loads(
        (await djp_sentinel(cli_env, tmp_path, "stale", "--grid", "flatpages", "--json")).out
    )
    grid = json.loads((await djp_sentinel(cli_env, tmp_path, "grid", "flatpages", "--json")).out)
    [row] = [row for row in grid["packages"] if row["slug"] == "django-flatblocks"]

    assert stale == {key: package[key] for key in stale}  # the same facts, the same values
    assert {key: value for key, value in row.items() if key != "rank"} == stale
    assert {"category", "grids", "links"} <= set(package) - set(stale)


async def test_stale_shows_the_last_commit_its_reasons_use(
    cli_env: dict[str, str], tmp_path: Path, djp_api: FakeDjangoPackages
) -> None:
    weeks = [0] * 52
    weeks[0] = 2  # a commit 51 weeks ago, later than the raw last_updated of 2022
    djp_api.update_package(265, commits_over_52=weeks)
    await djp_sentinel(cli_env, tmp_path, "sync")

    stale = await djp_sentinel(cli_env, tmp_path, "stale", "--json")

    flatblocks = next(row for row in json.loads(stale.out) if row["slug"] == "django-flatblocks")
    assert flatblocks["last_commit"] != "2022-02-15"
    assert flatblocks["last_commit"] in flatblocks["health"]["reasons"][0]


async def test_the_default_database_is_in_the_data_directory_and_named_when_empty(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    env = {k: v for k, v in cli_env.items() if k != "DATABASE_URL"}
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    here = await djp_sentinel(env, tmp_path, "stale")
    there = await djp_sentinel(env, elsewhere, "webhook", "list")

    database = tmp_path / "data" / "djp-sentinel" / "sentinel.db"
    assert database.exists()
    for result in (here, there):
        assert result.code == 0, result.err
        assert f"The database {database} holds no packages yet" in " ".join(result.err.split())
        assert "holds no packages" not in result.out  # a note, not data


async def test_help_lists_the_settings_and_the_events(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    result = await djp_sentinel(cli_env, tmp_path, "--help")

    assert result.code == 0
    for name in Settings.model_fields:  # each one apart from its meaning, the longest too
        assert re.search(rf"^  {name.upper()}\s+\S", result.out, re.MULTILINE), name
    for event in ("release", "activity", "stale", "popularity", "grid", "repo", "removed"):
        assert re.search(rf"^  {event}\s+\S", result.out, re.MULTILINE)


async def test_debug_shows_our_lines_and_requests_not_the_database_driver(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    result = await djp_sentinel(cli_env | {"LOG_LEVEL": "DEBUG"}, tmp_path, "poll", "--once")

    assert result.code == 0, result.err
    assert "DEBUG   bot.refresh.monitor: fetch plan" in result.err
    assert "aiosqlite" not in result.err
    assert "sqlalchemy" not in result.err


async def test_a_bad_log_level_is_one_line(cli_env: dict[str, str], tmp_path: Path) -> None:
    result = await djp_sentinel(cli_env | {"LOG_LEVEL": "LOUD"}, tmp_path, "stale")

    assert result.code == 2
    assert result.err.strip() == (
        "error: LOG_LEVEL: 'LOUD' is not a log level: use DEBUG, INFO, WARNING, ERROR, CRITICAL."
    )


async def test_webhook_threads_settings_and_removal_by_the_listed_id(
    cli_env: dict[str, str], tmp_path: Path, discord_scene: DiscordScene
) -> None:
    fake = discord_scene.fake
    hook = fake.create_webhook(discord_scene.alerts.id)
    thread = discord_scene.guild.add_text_channel("releases-thread")
    url = f"{hook.url}?thread_id={thread.id}"

    added = await djp_sentinel(
        cli_env,
        tmp_path,
        "webhook",
        "add",
        url,
        "django-flatblocks",
        "--min-level",
        "minor",
        "--no-prereleases",
    )
    listed = await djp_sentinel(cli_env | {"COLUMNS": "200"}, tmp_path, "webhook", "list")
    removed = await djp_sentinel(
        cli_env, tmp_path, "webhook", "remove", str(hook.id), "django-flatblocks"
    )
    after = await djp_sentinel(cli_env, tmp_path, "webhook", "list")

    assert added.code == 0, added.err
    text = " ".join(listed.out.split())
    for shown in (str(hook.id), f"thread {thread.id}", "minor and major", "no pre-releases"):
        assert shown in text
    assert hook.token not in listed.out
    assert removed.code == 0, removed.err
    assert "No webhook subscriptions." in after.out


async def test_webhook_deliveries_reach_the_thread(
    cli_env: dict[str, str],
    tmp_path: Path,
    djp_api: FakeDjangoPackages,
    discord_scene: DiscordScene,
) -> None:
    fake = discord_scene.fake
    hook = fake.create_webhook(discord_scene.alerts.id)
    thread = discord_scene.guild.add_text_channel("releases-thread")
    url = f"{hook.url}?thread_id={thread.id}"
    await djp_sentinel(cli_env, tmp_path, "webhook", "add", url, "django-flatblocks")
    djp_api.update_package(265, pypi_version="1.1.0")

    await djp_sentinel(cli_env, tmp_path, "poll", "--once")

    [alert] = fake.messages(thread.id)
    assert alert.webhook_id == hook.id


async def test_sync_names_every_phase(cli_env: dict[str, str], tmp_path: Path) -> None:
    result = await djp_sentinel(cli_env, tmp_path, "sync")

    assert re.fullmatch(
        r"Synced \d+ packages, \d+ grids and \d+ categories in \d+ requests; .*\n", result.out
    )


async def test_long_links_are_folded_not_cut(
    cli_env: dict[str, str], tmp_path: Path, djp_api: FakeDjangoPackages
) -> None:
    long_url = "https://github.com/jazzband/" + "very-long-repository-name-" * 4 + "end"
    djp_api.update_package(265, repo_url=long_url)

    result = await djp_sentinel(
        cli_env | {"COLUMNS": "60"}, tmp_path, "package", "django-flatblocks"
    )

    unframed = "".join(line.strip("│ ") for line in result.out.splitlines())
    assert long_url in unframed
    assert "…" not in result.out


def test_the_cli_offers_the_release_levels_the_core_knows() -> None:
    assert main.MIN_RELEASE_LEVELS == MIN_RELEASE_LEVELS


def test_the_cli_offers_the_grid_orders_the_app_knows() -> None:
    assert get_args(SortKey) == main.SORT_KEYS


def test_every_event_has_a_meaning_in_order() -> None:
    assert list(MEANINGS) == [event.value for event in Event]
