"""Security advisories end to end: the real bot, the fake Discord, the fake Django Packages
and the fake OSV serving real records. django-flatblocks is pointed at the PyPI project
django-debug-toolbar, whose real records are a PYSEC/GHSA pair (CVE-2021-30459, HIGH)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from bot.app import webhook_subscriptions
from bot.core.events import AlertPreferences
from bot.delivery.webhook import webhook_http_client
from bot.discordbot.bot import SentinelBot
from bot.messages.withdrawn import WITHDRAWN_COLOUR
from storage.models import TargetKind
from tests.fakes.discord_api import MEMBER_OVERWRITE
from tests.fakes.discord_models import (
    READ_MESSAGE_HISTORY,
    FakeRole,
    Overwrite,
    PostedMessage,
)
from tests.fakes.discord_runner import DiscordScene
from tests.fakes.djp_api import FakeDjangoPackages
from tests.fakes.osv_api import Failure
from tests.plugins.osv_api import TOOLBAR_PAIR, AdvisoryStage

FLATBLOCKS = 265
CACHE_MACHINE = 155
pytestmark = [pytest.mark.osv, pytest.mark.usefixtures("discord_rules_kept")]


def failed_passes() -> float:
    """`djp_sentinel_osv_failures_total` as /metrics serves it."""
    return REGISTRY.get_sample_value("djp_sentinel_osv_failures_total") or 0.0


def point_flatblocks_at_the_toolbar(djp_api: FakeDjangoPackages, version: str = "3.2") -> None:
    djp_api.update_package(
        FLATBLOCKS,
        pypi_url="https://pypi.org/project/django-debug-toolbar/",
        pypi_version=version,
    )


async def watch_toolbar(
    scene: DiscordScene,
    djp_api: FakeDjangoPackages,
    role: FakeRole | None = None,
    version: str = "3.2",
) -> None:
    """django-flatblocks, pointed at the toolbar at `version`, watched in #alerts (alerts
    mentioning `role`, if given)."""
    point_flatblocks_at_the_toolbar(djp_api, version)
    if role is None:
        await scene.as_manager("watch add", slug="django-flatblocks")
    else:
        await scene.as_manager("watch add", slug="django-flatblocks", role=role)


def marked_withdrawn(message: PostedMessage) -> bool:
    """The alert's card struck through, greyed, and dated as OSV withdrew it."""
    [embed] = message.embeds
    return (
        embed["title"].startswith("~~django-flatblocks: HIGH security advisory GHSA-pghf-347x-c2gj")
        and embed["title"].endswith("~~")
        and embed["color"] == WITHDRAWN_COLOUR
        and embed["description"].startswith("**Withdrawn on 2026-12-01**")
        and message.edited_timestamp is not None
    )


async def test_a_new_advisory_pair_is_one_alert_per_channel_listing_every_id(
    osv_stage: AdvisoryStage, djp_api: FakeDjangoPackages
) -> None:
    scene = osv_stage.scene
    await watch_toolbar(scene, djp_api)
    await scene.as_manager("watch add", slug="django-flatblocks", channel=scene.general)
    baseline = await osv_stage.next_cycle()
    osv_stage.put_pair()
    published = await osv_stage.next_cycle()

    assert baseline.sent == 0
    assert published.sent == 2
    [alert] = osv_stage.alerts()
    [same] = osv_stage.alerts(scene.general)
    assert same.embeds[0]["title"] == alert.embeds[0]["title"]
    embed = alert.embeds[0]
    assert embed["title"].startswith(
        "django-flatblocks: HIGH security advisory GHSA-pghf-347x-c2gj"
    )
    assert "latest release 3.2 is affected, fixed in 3.2.1" in embed["title"]
    text = str(embed)
    for vuln_id in (*TOOLBAR_PAIR, "CVE-2021-30459"):
        assert vuln_id in text
    assert ">=3.0.0,<3.2.1" in text
    assert "https://github.com/advisories/GHSA-pghf-347x-c2gj" in text


async def test_a_modified_bump_is_silent(
    osv_stage: AdvisoryStage, djp_api: FakeDjangoPackages
) -> None:
    osv_api = osv_stage.osv_api
    await watch_toolbar(osv_stage.scene, djp_api)
    await osv_stage.publish()
    gets_before = osv_api.count("GET")
    osv_api.update("GHSA-pghf-347x-c2gj", modified="2026-11-30T08:00:00Z")
    bumped = await osv_stage.next_cycle()
    gets_for_bump = osv_api.count("GET") - gets_before
    quiet = await osv_stage.next_cycle()

    assert (bumped.sent, quiet.sent) == (0, 0)
    assert gets_for_bump == 1  # only the record whose modified moved is read again
    assert len(osv_stage.alerts()) == 1


