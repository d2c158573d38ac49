"""The client against a hostile or broken upstream: what it may cost us and where it may send
us are bounded, whatever the server answers."""

from __future__ import annotations

import logging

import httpx
import pytest

from bot.djp.body import MAX_BODY_BYTES
from bot.djp.client import PAGE_WINDOW, DjangoPackagesClient
from bot.djp.origin import may_follow
from bot.errors import ApiUnavailable
from tests.fakes.djp_api import FakeDjangoPackages
from tests.fakes.sleep import RecordingSleep
from tests.plugins.djp_api import TEST_RETRY

SEEDED_IDS = {34, 155, 265, 683, 1444, 4100, 5157, 5963, 6301}


async def crawl(client: DjangoPackagesClient, page_size: int = 500) -> list[int]:
    return [payload.id async for page in client.catalog(page_size) for payload in page.payloads]


async def test_a_server_capping_limit_is_paged_by_what_it_returns(
    djp_api: FakeDjangoPackages, djp_client: DjangoPackagesClient, caplog: pytest.LogCaptureFixture
):
    djp_api.max_limit = 2  # DRF's max_limit: asking for 500 gives 2

    ids = await crawl(djp_client)

    assert sorted(ids) == sorted(SEEDED_IDS)
    offsets = sorted(int(r.query["offset"]) for r in djp_api.requests)
    assert offsets == [0, 2, 4, 6, 8]
    assert "short" not in caplog.text


async def test_a_huge_count_costs_a_few_requests_not_one_task_per_page(
    djp_api: FakeDjangoPackages, djp_client: DjangoPackagesClient, caplog: pytest.LogCaptureFixture
):
    djp_api.claimed_count = 10**9
    djp_api.max_limit = 2

    with caplog.at_level(logging.WARNING):
        ids = await crawl(djp_client)

    assert sorted(ids) == sorted(SEEDED_IDS)
    # Five pages hold the nine packages; past them, at most a window of empty pages.
    assert djp_api.request_count <= 5 + PAGE_WINDOW
    assert "claims 1000000000 records" in caplog.text
    assert "the crawl is short" in caplog.text


async def test_a_crawl_short_of_count_is_a_warning(
    djp_api: FakeDjangoPackages, djp_client: DjangoPackagesClient, caplog: pytest.LogCaptureFixture
):
    djp_api.claimed_count = len(SEEDED_IDS) + 1

    with caplog.at_level(logging.WARNING):
        await crawl(djp_client)

    assert "listed 10 records at packages/ but served 9" in caplog.text


async def test_a_gzip_bomb_stops_at_the_body_cap_and_is_retried_as_malformed(
    djp_api: FakeDjangoPackages, djp_client: DjangoPackagesClient, djp_sleeps: RecordingSleep
):
    djp_api.bomb_bytes = 4 * MAX_BODY_BYTES
    djp_api.inject("gzip-bomb", path="/packages/265/")

    record = await djp_client.package(265)

    assert record.slug == "django-flatblocks"
    assert len(djp_sleeps.calls) == 1  # one retry, as for any malformed answer


async def test_a_gzip_bomb_every_time_is_a_typed_error_naming_the_cap(
    djp_api: FakeDjangoPackages, djp_client: DjangoPackagesClient
):
    djp_api.bomb_bytes = 4 * MAX_BODY_BYTES
    djp_api.inject("gzip-bomb", times=TEST_RETRY.attempts, path="/packages/265/")

    with pytest.raises(ApiUnavailable, match="a body over 16 MiB"):
        await djp_client.package(265)


async def test_json_nested_past_every_parser_is_malformed_not_a_recursion_error(
    djp_api: FakeDjangoPackages, djp_client: DjangoPackagesClient
):
    djp_api.inject("deep-json", times=TEST_RETRY.attempts, path="/packages/")

    with pytest.raises(ApiUnavailable, match="malformed JSON"):
        await crawl(djp_client)

    assert djp_api.request_count == TEST_RETRY.attempts


async def test_a_redirect_to_another_service_is_not_followed(
    djp_api: FakeDjangoPackages, djp_client: DjangoPackagesClient
):
    async with FakeDjangoPackages() as elsewhere:
        djp_api.inject("redirect", path="/packages/265/", location=elsewhere.base_url + "x/")

        with pytest.raises(ApiUnavailable, match=r"redirected .* outside .*not followed"):
            await djp_client.package(265)

        assert elsewhere.request_count == 0


async def test_a_redirect_within_the_api_is_followed(
    djp_api: FakeDjangoPackages, djp_client: DjangoPackagesClient
):
    djp_api.inject(
        "redirect", path="/packages/django-flatblocks/", location="/api/v4/packages/265/"
    )

    record = await djp_client.package("django-flatblocks")

    assert record.id == 265
    assert [r.path for r in djp_api.requests][-1] == "/api/v4/packages/265/"


@pytest.mark.parametrize(
    ("target", "allowed"),
    [
        ("https://djangopackages.org/api/v4/packages/1/", True),
        ("http://djangopackages.org/api/v4/packages/1/", False),  # never down to http
        ("https://djangopackages.org:8443/api/v4/", False),
        ("https://evil.example/api/v4/", False),
        ("https://127.0.0.1:9100/metrics", False),
    ],
)
def test_redirects_stay_within_the_api_origin(target: str, allowed: bool):
    base = httpx.URL("https://djangopackages.org/api/v4/")

    assert may_follow(base, httpx.URL(target)) is allowed


def test_http_may_move_up_to_https_on_the_same_host():
    assert may_follow(httpx.URL("http://djp.local/api/v4/"), httpx.URL("https://djp.local/x/"))


async def test_an_uppercase_slug_finds_the_package_before_any_sync(
    djp_client: DjangoPackagesClient,
):
    record = await djp_client.package("Django-FlatBlocks")

    assert record.slug == "django-flatblocks"
