"""DjangoPackagesClient against the running fake API: what a caller sees, fault by fault."""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from bot import __version__
from bot.config import Settings
from bot.djp.client import V4_ROOT, DjangoPackagesClient
from bot.errors import ApiUnavailable, InvalidRecord, NotFound
from tests.fakes.djp_api import FakeDjangoPackages, Fault, synthetic_content
from tests.fakes.sleep import RecordingSleep
from tests.plugins.data import seed_package
from tests.plugins.djp_api import TEST_RETRY

SEEDED_IDS = {34, 155, 265, 683, 1444, 4100, 5157, 5963, 6301}


async def crawl(client: DjangoPackagesClient, page_size: int) -> list[int]:
    """Every package id the catalog yields, in order, duplicates included."""
    return [payload.id async for page in client.catalog(page_size) for payload in page.payloads]


# -- reading records ----------------------------------------------------------------------------


async def test_package_by_id_and_by_slug_is_the_same_record(djp_client: DjangoPackagesClient):
    by_id = await djp_client.package(265)
    by_slug = await djp_client.package("django-flatblocks")

    assert by_id == by_slug
    assert by_id.title == "django-flatblocks"
    assert by_id.pypi_version == "1.0.0"
    assert by_id.grid_ids == (48,)
    assert by_id.category_id == 1


async def test_grid_by_id_and_by_slug_lists_its_members(djp_client: DjangoPackagesClient):
    by_id = await djp_client.grid(39)
    by_slug = await djp_client.grid("caching")

    assert by_id == by_slug
    assert by_id.title == "Caching"
    assert set(by_id.package_ids) == {155, 5963}


async def test_categories_are_all_listed(djp_client: DjangoPackagesClient):
    categories = await djp_client.categories()

    assert {(c.id, c.slug) for c in categories} == {(1, "apps"), (2, "frameworks"), (4, "other")}


async def test_every_grid_a_package_links_to_is_listed(djp_client: DjangoPackagesClient):
    grids = {grid.id: grid for grid in await djp_client.grids()}

    for package_id in SEEDED_IDS:
        package = await djp_client.package(package_id)
        for grid_id in package.grid_ids:
            assert package_id in grids[grid_id].package_ids


async def test_search_finds_packages_and_grids(djp_client: DjangoPackagesClient):
    hits = await djp_client.search("flat")

    assert {(hit.item_type, hit.slug) for hit in hits} == {
        ("package", "django-flatblocks"),
        ("grid", "flatpages"),
    }


async def test_search_skips_an_invalid_hit_and_keeps_the_others(
    djp_api: FakeDjangoPackages, djp_client: DjangoPackagesClient
):
    djp_api.corrupt_package(265, "title", 42)

    hits = await djp_client.search("flat")

    assert [hit.slug for hit in hits] == ["flatpages"]


async def test_blank_search_asks_nothing(
    djp_api: FakeDjangoPackages, djp_client: DjangoPackagesClient
):
    assert await djp_client.search("  ") == []
    assert djp_api.request_count == 0


async def test_ids_are_read_from_links_carrying_a_format_query(
    djp_api: FakeDjangoPackages, djp_client: DjangoPackagesClient
):
    djp_api.link_query = "?format=api"

    package = await djp_client.package(5963)
    grid = await djp_client.grid(39)

    assert (package.category_id, package.grid_ids) == (4, (39,))
    assert 5963 in grid.package_ids


async def test_a_changed_record_is_seen_on_the_next_read(
    djp_api: FakeDjangoPackages, djp_client: DjangoPackagesClient
):
    djp_api.update_package(265, pypi_version="1.0.1")

    assert (await djp_client.package(265)).pypi_version == "1.0.1"


async def test_a_detail_record_that_fails_validation_raises_invalid_record_without_retry(
    djp_api: FakeDjangoPackages, djp_client: DjangoPackagesClient
):
    djp_api.corrupt_package(265, "repo_watchers", "lots")

    with pytest.raises(InvalidRecord, match="repo_watchers") as caught:
        await djp_client.package(265)

    assert caught.value.record_id == 265
    with pytest.raises(InvalidRecord):
        await djp_client.package(265)
    # Each record once, never retried; the API's root once, to tell a broken record from a
    # base URL serving another API's records.
    assert [r.path for r in djp_api.requests] == [
        "/api/v4/packages/265/",
        "/api/v4/",
        "/api/v4/packages/265/",
    ]


