"""Several processes on one PostgreSQL database share the search budgets of Django Packages
(`bot.app.search_budget`): two runtimes, each with its own in-memory budgets as two processes
have, search no more in all than the settings allow one."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime

import pytest

from bot.app.lookup import find_names
from bot.app.runtime import Runtime, open_runtime
from bot.config import Settings
from tests.fakes.djp_api import FakeDjangoPackages
from tests.plugins.database import TEST_DATABASE_URL
from tests.plugins.fleet import fresh_postgres_database

pytestmark = pytest.mark.skipif(
    not TEST_DATABASE_URL, reason="set TEST_DATABASE_URL: several processes need PostgreSQL"
)

TYPED = "django-flatblocks-and-more"
#: One minute for every search of the test: the budgets count per minute.
NOON = datetime(2026, 12, 7, 12, 0, 30, tzinfo=UTC)


@asynccontextmanager
async def two_processes(settings: Settings) -> AsyncIterator[tuple[Runtime, Runtime]]:
    """Two runtimes on one fresh PostgreSQL database, their clocks stopped at `NOON`."""
    assert TEST_DATABASE_URL is not None
    async with fresh_postgres_database(TEST_DATABASE_URL) as url, AsyncExitStack() as stack:
        on_it = settings.model_copy(update={"database_url": url})
        first, second = [
            dataclasses.replace(
                await stack.enter_async_context(open_runtime(on_it, metrics=False)),
                clock=lambda: NOON,
            )
            for _ in range(2)
        ]
        yield first, second


async def type_into(runtime: Runtime, person: int) -> None:
    """`person` types `TYPED` into a package option, one keystroke at a time."""
    for end in range(1, len(TYPED) + 1):
        await find_names(runtime, "package", TYPED[:end], 25, person=person)


def searches(djp_api: FakeDjangoPackages) -> int:
    return sum(r.path.endswith("/search/") for r in djp_api.requests)


async def test_one_persons_searches_are_counted_across_processes(
    djp_settings: Settings, djp_api: FakeDjangoPackages
) -> None:
    async with two_processes(djp_settings) as runtimes:
        for runtime in runtimes:
            await type_into(runtime, person=1)

    assert searches(djp_api) == djp_settings.upstream_searches_per_user_minute


async def test_everyones_searches_are_counted_across_processes(
    djp_settings: Settings, djp_api: FakeDjangoPackages
) -> None:
    settings = djp_settings.model_copy(
        update={"upstream_searches_per_minute": 6, "upstream_searches_per_user_minute": 5}
    )
    async with two_processes(settings) as runtimes:
        for runtime in runtimes:
            for person in (1, 2, 3):
                await type_into(runtime, person)

    assert searches(djp_api) == 6
