"""Security advisories end to end: the real bot, the fake Discord, the fake Django Packages
and the fake OSV serving real records. django-flatblocks is pointed at the PyPI project
django-debug-toolbar, whose real records are a PYSEC/GHSA pair (CVE-2021-30459, HIGH)."""

from __future__ import annotations

import logging

import pytest
from prometheus_client import REGISTRY

from bot.app import webhook_subscriptions
from bot.core.events import AlertPreferences
from bot.delivery.webhook import webhook_http_client
from bot.delivery.worker import DeliveryReport
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
from tests.fakes.osv_api import Failure, FakeOsv, Record
from tests.plugins.app import SteppingClock, alerts_in, next_cycle
from tests.plugins.osv_api import TOOLBAR_PAIR

FLATBLOCKS = 265
CACHE_MACHINE = 155
pytestmark = pytest.mark.osv


def failed_passes() -> float:
    """`djp_sentinel_osv_failures_total` as /metrics serves it."""
    return REGISTRY.get_sample_value("djp_sentinel_osv_failures_total") or 0.0


async def watch_toolbar(
    scene: DiscordScene,
    djp_api: FakeDjangoPackages,
    role: FakeRole | None = None,
    version: str = "3.2",
) -> None:
    djp_api.update_package(
        FLATBLOCKS,
        pypi_url="https://pypi.org/project/django-debug-toolbar/",
        pypi_version=version,
    )
    await scene.fake.run_command(
        "watch add",
        {"slug": "django-flatblocks"} | ({"role": role} if role else {}),
        user=scene.manager,
        channel_id=scene.alerts.id,
    )


async def test_a_new_advisory_pair_is_one_alert_per_channel_listing_every_id(
    discord_scene: DiscordScene,
    djp_api: FakeDjangoPackages,
    osv_api: FakeOsv,
    toolbar_pair: dict[str, Record],
    clock: SteppingClock,
    sentinel: SentinelBot,
) -> None:
    fake, alerts, general = discord_scene.fake, discord_scene.alerts, discord_scene.general
    await watch_toolbar(discord_scene, djp_api)
    await fake.run_command(
        "watch add",
        {"slug": "django-flatblocks"},
        user=discord_scene.manager,
        channel_id=general.id,
    )
    baseline = await next_cycle(sentinel, clock)
    for record in toolbar_pair.values():
        osv_api.put(record)
    published = await next_cycle(sentinel, clock)

    assert baseline.sent == 0
    assert published.sent == 2
    [alert] = alerts_in(fake, alerts.id)
    [same] = alerts_in(fake, general.id)
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
    assert fake.violations == []


async def publish(
    sentinel: SentinelBot, clock: SteppingClock, osv_api: FakeOsv, pair: dict[str, Record]
) -> DeliveryReport:
    """The pair published after the baseline: the report of the cycle that announced it."""
    await next_cycle(sentinel, clock)
    for record in pair.values():
        osv_api.put(record)
    return await next_cycle(sentinel, clock)


async def withdraw(sentinel: SentinelBot, clock: SteppingClock, osv_api: FakeOsv) -> DeliveryReport:
    """OSV withdraws the pair: the report of the cycle that noticed."""
    for vuln_id in TOOLBAR_PAIR:
        osv_api.update(vuln_id, withdrawn="2026-12-01T00:00:00Z", modified="2026-12-01T00:00:00Z")
    return await next_cycle(sentinel, clock)


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


async def test_a_modified_bump_is_silent(
    discord_scene: DiscordScene,
    djp_api: FakeDjangoPackages,
    osv_api: FakeOsv,
    toolbar_pair: dict[str, Record],
    clock: SteppingClock,
    sentinel: SentinelBot,
) -> None:
    fake, alerts = discord_scene.fake, discord_scene.alerts
    await watch_toolbar(discord_scene, djp_api)
    await next_cycle(sentinel, clock)
    for record in toolbar_pair.values():
        osv_api.put(record)
    await next_cycle(sentinel, clock)
    gets_before = osv_api.count("GET")
    osv_api.update("GHSA-pghf-347x-c2gj", modified="2026-11-30T08:00:00Z")
    bumped = await next_cycle(sentinel, clock)
    gets_for_bump = osv_api.count("GET") - gets_before
    quiet = await next_cycle(sentinel, clock)

    assert (bumped.sent, quiet.sent) == (0, 0)
    assert gets_for_bump == 1  # only the record whose modified moved is read again
    assert len(alerts_in(fake, alerts.id)) == 1