# -- the catalog --------------------------------------------------------------------------------


async def test_catalog_costs_one_request_per_page_and_yields_each_package_once(
    djp_api: FakeDjangoPackages, djp_client: DjangoPackagesClient
):
    pages = [page async for page in djp_client.catalog(page_size=4)]

    assert [len(page.payloads) for page in pages] == [4, 4, 1]
    assert {page.total for page in pages} == {len(SEEDED_IDS)}
    assert sorted(p.id for page in pages for p in page.payloads) == sorted(SEEDED_IDS)
    assert djp_client.requests_made == djp_api.request_count == math.ceil(len(SEEDED_IDS) / 4)
    assert [request.query for request in djp_api.requests] == [
        {"limit": "4", "offset": str(offset)} for offset in (0, 4, 8)
    ]


async def test_a_package_added_mid_crawl_duplicates_nothing(
    djp_api: FakeDjangoPackages, djp_client: DjangoPackagesClient
):
    newcomer = {**seed_package("django-flatblocks"), "id": 7000, "slug": "django-newcomer"}
    seen: list[int] = []

    async for page in djp_client.catalog(page_size=4):
        if not seen:  # between the first page and the rest, everything shifts by one
            djp_api.add_package(newcomer)
        seen += [payload.id for payload in page.payloads]

    assert sorted(seen) == sorted(SEEDED_IDS)  # the shifted record came twice, yielded once
    assert djp_client.requests_made == 3


async def test_a_catalog_that_grows_mid_crawl_loses_no_package(
    djp_api: FakeDjangoPackages, djp_client: DjangoPackagesClient
):
    djp_api.remove_package(6301)  # 8 packages: two full pages of 4
    newcomer = {**seed_package("django-flatblocks"), "id": 7000, "slug": "django-newcomer"}
    seen: list[int] = []

    async for page in djp_client.catalog(page_size=4):
        if not seen:
            djp_api.add_package(newcomer)
        seen += [payload.id for payload in page.payloads]

    assert sorted(seen) == sorted(SEEDED_IDS - {6301})  # 34, pushed to offset 8, still read
    assert djp_client.requests_made == 3


async def test_an_entry_without_an_id_is_reported_and_its_page_kept(
    djp_api: FakeDjangoPackages, djp_client: DjangoPackagesClient
):
    djp_api.drop_field(683, "id")
    djp_api.corrupt_package(4100, "id", "4100")

    pages = [page async for page in djp_client.catalog(page_size=500)]

    [page] = pages
    assert sorted(bad.field for bad in page.invalid) == ["id", "id"]
    assert {payload.id for payload in page.payloads} == SEEDED_IDS - {4100, 683}


async def test_catalog_payloads_are_validated_by_whoever_reads_them(
    djp_api: FakeDjangoPackages, djp_client: DjangoPackagesClient
):
    djp_api.corrupt_package(4100, "repo_watchers", "many")
    djp_api.drop_field(683, "slug")

    [page] = [page async for page in djp_client.catalog(page_size=500)]

    assert {payload.id for payload in page.payloads} == SEEDED_IDS
    failures = {}
    for payload in page.payloads:
        try:
            payload.parse()
        except InvalidRecord as exc:
            failures[exc.record_id] = exc.field
    assert failures == {4100: "repo_watchers", 683: "slug"}


async def test_a_number_beyond_64_bits_spoils_only_its_own_record(
    djp_api: FakeDjangoPackages, djp_client: DjangoPackagesClient
):
    djp_api.corrupt_package(4100, "repo_watchers", 2**70)

    [page] = [page async for page in djp_client.catalog(page_size=500)]

    assert {payload.id for payload in page.payloads} == SEEDED_IDS
    odd = next(payload for payload in page.payloads if payload.id == 4100)
    with pytest.raises(InvalidRecord, match="repo_watchers"):
        odd.parse()
    assert djp_client.requests_made == 1  # read at once, not retried as a broken body


