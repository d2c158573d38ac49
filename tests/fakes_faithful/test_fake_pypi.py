"""The fakes of PyPI and endoflife.date serve the real captures as they are, and answer a
conditional request as both upstreams do."""

from __future__ import annotations

import httpx

from tests.fakes.pypi_api import FakeEndOfLife, FakePypi, capture


async def test_each_capture_is_served_unchanged_under_its_pep_503_name(
    pypi_api: FakePypi, endoflife_api: FakeEndOfLife
) -> None:
    async with httpx.AsyncClient() as http:
        crispy = await http.get(f"{pypi_api.base_url}Django_Crispy.Forms/json")
        cycles = await http.get(f"{endoflife_api.base_url}django.json")
        missing = await http.get(f"{pypi_api.base_url}no-such-project/json")

    assert crispy.json() == capture("pypi/django-crispy-forms.json")
    assert cycles.json() == capture("endoflife/django.json")
    assert (missing.status_code, missing.json()) == (404, {"message": "Not Found"})


async def test_a_matching_etag_is_a_304_and_a_change_a_new_etag(pypi_api: FakePypi) -> None:
    url = f"{pypi_api.base_url}nango/json"
    async with httpx.AsyncClient() as http:
        first = await http.get(url)
        etag = first.headers["etag"]
        unchanged = await http.get(url, headers={"If-None-Match": etag})
        pypi_api.publish("nango", "0.2.0", django=["4.2"])
        changed = await http.get(url, headers={"If-None-Match": etag})

    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    info = changed.json()["info"]
    assert (info["version"], "Framework :: Django :: 4.2" in info["classifiers"]) == ("0.2.0", True)


async def test_a_yanked_latest_release_gives_way_to_the_one_before(pypi_api: FakePypi) -> None:
    pypi_api.publish("nango", "0.2.0")
    pypi_api.yank("nango", "0.2.0", "Broken wheel")
    served = pypi_api.project("nango")

    assert served["info"]["version"] == "0.1.2"
    assert [f["yanked_reason"] for f in served["releases"]["0.2.0"]] == ["Broken wheel"]
