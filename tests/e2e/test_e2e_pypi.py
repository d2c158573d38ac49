"""PyPI and endoflife.date beside Django Packages: the real bot against the fake Discord and
fakes of all three upstreams. django-flatblocks is served on PyPI as the real
djangorestframework capture (latest 3.13.1, `Framework :: Django :: 2.2`-`4.0`), renamed."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY

from bot.refresh.pypi_pass import SourcesPass
from tests.fakes.discord_interactions import InteractionRecord
from tests.fakes.discord_models import PostedMessage
from tests.fakes.djp_api import FakeDjangoPackages
from tests.plugins.app import NEXT_CYCLE, background, enabled, grow_flatpages, package_copies
from tests.plugins.pypi import PypiStage, titles

FLATBLOCKS = 265
NEXT = "pages:next"
A_DAY = timedelta(days=1, minutes=1)
DECLARED = ["2.2", "3.0", "3.1", "3.2", "4.0"]
pytestmark = pytest.mark.usefixtures("discord_rules_kept")


@pytest.fixture
def sources(pypi_sources: SourcesPass) -> SourcesPass:
    """This module's bots read PyPI and endoflife.date (their fakes)."""
    return pypi_sources


def fields(message: PostedMessage | InteractionRecord) -> dict[str, str]:
    return {field["name"]: field["value"] for field in message.embeds[0].get("fields", [])}


async def test_compat_added_and_dropped_are_announced_once_each(pypi_stage: PypiStage) -> None:
    pypi = pypi_stage.pypi_api
    await pypi_stage.watch_flatblocks()

    pypi.publish("django-flatblocks", "3.14.0", django=[*DECLARED, "4.1"])
    await pypi_stage.next_cycle()
    pypi.publish("django-flatblocks", "3.15.0", django=["3.2", "4.0", "4.1"])
    await pypi_stage.next_cycle()
    pypi.publish("django-flatblocks", "3.16.0rc1", django=["4.0", "4.1", "4.2"], latest=False)
    await pypi_stage.next_cycle()
    pypi.publish("django-flatblocks", "3.16.0", django=[])  # only `Framework :: Django`
    await pypi_stage.next_cycle()
    pypi.inject("500", times=4)
    await pypi_stage.next_cycle()
    await pypi_stage.next_cycle()

    compat = [t for t in titles(pypi_stage.alerts()) if "declares" in t]
    assert compat == [
        "django-flatblocks 3.14.0 now declares Django 4.1",
        "django-flatblocks 3.15.0 no longer declares Django 2.2, Django 3.0, Django 3.1",
    ]
    releases = [t for t in titles(pypi_stage.alerts()) if "released" in t]
    assert releases == [
        "django-flatblocks 3.14.0 released (minor release, was 3.13.1)",
        "django-flatblocks 3.15.0 released (minor release, was 3.14.0)",
        "django-flatblocks 3.16.0rc1 released (pre-release, was 3.15.0)",
        "django-flatblocks 3.16.0 released (minor release, was 3.15.0)",
    ]


async def test_a_release_seen_on_pypi_first_is_announced_once_with_its_upload_time(
    pypi_stage: PypiStage, djp_api: FakeDjangoPackages
) -> None:
    await pypi_stage.watch_flatblocks()

    pypi_stage.pypi_api.publish("django-flatblocks", "3.13.2", latest=False)
    pypi_stage.pypi_api.publish("django-flatblocks", "3.14.0")
    on_pypi = await pypi_stage.next_cycle()
    djp_api.update_package(FLATBLOCKS, pypi_version="3.14.0")
    caught_up = await pypi_stage.next_cycle()

    assert (on_pypi.sent, caught_up.sent) == (1, 0)
    [release] = pypi_stage.alerts()
    assert release.embeds[0]["title"] == (
        "django-flatblocks 3.14.0 released (minor release, was 3.13.1); "
        "also published since: 3.13.2"
    )
    assert fields(release)["Uploaded"].endswith(" UTC")
    assert fields(release)["Also published since"] == "3.13.2"


