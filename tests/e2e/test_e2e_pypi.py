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

from bot.discordbot.bot import SentinelBot
from bot.refresh.pypi_pass import SourcesPass
from tests.fakes.discord_interactions import InteractionRecord
from tests.fakes.discord_models import PostedMessage
from tests.fakes.discord_runner import DiscordScene
from tests.fakes.djp_api import FakeDjangoPackages
from tests.fakes.pypi_api import FakeEndOfLife, FakePypi
from tests.plugins.app import (
    NEXT_CYCLE,
    SteppingClock,
    alerts_in,
    background,
    enabled,
    grow_flatpages,
    next_cycle,
    package_copies,
)
from tests.plugins.pypi import titles, watching_flatblocks

FLATBLOCKS = 265
NEXT = "pages:next"
A_DAY = timedelta(days=1, minutes=1)
DECLARED = ["2.2", "3.0", "3.1", "3.2", "4.0"]


@pytest.fixture
def sources(pypi_sources: SourcesPass) -> SourcesPass:
    """This module's bots read PyPI and endoflife.date (their fakes)."""
    return pypi_sources


def fields(message: PostedMessage | InteractionRecord) -> dict[str, str]:
    return {field["name"]: field["value"] for field in message.embeds[0].get("fields", [])}


async def test_compat_added_and_dropped_are_announced_once_each(
    discord_scene: DiscordScene,
    pypi_api: FakePypi,
    clock: SteppingClock,
    sentinel: SentinelBot,
) -> None:
    pypi, fake, alerts = pypi_api, discord_scene.fake, discord_scene.alerts
    await watching_flatblocks(discord_scene, sentinel, clock)

    pypi.publish("django-flatblocks", "3.14.0", django=[*DECLARED, "4.1"])
    await next_cycle(sentinel, clock)
    pypi.publish("django-flatblocks", "3.15.0", django=["3.2", "4.0", "4.1"])
    await next_cycle(sentinel, clock)
    pypi.publish("django-flatblocks", "3.16.0rc1", django=["4.0", "4.1", "4.2"], latest=False)
    await next_cycle(sentinel, clock)
    pypi.publish("django-flatblocks", "3.16.0", django=[])  # only `Framework :: Django`
    await next_cycle(sentinel, clock)
    pypi.inject("500", times=4)
    await next_cycle(sentinel, clock)
    await next_cycle(sentinel, clock)

    compat = [t for t in titles(alerts_in(fake, alerts.id)) if "declares" in t]
    assert compat == [
        "django-flatblocks 3.14.0 now declares Django 4.1",
        "django-flatblocks 3.15.0 no longer declares Django 2.2, Django 3.0, Django 3.1",
    ]
    releases = [t for t in titles(alerts_in(fake, alerts.id)) if "released" in t]
    assert releases == [
        "django-flatblocks 3.14.0 released (minor release, was 3.13.1)",
        "django-flatblocks 3.15.0 released (minor release, was 3.14.0)",
        "django-flatblocks 3.16.0rc1 released (pre-release, was 3.15.0)",
        "django-flatblocks 3.16.0 released (minor release, was 3.15.0)",
    ]
    assert fake.violations == []


async def test_a_release_seen_on_pypi_first_is_announced_once_with_its_upload_time(
    discord_scene: DiscordScene,
    djp_api: FakeDjangoPackages,
    pypi_api: FakePypi,
    clock: SteppingClock,
    sentinel: SentinelBot,
) -> None:
    fake, alerts = discord_scene.fake, discord_scene.alerts
    await watching_flatblocks(discord_scene, sentinel, clock)

    pypi_api.publish("django-flatblocks", "3.13.2", latest=False)
    pypi_api.publish("django-flatblocks", "3.14.0")
    on_pypi = await next_cycle(sentinel, clock)
    djp_api.update_package(FLATBLOCKS, pypi_version="3.14.0")
    caught_up = await next_cycle(sentinel, clock)

    assert (on_pypi.sent, caught_up.sent) == (1, 0)
    [release] = alerts_in(fake, alerts.id)
    assert release.embeds[0]["title"] == (
        "django-flatblocks 3.14.0 released (minor release, was 3.13.1); "
        "also published since: 3.13.2"
    )
    assert fields(release)["Uploaded"].endswith(" UTC")
    assert fields(release)["Also published since"] == "3.13.2"
    assert fake.violations == []


