"""PyPI's journal tells the real bot which projects to ask (against the fake Discord and the
fakes of all three upstreams): whatever the journal does, a release is announced once, and a
project the journal does not name is asked only when the bot cannot vouch for its answer."""

from __future__ import annotations

import logging
import random

import pytest

from bot.app.runtime import monitor_settings
from bot.config import Settings
from bot.refresh.pypi_pass import SourcesPass, open_sources
from storage.database import Database
from tests.fakes.djp_api import FakeDjangoPackages
from tests.fakes.pypi_api import FakePypi, JournalFault
from tests.plugins.pypi import TEST_JOURNAL_LIMIT, PypiStage, titles

FLATBLOCKS = 265
RELEASED = "django-flatblocks 3.14.0 released (minor release, was 3.13.1)"
pytestmark = pytest.mark.usefixtures("discord_rules_kept")


@pytest.fixture
def sources(pypi_sources: SourcesPass) -> SourcesPass:
    """This module's bots read PyPI and endoflife.date (their fakes)."""
    return pypi_sources


def journal_calls(pypi: FakePypi, since: int = 0) -> list[str | None]:
    return [s.rpc for s in pypi.served[since:] if s.rpc is not None]


def projects_asked(pypi: FakePypi, since: int = 0) -> list[tuple[str, int]]:
    return [(s.path.split("/")[2], s.status) for s in pypi.served[since:] if s.rpc is None]


@pytest.mark.parametrize("fault", ["500", "405", "fault", "malformed", "doctype", "cut-short"])
async def test_a_journal_it_cannot_use_makes_the_pass_ask_every_project_once(
    fault: JournalFault | str, pypi_stage: PypiStage, caplog: pytest.LogCaptureFixture
) -> None:
    pypi_api = pypi_stage.pypi_api
    await pypi_stage.scene.as_manager("watch add", slug="django-cache-machine")
    await pypi_stage.watch_flatblocks()
    pypi_api.publish("django-flatblocks", "3.14.0")
    if fault == "cut-short":
        pypi_api.journal.noise(TEST_JOURNAL_LIMIT, random.Random(1))
    else:  # only the first call: the journal's newest serial can then be read
        pypi_api.inject_journal(fault, times=2 if fault == "500" else 1)  # type: ignore[arg-type]
    before = len(pypi_api.served)

    with caplog.at_level(logging.WARNING, "bot.refresh.pypi_pass"):
        swept = await pypi_stage.next_cycle()
    after_sweep = len(pypi_api.served)
    calm = await pypi_stage.next_cycle()

    assert (swept.sent, calm.sent) == (1, 0)
    assert titles(pypi_stage.alerts()) == [RELEASED]
    assert sorted(projects_asked(pypi_api, before)) == [
        ("django-cache-machine", 304),
        ("django-flatblocks", 200),
    ]
    assert journal_calls(pypi_api, before)[-2:] == [
        "changelog_last_serial",  # the new starting point, read before the sweep
        "changelog_since_serial",  # the next pass reads from it, and asks nobody
    ]
    assert projects_asked(pypi_api, after_sweep) == []
    [said] = [r.getMessage() for r in caplog.records if "journal" in r.getMessage()]
    assert said.endswith("Asking every due PyPI project until the journal can be read.")


async def test_a_journal_failing_for_several_passes_is_said_once_and_costs_no_alert(
    pypi_stage: PypiStage, caplog: pytest.LogCaptureFixture
) -> None:
    pypi_api = pypi_stage.pypi_api
    await pypi_stage.watch_flatblocks()
    pypi_api.inject_journal("fault", times=6)  # three passes: the journal, then its serial

    with caplog.at_level(logging.INFO, "bot.refresh.pypi_pass"):
        for _ in range(4):
            await pypi_stage.next_cycle()

    said = [r.getMessage() for r in caplog.records if "journal" in r.getMessage()]
    assert len(said) == 2, said
    assert said[0].startswith("PyPI sent an XML-RPC fault (-32500: Too many requests.)")
    assert said[1] == "PyPI's journal is readable: asking only the projects it names"
    assert projects_asked(pypi_api).count(("django-flatblocks", 304)) == 3
    assert pypi_stage.alerts() == []


