"""The `djp-sentinel` command line against the fake API.

Its commands run in-process (`main()` with arguments, output captured); the installed console
script runs as a real process where the exit code and stderr of a failure are the point.
"""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

import pytest

from bot.cli.main import UNSUPPORTED_SYSTEM, main
from bot.config import Settings
from storage import subscriptions
from storage.models import TargetKind
from tests.fakes.djp_api import FakeDjangoPackages
from tests.plugins.app import package_copies
from tests.plugins.cli import djp_sentinel, djp_sentinel_process
from tests.plugins.data import seed_package
from tests.plugins.database import TEST_DATABASE_URL, configure, follow, migrated
from tests.plugins.fleet import fresh_postgres_database


async def test_package_prints_a_readable_summary(cli_env: dict[str, str], tmp_path: Path) -> None:
    result = await djp_sentinel(cli_env, tmp_path, "package", "django-flatblocks")

    assert result.code == 0, result.err
    for fact in (
        "django-flatblocks",
        '"inclusion tag"',
        "Latest version",
        "1.0.0",
        "Stars",
        "84",
        "Forks",
        "32",
        "2022-02-15 (4 years ago)",
        "▁▁▁▁",
        "no commits in the 52 weeks before Django Packages last checked",
        "Health: stale",
        "App",
        "Flatpages",
        "https://github.com/jazzband/django-flatblocks",
        "https://pypi.org/project/django-flatblocks/",
        "/packages/p/django-flatblocks/",
    ):
        assert fact in result.out
    assert "in the last 52 weeks" not in result.out  # counted months ago: never "the last"


async def test_package_json_is_machine_readable(cli_env: dict[str, str], tmp_path: Path) -> None:
    result = await djp_sentinel(cli_env, tmp_path, "package", "265", "--json")

    document = json.loads(result.out)
    assert document["slug"] == "django-flatblocks"
    assert document["version"] == "1.0.0"
    assert document["last_commit"] == "2022-02-15"
    assert document["health"]["state"] == "stale"
    assert document["grids"] == [{"slug": "flatpages", "title": "Flatpages"}]
    assert document["links"]["PyPI"] == "https://pypi.org/project/django-flatblocks/"


async def test_unknown_slug_is_one_line_and_exit_1(cli_env: dict[str, str], tmp_path: Path) -> None:
    result = await djp_sentinel_process(cli_env, tmp_path, "package", "django-no-such-thing")

    assert result.code == 1
    assert result.err.strip() == "error: No package “django-no-such-thing” on Django Packages."
    assert result.out == ""


