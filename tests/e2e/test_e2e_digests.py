"""Keeping a channel quiet: a daily digest posted at its hour, and a daily cap's summary line.
The test moves the clock; nothing waits for real time."""

from __future__ import annotations

from datetime import timedelta

from bot.discordbot.bot import SentinelBot
from tests.fakes.discord_runner import DiscordScene
from tests.fakes.djp_api import FakeDjangoPackages
from tests.plugins.app import SteppingClock, alerts_in, background, next_cycle

FLATBLOCKS, REGISTRATION, CACHE_MACHINE = 265, 4100, 155
WATCHED = ("django-flatblocks", "django-rest-registration", "django-cache-machine")
MINUTE = timedelta(minutes=1)


async def watch(scene: DiscordScene, *slugs: str) -> None:
    for slug in slugs:
        await scene.fake.run_command(
            "watch add", {"slug": slug}, user=scene.manager, channel_id=scene.alerts.id
        )


async def test_a_day_of_alerts_arrives_as_one_digest_at_the_digest_hour(
    discord_scene: DiscordScene,
    djp_api: FakeDjangoPackages,
    clock: SteppingClock,
    sentinel: SentinelBot,
) -> None:
    fake, alerts = discord_scene.fake, discord_scene.alerts
    await watch(discord_scene, "django-flatblocks")
    hour = (clock() + timedelta(hours=6)).hour  # three cycles fit before it
    chosen = await fake.run_command(
        "settings digest",
        {"mode": "daily", "hour": hour},
        user=discord_scene.manager,
        channel_id=alerts.id,
    )

    held = []
    for version in ("1.0.1", "1.0.2", "1.1.0"):
        djp_api.update_package(FLATBLOCKS, pypi_version=version)
        held.append((await next_cycle(sentinel, clock)).sent)
    clock.advance(clock.until_hour(hour) - MINUTE)
    before = await background(sentinel).deliver_once()
    clock.advance(2 * MINUTE)
    at_hour = await background(sentinel).deliver_once()

    assert chosen.content == f"Alerts here are gathered into a daily digest at {hour:02d}:00 UTC."
    assert held == [0, 0, 0]
    assert before.sent == 0
    assert (at_hour.messages, at_hour.sent) == (1, 3)
    [digest] = alerts_in(fake, alerts.id)
    assert digest.embeds[0]["title"] == "Daily digest: 3 alerts"
    for version in ("1.0.1", "1.0.2", "1.1.0"):
        assert version in str(digest.embeds)
    assert fake.violations == []


async def test_the_daily_cap_turns_the_overflow_into_one_summary_line(
    discord_scene: DiscordScene,
    djp_api: FakeDjangoPackages,
    clock: SteppingClock,
    sentinel: SentinelBot,
) -> None:
    fake, alerts = discord_scene.fake, discord_scene.alerts
    clock.advance(clock.until_hour(1))  # the whole test falls within one UTC day
    await watch(discord_scene, *WATCHED)
    capped = await fake.run_command(
        "settings cap", {"per_day": 1}, user=discord_scene.manager, channel_id=alerts.id
    )

    for package_id in (FLATBLOCKS, REGISTRATION, CACHE_MACHINE):
        djp_api.update_package(package_id, pypi_version="9.0.0")
    first = await next_cycle(sentinel, clock)
    djp_api.update_package(FLATBLOCKS, pypi_version="9.0.1")
    later = await next_cycle(sentinel, clock)

    assert (capped.content or "").startswith("At most 1 alert a day is posted here")
    assert (first.sent, first.summarized) == (1, 2)
    assert (later.sent, later.dropped) == (0, 1)
    alert, summary = alerts_in(fake, alerts.id)
    assert "9.0.0" in alert.embeds[0]["title"]
    assert summary.content.startswith("…and 2 more alerts today (2 release) — daily cap 1")
    assert summary.mentions.nobody
    assert fake.violations == []
