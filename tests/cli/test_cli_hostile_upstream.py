"""The command line against a hostile or misconfigured upstream: what the operator sees is one
line, free of control sequences, and the catalog that was served."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage import packages
from tests.fakes.discord_runner import DiscordScene
from tests.fakes.djp_api import FakeDjangoPackages
from tests.plugins.cli import djp_sentinel, djp_sentinel_process
from tests.plugins.database import follow, migrated

#: Terminal title, clear screen, an OSC 8 link, an OSC 52 clipboard write, a bidi override.
HOSTILE = (
    "\x1b]0;pwned\x07\x1b[2J\x1b]8;;https://evil.example/\x07click\x1b]8;;\x07"
    "\x1b]52;c;cm0gLXJmIH4=\x07\x9b31m Flat\u202eskcolb"
)


def assert_printable(text: str) -> None:
    for control in ("\x1b", "\x07", "\x9b", "\u202e"):
        assert control not in text


async def test_escape_sequences_in_upstream_text_never_reach_the_terminal(
    cli_env: dict[str, str], tmp_path: Path, djp_api: FakeDjangoPackages
) -> None:
    djp_api.update_package(265, title=HOSTILE, repo_description=HOSTILE, pypi_version=HOSTILE)
    await djp_sentinel(cli_env, tmp_path, "sync")

    card = await djp_sentinel(cli_env, tmp_path, "package", "django-flatblocks")
    grid = await djp_sentinel(cli_env, tmp_path, "grid", "flatpages")

    assert (card.code, grid.code) == (0, 0), card.err + grid.err
    assert "click" in card.out
    assert "Flatskcolb" in card.out
    for result in (card, grid):
        assert_printable(result.out + result.err)


async def test_an_upstream_id_with_a_newline_cannot_forge_a_log_line(
    cli_env: dict[str, str], tmp_path: Path, djp_api: FakeDjangoPackages
) -> None:
    djp_api.corrupt_package(265, "id", "265\nCRITICAL forged: database wiped")

    result = await djp_sentinel(cli_env, tmp_path, "sync")

    assert result.code == 0, result.err
    assert "forged" in result.err + result.out
    for line in (result.err + result.out).splitlines():
        assert not line.startswith("CRITICAL forged")


async def test_an_upstream_slug_that_could_break_a_link_is_skipped(
    cli_env: dict[str, str], tmp_path: Path, djp_api: FakeDjangoPackages
) -> None:
    djp_api.corrupt_package(265, "slug", "x)[click me](https://evil.example")

    await djp_sentinel(cli_env, tmp_path, "sync")
    result = await djp_sentinel(cli_env, tmp_path, "package", "265")

    assert result.code == 1
    assert "evil.example" not in result.out
    assert result.err.strip() == (
        "error: Django Packages sent this package with data that cannot be read: try again later."
    )


async def test_sync_against_a_server_capping_limit_stores_every_package(
    cli_env: dict[str, str], tmp_path: Path, djp_api: FakeDjangoPackages
) -> None:
    djp_api.max_limit = 4

    result = await djp_sentinel(cli_env, tmp_path, "sync")

    assert result.code == 0, result.err
    assert f"Synced {len(djp_api.packages)} packages" in result.out
    assert "short" not in result.err


async def test_sync_short_of_the_listed_count_says_so(
    cli_env: dict[str, str], tmp_path: Path, djp_api: FakeDjangoPackages
) -> None:
    djp_api.claimed_count = len(djp_api.packages) + 1

    result = await djp_sentinel(cli_env, tmp_path, "sync")

    assert result.code == 0, result.err
    assert f"but served {len(djp_api.packages)}" in result.err


@pytest.mark.parametrize(
    "base",
    [
        pytest.param("", id="site root"),
        pytest.param("api/v3/", id="API v3"),
        pytest.param("api/v1/", id="API v1 (410)"),
    ],
)
async def test_a_base_url_that_is_not_api_v4_is_named_in_one_line(
    cli_env: dict[str, str], tmp_path: Path, djp_api: FakeDjangoPackages, base: str
) -> None:
    env = cli_env | {"DJP_API_URL": djp_api.site_url + base}

    package = await djp_sentinel_process(env, tmp_path, "package", "django-flatblocks")
    sync = await djp_sentinel(env, tmp_path, "sync")

    assert package.code == 1
    assert package.err.startswith(f"error: DJP_API_URL {djp_api.site_url}{base} is not the ")
    assert len(package.err.strip().splitlines()) == 1
    assert "is not the Django Packages API v4" in sync.out + sync.err
    assert "try again later" not in package.err + sync.out + sync.err
    assert djp_api.request_count <= 6  # no retries: two commands, each asking the root once


async def test_an_uppercase_slug_works_before_any_sync(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    result = await djp_sentinel(cli_env, tmp_path, "package", "Django-Flatblocks")

    assert result.code == 0, result.err
    assert "django-flatblocks" in result.out


async def test_sync_shows_the_changes_it_found_and_poll_does_not_deny_them(
    cli_env: dict[str, str],
    tmp_path: Path,
    djp_api: FakeDjangoPackages,
    discord_scene: DiscordScene,
) -> None:
    hook = discord_scene.fake.create_webhook(discord_scene.alerts.id)
    await djp_sentinel(cli_env, tmp_path, "sync")
    async with migrated(cli_env["DATABASE_URL"]) as database:
        await follow(
            database,
            discord_scene.alerts.id,
            265,
            guild=discord_scene.guild.id,
            created_by=discord_scene.manager.id,
            webhook_url=hook.url,
        )
    djp_api.update_package(265, pypi_version="1.1.0")

    synced = await djp_sentinel(cli_env, tmp_path, "sync")
    polled = await djp_sentinel(cli_env, tmp_path, "poll", "--once")

    assert synced.code == 0, synced.err
    assert "release" in synced.out
    assert "1.1.0" in synced.out
    assert "Queued 1 alert" in synced.out
    assert polled.code == 0, polled.err
    assert "Delivered 1 alert" in polled.out
    assert "No changes." not in polled.out
    assert len(discord_scene.fake.messages(discord_scene.alerts.id)) == 1


async def test_a_removed_package_is_never_its_own_suggestion(
    cli_env: dict[str, str], tmp_path: Path, djp_api: FakeDjangoPackages
) -> None:
    await djp_sentinel(cli_env, tmp_path, "sync")
    djp_api.remove_package(265)
    async with migrated(cli_env["DATABASE_URL"]) as database, database.transaction() as session:
        await packages.mark_removed(session, 265, now=datetime.now(UTC))

    result = await djp_sentinel(cli_env, tmp_path, "package", "django-flatblocks")

    assert result.code == 1
    assert result.err.strip() == "error: No package “django-flatblocks” on Django Packages."