async def test_a_restored_record_is_valid_again(
    djp_api: FakeDjangoPackages, djp_client: DjangoPackagesClient
):
    djp_api.drop_field(683, "slug")
    djp_api.restore_package(683)

    assert (await djp_client.package(683)).slug == "django-queued-storage"


async def test_pages_after_the_first_are_fetched_concurrently_within_the_limit(
    djp_settings: Settings,
):
    async with (
        FakeDjangoPackages(synthetic_content(40), latency=0.05) as api,
        DjangoPackagesClient.from_settings(
            djp_settings.model_copy(update={"djp_api_url": api.base_url})
        ) as client,
    ):
        ids = await crawl(client, page_size=5)

    assert sorted(ids) == list(range(1, 41))
    assert api.request_count == 8
    assert api.max_in_flight == djp_settings.http_concurrency == 2


# -- errors and retries -------------------------------------------------------------------------


async def test_unknown_package_raises_not_found_without_retrying(
    djp_api: FakeDjangoPackages, djp_client: DjangoPackagesClient, djp_sleeps: RecordingSleep
):
    with pytest.raises(NotFound) as caught:
        await djp_client.package("no-such-package")

    assert (caught.value.kind, caught.value.key) == ("package", "no-such-package")
    assert djp_api.request_count == 1
    assert djp_sleeps.calls == []


async def test_unknown_grid_raises_not_found(djp_client: DjangoPackagesClient):
    with pytest.raises(NotFound, match="grid"):
        await djp_client.grid(999999)


async def test_a_wrong_base_url_says_to_check_the_setting(
    djp_api: FakeDjangoPackages, djp_settings: Settings
):
    settings = djp_settings.model_copy(update={"djp_api_url": djp_api.base_url + "v5/"})
    async with DjangoPackagesClient.from_settings(settings) as client:
        with pytest.raises(ApiUnavailable, match="DJP_API_URL"):
            await client.categories()

    assert djp_api.request_count == 2  # the list, then the root that says it is not v4


FAULT_REASONS: dict[Fault, str] = {
    "500": "HTTP 500",
    "502": "HTTP 502 with an HTML page",
    "503-html": "HTTP 503 with an HTML page",
    "html-200": "HTTP 200 with an HTML page",
    "hang": "timed out",
    "malformed": "malformed JSON",
    "truncated": "malformed JSON",
    "429": "HTTP 429",
    "reset": "network error",
}


@pytest.mark.parametrize("fault", FAULT_REASONS)
async def test_a_passing_fault_is_retried_and_the_caller_never_sees_it(
    fault: Fault,
    djp_api: FakeDjangoPackages,
    djp_client: DjangoPackagesClient,
    djp_sleeps: RecordingSleep,
):
    djp_api.inject(fault, times=1)

    package = await djp_client.package(265)

    assert package.slug == "django-flatblocks"
    assert djp_client.requests_made == djp_api.request_count == 2
    assert len(djp_sleeps.calls) == 1


@pytest.mark.parametrize(("fault", "reason"), FAULT_REASONS.items())
async def test_a_lasting_fault_becomes_api_unavailable_after_the_last_attempt(
    fault: Fault,
    reason: str,
    djp_api: FakeDjangoPackages,
    djp_client: DjangoPackagesClient,
    djp_sleeps: RecordingSleep,
):
    djp_api.inject(fault, times=TEST_RETRY.attempts)

    with pytest.raises(ApiUnavailable) as caught:
        await djp_client.package(265)

    message = str(caught.value)
    assert reason in message
    assert "\n" not in message
    assert djp_client.requests_made == TEST_RETRY.attempts
    assert len(djp_sleeps.calls) == TEST_RETRY.attempts - 1  # no wait after the last attempt


