"""PyPI's journal read over XML-RPC against the fake PyPI: what it says moved, and every way it
can fail is one `ApiUnavailable`, within the bounds of the JSON client."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import pytest

from bot.djp.body import MAX_BODY_BYTES
from bot.errors import ApiUnavailable
from bot.pypi.client import ConditionalClient
from bot.pypi.journal import JournalTooLong, PypiJournal
from tests.fakes.pypi_api import FakePypi, JournalFault
from tests.fakes.sleep import RecordingSleep
from tests.plugins.pypi import SOURCE_TEST_RETRY, TEST_JOURNAL_LIMIT


@pytest.fixture
async def journal(pypi_api: FakePypi) -> AsyncIterator[PypiJournal]:
    client = ConditionalClient(
        base_url=pypi_api.base_url.removesuffix("pypi/"),
        source="PyPI",
        timeout=5.0,
        retry=SOURCE_TEST_RETRY,
        sleep=RecordingSleep(),
    )
    yield PypiJournal(client, limit=TEST_JOURNAL_LIMIT)
    await client.aclose()


async def test_the_journal_names_each_project_changed_with_its_newest_serial(
    pypi_api: FakePypi, journal: PypiJournal
) -> None:
    start = await journal.last_serial()
    pypi_api.publish("django-flatblocks", "3.14.0")  # a release and its two files
    pypi_api.serve_as("Django_Valkey", "nango")  # created: named as its owner spells it
    pypi_api.yank("django-crispy-forms", "1.14.0", "Broken wheel")
    pypi_api.publish("django-flatblocks", "3.14.1")

    moved = await journal.since(start)
    nothing = await journal.since(moved.serial)

    assert moved.serial == start + 11
    assert moved.named == {
        "django-flatblocks": start + 11,
        "django-valkey": start + 7,
        "django-crispy-forms": start + 8,
    }
    assert (nothing.serial, nothing.named) == (moved.serial, {})
    assert await journal.last_serial() == moved.serial
    calls = [(s.path, s.rpc) for s in pypi_api.served]
    assert calls == [
        ("/pypi", "changelog_last_serial"),
        *[("/pypi", "changelog_since_serial")] * 2,
        ("/pypi", "changelog_last_serial"),
    ]
    assert all(agent.startswith("djp-sentinel/") for agent in pypi_api.user_agents)


async def test_an_answer_cut_short_at_the_limit_is_refused(
    pypi_api: FakePypi, journal: PypiJournal
) -> None:
    start = await journal.last_serial()
    pypi_api.journal.noise(TEST_JOURNAL_LIMIT, random.Random(1))

    with pytest.raises(JournalTooLong, match=f"{TEST_JOURNAL_LIMIT} or more entries"):
        await journal.since(start)


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("500", r"PyPI kept failing for pypi \(HTTP 500\) after 2 attempts"),
        ("405", "PyPI refused .*/pypi with HTTP 405"),
        ("fault", r"PyPI sent an XML-RPC fault \(-32500: Too many requests.\)"),
        ("malformed", r"PyPI sent malformed XML-RPC \(no element found"),
        ("doctype", r"PyPI sent XML-RPC with a DOCTYPE \(refused unread\)"),
        ("not-entries", r"PyPI's journal has an entry that is not \[name, version, time"),
    ],
)
async def test_every_failure_is_one_clear_error(
    pypi_api: FakePypi, journal: PypiJournal, fault: JournalFault, message: str
) -> None:
    start = await journal.last_serial()
    pypi_api.inject_journal(fault, times=SOURCE_TEST_RETRY.attempts)

    with pytest.raises(ApiUnavailable, match=message):
        await journal.since(start)
    assert pypi_api.requests_for("/json") == [], "the JSON API is not asked"


async def test_a_journal_answer_is_held_to_the_body_cap(
    pypi_api: FakePypi, journal: PypiJournal
) -> None:
    pypi_api.bomb_bytes = 2 * MAX_BODY_BYTES
    pypi_api.inject("gzip-bomb")

    with pytest.raises(ApiUnavailable, match="a body over 16 MiB"):
        await journal.last_serial()