async def test_a_withdrawal_marks_the_posted_alert_withdrawn_in_place(
    osv_stage: AdvisoryStage, djp_api: FakeDjangoPackages
) -> None:
    managers = osv_stage.scene.managers
    await watch_toolbar(osv_stage.scene, djp_api, role=managers)
    published = await osv_stage.publish()
    withdrawn = await osv_stage.withdraw()
    again = await osv_stage.next_cycle()

    assert (published.messages, withdrawn.messages, withdrawn.edited) == (1, 0, 1)
    assert again.sent == 0
    [original] = osv_stage.alerts()  # no message of its own
    assert marked_withdrawn(original)
    assert original.content == f"<@&{managers.id}>"  # the mention left as it was


async def test_a_webhook_route_marks_its_own_message_withdrawn(
    osv_stage: AdvisoryStage, djp_api: FakeDjangoPackages
) -> None:
    hook = osv_stage.scene.fake.create_webhook(osv_stage.scene.alerts.id)
    point_flatblocks_at_the_toolbar(djp_api)
    async with webhook_http_client(1.0) as http:
        await webhook_subscriptions.watch(
            osv_stage.bot.runtime,
            http,
            hook.url,
            "django-flatblocks",
            kind=TargetKind.PACKAGE,
            preferences=AlertPreferences(),
        )

    await osv_stage.publish()
    withdrawn = await osv_stage.withdraw()

    assert withdrawn.edited == 1
    [original] = osv_stage.alerts()
    assert original.webhook_id == hook.id
    assert marked_withdrawn(original)


async def test_an_alert_that_cannot_be_changed_gets_one_retraction(
    osv_stage: AdvisoryStage, djp_api: FakeDjangoPackages
) -> None:
    """Deleted in one channel, unreadable in another (no Read Message History): each gets
    the retraction posted, once."""
    scene = osv_stage.scene
    await watch_toolbar(scene, djp_api)
    await scene.as_manager("watch add", slug="django-flatblocks", channel=scene.general)
    await osv_stage.publish()
    [deleted] = osv_stage.alerts()
    deleted.deleted = True
    bot = scene.fake.bot_user.id
    scene.general.overwrites.append(Overwrite(bot, MEMBER_OVERWRITE, deny=READ_MESSAGE_HISTORY))
    withdrawn = await osv_stage.withdraw()
    again = await osv_stage.next_cycle()

    assert (withdrawn.messages, withdrawn.edited, again.sent) == (2, 0, 0)
    [retraction] = osv_stage.alerts()
    assert retraction.embeds[0]["title"] == (
        "django-flatblocks: advisory GHSA-pghf-347x-c2gj was withdrawn"
    )
    original, same = osv_stage.alerts(scene.general)
    assert original.edited_timestamp is None
    assert same.embeds == retraction.embeds


async def test_an_advisory_that_went_out_in_a_digest_gets_its_retraction_in_the_next(
    osv_stage: AdvisoryStage, djp_api: FakeDjangoPackages
) -> None:
    """Not urgent (the latest release is fixed), so it was a line of a daily digest, which is
    not rewritten: the retraction is posted, at the next digest time."""
    clock = osv_stage.clock
    clock.advance(clock.until_hour(1))
    await watch_toolbar(osv_stage.scene, djp_api, version="3.2.1")
    await osv_stage.scene.as_manager("settings digest", mode="daily", hour=23)
    # The advisory passes wake the delivery loop, which may post a digest before the next
    # pass driven here: what the channel shows is counted, not which pass posted it.
    posted = []
    await osv_stage.publish()
    posted.append(len(osv_stage.alerts()))
    clock.advance(clock.until_hour(23))
    await osv_stage.next_cycle()
    posted.append(len(osv_stage.alerts()))
    await osv_stage.withdraw()
    posted.append(len(osv_stage.alerts()))
    clock.advance(clock.until_hour(23))
    await osv_stage.next_cycle()

    assert posted == [0, 1, 1]  # held for the digest; the digest; the retraction held too
    daily, retraction = osv_stage.alerts()
    assert "GHSA-pghf-347x-c2gj" in str(daily.embeds)
    assert daily.edited_timestamp is None
    assert "advisory GHSA-pghf-347x-c2gj was withdrawn" in str(retraction.embeds)


