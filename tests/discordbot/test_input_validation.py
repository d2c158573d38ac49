"""Bad input is refused at the edge: slugs before any request, roles that must not be pinged.

Every refusal is one sentence, without internal field names, and leaves nothing behind: no
request to Django Packages, no subscription.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from bot.app.runtime import Runtime
from bot.core.slugs import MAX_ID, MAX_SLUG_LENGTH, InvalidSlug, checked_key
from bot.discordbot.bot import SentinelBot
from storage import subscriptions
from tests.fakes.discord_interactions import SUB_COMMAND, SUB_COMMAND_GROUP
from tests.fakes.discord_models import MENTION_EVERYONE
from tests.fakes.discord_runner import DiscordScene
from tests.fakes.djp_api import FakeDjangoPackages
from tests.plugins.cli import djp_sentinel

STRING = 3
HOSTILE_SLUGS = [
    ".",
    "..",
    "../grids",
    "a/b",
    "%2e%2e",
    "django flatblocks",
    "djängo",
    "x" * (MAX_SLUG_LENGTH + 1),
    "",
    str(MAX_ID + 1),
    "0",
]


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("django-flatblocks", "django-flatblocks"),
        (" drf_yasg ", "drf_yasg"),
        ("Django-Flatblocks", "Django-Flatblocks"),
        ("265", 265),
        (265, 265),
        ("x" * MAX_SLUG_LENGTH, "x" * MAX_SLUG_LENGTH),
    ],
)
def test_slugs_and_ids_django_packages_allows_pass(key: int | str, expected: int | str) -> None:
    assert checked_key(key, "package") == expected


@pytest.mark.parametrize("key", HOSTILE_SLUGS, ids=lambda key: repr(key[:12]))
def test_anything_else_is_refused_in_one_sentence(key: str) -> None:
    with pytest.raises(InvalidSlug) as refused:
        checked_key(key, "grid")

    sentence = str(refused.value)
    assert len(sentence.splitlines()) == 1
    assert sentence.endswith(".")
    assert len(sentence) < 200


@pytest.mark.parametrize(
    ("command", "option"),
    [
        ("watch add", "slug"),
        ("package", "slug"),
        ("settings complete", "slug"),
        ("grid subscribe", "grid"),
        ("grid show", "grid"),
    ],
)
@pytest.mark.parametrize("slug", [".", "..", "../grids"])
@pytest.mark.usefixtures("discord_rules_kept")
async def test_slash_commands_refuse_a_bad_slug_before_any_request(
    discord_scene: DiscordScene,
    djp_api: FakeDjangoPackages,
    runtime: Runtime,
    sentinel: SentinelBot,
    command: str,
    option: str,
    slug: str,
) -> None:
    djp_api.reset_log()
    options: dict[str, Any] = {option: slug}  # Any: else mypy matches str to `channel=`

    record = await discord_scene.as_manager(command, **options)

    assert record.ephemeral
    assert "is not a" in (record.content or "")
    assert "slug" in (record.content or "")
    assert "field" not in (record.content or "")
    assert len((record.content or "").splitlines()) == 1
    assert djp_api.requests == []
    async with runtime.database.session() as session:
        assert await subscriptions.channel_subscriptions(session, discord_scene.alerts.id) == []


@pytest.mark.parametrize(
    "args",
    [
        ("package", ".."),
        ("grid", "."),
        ("webhook", "add", "https://discord.com/api/webhooks/1/token", "../grids"),
    ],
    ids=["package", "grid", "webhook-add"],
)
async def test_the_cli_refuses_a_bad_slug_in_one_line_before_any_request(
    cli_env: dict[str, str], tmp_path: Path, djp_api: FakeDjangoPackages, args: tuple[str, ...]
) -> None:
    djp_api.reset_log()

    result = await djp_sentinel(cli_env, tmp_path, *args)

    assert result.code == 1
    [line] = result.err.splitlines()
    assert line.startswith("error: “")
    assert "is not a" in line
    assert djp_api.requests == []


@pytest.mark.usefixtures("discord_rules_kept")
async def test_an_unreadable_record_is_told_without_field_names(
    discord_scene: DiscordScene, djp_api: FakeDjangoPackages, sentinel: SentinelBot
) -> None:
    djp_api.drop_field(265, "id")

    record = await discord_scene.as_manager("watch add", slug="django-flatblocks")

    assert record.ephemeral
    assert record.content == (
        "Django Packages sent this package with data that cannot be read: try again later."
    )


@pytest.mark.parametrize(
    ("role", "refusal"),
    [
        ("everyone", "everyone cannot be an alert's role"),
        ("bot", "belongs to an app or integration"),
        ("unmentionable", "You cannot mention the role Quiet yourself"),
        ("unmentionable by the bot", "I cannot mention the role Quiet"),
    ],
)
@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("watch add", {"slug": "django-flatblocks"}),
        ("settings alerts", {"target": "django-flatblocks"}),
    ],
    ids=["watch add", "settings alerts"],
)
@pytest.mark.usefixtures("discord_rules_kept")
async def test_roles_that_must_not_or_cannot_be_pinged_are_refused(
    discord_scene: DiscordScene,
    runtime: Runtime,
    sentinel: SentinelBot,
    role: str,
    refusal: str,
    command: str,
    options: Mapping[str, Any],
) -> None:
    scene = discord_scene
    if command == "settings alerts":  # a subscription to change
        await scene.as_manager("watch add", slug="django-flatblocks")
    chosen = {
        "everyone": scene.guild.everyone,
        "bot": next(r for r in scene.guild.roles if r.managed),
        "unmentionable": scene.guild.add_role("Quiet"),
    }[role.removesuffix(" by the bot")]
    if role == "unmentionable by the bot":  # the manager may, so only the bot is missing it
        scene.managers.permissions |= MENTION_EVERYONE

    record = await scene.as_manager(command, role=chosen, **options)

    assert record.ephemeral
    assert refusal in (record.content or "")
    assert len((record.content or "").splitlines()) == 1
    async with runtime.database.session() as session:
        watches = await subscriptions.channel_subscriptions(session, scene.alerts.id)
    assert [watch.role_id for watch in watches] == ([None] if command == "settings alerts" else [])


@pytest.mark.usefixtures("discord_rules_kept")
async def test_an_unmentionable_role_is_fine_when_manager_and_bot_may_mention_everyone(
    discord_scene: DiscordScene, runtime: Runtime, sentinel: SentinelBot
) -> None:
    scene = discord_scene
    next(r for r in scene.guild.roles if r.managed).permissions |= MENTION_EVERYONE
    scene.managers.permissions |= MENTION_EVERYONE
    quiet = scene.guild.add_role("Quiet")

    record = await scene.as_manager("watch add", slug="django-flatblocks", role=quiet)

    assert "Now watching" in (record.content or "")
    async with runtime.database.session() as session:
        [watch] = await subscriptions.channel_subscriptions(session, scene.alerts.id)
    assert watch.role_id == quiet.id


def text_options(options: list[dict[str, Any]], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every free-text option (a string without fixed choices) of a synced command, by
    "command sub option"."""
    for option in options:
        if option["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP):
            yield from text_options(option.get("options", []), f"{path} {option['name']}")
        elif option["type"] == STRING and not option.get("choices"):
            yield f"{path} {option['name']}", option


async def test_every_free_text_option_has_a_max_length(
    discord_scene: DiscordScene, sentinel: SentinelBot
) -> None:
    """Discord refuses longer text before it reaches the bot; slugs get a slug's own limit."""
    await sentinel.tree.sync()

    synced = discord_scene.fake.synced_commands[None]
    found = dict(
        pair for command in synced for pair in text_options(command["options"], command["name"])
    )

    assert "watch add slug" in found
    assert {path for path, option in found.items() if "max_length" not in option} == set()
    assert found["watch add slug"]["max_length"] == MAX_SLUG_LENGTH
    assert found["grid show grid"]["max_length"] == MAX_SLUG_LENGTH