async def test_a_withdrawal_marks_the_posted_alert_withdrawn_in_place(
    discord_scene: DiscordScene,
    djp_api: FakeDjangoPackages,
    osv_api: FakeOsv,
    toolbar_pair: dict[str, Record],
    clock: SteppingClock,
    sentinel: SentinelBot,
) -> None:
    fake, alerts = discord_scene.fake, discord_scene.alerts
    await watch_toolbar(discord_scene, djp_api, role=discord_scene.managers)
    published = await publish(sentinel, clock, osv_api, toolbar_pair)
    withdrawn = await withdraw(sentinel, clock, osv_api)
    again = await next_cycle(sentinel, clock)

    assert (published.messages, withdrawn.messages, withdrawn.edited) == (1, 0, 1)
    assert again.sent == 0
    [original] = alerts_in(fake, alerts.id)  # no message of its own
    assert marked_withdrawn(original)
    assert original.content == f"<@&{discord_scene.managers.id}>"  # the mention left as it was
    assert fake.violations == []


async def test_a_webhook_route_marks_its_own_message_withdrawn(
    discord_scene: DiscordScene,
    djp_api: FakeDjangoPackages,
    osv_api: FakeOsv,
    toolbar_pair: dict[str, Record],
    clock: SteppingClock,
    sentinel: SentinelBot,
) -> None:
    fake, alerts = discord_scene.fake, discord_scene.alerts
    hook = fake.create_webhook(alerts.id)
    djp_api.update_package(
        FLATBLOCKS, pypi_url="https://pypi.org/project/django-debug-toolbar/", pypi_version="3.2"
    )
    runtime = sentinel.runtime
    async with webhook_http_client(1.0) as http:
        await webhook_subscriptions.watch(
            runtime,
            http,
            hook.url,
            "django-flatblocks",
            kind=TargetKind.PACKAGE,
            preferences=AlertPreferences(),
        )

    await publish(sentinel, clock, osv_api, toolbar_pair)
    withdrawn = await withdraw(sentinel, clock, osv_api)

    assert withdrawn.edited == 1
    [original] = alerts_in(fake, alerts.id)
    assert original.webhook_id == hook.id
    assert marked_withdrawn(original)
    assert fake.violations == []


async def test_an_alert_that_cannot_be_changed_gets_one_retraction(
    discord_scene: DiscordScene,
    djp_api: FakeDjangoPackages,
    osv_api: FakeOsv,
    toolbar_pair: dict[str, Record],
    clock: SteppingClock,
    sentinel: SentinelBot,
) -> None:
    """Deleted in one channel, unreadable in another (no Read Message History): each gets
    the retraction posted, once."""
    fake, alerts, general = discord_scene.fake, discord_scene.alerts, discord_scene.general
    await watch_toolbar(discord_scene, djp_api)
    await fake.run_command(
        "watch add",
        {"slug": "django-flatblocks"},
        user=discord_scene.manager,
        channel_id=general.id,
    )
    await publish(sentinel, clock, osv_api, toolbar_pair)
    [deleted] = alerts_in(fake, alerts.id)
    deleted.deleted = True
    bot = fake.bot_user.id
    general.overwrites.append(Overwrite(bot, MEMBER_OVERWRITE, deny=READ_MESSAGE_HISTORY))
    withdrawn = await withdraw(sentinel, clock, osv_api)
    again = await next_cycle(sentinel, clock)

    assert (withdrawn.messages, withdrawn.edited, again.sent) == (2, 0, 0)
    [retraction] = alerts_in(fake, alerts.id)
    assert retraction.embeds[0]["title"] == (
        "django-flatblocks: advisory GHSA-pghf-347x-c2gj was withdrawn"
    )
    original, same = alerts_in(fake, general.id)
    assert original.edited_timestamp is None
    assert same.embeds == retraction.embeds
    assert [v.rule for v in fake.violations] == []


