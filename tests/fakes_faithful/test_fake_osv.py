"""The fake OSV answers in the shapes osv.dev sends (the real `querybatch` capture and the
real records), so the client is tested against what it will meet."""

from __future__ import annotations

import json

import httpx

from tests.fakes.osv_api import DATA, FakeOsv

CAPTURE = json.loads((DATA / "api-querybatch-pypi.response.json").read_text())


def shape(result: dict[str, object]) -> set[str]:
    """The keys a batch result has, and those of its vulns."""
    vulns = result.get("vulns") or []
    assert isinstance(vulns, list)
    return set(result) | {f"vulns[].{key}" for vuln in vulns for key in vuln}


async def test_a_batch_answers_one_result_per_query_in_the_captured_shape(
    osv_api: FakeOsv,
) -> None:
    queries = [
        {"package": {"name": name, "ecosystem": "PyPI"}}
        for name in ("django", "no-such-package", "django-debug-toolbar")
    ]
    async with httpx.AsyncClient() as http:
        answer = (
            await http.post(f"{osv_api.base_url}v1/querybatch", json={"queries": queries})
        ).json()

    real_shapes = {frozenset(shape(result)) for result in CAPTURE["results"]}
    assert set(answer) == set(CAPTURE) == {"results"}
    assert len(answer["results"]) == len(queries)
    assert answer["results"][1] == {}  # as osv.dev answers a package with no advisory
    assert {frozenset(shape(result)) for result in answer["results"]} <= real_shapes


async def test_a_record_is_served_as_stored_and_an_unknown_id_as_osv_does(
    osv_api: FakeOsv,
) -> None:
    async with httpx.AsyncClient() as http:
        found = await http.get(f"{osv_api.base_url}v1/vulns/GHSA-68w8-qjq3-2gfm")
        missing = await http.get(f"{osv_api.base_url}v1/vulns/PYSEC-2026-2151")

    stored = json.loads((DATA / "GHSA-68w8-qjq3-2gfm.json").read_text())
    assert found.json() == stored
    assert missing.status_code == 404
    assert missing.json() == {"code": 5, "message": "Vulnerability not found"}
