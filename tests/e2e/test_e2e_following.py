"""What a channel hears about what it follows, cycle after cycle: grid joins and leaves, stale
transitions, and the weekly stale report. The test moves the monitor's clock between cycles."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.discordbot.options import WEEKDAY_VALUES
from tests.fakes.discord_models import Mentions, PostedMessage
from tests.fakes.djp_api import FakeDjangoPackages
from tests.plugins.app import Stage, background

FLATPAGES = 48
FLATBLOCKS, REGISTRATION = 265, 4100
QUIET_WEEKS = [0] * 52
TEN_DAYS = timedelta(days=10)
pytestmark = pytest.mark.usefixtures("discord_rules_kept")


def titles(messages: list[PostedMessage]) -> list[str]:
    return [embed["title"] for message in messages for embed in message.embeds]


def refreshed_upstream(
    djp_api: FakeDjangoPackages, package_id: int, at: datetime, **fields: object
) -> None:
    """Django Packages refreshed the package at `at`, finding `fields`."""
    djp_api.update_package(package_id, last_fetched=at.isoformat(), **fields)


async def test_packages_joining_and_leaving_a_followed_grid_are_announced_once(
    stage: Stage, djp_api: FakeDjangoPackages
) -> None:
    await stage.scene.as_manager("grid subscribe", grid="flatpages")

    baseline = await stage.next_cycle()
    djp_api.set_grid_members(FLATPAGES, [FLATBLOCKS, REGISTRATION])
    joined = await stage.next_cycle()
    djp_api.set_grid_members(FLATPAGES, [REGISTRATION])
    left = await stage.next_cycle()
    quiet = await stage.next_cycle()

    assert [r.sent for r in (baseline, joined, left, quiet)] == [0, 1, 1, 0]
    assert titles(stage.alerts()) == [
        "Django-REST-registration joined the Flatpages grid",
        "django-flatblocks left the Flatpages grid",
    ]


async def test_going_stale_and_reviving_are_announced_once_each(
    stage: Stage, djp_api: FakeDjangoPackages
) -> None:
    scene, clock = stage.scene, stage.clock
    now = clock()
    refreshed_upstream(
        djp_api,
        REGISTRATION,
        now,
        last_updated=(now - timedelta(days=385)).isoformat(),
        commits_over_52=QUIET_WEEKS,
    )
    await scene.as_manager("watch add", slug="django-rest-registration")
    # Stale already by the default 365 days: the channel's own threshold decides.
    await scene.as_manager("settings staleness", days=400)

    async def ten_days_later() -> int:
        """Upstream refreshed the package, and so did the bot: the alerts it posted."""
        refreshed_upstream(djp_api, REGISTRATION, clock() + TEN_DAYS)
        return (await stage.next_cycle(TEN_DAYS)).sent

    quiet = [await ten_days_later() for _ in range(4)]  # 395, 405, 415, 425 days quiet
    djp_api.update_package(
        REGISTRATION,
        last_updated=(clock() + TEN_DAYS).isoformat(),
        commits_over_52=[*QUIET_WEEKS[1:], 3],
    )
    revived = [await ten_days_later() for _ in range(3)]

    assert quiet == [0, 1, 0, 0]
    assert revived == [1, 0, 0]
    went_stale, revival = stage.alerts()
    assert went_stale.embeds[0]["title"].startswith("Django-REST-registration went stale")
    assert "400-day staleness threshold" in str(went_stale.embeds)
    assert "no longer stale, now active" in revival.embeds[0]["title"]


async def test_the_weekly_stale_report_lists_reasons_and_pings_nobody(stage: Stage) -> None:
    scene, clock = stage.scene, stage.clock
    clock.advance(clock.until_hour((clock().hour + 1) % 24))  # a whole hour before it turns
    now = clock()
    await scene.as_manager("watch add", slug="django-flatblocks", role=scene.managers)
    await scene.as_manager(
        "settings digest", mode="immediate", hour=now.hour, weekday=WEEKDAY_VALUES[now.weekday()]
    )
    switched = await scene.as_manager("settings report", state="on")

    refreshed = await background(stage.bot).poll_once()
    await background(stage.bot).deliver_once()
    again = await background(stage.bot).poll_once()

    assert (switched.content or "").startswith("A weekly stale report is posted here on")
    assert refreshed is not None, "this bot is the only monitor"
    assert again is not None
    assert (refreshed.stale_reports, again.stale_reports) == (1, 0)
    [report] = stage.alerts()
    [embed] = report.embeds
    assert embed["title"] == "Weekly stale report: 1 stale package among the 1 followed here"
    assert embed["description"].startswith("**[django-flatblocks](")
    assert "no commits in the 52 weeks before Django Packages last checked" in embed["description"]
    assert report.mentions == Mentions()
    assert not report.content  # no role mention, though the watch has one
