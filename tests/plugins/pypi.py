"""Fixtures: the fakes of PyPI and endoflife.date, and the pass that reads them; helpers of
the end-to-end tests that watch a package PyPI knows.

Every runtime gets `sources`, None by default (PyPI and endoflife.date off, as `djp_settings`
says). A test module about them overrides `sources` with `pypi_sources`: the real pass, its
real httpx clients pointed at the fakes, two attempts, backoff waits recorded, not waited.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from bot.app.runtime import monitor_settings
from bot.config import Settings
from bot.djp.retry import RetryPolicy
from bot.refresh.pypi_pass import SourcesPass, open_sources
from storage.database import Database
from tests.fakes.discord_models import PostedMessage
from tests.fakes.pypi_api import FakeEndOfLife, FakePypi
from tests.fakes.sleep import RecordingSleep
from tests.plugins.app import Stage, SteppingClock, background

SOURCE_TEST_RETRY = RetryPolicy(attempts=2, base_delay=0.5, max_delay=1.0)
#: The fake journal's cap on one answer, and the pass's: small, so a test can pass it.
TEST_JOURNAL_LIMIT = 60


@pytest.fixture
async def pypi_api() -> AsyncIterator[FakePypi]:
    """The fake PyPI, answering for the seeded Django Packages projects too (django-flatblocks
    is the real djangorestframework capture renamed: 3.13.1, Django 2.2-4.0)."""
    async with FakePypi(journal_limit=TEST_JOURNAL_LIMIT) as api:
        api.serve_seeded_catalog()
        yield api


@pytest.fixture
async def endoflife_api() -> AsyncIterator[FakeEndOfLife]:
    async with FakeEndOfLife() as api:
        yield api


@pytest.fixture
def sources() -> SourcesPass | None:
    """No PyPI or endoflife.date pass: override with `pypi_sources` to have one."""
    return None


@pytest.fixture
def pypi_settings(
    app_settings: Settings, pypi_api: FakePypi, endoflife_api: FakeEndOfLife
) -> Settings:
    return app_settings.model_copy(
        update={
            "pypi_url": pypi_api.base_url.removesuffix("pypi/"),
            "endoflife_url": endoflife_api.base_url,
        }
    )


@pytest.fixture
async def pypi_sources(
    pypi_settings: Settings, database: Database, clock: SteppingClock
) -> AsyncIterator[SourcesPass]:
    async with open_sources(
        pypi_settings,
        database,
        monitor_settings(pypi_settings),
        clock=clock,
        journal_limit=TEST_JOURNAL_LIMIT,
        retry=SOURCE_TEST_RETRY,
        sleep=RecordingSleep(),
        random=lambda: 1.0,
    ) as sources:
        yield sources


@pytest.fixture
def pypi_cli_env(
    cli_env: dict[str, str], pypi_api: FakePypi, endoflife_api: FakeEndOfLife
) -> dict[str, str]:
    """`cli_env` with PyPI and endoflife.date on, at their fakes."""
    return cli_env | {
        "PYPI_URL": pypi_api.base_url.removesuffix("pypi/"),
        "ENDOFLIFE_URL": endoflife_api.base_url,
    }


def titles(messages: list[PostedMessage]) -> list[str]:
    return [embed["title"] for message in messages for embed in message.embeds]


@dataclass(frozen=True)
class PypiStage(Stage):
    """A `Stage` whose bot reads the fake PyPI and the fake endoflife.date."""

    pypi_api: FakePypi
    endoflife_api: FakeEndOfLife

    async def watch_flatblocks(self) -> None:
        """#alerts watches django-flatblocks; one cycle takes PyPI's baseline. (The bot's own
        first pass, under way since it started, is over before the watch begins.)"""
        await background(self.bot).poll_once()
        await self.scene.as_manager("watch add", slug="django-flatblocks")
        assert (await self.next_cycle()).sent == 0


@pytest.fixture
def pypi_stage(stage: Stage, pypi_api: FakePypi, endoflife_api: FakeEndOfLife) -> PypiStage:
    """The `stage`, with the fakes its bot reads; a module using it overrides `sources` with
    `pypi_sources`."""
    return PypiStage(stage.scene, stage.bot, stage.clock, pypi_api, endoflife_api)
