"""The fakes of PyPI and endoflife.date serve the real captures as they are, and answer a
conditional request as both upstreams do; the fake PyPI's journal is PyPI's, as its server
code and documentation describe it."""

from __future__ import annotations

import xmlrpc.client
from typing import Any

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


async def rpc(http: httpx.AsyncClient, pypi: FakePypi, method: str, *params: int) -> Any:
    """One XML-RPC call to the fake's journal, as PyPI's documented client makes it."""
    answer = await http.post(
        pypi.base_url.removesuffix("/"),  # PyPI's endpoint is `/pypi`
        content=xmlrpc.client.dumps(params, method),
        headers={"Content-Type": "text/xml"},
    )
    assert answer.headers["content-type"].startswith("text/xml")
    return xmlrpc.client.loads(answer.content)[0][0]


async def test_the_journal_is_shaped_as_pypis_and_each_project_follows_it(
    pypi_api: FakePypi,
) -> None:
    async with httpx.AsyncClient() as http:
        start = await rpc(http, pypi_api, "changelog_last_serial")
        pypi_api.publish("nango", "0.2.0")
        pypi_api.remove("django-rest-registration")
        entries = await rpc(http, pypi_api, "changelog_since_serial", start)
        served = await http.get(f"{pypi_api.base_url}nango/json")
        etag = served.headers["etag"]
        unchanged = await http.get(served.url, headers={"If-None-Match": etag})

    # as the documentation's example: [name, version, timestamp, action, serial]
    assert [(name, version, action, serial) for name, version, _, action, serial in entries] == [
        ("nango", "0.2.0", "new release", start + 1),
        ("nango", "0.2.0", "add source file nango-0.2.0.tar.gz", start + 2),
        ("nango", "0.2.0", "add py3 file nango-0.2.0-py3-none-any.whl", start + 3),
        ("django-rest-registration", None, "remove project", start + 4),  # nil: the project
    ]
    assert all(isinstance(entry[2], int) for entry in entries)
    assert served.json()["last_serial"] == int(served.headers["x-pypi-last-serial"]) == start + 3
    assert (unchanged.status_code, unchanged.headers["x-pypi-last-serial"]) == (304, str(start + 3))


async def test_the_journal_answers_at_most_its_limit_oldest_first() -> None:
    async with FakePypi(journal_limit=3) as pypi, httpx.AsyncClient() as http:
        start = await rpc(http, pypi, "changelog_last_serial")
        pypi.publish("nango", "0.2.0")
        pypi.publish("nango", "0.3.0")
        first = await rpc(http, pypi, "changelog_since_serial", start)
        rest = await rpc(http, pypi, "changelog_since_serial", first[-1][4])

    assert [entry[4] for entry in first + rest] == list(range(start + 1, start + 7))
    assert [len(first), len(rest)] == [3, 3]
