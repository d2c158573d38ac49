"""Limits against abuse, as a user (or a script) meets them: autocomplete, quotas, samples."""

from __future__ import annotations

import pytest

from bot.app.runtime import Runtime
from bot.app.throttles import ANSWERS_PER_PERSON
from bot.config import Settings
from bot.core.fuzzy import MAX_QUERY
from storage import channels, pins, subscriptions
from tests.fakes.discord_interactions import InteractionRecord
from tests.fakes.discord_models import FakeChannel
from tests.fakes.discord_runner import DiscordScene
from tests.fakes.djp_api import FakeDjangoPackages
from tests.plugins.app import Stage

TYPED = "django-flatblocks-and-more-words-than-that"
SLUGS = ["django-flatblocks", "django-rest-registration", "django-cache-machine", "django-valkey"]
pytestmark = pytest.mark.usefixtures("discord_rules_kept")


@pytest.fixture
def app_settings(djp_settings: Settings) -> Settings:
    """Small quotas: two subscriptions a channel, three a server; one mark a channel."""
    return djp_settings.model_copy(
        update={
            "max_subscriptions_per_channel": 2,
            "max_subscriptions_per_guild": 3,
            "max_marks_per_channel": 1,
            "max_marks_per_guild": 2,
        }
    )


def searches(djp_api: FakeDjangoPackages) -> list[str]:
    """The texts Django Packages was asked to search for."""
    return [r.query.get("q", "") for r in djp_api.requests if r.path.endswith("/search/")]


def said(record: InteractionRecord) -> str:
    """The text of the bot's answer to a command."""
    return record.content or ""


async def fill_the_quotas(scene: DiscordScene) -> None:
    """#alerts follows its two (the first two `SLUGS`), #general the server's third."""
    for slug in SLUGS[:2]:
        await scene.as_manager("watch add", slug=slug)
    await scene.as_manager("watch add", slug=SLUGS[2], channel=scene.general)


async def type_slowly(scene: DiscordScene, text: str, user_name: str = "typist") -> None:
    """A member types `text` into /package's slug, one keystroke (autocomplete) at a time."""
    typist = scene.fake.add_member(scene.guild, user_name)
    for end in range(1, len(text) + 1):
        await scene.fake.autocomplete("package", {"slug": text[:end]}, focused="slug", user=typist)


async def test_typing_before_the_first_crawl_searches_django_packages_a_few_times_only(
    stage: Stage, djp_api: FakeDjangoPackages
) -> None:
    """40 keystrokes, each with fewer than 25 local matches, were 40 searches."""
    settings = stage.bot.runtime.settings
    await type_slowly(stage.scene, TYPED[:40])

    assert 0 < len(searches(djp_api)) <= settings.upstream_searches_per_user_minute
    assert all(len(text) >= 3 for text in searches(djp_api))  # one letter matches everything


async def test_everyones_typing_shares_one_search_budget(
    stage: Stage, djp_api: FakeDjangoPackages
) -> None:
    budget = stage.bot.runtime.settings.upstream_searches_per_minute
    typists = budget // stage.bot.runtime.settings.upstream_searches_per_user_minute + 2
    for number in range(typists):
        await type_slowly(stage.scene, TYPED[:12], f"typist-{number}")

    assert len(searches(djp_api)) == budget


async def test_a_huge_autocomplete_value_is_answered_in_time_and_searched_cut_short(
    stage: Stage, djp_api: FakeDjangoPackages
) -> None:
    fake = stage.scene.fake
    huge = "flatblocks " * 600  # 6,600 characters: Discord does not bound autocomplete input

    await fake.autocomplete("package", {"slug": huge}, focused="slug")

    [record] = [r for r in fake.interactions if r.choices is not None]
    assert record.ack_seconds is not None
    assert record.ack_seconds < fake.ack_deadline
    assert [len(text) for text in searches(djp_api)] == [MAX_QUERY]


async def test_a_script_firing_autocomplete_gets_no_choices_past_a_typists_pace(
    stage: Stage,
) -> None:
    fake = stage.scene.fake
    await stage.bot.runtime.monitor.sync_catalog()
    script = fake.add_member(stage.scene.guild, "script")
    per_burst, _ = ANSWERS_PER_PERSON

    answers = [
        await fake.autocomplete("package", {"slug": "flat"}, focused="slug", user=script)
        for _ in range(per_burst + 5)
    ]
    someone_else = await fake.autocomplete(
        "package", {"slug": "flat"}, focused="slug", user=stage.scene.member
    )

    assert all(answers[:per_burst])
    assert answers[per_burst:] == [[]] * 5
    assert someone_else