async def test_a_yank_is_announced_once_and_the_move_back_is_no_release(
    pypi_stage: PypiStage, djp_api: FakeDjangoPackages
) -> None:
    pypi = pypi_stage.pypi_api
    await pypi_stage.watch_flatblocks()
    djp_api.update_package(FLATBLOCKS, pypi_version="3.13.1")
    pypi.publish("django-flatblocks", "3.14.0")
    await pypi_stage.next_cycle()
    djp_api.update_package(FLATBLOCKS, pypi_version="3.14.0")
    await pypi_stage.next_cycle()
    before = len(pypi_stage.alerts())

    pypi.yank("django-flatblocks", "3.14.0", "Broken wheel")
    yanked = await pypi_stage.next_cycle()
    djp_api.update_package(FLATBLOCKS, pypi_version="3.13.1")
    moved_back = await pypi_stage.next_cycle()

    assert (yanked.sent, moved_back.sent) == (1, 0)
    yank = pypi_stage.alerts()[before]
    assert yank.embeds[0]["title"] == "django-flatblocks 3.14.0 was yanked from PyPI: Broken wheel"
    assert fields(yank)["Latest is now"] == "3.13.1"
    assert not any("back to" in t for t in titles(pypi_stage.alerts()))


async def test_a_yank_of_an_older_release_reaches_only_the_channels_told_of_it(
    pypi_stage: PypiStage,
) -> None:
    pypi, scene = pypi_stage.pypi_api, pypi_stage.scene
    await pypi_stage.watch_flatblocks()
    pypi.publish("django-flatblocks", "3.14.0")
    await pypi_stage.next_cycle()  # only #alerts is told of 3.14.0
    await scene.as_manager("watch add", slug="django-flatblocks", channel=scene.general)
    pypi.publish("django-flatblocks", "3.15.0")
    await pypi_stage.next_cycle()  # both are told of 3.15.0

    pypi.yank("django-flatblocks", "3.14.0", "Broken wheel")  # an older release
    await pypi_stage.next_cycle()
    pypi.yank("django-flatblocks", "3.15.0", "Bad metadata")  # the latest
    await pypi_stage.next_cycle()

    def yanks(messages: list[PostedMessage]) -> list[str]:
        return [t for t in titles(messages) if "yanked" in t]

    assert yanks(pypi_stage.alerts()) == [
        "django-flatblocks 3.14.0 was yanked from PyPI: Broken wheel",
        "django-flatblocks 3.15.0 was yanked from PyPI: Bad metadata",
    ]
    assert yanks(pypi_stage.alerts(scene.general)) == [
        "django-flatblocks 3.15.0 was yanked from PyPI: Bad metadata"
    ]


async def test_a_pypi_only_alert_is_posted_without_waiting_for_the_delivery_loop(
    pypi_stage: PypiStage,
) -> None:
    """Django Packages has nothing new: only the PyPI pass enqueues, and the refresh wakes the
    delivery loop (its tick an hour away) for it."""
    fake, alerts = pypi_stage.scene.fake, pypi_stage.scene.alerts
    await pypi_stage.watch_flatblocks()
    already = len(fake.messages(alerts.id))
    pypi_stage.pypi_api.publish("django-flatblocks", "3.14.0")
    pypi_stage.clock.advance(NEXT_CYCLE)

    refreshed = await background(pypi_stage.bot).poll_once()  # the refresh loop's pass only
    posted = await fake.wait_for_messages(alerts.id, already + 1)

    assert refreshed is not None
    assert (refreshed.cycle.alerts_enqueued, refreshed.pypi_alerts) == (0, 1)
    assert titles(posted[already:]) == [
        "django-flatblocks 3.14.0 released (minor release, was 3.13.1)"
    ]


