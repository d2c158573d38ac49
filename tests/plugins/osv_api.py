"""Fixtures: a running fake OSV API (seeded with the real records), and a client pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.osv.client import OsvClient
from tests.fakes.osv_api import FakeOsv


@pytest.fixture
async def osv_api() -> AsyncIterator[FakeOsv]:
    async with FakeOsv() as api:
        yield api


@pytest.fixture
async def osv_client(osv_api: FakeOsv) -> AsyncIterator[OsvClient]:
    async with OsvClient.open(osv_api.base_url, timeout=2.0) as client:
        yield client
