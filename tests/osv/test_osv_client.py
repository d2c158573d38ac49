"""The OSV client against the fake: batches, pages, records, every failure as one error, and
the poll's reads, where one item answered malformed costs only that item."""

from __future__ import annotations

import pytest

from bot.osv.client import OsvClient, OsvMalformed, OsvUnavailable
from tests.fakes.osv_api import FakeOsv


async def test_one_batch_lists_every_advisory_id_of_each_package(
    osv_api: FakeOsv, osv_client: OsvClient
) -> None:
    found = await osv_client.vulns_for(["django", "django-debug-toolbar", "no-such-package"])
    assert {ref.id for ref in found["django"]} >= {"GHSA-68w8-qjq3-2gfm", "PYSEC-2021-98"}
    assert {ref.id for ref in found["django-debug-toolbar"]} == {
        "GHSA-pghf-347x-c2gj",
        "PYSEC-2021-10",
    }
    assert found["no-such-package"] == []
    assert osv_api.count("POST") == 1
    query = osv_api.batch_bodies[0]["queries"][0]
    assert query == {"package": {"name": "django", "ecosystem": "PyPI"}}


async def test_pages_and_chunks_are_followed(osv_api: FakeOsv) -> None:
    osv_api.page_size = 2
    async with OsvClient.open(osv_api.base_url, timeout=2.0) as client:
        client._batch_size = 1  # one query per batch: chunks of the smallest size
        found = await client.vulns_for(["django", "flask-caching"])
    assert len({ref.id for ref in found["django"]}) == 6
    assert [ref.id for ref in found["flask-caching"]] == ["PYSEC-2021-13"]
    # django's 6 ids in pages of 2 (3 requests) and flask-caching's one page
    assert osv_api.count("POST") == 4
    assert osv_api.batch_bodies[2]["queries"][0]["page_token"] == "2"


async def test_a_record_and_an_unknown_id(osv_client: OsvClient) -> None:
    record = await osv_client.vuln("GHSA-2gwj-7jmv-h26r")
    assert record is not None
    assert record["database_specific"]["severity"] == "CRITICAL"
    assert await osv_client.vuln("PYSEC-2026-2151") is None


@pytest.mark.parametrize("failure", ["down", "malformed"])
async def test_failures_are_one_error(
    osv_api: FakeOsv, osv_client: OsvClient, failure: str
) -> None:
    osv_api.failure = failure  # type: ignore[assignment]
    with pytest.raises(OsvUnavailable):
        await osv_client.vulns_for(["django"])
    with pytest.raises(OsvUnavailable):
        await osv_client.vuln("GHSA-2gwj-7jmv-h26r")


async def test_an_answer_with_a_missing_result_is_refused(osv_api: FakeOsv) -> None:
    async with OsvClient.open(osv_api.base_url + "v1/vulns/", timeout=2.0) as client:
        with pytest.raises(OsvUnavailable):
            await client.vulns_for(["django"])


async def test_a_name_or_a_record_answered_malformed_costs_only_itself(
    osv_api: FakeOsv, osv_client: OsvClient
) -> None:
    osv_api.garbled = {"django", "PYSEC-2021-10"}

    listed = await osv_client.list_vulns(["django", "django-debug-toolbar"])
    read = await osv_client.read_vulns(["PYSEC-2021-10", "GHSA-pghf-347x-c2gj"])

    assert list(listed.found) == ["django-debug-toolbar"]
    assert listed.malformed == {
        "django": "the list of django: OSV's batch answer holds a result that is not an object."
    }
    assert list(read.found) == ["GHSA-pghf-347x-c2gj"]
    assert read.malformed == {
        "PYSEC-2021-10": "the record PYSEC-2021-10: OSV answered with malformed JSON."
    }
    with pytest.raises(OsvMalformed, match="the list of django"):
        await osv_client.vulns_for(["django"])  # a lookup answers in full or not at all
    with pytest.raises(OsvMalformed, match="the record PYSEC-2021-10"):
        await osv_client.vulns(["PYSEC-2021-10"])
