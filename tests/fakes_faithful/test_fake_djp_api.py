"""The fake Django Packages API answers like the real one, and its controls do what they say."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.core.records import link_id, parse_package
from tests.fakes.djp_api import FakeDjangoPackages, seeded, synthetic_catalog, synthetic_content
from tests.fakes.djp_data import grid_ids

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def http(djp_api: FakeDjangoPackages) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=djp_api.base_url) as client:
        yield client


async def get_json(http: httpx.AsyncClient, path: str, **params: Any) -> Any:
    response = await http.get(path, params=params)
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


# -- serving like DRF ---------------------------------------------------------------------------


async def test_list_pages_newest_first_with_absolute_links_keeping_other_params(
    djp_api: FakeDjangoPackages, http: httpx.AsyncClient
):
    page = await get_json(http, "packages/", limit=3, offset=3, extra="kept")

    assert page["count"] == len(djp_api.packages)
    assert [p["id"] for p in page["results"]] == sorted(djp_api.packages, reverse=True)[3:6]
    next_url, previous_url = httpx.URL(page["next"]), httpx.URL(page["previous"])
    assert str(next_url).startswith(djp_api.base_url)
    assert dict(next_url.params) == {"limit": "3", "offset": "6", "extra": "kept"}
    assert dict(previous_url.params) == {"limit": "3", "extra": "kept"}  # offset 0 is dropped


async def test_list_defaults_to_twenty_and_has_no_maximum():
    async with (
        FakeDjangoPackages(synthetic_content(45)) as api,
        httpx.AsyncClient(base_url=api.base_url) as http,
    ):
        default = await get_json(http, "packages/", limit="zero")
        everything = await get_json(http, "packages/", limit=1000)
        past_the_end = await get_json(http, "packages/", offset=1000)

    assert len(default["results"]) == 20
    assert len(everything["results"]) == 45
    assert everything["next"] is None
    assert past_the_end["results"] == []


async def test_detail_by_id_or_slug_with_links_to_the_fake_itself(
    djp_api: FakeDjangoPackages, http: httpx.AsyncClient
):
    by_id = await get_json(http, "packages/5963/")
    by_slug = await get_json(http, "packages/django-valkey/")

    assert by_id == by_slug
    assert by_id["category"] == f"{djp_api.base_url}categories/4/"
    assert by_id["grids"] == [f"{djp_api.base_url}grids/39/"]


async def test_unknown_objects_get_drf_json_and_unknown_routes_html(http: httpx.AsyncClient):
    missing = await http.get("packages/no-such-thing/")
    category_by_slug = await http.get("categories/apps/")
    no_route = await http.get("users/")

    assert (missing.status_code, missing.json()) == (
        404,
        {"detail": "No Package matches the given query."},
    )
    assert category_by_slug.status_code == 404
    assert category_by_slug.json() == {"detail": "No Category matches the given query."}
    assert no_route.status_code == 404
    assert no_route.headers["content-type"].startswith("text/html")


async def test_grid_members_are_links_ordered_by_title(
    djp_api: FakeDjangoPackages, http: httpx.AsyncClient
):
    djp_api.set_grid_members(48, [265, 34, 155])

    grid = await get_json(http, "grids/flatpages/")

    members = [link_id(url, "packages") for url in grid["packages"]]
    titles = [djp_api.packages[member]["title"] for member in members]
    assert titles == sorted(titles, key=str.casefold)
    assert set(members) == {265, 34, 155}


async def test_search_is_a_bare_array_of_at_most_twenty_packages_and_grids():
    async with (
        FakeDjangoPackages(synthetic_content(100)) as api,
        httpx.AsyncClient(base_url=api.base_url) as http,
    ):
        many = await get_json(http, "search/", q="DJANGO")
        grids = await get_json(http, "search/", q="grid")
        nothing = await get_json(http, "search/", q="")

    assert len(many) == 20
    assert {hit["item_type"] for hit in many} == {"package"}
    assert grids
    assert {hit["item_type"] for hit in grids} == {"grid"}
    assert nothing == []


# -- controls -----------------------------------------------------------------------------------


async def test_membership_changes_show_on_both_sides(
    djp_api: FakeDjangoPackages, http: httpx.AsyncClient
):
    djp_api.set_grid_members(39, [265])

    grid = await get_json(http, "grids/39/")
    flatblocks = await get_json(http, "packages/265/")
    valkey = await get_json(http, "packages/5963/")

    assert grid["packages"] == [f"{djp_api.base_url}packages/265/"]
    assert f"{djp_api.base_url}grids/39/" in flatblocks["grids"]
    assert valkey["grids"] == []


async def test_removing_a_grid_unlinks_its_packages(
    djp_api: FakeDjangoPackages, http: httpx.AsyncClient
):
    djp_api.remove_grid(48)

    assert (await http.get("grids/48/")).status_code == 404
    assert (await get_json(http, "packages/265/"))["grids"] == []


async def test_added_and_removed_packages_change_the_list(
    djp_api: FakeDjangoPackages, http: httpx.AsyncClient
):
    djp_api.add_package({**djp_api.packages[265], "id": 9000, "slug": "django-new"})
    djp_api.remove_package(265)

    page = await get_json(http, "packages/", limit=100)

    ids = [p["id"] for p in page["results"]]
    assert ids[0] == 9000
    assert 265 not in ids


async def test_corruption_is_served_until_restored(
    djp_api: FakeDjangoPackages, http: httpx.AsyncClient
):
    djp_api.corrupt_package(265, "commits_over_52", "lots")
    djp_api.drop_field(265, "slug")
    corrupted = await get_json(http, "packages/265/")
    djp_api.restore_package(265)
    restored = await get_json(http, "packages/265/")

    assert corrupted["commits_over_52"] == "lots"
    assert "slug" not in corrupted
    assert restored["slug"] == "django-flatblocks"
    assert isinstance(restored["commits_over_52"], list)


async def test_a_fault_can_be_aimed_at_one_path(
    djp_api: FakeDjangoPackages, http: httpx.AsyncClient
):
    djp_api.inject("502", path="/grids/")

    package = await http.get("packages/265/")
    grid = await http.get("grids/48/")
    grid_again = await http.get("grids/48/")

    assert [package.status_code, grid.status_code, grid_again.status_code] == [200, 502, 200]


async def test_an_unknown_fault_is_refused(djp_api: FakeDjangoPackages):
    with pytest.raises(ValueError, match="unknown fault"):
        djp_api.inject("teapot")  # type: ignore[arg-type]


async def test_requests_are_logged(djp_api: FakeDjangoPackages, http: httpx.AsyncClient):
    await http.get("packages/", params={"limit": 5})

    assert djp_api.requests == [("GET", "/api/v4/packages/", {"limit": "5"})]
    assert djp_api.request_count == 1
    djp_api.reset_log()
    assert djp_api.request_count == 0


# -- content ------------------------------------------------------------------------------------


def test_every_grid_a_seeded_package_links_to_exists():
    content = seeded()

    linked = {gid for package in content.packages.values() for gid in grid_ids(package)}

    assert linked <= set(content.grids)
    assert {265, 155, 683, 4100, 5157, 1444, 5963, 34, 6301} == set(content.packages)


def test_the_synthetic_catalog_is_valid_varied_and_reproducible():
    payloads = synthetic_catalog(300, seed=4)

    records = [parse_package(payload) for payload in payloads]

    assert [r.id for r in records] == list(range(1, 301))
    assert payloads == synthetic_catalog(300, seed=4)
    assert any(not r.commits_known for r in records)
    assert any(r.pypi_version is None for r in records)
    assert len({r.repo_watchers for r in records}) > 20
    offsets = {datetime.fromisoformat(p["last_fetched"]).utcoffset() for p in payloads}
    assert offsets == {None, timedelta(hours=-4), timedelta(hours=-5)}  # naive or New York


def test_synthetic_grids_cover_every_linked_grid():
    content = synthetic_content(200)

    linked = {gid for package in content.packages.values() for gid in grid_ids(package)}

    assert linked == set(content.grids)


async def test_runs_standalone_and_prints_its_base_url():
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fakes.djp_api",
        "--port",
        "0",
        "--synthetic",
        "30",
        stdout=asyncio.subprocess.PIPE,
        cwd=PROJECT_ROOT,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        base_url = line.split("export DJP_API_URL=")[1].split()[0]  # the line to paste
        async with httpx.AsyncClient(base_url=base_url) as http:
            page = await get_json(http, "packages/")
    finally:
        process.send_signal(signal.SIGINT)
        await process.wait()

    assert page["count"] == 30
    assert process.returncode == 0


async def test_drift_moves_a_reproducible_share_of_packages_on() -> None:
    async with FakeDjangoPackages(synthetic_content(200)) as api:
        before = {pid: dict(p) for pid, p in api.packages.items()}
        async with httpx.AsyncClient() as http:
            answer = await http.post(
                api.base_url.replace("/api/v4/", "/_fake/drift"),
                params={"fraction": "0.1", "seed": "3"},
            )
        changed = [pid for pid, p in api.packages.items() if p != before[pid]]

    assert answer.json() == {"changed": 20}
    assert len(changed) == 20
    for pid in changed:
        assert api.packages[pid]["pypi_version"] != before[pid]["pypi_version"]
        assert api.packages[pid]["repo_watchers"] > before[pid]["repo_watchers"]