async def test_an_advisory_that_went_out_in_a_digest_gets_its_retraction_in_the_next(
    discord_scene: DiscordScene,
    djp_api: FakeDjangoPackages,
    osv_api: FakeOsv,
    toolbar_pair: dict[str, Record],
    clock: SteppingClock,
    sentinel: SentinelBot,
) -> None:
    """Not urgent (the latest release is fixed), so it was a line of a daily digest, which is
    not rewritten: the retraction is posted, at the next digest time."""
    fake, alerts, manager = discord_scene.fake, discord_scene.alerts, discord_scene.manager
    clock.advance(clock.until_hour(1))
    await watch_toolbar(discord_scene, djp_api, version="3.2.1")
    digest: dict[str, str | int] = {"mode": "daily", "hour": 23}
    await fake.run_command("settings digest", digest, user=manager, channel_id=alerts.id)
    # The advisory passes wake the delivery loop, which may post a digest before the next
    # pass driven here: what the channel shows is counted, not which pass posted it.
    posted = []
    await publish(sentinel, clock, osv_api, toolbar_pair)
    posted.append(len(alerts_in(fake, alerts.id)))
    clock.advance(clock.until_hour(23))
    await next_cycle(sentinel, clock)
    posted.append(len(alerts_in(fake, alerts.id)))
    await withdraw(sentinel, clock, osv_api)
    posted.append(len(alerts_in(fake, alerts.id)))
    clock.advance(clock.until_hour(23))
    await next_cycle(sentinel, clock)

    assert posted == [0, 1, 1]  # held for the digest; the digest; the retraction held too
    daily, retraction = alerts_in(fake, alerts.id)
    assert "GHSA-pghf-347x-c2gj" in str(daily.embeds)
    assert daily.edited_timestamp is None
    assert "advisory GHSA-pghf-347x-c2gj was withdrawn" in str(retraction.embeds)
    assert fake.violations == []


async def test_osv_down_or_hostile_for_cycles_alerts_nothing_and_delays_no_release(
    discord_scene: DiscordScene,
    djp_api: FakeDjangoPackages,
    osv_api: FakeOsv,
    toolbar_pair: dict[str, Record],
    clock: SteppingClock,
    sentinel: SentinelBot,
) -> None:
    fake, alerts = discord_scene.fake, discord_scene.alerts
    await watch_toolbar(discord_scene, djp_api)
    await next_cycle(sentinel, clock)
    failures_before = failed_passes()
    osv_api.failure = "down"
    for record in toolbar_pair.values():
        osv_api.put(record)
    djp_api.update_package(FLATBLOCKS, pypi_version="3.2.1")
    down = [await next_cycle(sentinel, clock) for _ in range(3)]
    garbled = []
    hostile: tuple[Failure, ...] = ("malformed", "deep-json", "gzip-bomb")
    for failure in hostile:  # one cycle each
        osv_api.failure = failure
        garbled.append(await next_cycle(sentinel, clock))
    osv_api.failure = None
    back = await next_cycle(sentinel, clock)

    assert [report.sent for report in down] == [1, 0, 0]  # the release, on time
    assert failed_passes() - failures_before == 6  # three down, three garbled or hostile
    assert "3.2.1 released" in alerts_in(fake, alerts.id)[0].embeds[0]["title"]
    assert [report.sent for report in garbled] == [0, 0, 0]
    assert back.sent == 1  # the advisory, once OSV answers again
    assert (
        "latest release 3.2.1 is not affected" in alerts_in(fake, alerts.id)[-1].embeds[0]["title"]
    )