async def test_pypi_and_endoflife_down_raise_nothing_and_delay_no_django_packages_alert(
    pypi_stage: PypiStage, djp_api: FakeDjangoPackages
) -> None:
    pypi_api, endoflife_api = pypi_stage.pypi_api, pypi_stage.endoflife_api
    loops = background(pypi_stage.bot)
    await pypi_stage.watch_flatblocks()
    pypi_api.inject("500", times=100)
    endoflife_api.inject("503", times=100)

    enqueued = []
    for version in ("3.13.2", "3.13.3", "3.13.4"):
        djp_api.update_package(FLATBLOCKS, pypi_version=version)
        pypi_stage.clock.advance(A_DAY)  # endoflife.date falls due too
        refreshed = await loops.poll_once()
        assert refreshed is not None
        enqueued.append(refreshed.cycle.alerts_enqueued)  # in the outbox as the cycle ends
        await loops.deliver_once()
    failed = [s for s in pypi_api.requests_for("django-flatblocks") if s.status == 500]
    pypi_api.heal()
    await pypi_stage.next_cycle()  # PyPI answers again: no change, so no alert
    await loops.deliver_once()  # anything a busy fake Discord held back

    assert enqueued == [1, 1, 1]
    assert titles(pypi_stage.alerts()) == [
        "django-flatblocks 3.13.2 released (major release, was 1.0.0)",
        "django-flatblocks 3.13.3 released (patch release, was 3.13.2)",
        "django-flatblocks 3.13.4 released (patch release, was 3.13.3)",
    ]
    assert len(failed) == 3 * 2, "a failing project is asked once a cycle (2 tries)"
    assert {s.status for s in endoflife_api.served[1:]} == {503}, "asked, and failing, daily"


async def test_a_malformed_answer_is_asked_again_with_backoff_and_loses_nothing(
    pypi_stage: PypiStage, caplog: pytest.LogCaptureFixture
) -> None:
    """Cut-off JSON, then JSON that is no project: each one warning, no alert, the last good
    answer kept; asked again next interval, then after two; the release published meanwhile
    is announced once PyPI answers."""
    pypi_api = pypi_stage.pypi_api
    await pypi_stage.watch_flatblocks()
    pypi_api.publish("django-flatblocks", "3.14.0")

    async def cycle() -> tuple[int, int]:
        """A cycle's requests for the project, and the alerts it posted."""
        before = len(pypi_api.requests_for("django-flatblocks"))
        sent = (await pypi_stage.next_cycle()).sent
        return len(pypi_api.requests_for("django-flatblocks")) - before, sent

    with caplog.at_level(logging.WARNING, logger="bot.refresh.pypi_pass"):
        pypi_api.inject("malformed")
        cut_off = await cycle()
        pypi_api.inject("not-json-object")
        not_a_project = await cycle()
        shown = await pypi_stage.scene.as_member("package", slug="django-flatblocks")
        backing_off = await cycle()
        answered = await cycle()

    assert [cut_off, not_a_project, backing_off, answered] == [(1, 0), (1, 0), (0, 0), (1, 1)]
    assert titles(pypi_stage.alerts()) == [
        "django-flatblocks 3.14.0 released (minor release, was 3.13.1)"
    ]
    warned = [r.getMessage() for r in caplog.records if r.name == "bot.refresh.pypi_pass"]
    assert len(warned) == 2
    assert "malformed JSON" in warned[0]
    assert "unusable answer for django-flatblocks" in warned[1]
    assert all("; keeping its last answer, asking again at" in line for line in warned)
    assert fields(shown)["3.13.1 uploaded"].startswith("2021-12-15")  # the last good answer


async def test_readiness_for_the_channel_and_for_a_grid(pypi_stage: PypiStage) -> None:
    scene = pypi_stage.scene
    await scene.as_manager("watch add", slug="django-rest-registration")
    await scene.as_manager("grid subscribe", grid="flatpages")
    await pypi_stage.next_cycle()  # PyPI's baseline, and endoflife.date's cycles

    channel = await scene.as_member("readiness", django="4.0")
    grid = await scene.as_member("readiness", django="4.2", grid="flatpages")
    refused = await scene.as_member("readiness", django="5")

    [here] = channel.embeds
    assert here["title"] == "Django 4.0: 1 ready, 0 no, 1 unknown (of 2 packages followed here)"
    assert here["description"].splitlines() == [
        "✅ **django-flatblocks** (ready): 2.2, 3.0, 3.1, 3.2, 4.0",
        "❔ **django-rest-registration** (unknown): no Django versions declared",
    ]
    assert here["footer"]["text"] == (
        "Django 4.0: released 2021-12-07, security support ends 2023-04-01"
    )
    [in_grid] = grid.embeds
    assert (
        in_grid["title"]
        == "Django 4.2: 0 ready, 1 no, 0 unknown (of 1 package in the Flatpages grid)"
    )
    assert in_grid["footer"]["text"].startswith("Django 4.2 LTS: released 2023-04-03")
    assert refused.content == "'5' is not a Django feature version: give one like 5.2."


