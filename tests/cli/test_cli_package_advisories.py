"""`package --json` and the package card with advisories: null when OSV is off or cannot be
reached, [] when none is known, every vulnerability otherwise (fake OSV, real records)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes.osv_api import FakeOsv
from tests.plugins.cli import djp_sentinel

TOOLBAR = "34"  # django-debug-toolbar, latest 6.0.0


async def advisories(env: dict[str, str], cwd: Path, slug: str) -> object:
    result = await djp_sentinel(env, cwd, "package", slug, "--json")
    assert result.code == 0, result.err
    return json.loads(result.out)["advisories"]


async def test_every_vulnerability_once_against_the_latest_release(
    cli_env: dict[str, str], osv_api: FakeOsv, tmp_path: Path
) -> None:
    env = cli_env | {"OSV_API_URL": osv_api.base_url}

    assert await advisories(env, tmp_path, TOOLBAR) == [
        {
            "id": "GHSA-pghf-347x-c2gj",
            "aliases": ["PYSEC-2021-10", "CVE-2021-30459"],
            "summary": "SQL Injection via in django-debug-toolbar",
            "severity": "HIGH",
            "fixed": ["1.11.1", "2.2.1", "3.2.1"],
            "affects_latest": False,
            "withdrawn": False,
        }
    ]
    assert await advisories(env, tmp_path, "django-flatblocks") == []


@pytest.mark.parametrize("osv", ["off", "down"])
async def test_null_when_osv_is_off_or_unreachable(
    cli_env: dict[str, str], osv_api: FakeOsv, tmp_path: Path, osv: str
) -> None:
    osv_api.failure = "down"
    env = cli_env | {"OSV_API_URL": "" if osv == "off" else osv_api.base_url}

    assert await advisories(env, tmp_path, TOOLBAR) is None


async def test_the_card_lists_those_affecting_the_latest_release(
    cli_env: dict[str, str], osv_api: FakeOsv, tmp_path: Path
) -> None:
    result = await djp_sentinel(
        cli_env | {"OSV_API_URL": osv_api.base_url}, tmp_path, "package", TOOLBAR
    )

    assert "none affect the latest release (1 known)" in result.out