def share_the_pair_with_cache_machine(osv_stage: AdvisoryStage) -> None:
    """OSV publishes the pair, its GHSA record naming django-cache-machine too (every release
    affected), so one record is shared by two PyPI names."""
    ghsa = osv_stage.pair["GHSA-pghf-347x-c2gj"]
    cache_machine = {
        "package": {"ecosystem": "PyPI", "name": "django-cache-machine"},
        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
    }
    osv_stage.osv_api.put(osv_stage.pair["PYSEC-2021-10"])
    osv_stage.osv_api.put({**ghsa, "affected": [*ghsa["affected"], cache_machine]})


#: Less than the poll interval, more than half of it: two names checked one step apart are
#: due on alternate steps.
STEP = timedelta(minutes=31)


def rate_critical(osv_stage: AdvisoryStage) -> None:
    ghsa = osv_stage.osv_api.records["GHSA-pghf-347x-c2gj"]
    osv_stage.osv_api.update(
        "GHSA-pghf-347x-c2gj",
        modified="2026-12-01T00:00:00Z",
        database_specific={**ghsa["database_specific"], "severity": "CRITICAL"},
    )


def withdraw_in_place(osv_stage: AdvisoryStage) -> None:
    """Both records withdrawn, still listed (with their new `modified` time)."""
    for vuln_id in TOOLBAR_PAIR:
        osv_stage.osv_api.update(
            vuln_id, withdrawn="2026-12-01T00:00:00Z", modified="2026-12-01T00:00:00Z"
        )


@pytest.mark.parametrize("change", [rate_critical, withdraw_in_place], ids=["updated", "withdrawn"])
async def test_a_shared_advisory_changed_between_two_names_checks_reaches_both_once(
    osv_stage: AdvisoryStage, djp_api: FakeDjangoPackages, change: Callable[[AdvisoryStage], None]
) -> None:
    """The toolbar is checked a step before django-cache-machine (watched later), and both
    hear of the shared advisory. It changes: the toolbar's pass reads the record again, and
    cache-machine's pass, a step later, still hears of the change; each channel once."""
    scene = osv_stage.scene
    await watch_toolbar(scene, djp_api)
    await osv_stage.next_cycle()  # the toolbar's baseline
    djp_api.update_package(
        CACHE_MACHINE,
        pypi_url="https://pypi.org/project/django-cache-machine/",
        pypi_version="3.1",
    )
    await scene.as_manager("watch add", slug="django-cache-machine", channel=scene.general)
    await osv_stage.next_cycle(STEP)  # cache-machine's baseline; the toolbar is not due
    share_the_pair_with_cache_machine(osv_stage)
    published = [await osv_stage.next_cycle(STEP) for _ in range(2)]
    change(osv_stage)

    changed = [await osv_stage.next_cycle(STEP) for _ in range(2)]
    both_due = await osv_stage.next_cycle()

    assert [report.sent for report in (*published, *changed, both_due)] == [1, 1, 1, 1, 0]
    toolbar, cache_machine = osv_stage.alerts(), osv_stage.alerts(scene.general)
    if change is rate_critical:
        assert [m.embeds[0]["title"].split(":")[:2] for m in toolbar + cache_machine] == [
            ["django-flatblocks", " HIGH security advisory GHSA-pghf-347x-c2gj"],
            ["django-flatblocks", " CRITICAL advisory GHSA-pghf-347x-c2gj updated"],
            ["django-cache-machine", " HIGH security advisory GHSA-pghf-347x-c2gj"],
            ["django-cache-machine", " CRITICAL advisory GHSA-pghf-347x-c2gj updated"],
        ]
    else:
        [toolbar_alert], [cache_machine_alert] = toolbar, cache_machine
        assert marked_withdrawn(toolbar_alert)
        assert cache_machine_alert.embeds[0]["title"].startswith("~~django-cache-machine: ")
        assert cache_machine_alert.edited_timestamp is not None