async def test_an_unchanged_project_costs_no_request_and_a_changed_one_one_per_interval(
    pypi_stage: PypiStage,
) -> None:
    pypi_api = pypi_stage.pypi_api
    await pypi_stage.watch_flatblocks()
    first = pypi_api.requests_for("django-flatblocks")

    await pypi_stage.next_cycle()  # the journal names nothing: nothing is asked
    unchanged = pypi_api.requests_for("django-flatblocks")[len(first) :]
    pypi_api.publish("django-flatblocks", "3.14.0")
    await pypi_stage.next_cycle()
    await background(pypi_stage.bot).poll_once()  # within the same interval: not asked again
    changed = pypi_api.requests_for("django-flatblocks")[len(first) :]

    assert [s.status for s in first] == [200]
    assert unchanged == []
    assert [(s.status, s.if_none_match is not None) for s in changed] == [(200, True)]
    journal = [s.rpc for s in pypi_api.served if s.rpc is not None]
    assert journal[0] == "changelog_last_serial", "the first pass takes the journal's serial"
    assert set(journal[1:]) == {"changelog_since_serial"}, "then one request a pass"
    assert len(pypi_stage.endoflife_api.served) == 1, "endoflife.date is read at most once a day"
    assert all(agent.startswith("djp-sentinel/") for agent in pypi_api.user_agents)


async def test_package_shows_what_pypi_says_of_the_latest_release(pypi_stage: PypiStage) -> None:
    await pypi_stage.watch_flatblocks()

    shown = await pypi_stage.scene.as_member("package", slug="django-flatblocks")

    facts = fields(shown)
    assert facts["Django (declared)"] == "2.2, 3.0, 3.1, 3.2, 4.0"
    assert facts["Python"] == "\\>=3.6"  # escaped: a leading ">" would quote the line
    assert facts["3.13.1 uploaded"].startswith("2021-12-15 15:18 UTC")
    assert facts["Yanked"] == "no"


async def test_package_asks_pypi_at_once_for_a_package_no_pass_has_asked_about(
    pypi_stage: PypiStage,
) -> None:
    """Nobody watches django-flatblocks, so no pass has stored PyPI's answer: /package asks."""
    shown = await pypi_stage.scene.as_member("package", slug="django-flatblocks")

    assert fields(shown)["Django (declared)"] == "2.2, 3.0, 3.1, 3.2, 4.0"
    assert len(pypi_stage.pypi_api.requests_for("/pypi/django-flatblocks/json")) == 1


async def test_projects_pypi_does_not_have_never_stop_the_others_being_read(
    pypi_stage: PypiStage,
) -> None:
    pypi_api = pypi_stage.pypi_api
    missing = [
        "django-cache-machine",  # ids 155, 265, 683, 4100 and 5157: asked before 5963
        "django-flatblocks",
        "django-queued-storage",
        "django-rest-registration",
    ]
    for gone in missing:
        pypi_api.remove(gone)
    pypi_api.serve_as("django-valkey", "nango")
    await background(pypi_stage.bot).poll_once()
    for slug in [*missing, "djangocms-filer-display-pages-where-files-are-used", "django-valkey"]:
        await pypi_stage.scene.as_manager("watch add", slug=slug)

    await pypi_stage.next_cycle()

    assert [s.status for s in pypi_api.requests_for("django-flatblocks")] == [404]
    assert [s.status for s in pypi_api.requests_for("django-valkey")] == [200]


