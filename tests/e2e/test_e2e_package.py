"""`/package` and autocomplete, through the real discord.py client and both fakes."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from PIL import Image

from bot.app.runtime import Runtime
from bot.discordbot import replies
from bot.discordbot.bot import SentinelBot
from tests.fakes.discord_runner import DiscordScene
from tests.fakes.djp_api import FakeDjangoPackages
from tests.plugins.app import SteppingClock, attachment, package_copies

LINK_BUTTON = 5
PINGS = "@everyone says hi to @here and <@123> and <@&456>"
pytestmark = pytest.mark.usefixtures("discord_rules_kept")


def buttons(components: list[dict[str, Any]]) -> dict[str, str]:
    return {item["label"]: item["url"] for row in components for item in row["components"]}


def fields(embed: dict[str, Any]) -> dict[str, str]:
    return {field["name"]: field["value"] for field in embed["fields"]}


async def test_package_shows_version_stars_and_links(
    discord_scene: DiscordScene, sentinel: SentinelBot
) -> None:
    record = await discord_scene.as_member("package", slug="django-flatblocks")

    [embed] = record.embeds
    assert not record.ephemeral
    assert embed["title"] == "django-flatblocks"
    assert fields(embed)["Latest version"] == "1.0.0"
    assert fields(embed)["Stars"] == "84"
    assert any(name.startswith("Health: ") for name in fields(embed))
    links = buttons(record.components)
    assert {"Django Packages", "Repository", "PyPI"} <= set(links)
    assert links["PyPI"].endswith("/project/django-flatblocks/")
    assert all(
        item["style"] == LINK_BUTTON for row in record.components for item in row["components"]
    )


async def test_a_fresh_stored_copy_answers_without_asking_django_packages(
    discord_scene: DiscordScene,
    djp_api: FakeDjangoPackages,
    runtime: Runtime,
    sentinel: SentinelBot,
) -> None:
    await runtime.monitor.sync_catalog()
    djp_api.update_package(265, repo_watchers=999)  # upstream moved on a moment after the sync
    djp_api.reset_log()

    record = await discord_scene.as_member("package", slug="django-flatblocks")

    assert fields(record.embeds[0])["Stars"] == "84"
    assert djp_api.requests == []


async def test_an_older_stored_copy_answers_at_once_and_is_refreshed_behind_the_answer(
    discord_scene: DiscordScene,
    djp_api: FakeDjangoPackages,
    runtime: Runtime,
    sentinel: SentinelBot,
    clock: SteppingClock,
) -> None:
    await runtime.monitor.sync_catalog()
    djp_api.update_package(265, repo_watchers=999)
    clock.advance(timedelta(hours=1, minutes=1))  # older than the poll interval and an hour
    djp_api.reset_log()

    first = await discord_scene.as_member("package", slug="django-flatblocks")
    await runtime.monitor.background_refreshes()
    second = await discord_scene.as_member("package", slug="django-flatblocks")

    assert fields(first.embeds[0])["Stars"] == "84"
    assert fields(second.embeds[0])["Stars"] == "999"
    assert [request.path for request in djp_api.requests] == ["/api/v4/packages/265/"]


async def test_unknown_package_suggests_close_matches_privately(
    discord_scene: DiscordScene, runtime: Runtime, sentinel: SentinelBot
) -> None:
    await runtime.monitor.sync_catalog()

    record = await discord_scene.as_member("package", slug="flatblock")

    assert record.ephemeral
    assert "No package" in (record.content or "")
    assert "django-flatblocks" in (record.content or "")


async def test_upstream_text_pings_nobody(
    discord_scene: DiscordScene, djp_api: FakeDjangoPackages, sentinel: SentinelBot
) -> None:
    djp_api.update_package(265, title=f"Flatblocks {PINGS}", repo_description=PINGS)

    record = await discord_scene.as_member("package", slug="django-flatblocks")

    [embed] = record.embeds
    assert record.mentions.nobody
    assert record.allowed_mentions == {"parse": []}
    assert "@everyone" not in embed["description"]
    assert "<@123>" not in embed["description"]
    assert "everyone" in embed["description"]  # shown, defused


async def test_links_and_discord_syntax_in_upstream_text_stay_inert_and_a_bad_url_is_no_button(
    discord_scene: DiscordScene, djp_api: FakeDjangoPackages, sentinel: SentinelBot
) -> None:
    djp_api.update_package(
        265,
        repo_description="Free nitro: https://evil.example/x discord.gg/abc <t:1700000000:R>",
        documentation_url="https://docs .example/ malformed",
    )

    record = await discord_scene.as_member("package", slug="django-flatblocks")

    assert record.embeds, discord_scene.fake.violations  # Discord took the answer: no 400
    description = record.embeds[0]["description"]
    for live in ("https://evil", "discord.gg/", "<t:"):
        assert live not in description
    assert "evil.example/x" in description  # shown, not linked
    assert "Docs" not in buttons(record.components)


async def test_autocomplete_offers_at_most_25_matching_choices(
    discord_scene: DiscordScene,
    djp_api: FakeDjangoPackages,
    runtime: Runtime,
    sentinel: SentinelBot,
    flatblocks_payload: dict[str, Any],
) -> None:
    long_title = "Django Widget {index} " + "with a very long name " * 6
    for payload in package_copies(flatblocks_payload, 60, long_title):
        djp_api.add_package(payload)
    await runtime.monitor.sync_catalog()

    # The fake refuses, and the rule check reports, a late or oversized answer.
    choices = await discord_scene.choices_as_manager("package", focused="slug", slug="widget")

    assert len(choices) == 25
    assert all(choice["value"].startswith("django-widget-") for choice in choices)
    assert all(len(choice["name"]) <= 100 for choice in choices)


async def test_autocomplete_asks_django_packages_before_the_first_sync(
    discord_scene: DiscordScene, sentinel: SentinelBot
) -> None:
    choices = await discord_scene.choices_as_manager("package", focused="slug", slug="flatbl")

    assert "django-flatblocks" in [choice["value"] for choice in choices]


async def test_grid_options_complete_from_the_catalog(
    discord_scene: DiscordScene, runtime: Runtime, sentinel: SentinelBot
) -> None:
    await runtime.monitor.sync_catalog()

    choices = await discord_scene.choices_as_manager("grid show", focused="grid", grid="flat")

    assert [choice["value"] for choice in choices] == ["flatpages"]


async def test_a_slow_answer_is_deferred_in_time(
    discord_scene: DiscordScene, sentinel: SentinelBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(replies, "QUICK_ANSWER_SECONDS", 0.0)  # as if upstream were slow

    record = await discord_scene.as_member("package", slug="django-flatblocks")

    assert record.deferred
    assert fields(record.embeds[0])["Latest version"] == "1.0.0"


async def test_autocomplete_forgives_typos_and_loose_wording(
    discord_scene: DiscordScene, runtime: Runtime, sentinel: SentinelBot
) -> None:
    await runtime.monitor.sync_catalog()

    typo = await discord_scene.choices_as_manager("package", focused="slug", slug="flatblcoks")
    words = await discord_scene.choices_as_manager(
        "watch add", focused="slug", slug="rest registration"
    )

    assert typo[0] == {"name": "django-flatblocks", "value": "django-flatblocks"}
    assert words[0]["value"] == "django-rest-registration"


async def test_an_unknown_slug_answers_did_you_mean(
    discord_scene: DiscordScene, runtime: Runtime, sentinel: SentinelBot
) -> None:
    await runtime.monitor.sync_catalog()

    record = await discord_scene.as_member("package", slug="django-flatblcoks")

    assert record.ephemeral
    assert record.content == (
        "No package “django-flatblcoks” on Django Packages. Did you mean: django-flatblocks?"
    )


async def test_a_package_stored_by_a_refresh_is_offered_at_once(
    discord_scene: DiscordScene,
    djp_api: FakeDjangoPackages,
    runtime: Runtime,
    sentinel: SentinelBot,
    flatblocks_payload: dict[str, Any],
) -> None:
    await runtime.monitor.sync_catalog()
    await discord_scene.choices_as_manager("package", focused="slug", slug="widget")  # index loaded
    [newcomer] = package_copies(flatblocks_payload, 1, "Django Widget Toolkit")
    djp_api.add_package(newcomer)

    await runtime.monitor.sync_catalog()  # the next crawl stores it
    choices = await discord_scene.choices_as_manager(
        "package", focused="slug", slug="widget tolkit"
    )

    assert choices[0]["value"] == "django-widget-0"


async def test_package_shows_its_commit_chart_as_the_embed_image(
    discord_scene: DiscordScene, djp_api: FakeDjangoPackages, sentinel: SentinelBot
) -> None:
    weeks = [0] * 40 + [3, 0, 1, 7, 2, 0, 0, 4, 1, 0, 2, 5]
    djp_api.update_package(265, commits_over_52=weeks)

    record = await discord_scene.as_member("package", slug="django-flatblocks")

    name, png = attachment(record)
    [embed] = record.embeds
    assert name == "activity.png"
    assert embed["image"]["url"] == "attachment://activity.png"
    with Image.open(io.BytesIO(png)) as image:
        assert (image.format, image.size) == ("PNG", (800, 280))
    assert len(png) < 20_000


async def test_grid_show_attaches_its_members_activity(
    discord_scene: DiscordScene, sentinel: SentinelBot
) -> None:
    record = await discord_scene.as_member("grid show", grid="flatpages")

    name, png = attachment(record)
    assert name == "grid-activity.png"
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
    assert record.embeds