async def test_a_yank_is_announced_once_and_the_move_back_is_no_release(
    discord_scene: DiscordScene,
    djp_api: FakeDjangoPackages,
    pypi_api: FakePypi,
    clock: SteppingClock,
    sentinel: SentinelBot,
) -> None:
    fake, alerts = discord_scene.fake, discord_scene.alerts
    await watching_flatblocks(discord_scene, sentinel, clock)
    djp_api.update_package(FLATBLOCKS, pypi_version="3.13.1")
    pypi_api.publish("django-flatblocks", "3.14.0")
    await next_cycle(sentinel, clock)
    djp_api.update_package(FLATBLOCKS, pypi_version="3.14.0")
    await next_cycle(sentinel, clock)
    before = len(alerts_in(fake, alerts.id))

    pypi_api.yank("django-flatblocks", "3.14.0", "Broken wheel")
    yanked = await next_cycle(sentinel, clock)
    djp_api.update_package(FLATBLOCKS, pypi_version="3.13.1")
    moved_back = await next_cycle(sentinel, clock)

    assert (yanked.sent, moved_back.sent) == (1, 0)
    yank = alerts_in(fake, alerts.id)[before]
    assert yank.embeds[0]["title"] == "django-flatblocks 3.14.0 was yanked from PyPI: Broken wheel"
    assert fields(yank)["Latest is now"] == "3.13.1"
    assert not any("back to" in t for t in titles(alerts_in(fake, alerts.id)))
    assert fake.violations == []


async def test_a_yank_of_an_older_release_reaches_only_the_channels_told_of_it(
    discord_scene: DiscordScene, pypi_api: FakePypi, clock: SteppingClock, sentinel: SentinelBot
) -> None:
    fake, early, late = discord_scene.fake, discord_scene.alerts, discord_scene.general
    await watching_flatblocks(discord_scene, sentinel, clock)
    pypi_api.publish("django-flatblocks", "3.14.0")
    await next_cycle(sentinel, clock)  # only #alerts is told of 3.14.0
    await fake.run_command(
        "watch add", {"slug": "django-flatblocks"}, user=discord_scene.manager, channel_id=late.id
    )
    pypi_api.publish("django-flatblocks", "3.15.0")
    await next_cycle(sentinel, clock)  # both are told of 3.15.0

    pypi_api.yank("django-flatblocks", "3.14.0", "Broken wheel")  # an older release
    await next_cycle(sentinel, clock)
    pypi_api.yank("django-flatblocks", "3.15.0", "Bad metadata")  # the latest
    await next_cycle(sentinel, clock)

    def yanks(channel_id: int) -> list[str]:
        return [t for t in titles(alerts_in(fake, channel_id)) if "yanked" in t]

    assert yanks(early.id) == [
        "django-flatblocks 3.14.0 was yanked from PyPI: Broken wheel",
        "django-flatblocks 3.15.0 was yanked from PyPI: Bad metadata",
    ]
    assert yanks(late.id) == ["django-flatblocks 3.15.0 was yanked from PyPI: Bad metadata"]
    assert fake.violations == []


async def test_a_pypi_only_alert_is_posted_without_waiting_for_the_delivery_loop(
    discord_scene: DiscordScene, pypi_api: FakePypi, clock: SteppingClock, sentinel: SentinelBot
) -> None:
    """Django Packages has nothing new: only the PyPI pass enqueues, and the refresh wakes the
    delivery loop (its tick an hour away) for it."""
    fake, alerts = discord_scene.fake, discord_scene.alerts
    await watching_flatblocks(discord_scene, sentinel, clock)
    already = len(fake.messages(alerts.id))
    pypi_api.publish("django-flatblocks", "3.14.0")
    clock.advance(NEXT_CYCLE)

    refreshed = await background(sentinel).poll_once()  # the refresh loop's pass, no delivery
    posted = await fake.wait_for_messages(alerts.id, already + 1)

    assert refreshed is not None
    assert (refreshed.cycle.alerts_enqueued, refreshed.pypi_alerts) == (0, 1)
    assert titles(posted[already:]) == [
        "django-flatblocks 3.14.0 released (minor release, was 3.13.1)"
    ]
    assert fake.violations == []