async def test_a_mistyped_slug_suggests_the_closest(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    await djp_sentinel(cli_env, tmp_path, "sync")

    package = await djp_sentinel(cli_env, tmp_path, "package", "django-flatblcoks")
    grid = await djp_sentinel(cli_env, tmp_path, "grid", "flatpage")

    assert (package.code, grid.code) == (1, 1)
    assert package.err.strip() == (
        "error: No package “django-flatblcoks” on Django Packages. Did you mean: django-flatblocks?"
    )
    assert grid.err.strip().endswith("Did you mean: flatpages?")


@pytest.mark.parametrize("password", ["hunter2", "hun/ter2", "hun ter2"])
@pytest.mark.parametrize(
    "scheme",
    ["postgresql+asyncpg", "postgresql+nosuchdriver"],  # refused on connecting, or at once
)
async def test_bad_database_url_is_one_line_without_the_password(
    cli_env: dict[str, str], tmp_path: Path, password: str, scheme: str
) -> None:
    env = cli_env | {"DATABASE_URL": f"{scheme}://bot:{password}@127.0.0.1:1/sentinel"}

    result = await djp_sentinel(env, tmp_path, "package", "django-flatblocks")

    assert result.code == 1
    assert len(result.err.strip().splitlines()) == 1
    assert result.err.startswith(f"error: Cannot use DATABASE_URL '{scheme}://bot:***@127.0.0.1")
    assert "ter2" not in result.err


async def test_json_logs_are_one_object_a_line(cli_env: dict[str, str], tmp_path: Path) -> None:
    env = cli_env | {"LOG_FORMAT": "json", "LOG_LEVEL": "DEBUG"}

    result = await djp_sentinel(env, tmp_path, "package", "django-flatblocks")

    lines = result.err.splitlines()
    entries = [json.loads(line) for line in lines]  # fails on any line that is not JSON
    assert result.code == 0
    assert any(entry["logger"] == "httpx" and "GET" in entry["message"] for entry in entries)
    assert {key for entry in entries for key in entry} <= {
        "time",
        "level",
        "logger",
        "message",
        "traceback",
        "stack",
    }


async def test_sync_then_stale_lists_the_quiet_packages(
    cli_env: dict[str, str], tmp_path: Path, djp_api: FakeDjangoPackages
) -> None:
    synced = await djp_sentinel(cli_env, tmp_path, "sync")
    stale = await djp_sentinel(cli_env, tmp_path, "stale", "--grid", "flatpages")

    assert synced.code == 0, synced.err
    assert f"Synced {len(djp_api.packages)} packages" in synced.out
    assert stale.code == 0, stale.err
    assert "1 stale package" in stale.out
    assert "django-flatblocks" in stale.out
    assert "django-cache-machine" not in stale.out


async def test_poll_once_prints_the_changes_found(
    cli_env: dict[str, str], tmp_path: Path, djp_api: FakeDjangoPackages
) -> None:
    assert (await djp_sentinel(cli_env, tmp_path, "package", "django-flatblocks")).code == 0
    async with migrated(cli_env["DATABASE_URL"]) as database:
        await follow(database, channel=2, target_id=265, guild=1)
    djp_api.update_package(265, pypi_version="1.1.0")

    result = await djp_sentinel(cli_env, tmp_path, "poll", "--once")

    assert result.code == 0, result.err
    assert "release" in result.out
    assert "1.1.0" in result.out


async def test_db_upgrade_says_what_it_applied(cli_env: dict[str, str], tmp_path: Path) -> None:
    first = await djp_sentinel(cli_env, tmp_path, "db", "upgrade")
    again = await djp_sentinel(cli_env, tmp_path, "db", "upgrade")

    database = tmp_path / "cli.db"
    assert first.code == again.code == 0
    lines = first.out.splitlines()
    assert lines[0] == f"Applied {len(lines) - 1} migrations to {database}:"
    assert lines[1].startswith("  0001 Initial schema")
    assert again.out.strip() == f"The database {database} is up to date: no migration to apply."


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="set TEST_DATABASE_URL to run on PostgreSQL")
async def test_processes_starting_at_once_on_an_empty_postgresql_database_migrate_it_once(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    assert TEST_DATABASE_URL is not None
    async with fresh_postgres_database(TEST_DATABASE_URL) as url:
        env = cli_env | {"DATABASE_URL": url}
        results = await asyncio.gather(
            *(djp_sentinel_process(env, tmp_path, "db", "upgrade") for _ in range(4))
        )

    assert [(r.code, r.err) for r in results] == [(0, "")] * 4
    outs = sorted(result.out.splitlines()[0] for result in results)
    assert outs[0].startswith("Applied ")  # one process migrated; the others waited for it
    assert all("is up to date: no migration to apply" in out for out in outs[1:])


async def test_grid_prints_a_ranked_table(cli_env: dict[str, str], tmp_path: Path) -> None:
    by_stars = await djp_sentinel(cli_env, tmp_path, "grid", "caching")
    by_activity = await djp_sentinel(cli_env, tmp_path, "grid", "caching", "--sort", "activity")

    assert by_stars.code == 0, by_stars.err
    assert "Caching (caching), most stars first" in by_stars.out
    assert by_stars.out.index("django-cache-machine") < by_stars.out.index("django-valkey")
    for fact in ("885", "1.2.0", "2023-02-20 (", "years ago)", "stale"):
        assert fact in by_stars.out
    assert "latest commit first" in by_activity.out
    assert by_activity.out.index("django-valkey") < by_activity.out.index("django-cache-machine")


async def test_a_large_grid_on_a_fresh_database_costs_two_requests_not_one_a_member(
    cli_env: dict[str, str], tmp_path: Path, djp_api: FakeDjangoPackages
) -> None:
    widgets = package_copies(seed_package("django-flatblocks"), 150)
    for payload in widgets:
        djp_api.add_package(payload)
    djp_api.set_grid_members(48, [w["id"] for w in widgets])

    result = await djp_sentinel(cli_env, tmp_path, "grid", "flatpages", "--json")

    assert result.code == 0, result.err
    assert len(json.loads(result.out)["packages"]) == 150
    # The grid, then the catalog's one page (159 packages), instead of 1 + 150.
    assert [r.path for r in djp_api.requests] == ["/api/v4/grids/flatpages/", "/api/v4/packages/"]


async def test_an_unknown_grid_is_one_line_and_exit_1(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    result = await djp_sentinel(cli_env, tmp_path, "grid", "no-such-grid")

    assert result.code == 1
    assert result.err.strip() == "error: No grid “no-such-grid” on Django Packages."


async def test_export_then_import_into_an_empty_database(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    async with migrated(cli_env["DATABASE_URL"]) as database:
        await follow(database, 2, 48, TargetKind.GRID, guild=1, events=["grid", "stale"])
    exported = await djp_sentinel(cli_env, tmp_path, "export")
    (tmp_path / "backup.json").write_text(exported.out)
    empty = cli_env | {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"}

    refused = await djp_sentinel(empty, tmp_path, "import", "backup.json")
    imported = await djp_sentinel(empty, tmp_path, "import", "backup.json", "--guild", "1")
    again = await djp_sentinel(empty, tmp_path, "export", "--guild", "1")

    # Another database is another installation: its file is taken one guild at a time.
    assert refused.code == 1
    assert "not written by this installation's `export`" in refused.err
    assert imported.code == 0, imported.err
    assert imported.out.strip() == (
        "Imported 1 subscription (1 new), the settings of 0 channels "
        "and 0 feature-complete marks (0 new)."
    )
    [subscription] = json.loads(again.out)["subscriptions"]
    assert subscription["target_kind"] == "grid"
    assert subscription["target_id"] == 48
    assert subscription["events"] == ["grid", "stale"]


async def test_this_installations_own_backup_restores_without_guild(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    async with migrated(cli_env["DATABASE_URL"]) as database:
        for guild in (1, 2):
            hook = f"https://discord.com/api/webhooks/{guild}/token"
            await follow(database, guild * 10, 48, TargetKind.GRID, guild=guild, webhook_url=hook)
    exported = await djp_sentinel(cli_env, tmp_path, "export")
    (tmp_path / "backup.json").write_text(exported.out)
    async with migrated(cli_env["DATABASE_URL"]) as database, database.transaction() as session:
        await subscriptions.unsubscribe(
            session, channel_id=20, target_kind=TargetKind.GRID, target_id=48
        )

    restored = await djp_sentinel(cli_env, tmp_path, "import", "backup.json")

    assert restored.code == 0, restored.err
    assert restored.out.startswith("Imported 2 subscriptions (1 new)")


async def test_an_invalid_import_names_the_problem_and_changes_nothing(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    entry = {
        "guild_id": 1,
        "channel_id": 2,
        "target_kind": "package",
        "target_id": 265,
        "events": ["release"],
        "min_release_level": "patch",
        "include_prereleases": True,
    }
    document = {
        "exported_at": "2026-02-20T12:00:00Z",
        "subscriptions": [entry, entry | {"target_id": 155, "events": ["relase"]}],
    }
    (tmp_path / "bad.json").write_text(json.dumps(document))

    result = await djp_sentinel(cli_env, tmp_path, "import", "bad.json")
    after = await djp_sentinel(cli_env, tmp_path, "export")

    assert result.code == 1
    assert result.err.strip() == "error: subscriptions[1].events: unknown event 'relase'"
    assert result.out == ""
    assert json.loads(after.out)["subscriptions"] == []


async def test_poll_queues_the_weekly_stale_report_when_it_is_due(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    async with migrated(cli_env["DATABASE_URL"]) as database:
        await follow(database, 2, 265, guild=1)  # Flatblocks: stale
        await configure(
            database,
            2,
            guild=1,
            now=now,
            stale_report=True,
            digest_weekday=now.weekday(),
            digest_hour=now.hour,
        )

    first = await djp_sentinel(cli_env, tmp_path, "poll", "--once")
    second = await djp_sentinel(cli_env, tmp_path, "poll", "--once")

    assert first.code == 0, first.err
    assert "Queued 1 weekly stale report." in first.out
    assert "stale report" not in second.out


@pytest.mark.parametrize(
    "variable", ["DEV_GUILD_ID", "SHARD_COUNT", "METRICS_PORT", "METRICS_HOST", "WEBHOOK_TEST_HOST"]
)
def test_a_blank_optional_setting_is_its_default(
    variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, "")  # `NAME=`, as an uncommented line of .env.example
    blank = Settings()
    monkeypatch.delenv(variable)

    assert getattr(blank, variable.lower()) == getattr(Settings(), variable.lower())


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        (
            "LOG_LEVEL",
            "verbose",
            "error: LOG_LEVEL: 'verbose' is not a log level: "
            "use DEBUG, INFO, WARNING, ERROR, CRITICAL.",
        ),
        (
            "POLL_INTERVAL_SECONDS",
            "0",
            "error: POLL_INTERVAL_SECONDS: input should be greater than or equal to 1.",
        ),
        (
            "HTTP_CONCURRENCY",
            "lots",
            "error: HTTP_CONCURRENCY: input should be a valid integer, "
            "unable to parse string as an integer.",
        ),
        (
            "PYPI_URL",
            "not-a-url",
            "error: PYPI_URL: not an http:// or https:// URL (empty turns this source off).",
        ),
        (
            "OSV_API_URL",
            "ftp://127.0.0.1/",
            "error: OSV_API_URL: not an http:// or https:// URL (empty turns this source off).",
        ),
        ("DJP_API_URL", "", "error: DJP_API_URL: not an http:// or https:// URL."),
    ],
)
async def test_an_invalid_setting_is_one_line_naming_the_variable(
    cli_env: dict[str, str], tmp_path: Path, variable: str, value: str, expected: str
) -> None:
    result = await djp_sentinel(cli_env | {variable: value}, tmp_path, "package", "265")

    assert result.code == 2
    assert result.err.splitlines() == [expected]


async def test_export_writes_a_stored_http_webhook_url_without_failing(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    url = "http://127.0.0.1:9/api/v10/webhooks/42/the-webhook-token"
    async with migrated(cli_env["DATABASE_URL"]) as database:
        await follow(database, 2, 265, guild=1, webhook_url=url)

    result = await djp_sentinel(cli_env, tmp_path, "export")

    assert result.code == 0
    assert result.err == ""
    assert json.loads(result.out)["subscriptions"][0]["webhook_url"] == url


async def test_package_chart_writes_the_png_discord_shows(
    cli_env: dict[str, str], tmp_path: Path, djp_api: FakeDjangoPackages
) -> None:
    djp_api.update_package(265, commits_over_52=[0] * 50 + [4, 2])

    result = await djp_sentinel(
        cli_env, tmp_path, "package", "django-flatblocks", "--chart", "activity.png"
    )

    png = (tmp_path / "activity.png").read_bytes()
    assert result.code == 0, result.err
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert result.err.strip() == f"Wrote the commit chart to activity.png ({len(png):,} bytes)."
    assert "Latest version" in result.out


def test_windows_is_refused_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with mock.patch.object(os, "name", "nt"):
        code = main(["stale"])

    assert code == 2
    assert capsys.readouterr().err == UNSUPPORTED_SYSTEM + "\n"