async def test_a_fault_in_a_later_catalog_page_is_retried(
    djp_api: FakeDjangoPackages, djp_client: DjangoPackagesClient
):
    djp_api.inject("503-html", path="offset=4")
    djp_api.inject("truncated", path="offset=8")

    ids = await crawl(djp_client, page_size=4)

    assert sorted(ids) == sorted(SEEDED_IDS)
    assert djp_client.requests_made == 3 + 2


async def test_retry_after_is_honoured(
    djp_api: FakeDjangoPackages, djp_client: DjangoPackagesClient, djp_sleeps: RecordingSleep
):
    djp_api.inject("429", retry_after=7)

    await djp_client.package(265)

    assert djp_sleeps.calls == [7.0]


async def test_an_excessive_retry_after_is_capped(
    djp_api: FakeDjangoPackages, djp_client: DjangoPackagesClient, djp_sleeps: RecordingSleep
):
    djp_api.inject("429", retry_after=86400)

    await djp_client.package(265)

    assert djp_sleeps.calls == [TEST_RETRY.max_retry_after]


async def test_waits_grow_exponentially_between_attempts(
    djp_api: FakeDjangoPackages, djp_client: DjangoPackagesClient, djp_sleeps: RecordingSleep
):
    djp_api.inject("502", times=2)

    await djp_client.package(265)

    assert djp_sleeps.calls == [0.5, 1.0]


# -- politeness ---------------------------------------------------------------------------------


async def test_every_request_asks_for_json_and_names_the_bot_without_a_format_query(
    djp_api: FakeDjangoPackages, djp_client: DjangoPackagesClient
):
    djp_api.inject("500")
    await djp_client.package(265)
    await djp_client.search("cache")
    await crawl(djp_client, page_size=4)

    assert djp_api.request_count == 6
    for headers in djp_api.request_headers:
        assert headers["Accept"] == "application/json"
        assert headers["User-Agent"].startswith(f"djp-sentinel/{__version__} ")
        assert "(+https://" in headers["User-Agent"]
    assert not any("format" in request.query for request in djp_api.requests)


#: Python run as in a checkout nobody installed: no distribution metadata for djp-sentinel.
NOT_INSTALLED = """
import importlib.metadata as metadata
real = metadata.version
def version(name):
    if name.lower().replace("_", "-") == "djp-sentinel":
        raise metadata.PackageNotFoundError(name)
    return real(name)
metadata.version = version
import bot.cli.main, bot.djp.client
print(bot.djp.client.USER_AGENT)
"""


def test_a_checkout_that_is_not_installed_imports_and_names_its_version() -> None:
    ran = subprocess.run(
        [sys.executable, "-c", NOT_INSTALLED],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=False,
    )

    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith(f"djp-sentinel/{__version__} (+https://")


# -- an injected HTTP client --------------------------------------------------------------------


def mock_http(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


async def test_an_injected_http_client_is_left_open():
    http = mock_http(lambda request: httpx.Response(200, json=seed_package("django-flatblocks")))

    async with DjangoPackagesClient(http, base_url="http://127.0.0.1:9/api/v4/") as client:
        await client.package(265)

    assert not http.is_closed
    await http.aclose()


async def test_json_of_the_wrong_shape_is_retried_like_a_broken_body():
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v4/":  # the root is API v4's: the list page is broken
            return httpx.Response(200, json={kind: "" for kind in V4_ROOT})
        return httpx.Response(200, json=["not", "an", "envelope"])

    http = mock_http(answer)
    sleeps = RecordingSleep()
    client = DjangoPackagesClient(
        http, base_url="http://127.0.0.1:9/api/v4/", retry=TEST_RETRY, sleep=sleeps
    )

    with pytest.raises(ApiUnavailable, match="count and results"):
        await client.categories()

    assert client.requests_made == TEST_RETRY.attempts + 1  # and the root, once
    await http.aclose()


async def test_a_refusal_is_not_retried():
    http = mock_http(lambda request: httpx.Response(403, json={"detail": "Forbidden"}))
    client = DjangoPackagesClient(http, base_url="http://127.0.0.1:9/api/v4/", retry=TEST_RETRY)

    with pytest.raises(ApiUnavailable, match="HTTP 403"):
        await client.package(265)

    assert client.requests_made == 1
    await http.aclose()