async def test_pypi_and_endoflife_down_raise_nothing_and_delay_no_django_packages_alert(
    discord_scene: DiscordScene,
    djp_api: FakeDjangoPackages,
    pypi_api: FakePypi,
    endoflife_api: FakeEndOfLife,
    clock: SteppingClock,
    sentinel: SentinelBot,
) -> None:
    fake, alerts = discord_scene.fake, discord_scene.alerts
    await watching_flatblocks(discord_scene, sentinel, clock)
    pypi_api.inject("500", times=100)
    endoflife_api.inject("503", times=100)

    enqueued = []
    for version in ("3.13.2", "3.13.3", "3.13.4"):
        djp_api.update_package(FLATBLOCKS, pypi_version=version)
        clock.advance(A_DAY)  # endoflife.date falls due too
        refreshed = await background(sentinel).poll_once()
        assert refreshed is not None
        enqueued.append(refreshed.cycle.alerts_enqueued)  # in the outbox as the cycle ends
        await background(sentinel).deliver_once()
    failed = [s for s in pypi_api.requests_for("django-flatblocks") if s.status == 500]
    pypi_api.heal()
    await next_cycle(sentinel, clock)  # PyPI answers again: no change, so no alert
    await background(sentinel).deliver_once()  # anything a busy fake Discord held back

    assert enqueued == [1, 1, 1]
    assert titles(alerts_in(fake, alerts.id)) == [
        "django-flatblocks 3.13.2 released (major release, was 1.0.0)",
        "django-flatblocks 3.13.3 released (patch release, was 3.13.2)",
        "django-flatblocks 3.13.4 released (patch release, was 3.13.3)",
    ]
    assert len(failed) == 3 * 2, "a failing project is asked once a cycle (2 tries)"
    assert {s.status for s in endoflife_api.served[1:]} == {503}, "asked, and failing, daily"
    assert fake.violations == []