@pytest.mark.parametrize("garbled", ["GHSA-pghf-347x-c2gj", "django-debug-toolbar"])
async def test_one_name_answered_malformed_waits_alone_for_the_next_pass(
    discord_scene: DiscordScene,
    djp_api: FakeDjangoPackages,
    osv_api: FakeOsv,
    toolbar_pair: dict[str, Record],
    clock: SteppingClock,
    sentinel: SentinelBot,
    caplog: pytest.LogCaptureFixture,
    garbled: str,
) -> None:
    """OSV answers one of the toolbar's records, or the toolbar's whole result, malformed:
    the other package's advisory is posted, the toolbar's is not (one warning says why); the
    next pass asks again and posts it, once."""
    fake, alerts = discord_scene.fake, discord_scene.alerts
    await watch_toolbar(discord_scene, djp_api)
    djp_api.update_package(CACHE_MACHINE, pypi_url="https://pypi.org/project/channels/")
    await fake.run_command(
        "watch add",
        {"slug": "django-cache-machine"},
        user=discord_scene.manager,
        channel_id=alerts.id,
    )
    channels_record = osv_api.records.pop("PYSEC-2021-113")
    await next_cycle(sentinel, clock)  # the baselines
    for record in [*toolbar_pair.values(), channels_record]:
        osv_api.put(record)
    osv_api.garbled = {garbled}

    with caplog.at_level(logging.WARNING, logger="bot.refresh.advisories"):
        answered_badly = await next_cycle(sentinel, clock)
    osv_api.garbled = set()
    answered = await next_cycle(sentinel, clock)
    again = await next_cycle(sentinel, clock)

    assert (answered_badly.sent, answered.sent, again.sent) == (1, 1, 0)
    first, second = (m.embeds[0]["title"] for m in alerts_in(fake, alerts.id))
    assert "PYSEC-2021-113" in first
    assert second.startswith("django-flatblocks: HIGH security advisory GHSA-pghf-347x-c2gj")
    [warned] = [r.getMessage() for r in caplog.records if r.name == "bot.refresh.advisories"]
    assert warned.startswith("OSV answered badly for django-debug-toolbar (the ")
    assert garbled in warned
    assert fake.violations == []


async def test_a_high_advisory_skips_the_digest_and_the_cap_with_the_role(
    discord_scene: DiscordScene,
    djp_api: FakeDjangoPackages,
    osv_api: FakeOsv,
    toolbar_pair: dict[str, Record],
    clock: SteppingClock,
    sentinel: SentinelBot,
) -> None:
    fake, alerts, manager = discord_scene.fake, discord_scene.alerts, discord_scene.manager
    clock.advance(clock.until_hour(1))  # within one UTC day, the digest due at 23:00
    await watch_toolbar(discord_scene, djp_api, role=discord_scene.managers, version="3.1")
    digest: dict[str, str | int] = {"mode": "daily", "hour": 23, "bypass": "release"}
    await fake.run_command("settings digest", digest, user=manager, channel_id=alerts.id)
    await fake.run_command("settings cap", {"per_day": 1}, user=manager, channel_id=alerts.id)
    await next_cycle(sentinel, clock)
    djp_api.update_package(FLATBLOCKS, pypi_version="3.2.0")  # affected
    releases = await next_cycle(sentinel, clock)  # the day's one alert, past the digest
    for record in toolbar_pair.values():
        osv_api.put(record)
    urgent = await next_cycle(sentinel, clock)

    assert releases.sent == 1
    assert urgent.sent == 1  # over the cap, and out of the digest
    release, advisory = alerts_in(fake, alerts.id)
    assert "3.2.0 released" in release.embeds[0]["title"]
    assert advisory.content == f"<@&{discord_scene.managers.id}>"
    assert "HIGH security advisory" in advisory.embeds[0]["title"]
    assert "latest release 3.2.0 is affected, fixed in 3.2.1" in advisory.embeds[0]["title"]


async def test_package_shows_the_advisories_affecting_the_latest_release(
    discord_scene: DiscordScene, djp_api: FakeDjangoPackages, sentinel: SentinelBot
) -> None:
    djp_api.update_package(
        FLATBLOCKS, pypi_url="https://pypi.org/project/django-debug-toolbar/", pypi_version="3.2"
    )

    record = await discord_scene.fake.run_command("package", {"slug": "django-flatblocks"})

    fields = {field["name"]: field["value"] for field in record.embeds[0]["fields"]}
    assert fields["Advisories"] == (
        "1 affects the latest release, highest HIGH\n• GHSA-pghf-347x-c2gj (HIGH): fixed in 3.2.1"
    )