async def test_osv_down_or_hostile_for_cycles_alerts_nothing_and_delays_no_release(
    osv_stage: AdvisoryStage, djp_api: FakeDjangoPackages
) -> None:
    osv_api = osv_stage.osv_api
    await watch_toolbar(osv_stage.scene, djp_api)
    await osv_stage.next_cycle()
    failures_before = failed_passes()
    osv_api.failure = "down"
    osv_stage.put_pair()
    djp_api.update_package(FLATBLOCKS, pypi_version="3.2.1")
    down = [await osv_stage.next_cycle() for _ in range(3)]
    garbled = []
    hostile: tuple[Failure, ...] = ("malformed", "deep-json", "gzip-bomb")
    for failure in hostile:  # one cycle each
        osv_api.failure = failure
        garbled.append(await osv_stage.next_cycle())
    osv_api.failure = None
    back = await osv_stage.next_cycle()

    assert [report.sent for report in down] == [1, 0, 0]  # the release, on time
    assert failed_passes() - failures_before == 6  # three down, three garbled or hostile
    assert "3.2.1 released" in osv_stage.alerts()[0].embeds[0]["title"]
    assert [report.sent for report in garbled] == [0, 0, 0]
    assert back.sent == 1  # the advisory, once OSV answers again
    assert "latest release 3.2.1 is not affected" in osv_stage.alerts()[-1].embeds[0]["title"]


@pytest.mark.parametrize("garbled", ["GHSA-pghf-347x-c2gj", "django-debug-toolbar"])
async def test_one_name_answered_malformed_waits_alone_for_the_next_pass(
    osv_stage: AdvisoryStage,
    djp_api: FakeDjangoPackages,
    caplog: pytest.LogCaptureFixture,
    garbled: str,
) -> None:
    """OSV answers one of the toolbar's records, or the toolbar's whole result, malformed:
    the other package's advisory is posted, the toolbar's is not (one warning says why); the
    next pass asks again and posts it, once."""
    osv_api = osv_stage.osv_api
    await watch_toolbar(osv_stage.scene, djp_api)
    djp_api.update_package(CACHE_MACHINE, pypi_url="https://pypi.org/project/channels/")
    await osv_stage.scene.as_manager("watch add", slug="django-cache-machine")
    channels_record = osv_api.records.pop("PYSEC-2021-113")
    await osv_stage.next_cycle()  # the baselines
    osv_stage.put_pair()
    osv_api.put(channels_record)
    osv_api.garbled = {garbled}

    with caplog.at_level(logging.WARNING, logger="bot.refresh.advisories"):
        answered_badly = await osv_stage.next_cycle()
    osv_api.garbled = set()
    answered = await osv_stage.next_cycle()
    again = await osv_stage.next_cycle()

    assert (answered_badly.sent, answered.sent, again.sent) == (1, 1, 0)
    first, second = (m.embeds[0]["title"] for m in osv_stage.alerts())
    assert "PYSEC-2021-113" in first
    assert second.startswith("django-flatblocks: HIGH security advisory GHSA-pghf-347x-c2gj")
    [warned] = [r.getMessage() for r in caplog.records if r.name == "bot.refresh.advisories"]
    assert warned.startswith("OSV answered badly for django-debug-toolbar (the ")
    assert garbled in warned


async def test_a_high_advisory_skips_the_digest_and_the_cap_with_the_role(
    osv_stage: AdvisoryStage, djp_api: FakeDjangoPackages
) -> None:
    scene, clock = osv_stage.scene, osv_stage.clock
    clock.advance(clock.until_hour(1))  # within one UTC day, the digest due at 23:00
    await watch_toolbar(scene, djp_api, role=scene.managers, version="3.1")
    await scene.as_manager("settings digest", mode="daily", hour=23, bypass="release")
    await scene.as_manager("settings cap", per_day=1)
    await osv_stage.next_cycle()
    djp_api.update_package(FLATBLOCKS, pypi_version="3.2.0")  # affected
    releases = await osv_stage.next_cycle()  # the day's one alert, past the digest
    osv_stage.put_pair()
    urgent = await osv_stage.next_cycle()

    assert releases.sent == 1
    assert urgent.sent == 1  # over the cap, and out of the digest
    release, advisory = osv_stage.alerts()
    assert "3.2.0 released" in release.embeds[0]["title"]
    assert advisory.content == f"<@&{scene.managers.id}>"
    assert "HIGH security advisory" in advisory.embeds[0]["title"]
    assert "latest release 3.2.0 is affected, fixed in 3.2.1" in advisory.embeds[0]["title"]


async def test_package_shows_the_advisories_affecting_the_latest_release(
    discord_scene: DiscordScene, djp_api: FakeDjangoPackages, sentinel: SentinelBot
) -> None:
    point_flatblocks_at_the_toolbar(djp_api)

    record = await discord_scene.fake.run_command("package", {"slug": "django-flatblocks"})

    fields = {field["name"]: field["value"] for field in record.embeds[0]["fields"]}
    assert fields["Advisories"] == (
        "1 affects the latest release, highest HIGH\n• GHSA-pghf-347x-c2gj (HIGH): fixed in 3.2.1"
    )