async def test_an_answer_older_than_the_journal_is_asked_again_next_pass(
    pypi_stage: PypiStage,
) -> None:
    pypi_api = pypi_stage.pypi_api
    await pypi_stage.watch_flatblocks()
    pypi_api.publish("django-flatblocks", "3.14.0")
    pypi_api.serve_stale("django-flatblocks")  # a cache still has the project as before
    before = len(pypi_api.served)

    behind = await pypi_stage.next_cycle()
    caught_up = await pypi_stage.next_cycle()
    settled = await pypi_stage.next_cycle()

    assert (behind.sent, caught_up.sent, settled.sent) == (0, 1, 0)
    assert titles(pypi_stage.alerts()) == [RELEASED]
    assert projects_asked(pypi_api, before) == [
        ("django-flatblocks", 304),  # the cache's: the same ETag as the stored answer
        ("django-flatblocks", 200),
    ]


async def test_new_re_pointed_and_re_watched_projects_are_asked_without_the_journal(
    pypi_stage: PypiStage, djp_api: FakeDjangoPackages
) -> None:
    pypi_api, scene = pypi_stage.pypi_api, pypi_stage.scene
    pypi_api.serve_as("django-valkey", "nango")
    await pypi_stage.watch_flatblocks()
    mark = len(pypi_api.served)

    await scene.as_manager("watch add", slug="django-cache-machine")
    await pypi_stage.next_cycle()
    new = projects_asked(pypi_api, mark)
    djp_api.update_package(FLATBLOCKS, pypi_url="https://pypi.org/project/django-valkey/")
    mark = len(pypi_api.served)
    await pypi_stage.next_cycle()
    re_pointed = projects_asked(pypi_api, mark)
    await scene.as_manager("watch remove", slug="django-cache-machine")
    await pypi_stage.next_cycle()
    await scene.as_manager("watch add", slug="django-cache-machine")
    mark = len(pypi_api.served)
    await pypi_stage.next_cycle()
    re_watched = projects_asked(pypi_api, mark)

    assert new == [("django-cache-machine", 200)]
    assert re_pointed == [("django-valkey", 200)]
    assert re_watched == [("django-cache-machine", 200)]
    assert pypi_stage.alerts() == [], "each is a silent baseline or unchanged"


async def test_the_cursor_survives_a_restart(
    pypi_stage: PypiStage, pypi_settings: Settings, database: Database
) -> None:
    pypi_api, clock = pypi_stage.pypi_api, pypi_stage.clock
    await pypi_stage.watch_flatblocks()
    await pypi_stage.next_cycle()
    pypi_api.publish("django-flatblocks", "3.14.0")
    before = len(pypi_api.served)

    clock.advance(monitor_settings(pypi_settings).poll_interval)
    async with open_sources(
        pypi_settings, database, monitor_settings(pypi_settings), clock=clock
    ) as restarted:
        report = await restarted.run()

    assert journal_calls(pypi_api, before) == ["changelog_since_serial"]
    assert projects_asked(pypi_api, before) == [("django-flatblocks", 200)]
    assert [change.summary for change in report.changes] == [RELEASED]


async def test_a_cursor_is_not_used_with_another_index(
    pypi_stage: PypiStage, pypi_settings: Settings, database: Database
) -> None:
    clock = pypi_stage.clock
    await pypi_stage.watch_flatblocks()
    clock.advance(monitor_settings(pypi_settings).poll_interval)

    async with FakePypi() as mirror:
        mirror.serve_seeded_catalog()
        moved = pypi_settings.model_copy(update={"pypi_url": mirror.base_url.removesuffix("pypi/")})
        async with open_sources(moved, database, monitor_settings(moved), clock=clock) as pass_:
            await pass_.run()

    assert journal_calls(mirror) == ["changelog_last_serial"], "its own starting point"
    assert projects_asked(mirror) == [("django-flatblocks", 304)], "every due project asked"