async def test_a_channel_and_a_server_follow_at_most_their_quota(
    stage: Stage, runtime: Runtime
) -> None:
    scene = stage.scene

    async def watch(slug: str, channel: FakeChannel) -> str:
        return said(await scene.as_manager("watch add", channel=channel, slug=slug))

    in_alerts = [await watch(slug, scene.alerts) for slug in SLUGS[:3]]
    again = await watch(SLUGS[0], scene.alerts)  # changing what exists is always allowed
    in_general = [await watch(slug, scene.general) for slug in SLUGS[2:]]

    assert "Now watching" in in_alerts[1]
    assert in_alerts[2].startswith("This channel has reached its limit of subscriptions")
    assert "/watch remove" in in_alerts[2]
    assert "already watching" in again
    assert "Now watching" in in_general[0]
    assert in_general[1].startswith("This server has reached its limit of subscriptions")
    async with runtime.database.session() as session:
        stored = await subscriptions.guild_subscriptions(session, scene.guild.id)
    assert len(stored) == 3


async def test_a_server_at_its_quota_is_refused_before_django_packages_is_asked(
    stage: Stage, runtime: Runtime, djp_api: FakeDjangoPackages
) -> None:
    scene = stage.scene
    await fill_the_quotas(scene)
    djp_api.reset_log()

    refused = [
        said(await scene.as_manager("watch add", slug=SLUGS[3])),
        said(await scene.as_manager("watch add", channel=scene.general, slug=SLUGS[3])),
        said(await scene.as_manager("grid subscribe", channel=scene.general, grid="flatpages")),
    ]
    asked_when_refused = list(djp_api.requests)
    changed = said(await scene.as_manager("watch add", slug=SLUGS[0].upper(), min_level="minor"))

    assert refused[0].startswith("This channel has reached its limit of subscriptions")
    assert refused[1].startswith("This server has reached its limit of subscriptions")
    assert refused[2].startswith("This server has reached its limit of subscriptions")
    assert asked_when_refused == []
    assert "with updated settings" in changed  # what a channel follows can still be changed


async def test_feature_complete_marks_have_a_quota(
    stage: Stage, runtime: Runtime, djp_api: FakeDjangoPackages
) -> None:
    scene = stage.scene

    async def mark(slug: str) -> str:
        return said(await scene.as_manager("settings complete", slug=slug))

    first = await mark(SLUGS[0])
    djp_api.reset_log()
    second = await mark(SLUGS[1])  # not stored: marking it would fetch it first
    asked_when_refused = list(djp_api.requests)
    again = await mark(SLUGS[0].upper())

    assert "marked feature-complete here" in first
    assert second.startswith("This channel has reached its limit of feature-complete marks (1)")
    assert "/settings incomplete" in second
    assert asked_when_refused == []  # a server at its quota costs Django Packages nothing
    assert "marked feature-complete here" in again  # marking again is always allowed
    async with runtime.database.session() as session:
        assert len(await channels.feature_complete_ids(session, scene.alerts.id)) == 1


async def test_a_requirements_import_is_held_to_the_quota_and_changes_nothing(
    stage: Stage, runtime: Runtime
) -> None:
    """Three packages on Django Packages in one file, where a channel may follow two."""
    scene = stage.scene
    content = b"django-flatblocks==1.0\ndjango-debug-toolbar==3.2\ndjango-valkey==0.1\n"
    attachment = scene.fake.attachment("requirements.txt", content)

    answer = said(await scene.as_manager("watch import", file=attachment))

    assert answer.startswith(
        "This channel has room for 2 more subscriptions, not 3 (its limit is 2)"
    )
    async with runtime.database.session() as session:
        assert await subscriptions.channel_subscriptions(session, scene.alerts.id) == []


async def test_an_import_at_the_quota_asks_django_packages_nothing(
    stage: Stage, runtime: Runtime, djp_api: FakeDjangoPackages
) -> None:
    """A channel following its two: a file adding a stored package is refused, and one whose
    only new names are not stored keeps its pins without looking them up."""
    scene = stage.scene

    async def import_file(content: bytes) -> str:
        attachment = scene.fake.attachment("requirements.txt", content)
        return said(await scene.as_manager("watch import", file=attachment))

    await fill_the_quotas(scene)
    djp_api.reset_log()

    refused = await import_file(b"django-flatblocks==1.0\ndjango-cache-machine==1.2\nrequests\n")
    asked_when_refused = list(djp_api.requests)
    kept = await import_file(b"django-flatblocks==1.0\ndjango-valkey==0.1\nrequests==2.32.3\n")

    assert refused.startswith("This channel has reached its limit of subscriptions (2)")
    assert asked_when_refused == []
    assert "Already watched (1): **" in kept
    assert (
        "Not looked up on Django Packages (2; no room for another subscription here, "
        "/watch remove makes some): django-valkey (0.1), requests (2.32.3)."
    ) in kept
    assert djp_api.requests == []
    async with runtime.database.session() as session:
        assert set(await pins.channel_pins(session, scene.alerts.id)) == {
            "django-flatblocks",
            "django-valkey",
            "requests",
        }
        assert len(await subscriptions.channel_subscriptions(session, scene.alerts.id)) == 2