async def test_a_malformed_answer_is_asked_again_with_backoff_and_loses_nothing(
    discord_scene: DiscordScene,
    pypi_api: FakePypi,
    clock: SteppingClock,
    sentinel: SentinelBot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Cut-off JSON, then JSON that is no project: each one warning, no alert, the last good
    answer kept; asked again next interval, then after two; the release published meanwhile
    is announced once PyPI answers."""
    fake, alerts = discord_scene.fake, discord_scene.alerts
    await watching_flatblocks(discord_scene, sentinel, clock)
    pypi_api.publish("django-flatblocks", "3.14.0")

    async def cycle() -> tuple[int, int]:
        """A cycle's requests for the project, and the alerts it posted."""
        before = len(pypi_api.requests_for("django-flatblocks"))
        sent = (await next_cycle(sentinel, clock)).sent
        return len(pypi_api.requests_for("django-flatblocks")) - before, sent

    with caplog.at_level(logging.WARNING, logger="bot.refresh.pypi_pass"):
        pypi_api.inject("malformed")
        cut_off = await cycle()
        pypi_api.inject("not-json-object")
        not_a_project = await cycle()
        shown = await fake.run_command(
            "package", {"slug": "django-flatblocks"}, user=discord_scene.member
        )
        backing_off = await cycle()
        answered = await cycle()

    assert [cut_off, not_a_project, backing_off, answered] == [(1, 0), (1, 0), (0, 0), (1, 1)]
    assert titles(alerts_in(fake, alerts.id)) == [
        "django-flatblocks 3.14.0 released (minor release, was 3.13.1)"
    ]
    warned = [r.getMessage() for r in caplog.records if r.name == "bot.refresh.pypi_pass"]
    assert len(warned) == 2
    assert "malformed JSON" in warned[0]
    assert "unusable answer for django-flatblocks" in warned[1]
    assert all("; keeping its last answer, asking again at" in line for line in warned)
    assert fields(shown)["3.13.1 uploaded"].startswith("2021-12-15")  # the last good answer
    assert fake.violations == []


async def test_readiness_for_the_channel_and_for_a_grid(
    discord_scene: DiscordScene,
    pypi_api: FakePypi,
    clock: SteppingClock,
    sentinel: SentinelBot,
) -> None:
    fake, alerts, manager = discord_scene.fake, discord_scene.alerts, discord_scene.manager
    await fake.run_command(
        "watch add", {"slug": "django-rest-registration"}, user=manager, channel_id=alerts.id
    )
    await fake.run_command(
        "grid subscribe", {"grid": "flatpages"}, user=manager, channel_id=alerts.id
    )
    await next_cycle(sentinel, clock)  # PyPI's baseline, and endoflife.date's cycles

    channel = await fake.run_command(
        "readiness", {"django": "4.0"}, user=discord_scene.member, channel_id=alerts.id
    )
    grid = await fake.run_command(
        "readiness",
        {"django": "4.2", "grid": "flatpages"},
        user=discord_scene.member,
        channel_id=alerts.id,
    )
    refused = await fake.run_command(
        "readiness", {"django": "5"}, user=discord_scene.member, channel_id=alerts.id
    )

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
    assert fake.violations == []


async def test_an_unchanged_project_costs_no_request_and_a_changed_one_one_per_interval(
    discord_scene: DiscordScene,
    pypi_api: FakePypi,
    endoflife_api: FakeEndOfLife,
    clock: SteppingClock,
    sentinel: SentinelBot,
) -> None:
    await watching_flatblocks(discord_scene, sentinel, clock)
    first = pypi_api.requests_for("django-flatblocks")

    await next_cycle(sentinel, clock)  # the journal names nothing: nothing is asked
    unchanged = pypi_api.requests_for("django-flatblocks")[len(first) :]
    pypi_api.publish("django-flatblocks", "3.14.0")
    await next_cycle(sentinel, clock)
    await background(sentinel).poll_once()  # within the same interval: not asked again
    changed = pypi_api.requests_for("django-flatblocks")[len(first) :]

    assert [s.status for s in first] == [200]
    assert unchanged == []
    assert [(s.status, s.if_none_match is not None) for s in changed] == [(200, True)]
    journal = [s.rpc for s in pypi_api.served if s.rpc is not None]
    assert journal[0] == "changelog_last_serial", "the first pass takes the journal's serial"
    assert set(journal[1:]) == {"changelog_since_serial"}, "then one request a pass"
    assert len(endoflife_api.served) == 1, "endoflife.date is read at most once a day"
    assert all(agent.startswith("djp-sentinel/") for agent in pypi_api.user_agents)


async def test_package_shows_what_pypi_says_of_the_latest_release(
    discord_scene: DiscordScene, clock: SteppingClock, sentinel: SentinelBot
) -> None:
    await watching_flatblocks(discord_scene, sentinel, clock)

    shown = await discord_scene.fake.run_command(
        "package", {"slug": "django-flatblocks"}, user=discord_scene.member
    )

    facts = {field["name"]: field["value"] for field in shown.embeds[0]["fields"]}
    assert facts["Django (declared)"] == "2.2, 3.0, 3.1, 3.2, 4.0"
    assert facts["Python"] == "\\>=3.6"  # escaped: a leading ">" would quote the line
    assert facts["3.13.1 uploaded"].startswith("2021-12-15 15:18 UTC")
    assert facts["Yanked"] == "no"


async def test_package_asks_pypi_at_once_for_a_package_no_pass_has_asked_about(
    discord_scene: DiscordScene, pypi_api: FakePypi, sentinel: SentinelBot
) -> None:
    """Nobody watches django-flatblocks, so no pass has stored PyPI's answer: /package asks."""
    shown = await discord_scene.fake.run_command(
        "package", {"slug": "django-flatblocks"}, user=discord_scene.member
    )

    facts = {field["name"]: field["value"] for field in shown.embeds[0]["fields"]}
    assert facts["Django (declared)"] == "2.2, 3.0, 3.1, 3.2, 4.0"
    assert len(pypi_api.requests_for("/pypi/django-flatblocks/json")) == 1


async def test_projects_pypi_does_not_have_never_stop_the_others_being_read(
    discord_scene: DiscordScene, pypi_api: FakePypi, clock: SteppingClock, sentinel: SentinelBot
) -> None:
    fake, alerts, manager = discord_scene.fake, discord_scene.alerts, discord_scene.manager
    missing = [
        "django-cache-machine",  # ids 155, 265, 683, 4100 and 5157: asked before 5963
        "django-flatblocks",
        "django-queued-storage",
        "django-rest-registration",
    ]
    for gone in missing:
        pypi_api.remove(gone)
    pypi_api.serve_as("django-valkey", "nango")
    await background(sentinel).poll_once()
    for slug in [*missing, "djangocms-filer-display-pages-where-files-are-used", "django-valkey"]:
        await fake.run_command("watch add", {"slug": slug}, user=manager, channel_id=alerts.id)

    await next_cycle(sentinel, clock)

    assert [s.status for s in pypi_api.requests_for("django-flatblocks")] == [404]
    assert [s.status for s in pypi_api.requests_for("django-valkey")] == [200]


async def test_a_long_readiness_board_pages_with_the_counts_on_every_page(
    discord_scene: DiscordScene,
    djp_api: FakeDjangoPackages,
    pypi_api: FakePypi,
    clock: SteppingClock,
    sentinel: SentinelBot,
    flatblocks_payload: dict[str, Any],
) -> None:
    fake, alerts, member = discord_scene.fake, discord_scene.alerts, discord_scene.member
    widgets = package_copies(flatblocks_payload, 60)  # on PyPI as django-flatblocks too
    grow_flatpages(djp_api, widgets)
    await fake.run_command(
        "grid subscribe", {"grid": "flatpages"}, user=discord_scene.manager, channel_id=alerts.id
    )
    await next_cycle(sentinel, clock)

    shown = await fake.run_command(
        "readiness", {"django": "4.0"}, user=member, channel_id=alerts.id
    )
    board = shown.reply
    assert board is not None
    titles, footers, slugs = set(), [], []
    while True:
        [embed] = board.embeds
        titles.add(embed["title"])
        footers.append(embed["footer"]["text"])
        slugs += [line.split("**")[1] for line in embed["description"].splitlines()]
        if not enabled(board)[NEXT]:
            break
        await fake.click(board, NEXT, user=member)

    assert titles == {"Django 4.0: 61 ready, 0 no, 0 unknown (of 61 packages followed here)"}
    dates = "Django 4.0: released 2021-12-07, security support ends 2023-04-01"
    assert footers == [f"Page {n}/3 · {dates}" for n in (1, 2, 3)]
    assert sorted(slugs) == sorted(["django-flatblocks", *(w["slug"] for w in widgets)])
    assert fake.violations == []


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
    discord_scene: DiscordScene,
    pypi_api: FakePypi,
    endoflife_api: FakeEndOfLife,
    clock: SteppingClock,
    sentinel: SentinelBot,
) -> None:
    fake = discord_scene.fake
    await watching_flatblocks(discord_scene, sentinel, clock)
    before = source_counts()
    await next_cycle(sentinel, clock)  # the journal names nothing: one request, no project
    # PyPI down: two attempts at each of the journal, its newest serial and django-flatblocks
    pypi_api.inject("500", times=6)
    endoflife_api.inject("503", times=2)
    await next_cycle(sentinel, clock, A_DAY)  # endoflife.date falls due again
    counted = {name: count - before[name] for name, count in source_counts().items()}

    record = await fake.run_command("status", user=discord_scene.member)

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
    assert fake.violations == []
