"""Keeping a channel quiet: a daily digest posted at its hour, and a daily cap's summary line.
The test moves the clock; nothing waits for real time."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.fakes.djp_api import FakeDjangoPackages
from tests.plugins.app import Stage, background

FLATBLOCKS, REGISTRATION, CACHE_MACHINE = 265, 4100, 155
WATCHED = ("django-flatblocks", "django-rest-registration", "django-cache-machine")
MINUTE = timedelta(minutes=1)
pytestmark = pytest.mark.usefixtures("discord_rules_kept")


async def test_a_day_of_alerts_arrives_as_one_digest_at_the_digest_hour(
    stage: Stage, djp_api: FakeDjangoPackages
) -> None:
    scene, clock = stage.scene, stage.clock
    await scene.as_manager("watch add", slug="django-flatblocks")
    hour = (clock() + timedelta(hours=6)).hour  # three cycles fit before it
    chosen = await scene.as_manager("settings digest", mode="daily", hour=hour)

    held = []
    for version in ("1.0.1", "1.0.2", "1.1.0"):
        djp_api.update_package(FLATBLOCKS, pypi_version=version)
        held.append((await stage.next_cycle()).sent)
    clock.advance(clock.until_hour(hour) - MINUTE)
    before = await background(stage.bot).deliver_once()
    clock.advance(2 * MINUTE)
    at_hour = await background(stage.bot).deliver_once()

    assert chosen.content == f"Alerts here are gathered into a daily digest at {hour:02d}:00 UTC."
    assert held == [0, 0, 0]
    assert before.sent == 0
    assert (at_hour.messages, at_hour.sent) == (1, 3)
    [digest] = stage.alerts()
    assert digest.embeds[0]["title"] == "Daily digest: 3 alerts"
    for version in ("1.0.1", "1.0.2", "1.1.0"):
        assert version in str(digest.embeds)


async def test_the_daily_cap_turns_the_overflow_into_one_summary_line(
    stage: Stage, djp_api: FakeDjangoPackages
) -> None:
    scene = stage.scene
    stage.clock.advance(stage.clock.until_hour(1))  # the whole test falls within one UTC day
    for slug in WATCHED:
        await scene.as_manager("watch add", slug=slug)
    capped = await scene.as_manager("settings cap", per_day=1)

    for package_id in (FLATBLOCKS, REGISTRATION, CACHE_MACHINE):
        djp_api.update_package(package_id, pypi_version="9.0.0")
    first = await stage.next_cycle()
    djp_api.update_package(FLATBLOCKS, pypi_version="9.0.1")
    later = await stage.next_cycle()

    assert (capped.content or "").startswith("At most 1 alert a day is posted here")
    assert (first.sent, first.summarized) == (1, 2)
    assert (later.sent, later.dropped) == (0, 1)
    alert, summary = stage.alerts()
    assert "9.0.0" in alert.embeds[0]["title"]
    assert summary.content.startswith("…and 2 more alerts today (2 release) — daily cap 1")
    assert summary.mentions.nobody
