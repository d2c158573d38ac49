"""The OSV client against a hostile `OSV_API_URL`: what it may cost us and where it may send us
are bounded as for Django Packages, and each attack is one `OsvUnavailable`."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.djp.body import MAX_BODY_BYTES
from bot.osv.client import OsvClient, OsvUnavailable
from tests.fakes.osv_api import FakeOsv


async def test_a_gzip_bomb_stops_at_the_body_cap(
    osv_api: FakeOsv, osv_client: OsvClient, peak_bytes: Callable[[], int]
) -> None:
    osv_api.bomb_bytes = 4 * MAX_BODY_BYTES
    osv_api.failure = "gzip-bomb"

    with pytest.raises(OsvUnavailable, match="a body over 16 MiB"):
        await osv_client.vulns_for(["django"])
    with pytest.raises(OsvUnavailable, match="a body over 16 MiB"):
        await osv_client.vuln("GHSA-2gwj-7jmv-h26r")

    assert peak_bytes() < 2 * MAX_BODY_BYTES  # the bomb is 64 MiB inflated


async def test_json_nested_past_every_parser_is_malformed_not_a_recursion_error(
    osv_api: FakeOsv, osv_client: OsvClient
) -> None:
    osv_api.failure = "deep-json"

    with pytest.raises(OsvUnavailable, match="malformed JSON"):
        await osv_client.vulns_for(["django"])
    with pytest.raises(OsvUnavailable, match="malformed JSON"):
        await osv_client.vuln("GHSA-2gwj-7jmv-h26r")


async def test_a_redirect_to_another_service_is_not_followed(
    osv_api: FakeOsv, osv_client: OsvClient
) -> None:
    async with FakeOsv() as elsewhere:
        osv_api.failure = "redirect"
        osv_api.redirect_to = elsewhere.base_url + "v1/querybatch"

        with pytest.raises(OsvUnavailable, match=r"redirected .* outside .*not followed"):
            await osv_client.vulns_for(["django"])

        assert elsewhere.requests == []


async def test_a_redirect_within_the_api_is_followed_with_its_query(
    osv_api: FakeOsv, osv_client: OsvClient
) -> None:
    osv_api.failure = "redirect"
    osv_api.redirect_to = "/v1/querybatch"  # the fake redirects every time: a loop

    with pytest.raises(OsvUnavailable, match="redirected more than 3 times"):
        await osv_client.vulns_for(["django"])

    assert osv_api.count("POST", "/v1/querybatch") == 4  # the POST followed, then stopped