async def test_a_long_readiness_board_pages_with_the_counts_on_every_page(
    pypi_stage: PypiStage, djp_api: FakeDjangoPackages, flatblocks_payload: dict[str, Any]
) -> None:
    scene = pypi_stage.scene
    widgets = package_copies(flatblocks_payload, 60)  # on PyPI as django-flatblocks too
    grow_flatpages(djp_api, widgets)
    await scene.as_manager("grid subscribe", grid="flatpages")
    await pypi_stage.next_cycle()

    shown = await scene.as_member("readiness", django="4.0")
    board = shown.reply
    assert board is not None
    headings, footers, slugs = set(), [], []
    while True:
        [embed] = board.embeds
        headings.add(embed["title"])
        footers.append(embed["footer"]["text"])
        slugs += [line.split("**")[1] for line in embed["description"].splitlines()]
        if not enabled(board)[NEXT]:
            break
        await scene.fake.click(board, NEXT, user=scene.member)

    assert headings == {"Django 4.0: 61 ready, 0 no, 0 unknown (of 61 packages followed here)"}
    dates = "Django 4.0: released 2021-12-07, security support ends 2023-04-01"
    assert footers == [f"Page {n}/3 · {dates}" for n in (1, 2, 3)]
    assert sorted(slugs) == sorted(["django-flatblocks", *(w["slug"] for w in widgets)])


def source_counts() -> dict[str, float]:
    """`djp_sentinel_source_*_total` as /metrics serves them, as "metric source"."""
    return {
        f"{metric} {source}": REGISTRY.get_sample_value(
            f"djp_sentinel_source_{metric}_total", {"source": source}
        )
        or 0.0
        for metric in ("requests", "not_modified", "failures")
        for source in ("pypi", "endoflife")
    }


def moments(line: str) -> list[int]:
    """The Unix times of the `<t:…:R>` stamps in a line of `/status`."""
    return [int(stamp) for stamp in re.findall(r"<t:(\d+):R>", line)]


async def test_status_and_metrics_say_how_pypi_and_endoflife_are_doing(
    pypi_stage: PypiStage,
) -> None:
    await pypi_stage.watch_flatblocks()
    before = source_counts()
    await pypi_stage.next_cycle()  # the journal names nothing: one request, no project
    # PyPI down: two attempts at each of the journal, its newest serial and django-flatblocks
    pypi_stage.pypi_api.inject("500", times=6)
    pypi_stage.endoflife_api.inject("503", times=2)
    await pypi_stage.next_cycle(A_DAY)  # endoflife.date falls due again
    counted = {name: count - before[name] for name, count in source_counts().items()}

    record = await pypi_stage.scene.as_member("status")

    assert record.reply is not None
    assert record.ephemeral
    pypi = fields(record.reply)["PyPI"].splitlines()
    assert re.fullmatch(r"last pass <t:\d+:R>: 6 requests, 0 not modified, 1 failure", pypi[0])
    assert pypi[1].startswith("last good answer <t:")
    assert pypi[2] == "failing: 1 pass in a row read nothing"
    assert pypi[3].endswith(
        ": PyPI kept failing for pypi/django-flatblocks/json (HTTP 500) after 2 attempts."
    )
    endoflife = fields(record.reply)["endoflife.date"].splitlines()
    assert re.fullmatch(r"last pass <t:\d+:R>: 2 requests, 0 not modified, 1 failure", endoflife[0])
    assert endoflife[1].endswith("(1 day old)")
    assert endoflife[2] == "failing: 1 pass in a row read nothing"
    [failed_at], [next_read] = moments(endoflife[0]), moments(endoflife[3])
    assert endoflife[3].startswith("next read")
    assert next_read - failed_at == 3600
    assert "endoflife.date kept failing for django.json (HTTP 503)" in endoflife[4]
    assert counted == {
        "requests pypi": 7,
        "requests endoflife": 2,
        "not_modified pypi": 0,
        "not_modified endoflife": 0,
        "failures pypi": 1,
        "failures endoflife": 1,
    }
