"""PyPI and endoflife.date beside Django Packages: the real bot against the fake Discord and
fakes of all three upstreams. django-flatblocks is served on PyPI as the real
djangorestframework capture (latest 3.13.1, `Framework :: Django :: 2.2`-`4.0`), renamed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.discordbot.bot import SentinelBot
from bot.refresh.pypi_pass import SourcesPass
from tests.fakes.discord_models import PostedMessage
from tests.fakes.discord_runner import DiscordScene
from tests.fakes.djp_api import FakeDjangoPackages
from tests.fakes.pypi_api import FakeEndOfLife, FakePypi
from tests.plugins.app import SteppingClock, alerts_in, background, next_cycle
from tests.plugins.pypi import titles, watching_flatblocks

FLATBLOCKS = 265
A_DAY = timedelta(days=1, minutes=1)
DECLARED = ["2.2", "3.0", "3.1", "3.2", "4.0"]


@pytest.fixture
def sources(pypi_sources: SourcesPass) -> SourcesPass:
    """This module's bots read PyPI and endoflife.date (their fakes)."""
    return pypi_sources


def fields(message: PostedMessage) -> dict[str, str]:
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
