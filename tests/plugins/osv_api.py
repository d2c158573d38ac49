"""Fixtures: a running fake OSV API (seeded with the real records), and a client pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.osv.client import OsvClient
from tests.fakes.osv_api import FakeOsv, Record


@pytest.fixture
async def osv_api() -> AsyncIterator[FakeOsv]:
    async with FakeOsv() as api:
        yield api


@pytest.fixture
async def osv_client(osv_api: FakeOsv) -> AsyncIterator[OsvClient]:
    async with OsvClient.open(osv_api.base_url, timeout=2.0) as client:
        yield client


#: A real PYSEC/GHSA pair of django-debug-toolbar records (CVE-2021-30459, HIGH).
TOOLBAR_PAIR = ("PYSEC-2021-10", "GHSA-pghf-347x-c2gj")


@pytest.fixture
def toolbar_pair(osv_api: FakeOsv) -> dict[str, Record]:
    """The pair, taken out of the fake OSV until a test publishes it (`osv_api.put`)."""
    return {vuln_id: osv_api.records.pop(vuln_id) for vuln_id in TOOLBAR_PAIR}
