"""`/watch import`: a team's requirements file becomes the channel's watches and pins, and
advisories speak to the pin. The real bot, the fake Discord (the file as an attachment), the
fake Django Packages and the fake OSV (real records)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.discordbot.bot import SentinelBot
from storage import pins
from storage.database import Database
from tests.fakes.discord_interactions import InteractionRecord
from tests.fakes.discord_runner import DiscordScene
from tests.fakes.osv_api import FakeOsv
from tests.plugins.app import Stage
from tests.plugins.data import UV_LOCK
from tests.plugins.osv_api import AdvisoryStage

pytestmark = [pytest.mark.osv, pytest.mark.usefixtures("discord_rules_kept")]
DATA = Path(__file__).parents[1] / "data" / "requirements"


async def import_file(
    scene: DiscordScene, filename: str, content: bytes | None = None
) -> InteractionRecord:
    if content is None:
        content = (DATA / filename).read_bytes()
    return await scene.as_manager("watch import", file=scene.fake.attachment(filename, content))


async def watched_slugs(scene: DiscordScene) -> str:
    listed = await scene.as_manager("watch list")
    return str(listed.content) + str(listed.embeds)


async def test_a_requirements_file_is_watched_with_its_pins_and_alerts_speak_to_them(
    osv_stage: AdvisoryStage,
) -> None:
    imported = await import_file(osv_stage.scene, "requirements.txt")
    published = await osv_stage.publish()

    assert imported.content == (
        "Read requirements.txt: 3 requirements.\n"
        "Now watching (2): **django-debug-toolbar** (3.2), **django-flatblocks** (`<1.1,>=1.0`).\n"
        "Not on Django Packages (1; their advisories are still followed): requests (2.31.0).\n"
        "Skipped 2 lines naming no package (options, paths or URLs)."
    )
    assert "django-flatblocks" in await watched_slugs(osv_stage.scene)
    assert published.sent == 1
    [alert] = osv_stage.alerts()
    title = alert.embeds[0]["title"]
    assert "latest release 6.0.0 is not affected" in title
    assert "your pin 3.2 is affected, fixed in 3.2.1" in title


async def test_watch_list_shows_each_pin_beside_its_package_and_the_other_pins_after(
    discord_scene: DiscordScene, sentinel: SentinelBot
) -> None:
    await import_file(discord_scene, "requirements.txt")
    await discord_scene.as_manager("watch remove", slug="django-flatblocks")

    listed = await discord_scene.as_manager("watch list")

    lines = listed.embeds[1]["description"].splitlines()
    assert lines[0] == "**django-debug-toolbar** · pin 3.2"
    assert lines[2:] == [
        "**Not on Django Packages (advisories only)**: requests 2.31.0",
        "**Pinned, not watched here**: django-flatblocks `<1.1,>=1.0`",
    ]


async def test_a_range_that_excludes_the_fix_is_said(osv_stage: AdvisoryStage) -> None:
    imported = await import_file(osv_stage.scene, "pyproject.toml")
    await osv_stage.publish()

    assert (imported.content or "").startswith(
        "Read pyproject.toml: 5 requirements.\n"
        "Now watching (3): **django-debug-toolbar** (`<3.2,>=3.0`), **django-flatblocks** (any "
        "version), **Django-REST-registration** (0.9.0).\n"
    )
    [alert] = osv_stage.alerts()
    # Upstream-free, but escaped like every summary: Discord shows the backticks as written.
    assert r"3.2.1 is outside your range \`<3.2,>=3.0\`" in alert.embeds[0]["title"]


async def test_a_re_import_shows_the_difference_and_updates_pins(
    discord_scene: DiscordScene, database: Database, sentinel: SentinelBot
) -> None:
    first = await import_file(discord_scene, "requirements.txt")
    again = await import_file(discord_scene, "uv.lock", UV_LOCK)

    assert first.content is not None
    assert again.content == (
        "Read uv.lock: 4 requirements.\n"
        "Already watched (1): **django-debug-toolbar** (3.2.1).\n"
        "Not on Django Packages (3; their advisories are still followed): asgiref (3.8.1), "
        "django (4.2.11), sqlparse (0.5.0).\n"
        "Pins changed (1): django-debug-toolbar 3.2 → 3.2.1.\n"
        "No longer in the file (2; still watched, /watch remove stops one): "
        "django-flatblocks, requests."
    )
    async with database.session() as session:
        pinned = await pins.channel_pins(session, discord_scene.alerts.id)
    assert {name: pin.version for name, pin in pinned.items()} == {
        "asgiref": "3.8.1",
        "django": "4.2.11",
        "django-debug-toolbar": "3.2.1",
        "sqlparse": "0.5.0",
    }


@pytest.mark.parametrize(
    ("filename", "content", "answer"),
    [
        (
            "pyproject.toml",
            (DATA / "broken-pyproject.toml").read_bytes(),
            "pyproject.toml is not valid TOML",
        ),
        ("Pipfile", b"[packages]\n", "'Pipfile' is not a file I can read"),
        ("requirements.txt", b"django\n" * 100_000, "requirements.txt is 683 KiB"),
    ],
    ids=["malformed", "unknown-format", "oversized"],
)
async def test_a_file_that_cannot_be_read_is_one_sentence_and_changes_nothing(
    discord_scene: DiscordScene,
    database: Database,
    sentinel: SentinelBot,
    filename: str,
    content: bytes,
    answer: str,
) -> None:
    await import_file(discord_scene, "requirements.txt")
    refused = await import_file(discord_scene, filename, content)

    assert (refused.content or "").startswith(answer)
    assert (refused.content or "").endswith("Nothing was changed.")
    assert refused.ephemeral
    async with database.session() as session:
        pinned = await pins.channel_pins(session, discord_scene.alerts.id)
    assert set(pinned) == {"django-debug-toolbar", "django-flatblocks", "requests"}


async def test_advisories_of_a_requirement_not_on_django_packages_still_arrive(
    stage: Stage, osv_api: FakeOsv
) -> None:
    held = osv_api.records.pop("PYSEC-2020-263")  # djangorestframework, not listed in the fake
    content = b"djangorestframework==3.11.0\ndjango-flatblocks==1.0.0\n"
    imported = await import_file(stage.scene, "requirements.txt", content)
    await stage.next_cycle()
    osv_api.put(held)
    published = await stage.next_cycle()

    assert "Not on Django Packages (1; their advisories are still followed)" in str(
        imported.content
    )
    assert published.sent == 1
    [alert] = stage.alerts()
    assert alert.embeds[0]["title"] == (
        "djangorestframework: security advisory PYSEC-2020-263: fixed in 3.11.2; "
        "your pin 3.11.0 is affected, fixed in 3.11.2"
    )
