"""`djp-sentinel package` and `readiness` with PyPI and endoflife.date (their fakes) on.
django-flatblocks is served on PyPI as the real djangorestframework capture, renamed."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from storage.models import TargetKind
from tests.fakes.djp_api import FakeDjangoPackages
from tests.fakes.pypi_api import FakeEndOfLife, FakePypi
from tests.plugins.app import grow_flatpages, package_copies
from tests.plugins.cli import djp_sentinel, djp_sentinel_process
from tests.plugins.database import follow, migrated

FLATBLOCKS, FLATPAGES = 265, 48


async def test_package_json_gains_what_pypi_says(
    pypi_cli_env: dict[str, str], pypi_api: FakePypi, tmp_path: Path
) -> None:
    result = await djp_sentinel(pypi_cli_env, tmp_path, "package", "django-flatblocks", "--json")

    assert result.code == 0, result.err
    assert json.loads(result.out)["pypi"] == {
        "name": "django-flatblocks",
        "version": "3.13.1",
        "released": "2021-12-15T15:18:42.237445+00:00",
        "requires_python": ">=3.6",
        "django_versions": ["2.2", "3.0", "3.1", "3.2", "4.0"],
        "yanked": False,
        "yanked_reason": None,
    }


async def test_package_shows_declared_django_versions_python_and_upload(
    pypi_cli_env: dict[str, str], pypi_api: FakePypi, tmp_path: Path
) -> None:
    result = await djp_sentinel(pypi_cli_env, tmp_path, "package", "django-flatblocks")

    assert result.code == 0, result.err
    for fact in ("Django (declared)", "2.2, 3.0, 3.1, 3.2, 4.0", ">=3.6", "2021-12-15 15:18 UTC"):
        assert fact in result.out


async def test_pypi_off_or_unreachable_is_null_and_costs_nothing_else(
    cli_env: dict[str, str],
    pypi_cli_env: dict[str, str],
    pypi_api: FakePypi,
    tmp_path: Path,
) -> None:
    off = await djp_sentinel(cli_env, tmp_path, "package", "django-flatblocks", "--json")
    pypi_api.inject("503", times=2)
    down = await djp_sentinel(pypi_cli_env, tmp_path, "package", "django-flatblocks", "--json")
    pypi_api.inject("malformed", times=1)
    garbled = await djp_sentinel(pypi_cli_env, tmp_path, "package", "django-flatblocks", "--json")

    for result in (off, down, garbled):
        assert result.code == 0, result.err
        document = json.loads(result.out)
        assert document["pypi"] is None
        assert document["version"] == "1.0.0"


async def test_readiness_lists_each_watched_package_s_status(
    pypi_cli_env: dict[str, str], pypi_api: FakePypi, tmp_path: Path
) -> None:
    assert (await djp_sentinel(pypi_cli_env, tmp_path, "sync")).code == 0
    async with migrated(pypi_cli_env["DATABASE_URL"]) as database:
        await follow(database, channel=2, target_id=FLATPAGES, kind=TargetKind.GRID)
        await follow(database, channel=2, target_id=4100)  # not on PyPI's fake: unknown
    assert (await djp_sentinel(pypi_cli_env, tmp_path, "poll", "--once")).code == 0

    table = await djp_sentinel(pypi_cli_env, tmp_path, "readiness", "4.0")
    as_json = await djp_sentinel(pypi_cli_env, tmp_path, "readiness", "4.1", "--json")
    in_grid = await djp_sentinel(pypi_cli_env, tmp_path, "readiness", "4.0", "--grid", "flatpages")
    newest = await djp_sentinel(pypi_cli_env, tmp_path, "readiness", "--json")

    assert table.code == 0, table.err
    assert "Django 4.0: 1 ready, 0 no, 1 unknown (of 2 packages watched)" in table.out
    assert "django-flatblocks" in table.out
    assert json.loads(as_json.out) == [
        {
            "slug": "django-flatblocks",
            "status": "no",
            "django_versions": ["2.2", "3.0", "3.1", "3.2", "4.0"],
        },
        {"slug": "django-rest-registration", "status": "unknown", "django_versions": []},
    ]
    assert "(of 1 package in the Flatpages grid)" in in_grid.out
    assert [row["status"] for row in json.loads(newest.out)] == ["no", "unknown"]


async def test_readiness_shows_the_version_s_support_dates(
    pypi_cli_env: dict[str, str], endoflife_api: FakeEndOfLife, tmp_path: Path
) -> None:
    result = await djp_sentinel(pypi_cli_env, tmp_path, "readiness", "4.2")

    assert result.code == 0, result.err
    assert "Django 4.2 LTS: released 2023-04-03, security support ends 2026-04-07" in result.out


async def test_readiness_refuses_what_is_no_django_version(
    pypi_cli_env: dict[str, str], tmp_path: Path
) -> None:
    result = await djp_sentinel_process(pypi_cli_env, tmp_path, "readiness", "five")

    assert result.code == 1
    assert result.err.strip() == "error: 'five' is not a Django feature version: give one like 5.2."


async def test_readiness_says_why_its_board_is_empty(
    pypi_cli_env: dict[str, str], tmp_path: Path
) -> None:
    before_sync = await djp_sentinel(pypi_cli_env, tmp_path, "readiness", "4.0")
    assert (await djp_sentinel(pypi_cli_env, tmp_path, "sync")).code == 0
    nothing_watched = await djp_sentinel(pypi_cli_env, tmp_path, "readiness", "4.0", "--json")

    assert before_sync.code == 0, before_sync.err
    assert "holds no packages yet: run `djp-sentinel sync`" in before_sync.err
    assert nothing_watched.code == 0, nothing_watched.err
    assert json.loads(nothing_watched.out) == []
    assert nothing_watched.err.strip() == (
        "No package is watched yet: a channel's /watch add or `djp-sentinel webhook add` "
        "watches one; --grid SLUG shows a grid's members."
    )


async def test_readiness_of_a_mistyped_grid_suggests_the_stored_one(
    pypi_cli_env: dict[str, str], tmp_path: Path
) -> None:
    assert (await djp_sentinel(pypi_cli_env, tmp_path, "sync")).code == 0

    result = await djp_sentinel(pypi_cli_env, tmp_path, "readiness", "4.0", "--grid", "flatpges")

    assert result.code == 1
    assert result.err.strip() == "error: No grid “flatpges” is stored. Did you mean: flatpages?"


async def test_readiness_with_pypi_off_says_so(cli_env: dict[str, str], tmp_path: Path) -> None:
    assert (await djp_sentinel(cli_env, tmp_path, "sync")).code == 0

    result = await djp_sentinel(cli_env, tmp_path, "readiness", "4.0", "--grid", "flatpages")

    assert result.code == 0, result.err
    assert "Django 4.0: 0 ready, 0 no, 1 unknown" in result.out
    assert result.err.strip() == (
        "PyPI is off (PYPI_URL is empty): no package's Django versions are known."
    )


async def test_status_shows_what_the_last_poll_met_at_each_source(
    cli_env: dict[str, str],
    pypi_cli_env: dict[str, str],
    endoflife_api: FakeEndOfLife,
    tmp_path: Path,
) -> None:
    assert (await djp_sentinel(pypi_cli_env, tmp_path, "sync")).code == 0
    async with migrated(pypi_cli_env["DATABASE_URL"]) as database:
        await follow(database, channel=2, target_id=FLATBLOCKS)
    endoflife_api.inject("503", times=2)
    assert (await djp_sentinel(pypi_cli_env, tmp_path, "poll", "--once")).code == 0

    on = await djp_sentinel(pypi_cli_env, tmp_path, "status")
    off = await djp_sentinel(cli_env, tmp_path, "status")

    assert on.code == 0, on.err
    pypi, endoflife = on.out.split("\nPyPI\n")[1].split("\nendoflife.date\n")
    # the journal's newest serial, then django-flatblocks
    assert re.search(r"^  last pass .+ UTC: 2 requests, 0 not modified, 0 failures$", pypi, re.M)
    assert "  failing: 1 pass in a row read nothing" in endoflife
    assert "  no good answer yet" in endoflife
    assert re.search(r"^  next read .+ UTC$", endoflife, re.M)
    assert "endoflife.date kept failing for django.json (HTTP 503) after 2 attempts." in endoflife
    assert "Packages tracked: " in on.out
    assert "PyPI\n  off (PYPI_URL is empty)\nendoflife.date\n  off (ENDOFLIFE_URL is empty)\n" in (
        off.out
    )


async def test_readiness_prints_every_package_however_many(
    pypi_cli_env: dict[str, str],
    djp_api: FakeDjangoPackages,
    flatblocks_payload: dict[str, Any],
    tmp_path: Path,
) -> None:
    widgets = package_copies(flatblocks_payload, 120)
    grow_flatpages(djp_api, widgets)
    assert (await djp_sentinel(pypi_cli_env, tmp_path, "sync")).code == 0
    async with migrated(pypi_cli_env["DATABASE_URL"]) as database:
        await follow(database, channel=2, target_id=FLATPAGES, kind=TargetKind.GRID)

    table = await djp_sentinel(pypi_cli_env, tmp_path, "readiness", "4.0")
    as_json = await djp_sentinel(pypi_cli_env, tmp_path, "readiness", "4.0", "--json")

    slugs = ["django-flatblocks", *(w["slug"] for w in widgets)]
    assert table.code == 0, table.err
    assert "(of 121 packages watched)" in table.out
    assert all(f" {slug} " in table.out for slug in slugs)
    assert sorted(row["slug"] for row in json.loads(as_json.out)) == sorted(slugs)


async def test_readiness_of_a_grid_notes_the_members_pypi_does_not_have(
    pypi_cli_env: dict[str, str], pypi_api: FakePypi, tmp_path: Path
) -> None:
    assert (await djp_sentinel(pypi_cli_env, tmp_path, "sync")).code == 0

    result = await djp_sentinel(pypi_cli_env, tmp_path, "readiness", "4.0", "--grid", "caching")

    assert result.code == 0, result.err
    assert "1 ready, 0 no, 1 unknown (of 2 packages in the Caching grid)" in result.out
    assert result.err.strip() == (
        "PyPI has no project for django-valkey, so its status is unknown."
    )


async def test_readiness_says_in_one_note_that_pypi_failed(
    pypi_cli_env: dict[str, str], pypi_api: FakePypi, tmp_path: Path
) -> None:
    assert (await djp_sentinel(pypi_cli_env, tmp_path, "sync")).code == 0
    pypi_api.inject("503", times=100)

    result = await djp_sentinel(pypi_cli_env, tmp_path, "readiness", "4.0", "--grid", "caching")

    assert result.code == 0, result.err
    assert "0 ready, 0 no, 2 unknown (of 2 packages in the Caching grid)" in result.out
    assert result.err.strip() == (
        "PyPI could not answer for django-cache-machine, django-valkey, so their statuses are "
        "unknown: PyPI kept failing for pypi/django-cache-machine/json (HTTP 503) after 2 attempts."
    )
