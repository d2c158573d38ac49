"""Fixtures: a running fake Django Packages API, and a client pointed at it.

`djp_client` times out after 0.5 s, makes 3 attempts, and never really waits: its backoff
waits land in `djp_sleeps.calls`. Jitter is pinned to the top of the window, so the waits are
0.5 s then 1 s unless the server sends `Retry-After`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.config import Settings
from bot.djp.client import DjangoPackagesClient
from bot.djp.retry import RetryPolicy
from tests.fakes.discord_api import WEBHOOK_TEST_HOST
from tests.fakes.djp_api import FakeDjangoPackages
from tests.fakes.sleep import RecordingSleep

TEST_RETRY = RetryPolicy(attempts=3, base_delay=0.5, max_delay=4.0)


@pytest.fixture
async def djp_api() -> AsyncIterator[FakeDjangoPackages]:
    """The fake API serving the seeded packages, grids and categories."""
    async with FakeDjangoPackages() as api:
        yield api


@pytest.fixture
def djp_settings(djp_api: FakeDjangoPackages) -> Settings:
    """Settings aimed at the fake API (no `.env` read), with a short timeout, accepting the
    fake Discord's webhook URLs; PyPI and endoflife.date off (`tests.plugins.pypi` turns them
    on against their fakes)."""
    return Settings(
        _env_file=None,
        djp_api_url=djp_api.base_url,
        pypi_url="",
        endoflife_url="",
        http_timeout_seconds=0.5,
        http_concurrency=2,
        webhook_test_host=WEBHOOK_TEST_HOST,
    )


@pytest.fixture
def djp_sleeps() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
async def djp_client(
    djp_settings: Settings, djp_sleeps: RecordingSleep
) -> AsyncIterator[DjangoPackagesClient]:
    async with DjangoPackagesClient.from_settings(
        djp_settings, retry=TEST_RETRY, sleep=djp_sleeps, random=lambda: 1.0
    ) as client:
        yield client
