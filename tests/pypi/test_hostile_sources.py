"""The PyPI and endoflife.date client against a hostile `PYPI_URL` or `ENDOFLIFE_URL`: what
it may cost us and where it may send us are bounded as for Django Packages, and each attack
is one `ApiUnavailable`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest

from bot.djp.body import MAX_BODY_BYTES
from bot.errors import ApiUnavailable
from bot.pypi.client import Answer, ConditionalClient, EndOfLifeClient, Fresh, PypiClient
from tests.fakes.pypi_api import FakeEndOfLife, FakePypi, _JsonFake
from tests.fakes.sleep import RecordingSleep
from tests.plugins.pypi import SOURCE_TEST_RETRY


@dataclass
class Source:
    """One upstream: its fake, and the client's read of one document from it."""

    fake: _JsonFake
    fetch: Callable[[], Awaitable[Answer]]
    path: str  # of the document `fetch` reads


@pytest.fixture(params=["PyPI", "endoflife.date"])
async def source(
    request: pytest.FixtureRequest, pypi_api: FakePypi, endoflife_api: FakeEndOfLife
) -> AsyncIterator[Source]:
    fake: _JsonFake = pypi_api if request.param == "PyPI" else endoflife_api
    base_url = pypi_api.base_url.removesuffix("pypi/") if fake is pypi_api else fake.base_url
    client = ConditionalClient(
        base_url=base_url,
        source=request.param,
        timeout=5.0,
        retry=SOURCE_TEST_RETRY,
        sleep=RecordingSleep(),
    )
    if fake is pypi_api:
        yield Source(
            fake,
            lambda: PypiClient(client).project("django-flatblocks", None),
            "/pypi/django-flatblocks/json",
        )
    else:
        yield Source(fake, lambda: EndOfLifeClient(client).django(None), "/api/django.json")
    await client.aclose()


async def test_a_gzip_bomb_stops_at_the_body_cap(
    source: Source, peak_bytes: Callable[[], int]
) -> None:
    source.fake.bomb_bytes = 4 * MAX_BODY_BYTES
    source.fake.inject("gzip-bomb", times=SOURCE_TEST_RETRY.attempts)

    with pytest.raises(ApiUnavailable, match="a body over 16 MiB"):
        await source.fetch()

    assert peak_bytes() < 2 * MAX_BODY_BYTES  # the bomb is 64 MiB inflated


async def test_json_nested_past_every_parser_is_malformed_not_a_recursion_error(
    source: Source,
) -> None:
    source.fake.inject("deep-json", times=SOURCE_TEST_RETRY.attempts)

    with pytest.raises(ApiUnavailable, match="malformed JSON"):
        await source.fetch()


async def test_a_redirect_to_another_service_is_not_followed(source: Source) -> None:
    async with FakeEndOfLife() as elsewhere:
        source.fake.redirect_to = elsewhere.base_url + "django.json"
        source.fake.inject("redirect", times=SOURCE_TEST_RETRY.attempts)

        with pytest.raises(ApiUnavailable, match=r"redirected .* outside .*not followed"):
            await source.fetch()

        assert elsewhere.served == []


async def test_a_redirect_within_the_source_is_followed(source: Source) -> None:
    source.fake.redirect_to = source.path  # PyPI's redirect to a normalised name, say
    source.fake.inject("redirect")

    answer = await source.fetch()

    assert isinstance(answer, Fresh)
    assert [(s.path, s.status) for s in source.fake.served] == [
        (source.path, 302),
        (source.path, 200),
    ]
