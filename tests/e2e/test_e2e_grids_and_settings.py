"""`/grid`, `/stale`, `/status` and `/settings` through the real client and both fakes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.app.runtime import Runtime
from bot.app.transfer import PinEntry, SubscriptionEntry, TransferDocument, import_document
from bot.discordbot import pages
from bot.discordbot.bot import SentinelBot
from bot.discordbot.pages import NOT_YOURS
from storage import subscriptions
from storage.models import TargetKind
from tests.fakes.discord_models import PostedMessage
from tests.fakes.discord_runner import DiscordScene
from tests.fakes.djp_api import FakeDjangoPackages
from tests.plugins.app import SteppingClock, background, enabled, grow_flatpages, package_copies

FLATPAGES = 48
PREVIOUS, NEXT = "pages:previous", "pages:next"
pytestmark = pytest.mark.usefixtures("discord_rules_kept")


def footer(message: PostedMessage) -> str:
    return message.embeds[0]["footer"]["text"]


async def test_grid_show_ranks_packages_with_health(
    discord_scene: DiscordScene, sentinel: SentinelBot
) -> None:
    record = await discord_scene.as_member("grid show", grid="flatpages")

    [embed] = record.embeds
    assert embed["title"] == "Flatpages"
    first = embed["description"].splitlines()[0]
    assert first.startswith("1. [django-flatblocks]")
    assert "★ 84" in first
    assert "1.0.0" in first
    assert first.endswith("· stale")
    assert record.components == []  # one page: no buttons


async def test_grid_show_ranks_by_activity_under_the_channels_marks(
    discord_scene: DiscordScene, djp_api: FakeDjangoPackages, sentinel: SentinelBot
) -> None:
    djp_api.set_grid_members(FLATPAGES, [265, 4100])
    await discord_scene.as_manager("settings complete", slug="django-flatblocks")

    record = await discord_scene.as_manager("grid show", grid="flatpages", sort="activity")

    first, second = record.embeds[0]["description"].splitlines()
    assert first.startswith("1. [Django-REST-registration]")
    assert second.startswith("2. [django-flatblocks]")
    assert second.endswith("· dormant")  # feature-complete here: never stale
    assert "latest commit first" in record.embeds[0]["footer"]["text"]


async def test_grid_show_pages_with_buttons_only_for_whoever_asked(
    discord_scene: DiscordScene,
    djp_api: FakeDjangoPackages,
    sentinel: SentinelBot,
    flatblocks_payload: dict[str, Any],
) -> None:
    fake, member, manager = discord_scene.fake, discord_scene.member, discord_scene.manager
    grow_flatpages(djp_api, package_copies(flatblocks_payload, 40, "Widget {index} <@&1> **b**"))

    shown = await discord_scene.as_member("grid show", grid="flatpages")
    table = shown.reply
    assert table is not None
    assert footer(table) == "Page 1/3 · 41 packages, most stars first · flatpages"
    assert enabled(table) == {PREVIOUS: False, NEXT: True}

    await fake.click(table, NEXT, user=member)
    assert footer(table).startswith("Page 2/3 ·")
    assert enabled(table) == {PREVIOUS: True, NEXT: True}
    page = table.embeds[0]["description"]
    assert page.splitlines()[0].startswith("16. [Widget ")
    assert r"\*\*b\*\*" in page
    assert "<@&1>" not in page

    refused = await fake.click(table, NEXT, user=manager)
    assert refused.ephemeral
    assert refused.content == NOT_YOURS
    assert footer(table).startswith("Page 2/3 ·")

    await fake.click(table, NEXT, user=member)
    assert footer(table).startswith("Page 3/3 ·")
    assert enabled(table) == {PREVIOUS: True, NEXT: False}
    await fake.click(table, PREVIOUS, user=member)
    assert footer(table).startswith("Page 2/3 ·")


async def test_grid_show_buttons_grey_out_when_the_view_times_out(
    discord_scene: DiscordScene,
    djp_api: FakeDjangoPackages,
    sentinel: SentinelBot,
    flatblocks_payload: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pages, "TIMEOUT", 0.05)
    grow_flatpages(djp_api, package_copies(flatblocks_payload, 20))

    shown = await discord_scene.as_member("grid show", grid="flatpages")
    table = shown.reply
    assert table is not None

    await discord_scene.fake.state.wait_until(
        lambda: not any(enabled(table).values()), "greyed-out buttons"
    )
    assert footer(table).startswith("Page 1/2 ·")


async def test_grid_subscribe_is_a_silent_baseline_and_unsubscribe_undoes_it(
    discord_scene: DiscordScene, runtime: Runtime, sentinel: SentinelBot
) -> None:
    followed = await discord_scene.as_manager("grid subscribe", grid="flatpages")
    refreshed = await background(sentinel).poll_once()
    assert refreshed is not None, "this bot is the only monitor"
    cycle = refreshed.cycle
    refused = await discord_scene.as_member("grid unsubscribe", grid="flatpages")
    dropped = await discord_scene.as_manager("grid unsubscribe", grid="flatpages")

    assert "Now following the grid **Flatpages**" in (followed.content or "")
    assert cycle.alerts_enqueued == 0
    assert refused.ephemeral
    assert "Stopped following" in (dropped.content or "")
    async with runtime.database.session() as session:
        assert await subscriptions.channel_subscriptions(session, discord_scene.alerts.id) == []


async def test_stale_lists_watched_packages_with_reasons(
    discord_scene: DiscordScene, sentinel: SentinelBot
) -> None:
    await discord_scene.as_manager("watch add", slug="django-flatblocks")

    record = await discord_scene.as_member("stale")

    [embed] = record.embeds
    assert embed["title"] == "Stale packages watched in this channel"
    assert "django-flatblocks" in embed["description"]
    assert "staleness threshold" in embed["description"]


async def test_stale_follows_the_channels_threshold_and_marks(
    discord_scene: DiscordScene, sentinel: SentinelBot
) -> None:
    scene = discord_scene
    await scene.as_manager("grid subscribe", grid="caching")
    await scene.as_manager("settings staleness", days=3650)
    lenient = await scene.as_member("stale")
    await scene.as_manager("settings staleness", days=30)
    await scene.as_manager("settings complete", slug="django-cache-machine")
    strict = await scene.as_member("stale")
    in_grid = await scene.as_member("stale", grid="caching", channel=scene.general)

    assert lenient.embeds[0]["description"].startswith("Nothing stale")
    assert lenient.embeds[0]["footer"]["text"].startswith("0 stale of 2 checked")
    [valkey] = strict.embeds[0]["description"].splitlines()
    assert valkey.startswith("**[django-valkey]")  # cache-machine is marked feature-complete
    assert "30-day staleness threshold" in valkey
    assert in_grid.embeds[0]["title"] == "Stale packages in Caching"
    assert "django-cache-machine" in in_grid.embeds[0]["description"]  # not marked in #general


async def test_status_reports_refreshes_and_the_outbox(
    discord_scene: DiscordScene, clock: SteppingClock, sentinel: SentinelBot
) -> None:
    await discord_scene.as_manager("watch add", slug="django-flatblocks")
    clock.advance(timedelta(days=1))  # the package falls due for a refresh
    await background(sentinel).poll_once()

    record = await discord_scene.as_member("status")

    [embed] = record.embeds
    names = [field["name"] for field in embed["fields"]]
    assert {"Last refresh", "Next refresh", "Packages tracked", "Alerts waiting"} <= set(names)
    sources = {field["name"]: field["value"] for field in embed["fields"]}
    assert sources["Last cycle"] == "1 package and 0 grids fetched, 0 changes, 0 alerts, 0 failures"
    assert sources["PyPI"] == "off (PYPI_URL is empty)"
    assert sources["endoflife.date"] == "off (ENDOFLIFE_URL is empty)"


async def test_settings_change_a_watch_and_show_it(
    discord_scene: DiscordScene, runtime: Runtime, sentinel: SentinelBot
) -> None:
    scene = discord_scene
    await scene.as_manager("watch add", slug="django-flatblocks")
    targets = await scene.choices_as_manager("settings alerts", focused="target", target="flat")

    changed = await scene.as_manager(
        "settings alerts", target=targets[0]["value"], events="release, stale", min_level="minor"
    )
    shown = await scene.as_manager("settings show")
    refused = await scene.as_member("settings show")

    assert [t["value"] for t in targets] == ["package:django-flatblocks"]
    assert "events: release, stale" in (changed.content or "")
    assert "minor and major releases" in shown.embeds[1]["description"]
    assert refused.ephemeral
    assert "Manage Channels" in (refused.content or "")
    async with runtime.database.session() as session:
        [subscription] = await subscriptions.channel_subscriptions(session, scene.alerts.id)
    assert (subscription.events, subscription.min_release_level) == (["release", "stale"], "minor")


def many_follows(scene: DiscordScene, now: datetime) -> TransferDocument:
    """#alerts follows 100 packages not refreshed yet and pins 45 requirements not on Django
    Packages: far more than one embed holds."""
    guild_id, channel_id = scene.guild.id, scene.alerts.id
    return TransferDocument(
        exported_at=now,
        subscriptions=[
            SubscriptionEntry(
                guild_id=guild_id,
                channel_id=channel_id,
                target_kind=TargetKind.PACKAGE,
                target_id=90_000 + index,
                target_slug=f"widget-{index:03}",
                events=["release"],
                min_release_level="patch",
                include_prereleases=True,
            )
            for index in range(100)
        ],
        pins=[
            PinEntry(
                guild_id=guild_id, channel_id=channel_id, pypi_name=f"lib-{index:02}", version="1.0"
            )
            for index in range(45)
        ],
    )


@pytest.mark.parametrize(
    ("command", "who"), [("watch list", "member"), ("settings show", "manager")]
)
async def test_every_subscription_and_pin_can_be_paged_to(
    discord_scene: DiscordScene, runtime: Runtime, sentinel: SentinelBot, command: str, who: str
) -> None:
    fake, user = discord_scene.fake, getattr(discord_scene, who)
    await import_document(
        runtime.database,
        many_follows(discord_scene, runtime.clock()),
        now=runtime.clock(),
        settings=runtime.settings,
        guild=discord_scene.guild.id,
    )

    shown = await discord_scene.as_user(user, command)
    listing = shown.reply
    assert listing is not None
    pages, footers = [], []
    while True:
        settings, page = listing.embeds
        assert settings["title"] == "Settings of this channel"
        pages.append(page["description"])
        footers.append(page.get("footer", {}).get("text"))
        if not enabled(listing).get(NEXT):
            break
        await fake.click(listing, NEXT, user=user)

    listed = "\n".join(pages)
    assert [i for i in range(100) if f"**widget-{i:03}**" not in listed] == []
    assert [i for i in range(45) if f"lib-{i:02} 1.0" not in listed] == []
    assert footers[0] == f"Page 1/{len(pages)} · 100 subscriptions · 45 pins"
    assert shown.ephemeral


async def test_bad_event_names_are_explained(
    discord_scene: DiscordScene, djp_api: FakeDjangoPackages, sentinel: SentinelBot
) -> None:
    record = await discord_scene.as_manager(
        "watch add", slug="django-flatblocks", events="releases"
    )

    assert record.ephemeral
    assert "Unknown event 'releases'" in (record.content or "")


async def test_grid_show_answers_from_a_fresh_stored_copy(
    discord_scene: DiscordScene,
    djp_api: FakeDjangoPackages,
    clock: SteppingClock,
    sentinel: SentinelBot,
) -> None:
    """Like /package: a copy younger than an hour answers without asking Django Packages (a
    grid was fetched live, members and all, at every /grid show); an older one is fetched."""
    await discord_scene.as_member("grid show", grid="flatpages")
    djp_api.reset_log()

    again = await discord_scene.as_member("grid show", grid="flatpages")
    asked_while_fresh = djp_api.request_count
    clock.advance(timedelta(hours=1))
    later = await discord_scene.as_member("grid show", grid="flatpages")

    assert again.embeds[0]["title"] == later.embeds[0]["title"] == "Flatpages"
    assert not again.content  # not the "unreachable, stored copy" note
    assert asked_while_fresh == 0
    assert [r.path.split("/")[-3:] for r in djp_api.requests][:1] == [["grids", "flatpages", ""]]
