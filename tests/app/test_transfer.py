"""Export and import of subscriptions, channel settings, feature-complete marks and pins."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.app.transfer import (
    CHUNK_ENTRIES,
    MAX_BYTES,
    MAX_ENTRIES,
    ResolveWebhook,
    TransferDocument,
    TransferError,
    document_json,
    export_backup,
    export_document,
    export_guild_json,
    import_document,
    parse_document,
)
from bot.config import Settings
from bot.delivery.webhook import resolve_webhook
from bot.djp.client import DjangoPackagesClient
from bot.refresh.monitor import Monitor, MonitorSettings
from storage import channels, installation, pins, subscriptions
from storage.database import Database
from storage.models import DigestMode, TargetKind
from storage.pins import NewPin
from tests.fakes.discord_api import WEBHOOK_TEST_HOST
from tests.fakes.discord_runner import DiscordScene
from tests.plugins.database import configure, follow, mark_complete, open_database

GUILD, OTHER_GUILD = 800_000_000_000_000_001, 800_000_000_000_000_002
CHANNEL, OTHER_CHANNEL = 900_000_000_000_000_001, 900_000_000_000_000_002
ROLE = 700_000_000_000_000_001
FLATBLOCKS, CACHE_MACHINE, FLATPAGES = 265, 155, 48
NOW = datetime(2026, 2, 20, 12, tzinfo=UTC)
#: Default quotas (the webhook-route ones are what an import is checked against).
LIMITS = Settings(_env_file=None)
WEBHOOK = "https://discord.com/api/webhooks/1/secret-token"


def monitor_on(database: Database, client: DjangoPackagesClient) -> Monitor:
    settings = MonitorSettings(poll_interval=timedelta(hours=6), stale_after_days=365)
    return Monitor(client, database, settings, clock=lambda: NOW)


async def populate(database: Database, client: DjangoPackagesClient) -> None:
    """Two guilds: package and grid subscriptions with every option, settings and a mark."""
    await follow(
        database,
        CHANNEL,
        FLATBLOCKS,
        guild=GUILD,
        events=["release", "stale"],
        role_id=ROLE,
        min_release_level="minor",
        include_prereleases=False,
        webhook_url=WEBHOOK,
    )
    await follow(database, CHANNEL, FLATPAGES, TargetKind.GRID, guild=GUILD)
    await follow(database, OTHER_CHANNEL, CACHE_MACHINE, guild=OTHER_GUILD)
    await configure(
        database,
        CHANNEL,
        guild=GUILD,
        now=NOW,
        digest_mode=DigestMode.WEEKLY,
        digest_hour=17,
        digest_weekday=4,
        digest_bypass=["release:major", "stale"],
        stale_after_days=200,
        daily_cap=20,
        stale_report=True,
    )
    await mark_complete(database, CHANNEL, FLATBLOCKS, guild=GUILD, now=NOW)
    await monitor_on(database, client).run_cycle()  # stores the targets: slugs are known


def comparable(document: TransferDocument) -> dict[str, Any]:
    return document.model_dump(mode="json", exclude={"exported_at", "signature"})


async def test_an_export_imported_into_an_empty_database_reproduces_it(
    database: Database, djp_client: DjangoPackagesClient, tmp_path: Path
) -> None:
    await populate(database, djp_client)
    original = await export_backup(database, now=NOW)

    async with open_database(database.engine.dialect.name, tmp_path / "copy") as copy:
        summary = await import_document(
            copy,
            parse_document(document_json(original, webhook_urls=True)),
            now=NOW,
            settings=LIMITS,
        )
        restored = await export_document(copy, now=NOW)  # before any poll stores a target
        await monitor_on(copy, djp_client).run_cycle()
        polled = await export_document(copy, now=NOW)

    assert summary.describe() == (
        "Imported 3 subscriptions (3 new), the settings of 1 channel "
        "and 1 feature-complete mark (1 new)."
    )
    assert comparable(restored) == comparable(original) == comparable(polled)
    first = comparable(original)["subscriptions"][0]
    assert first == {
        "guild_id": GUILD,
        "channel_id": CHANNEL,
        "target_kind": "package",
        "target_id": FLATBLOCKS,
        "target_slug": "django-flatblocks",
        "events": ["release", "stale"],
        "role_id": ROLE,
        "min_release_level": "minor",
        "include_prereleases": False,
        "webhook_url": WEBHOOK,
    }


async def test_a_guild_export_holds_only_that_guild(
    database: Database, djp_client: DjangoPackagesClient
) -> None:
    await populate(database, djp_client)

    document = await export_document(database, now=NOW, guild_id=OTHER_GUILD)

    assert document.guild_id == OTHER_GUILD
    assert [s.target_slug for s in document.subscriptions] == ["django-cache-machine"]
    assert (document.channels, document.feature_complete) == ([], [])


async def test_the_discord_export_leaves_webhook_urls_out_and_importing_it_keeps_them(
    database: Database, djp_client: DjangoPackagesClient
) -> None:
    await populate(database, djp_client)

    text = await export_guild_json(database, GUILD, now=NOW)
    await import_document(database, parse_document(text), now=NOW, settings=LIMITS, guild=GUILD)

    assert "webhook_url" not in text
    assert "secret-token" not in text
    async with database.session() as session:
        [watch, _] = await subscriptions.guild_subscriptions(session, GUILD)
    assert watch.webhook_url == WEBHOOK


async def test_import_overwrites_what_it_lists_and_leaves_the_rest(
    database: Database, djp_client: DjangoPackagesClient
) -> None:
    await populate(database, djp_client)
    document = json.loads(
        document_json(await export_document(database, now=NOW), webhook_urls=True)
    )
    watch = document["subscriptions"][0]
    watch |= {"events": ["release"], "role_id": None, "webhook_url": None}
    document["subscriptions"] = [watch]

    edited = parse_document(json.dumps(document))  # edited by hand: a guild's file
    summary = await import_document(database, edited, now=NOW, settings=LIMITS, guild=GUILD)

    assert (summary.subscriptions, summary.subscriptions_created) == (1, 0)
    async with database.session() as session:
        [restored, grid] = await subscriptions.guild_subscriptions(session, GUILD)
    assert (restored.events, restored.role_id, restored.webhook_url) == (["release"], None, None)
    assert grid.target_kind == TargetKind.GRID


PINS = [
    NewPin("django-flatblocks", "==1.0.0", "1.0.0", FLATBLOCKS),
    NewPin("requests", ">=2.31,<3", None, None),  # not on Django Packages
]


async def pinned(database: Database) -> dict[int, list[NewPin]]:
    """Each channel's pins, as they were given."""
    async with database.session() as session:
        stored = await pins.all_pins(session)
    found: dict[int, list[NewPin]] = {}
    for pin in stored:
        found.setdefault(pin.channel_id, []).append(
            NewPin(pin.pypi_name, pin.specifier, pin.version, pin.package_id)
        )
    return found


async def test_pins_travel_with_an_export_and_are_restored(
    database: Database, djp_client: DjangoPackagesClient, tmp_path: Path
) -> None:
    await populate(database, djp_client)
    async with database.transaction() as session:
        await pins.replace_pins(session, guild_id=GUILD, channel_id=CHANNEL, pins=PINS, now=NOW)
    backup = document_json(await export_backup(database, now=NOW), webhook_urls=True)
    from_discord = await export_guild_json(database, GUILD, now=NOW)

    async with open_database(database.engine.dialect.name, tmp_path / "copy") as copy:
        summary = await import_document(copy, parse_document(backup), now=NOW, settings=LIMITS)
        restored = await pinned(copy)
    async with open_database(database.engine.dialect.name, tmp_path / "guild") as other:
        await import_document(
            other, parse_document(from_discord), now=NOW, settings=LIMITS, guild=GUILD
        )
        from_guild_file = await pinned(other)

    assert summary.describe().endswith("and 1 feature-complete mark (1 new). Restored 2 pins.")
    assert restored == from_guild_file == {CHANNEL: PINS}


async def test_an_import_sets_the_pins_it_lists_and_keeps_the_others(
    database: Database, djp_client: DjangoPackagesClient
) -> None:
    await populate(database, djp_client)
    async with database.transaction() as session:
        await pins.replace_pins(session, guild_id=GUILD, channel_id=CHANNEL, pins=PINS, now=NOW)
    document = valid() | {
        "pins": [
            {
                "guild_id": GUILD,
                "channel_id": CHANNEL,
                "pypi_name": "django-flatblocks",
                "specifier": "==1.0.1",
                "version": "1.0.1",
                "package_id": FLATBLOCKS,
            }
        ]
    }

    await import_document(
        database, parse_document(json.dumps(document)), now=NOW, settings=LIMITS, guild=GUILD
    )

    assert await pinned(database) == {
        CHANNEL: [NewPin("django-flatblocks", "==1.0.1", "1.0.1", FLATBLOCKS), PINS[1]]
    }


async def test_a_backup_signed_before_pins_were_exported_is_still_this_installations_own(
    database: Database, djp_client: DjangoPackagesClient
) -> None:
    """A backup as the previous release wrote it: no `pins` key, signed over what it holds."""
    await populate(database, djp_client)
    backup = json.loads(document_json(await export_backup(database, now=NOW), webhook_urls=True))
    async with database.session() as session:
        key = await installation.export_key(session)
    content = {name: value for name, value in backup.items() if name != "signature"}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    backup["signature"] = hmac.new(key, text.encode(), hashlib.sha256).hexdigest()

    summary = await import_document(
        database, parse_document(json.dumps(backup)), now=NOW, settings=LIMITS
    )

    assert "pins" not in content
    assert summary.subscriptions == 3
    assert await pinned(database) == {}


def valid() -> dict[str, Any]:
    subscription = {
        "guild_id": GUILD,
        "channel_id": CHANNEL,
        "target_kind": "package",
        "target_id": FLATBLOCKS,
        "events": ["release"],
        "min_release_level": "patch",
        "include_prereleases": True,
    }
    settings = {
        "guild_id": GUILD,
        "channel_id": CHANNEL,
        "digest_mode": "daily",
        "digest_hour": 9,
        "digest_weekday": 0,
        "digest_bypass": [],
        "stale_report": False,
    }
    return {
        "format": "djp-sentinel",
        "version": 1,
        "exported_at": NOW.isoformat(),
        "subscriptions": [subscription, subscription | {"target_id": CACHE_MACHINE}],
        "channels": [settings],
    }


def subscription_1(**changes: Any) -> dict[str, Any]:
    document = valid()
    document["subscriptions"][1] |= changes
    return document


def channel_0(**changes: Any) -> dict[str, Any]:
    document = valid()
    document["channels"][0] |= changes
    return document


def pin_1(**changes: Any) -> dict[str, Any]:
    pin = {"guild_id": GUILD, "channel_id": CHANNEL, "pypi_name": "django", "version": "5.1"}
    return valid() | {"pins": [pin | {"pypi_name": "requests"}, pin | changes]}


@pytest.mark.parametrize(
    ("document", "error"),
    [
        (
            subscription_1(events=["release", "relase"]),
            "subscriptions[1].events: unknown event 'relase'",
        ),
        (
            subscription_1(target_kind="pakage"),
            "subscriptions[1].target_kind: input should be 'package' or 'grid'",
        ),
        (
            subscription_1(min_release_level="pre"),
            "subscriptions[1].min_release_level: input should be 'major', 'minor' or 'patch'",
        ),
        (
            subscription_1(target_id=FLATBLOCKS),
            "subscriptions[1]: duplicate of subscriptions[0]",
        ),
        (
            subscription_1(channel_id=str(CHANNEL)),
            "subscriptions[1].channel_id: input should be a valid integer",
        ),
        (subscription_1(target_id=0), "subscriptions[1].target_id: input should be greater than 0"),
        (
            subscription_1(webhook_url="http://example.com/hook"),
            "subscriptions[1].webhook_url: not a Discord webhook URL",
        ),
        (subscription_1(colour="red"), "subscriptions[1].colour: extra inputs are not permitted"),
        (
            subscription_1(guild_id=OTHER_GUILD),
            f"subscriptions[1].guild_id: channel's guild is {GUILD} in subscriptions[0]",
        ),
        (
            channel_0(digest_hour=24),
            "channels[0].digest_hour: input should be less than or equal to 23",
        ),
        (
            channel_0(digest_mode="hourly"),
            "channels[0].digest_mode: input should be 'immediate', 'daily' or 'weekly'",
        ),
        (
            channel_0(digest_bypass=["stael"]),
            "channels[0].digest_bypass[0]: unknown bypass 'stael'",
        ),
        (
            channel_0(digest_bypass=["release:major", "stale:major"]),
            "channels[0].digest_bypass[1]: unknown bypass 'stale:major'",
        ),
        (
            channel_0(digest_bypass=["release:anything"]),
            "channels[0].digest_bypass[0]: unknown bypass 'release:anything'",
        ),
        (
            channel_0(stale_after_days=0),
            "channels[0].stale_after_days: input should be greater than 0",
        ),
        (
            subscription_1(guild_id=2**70),  # raised OverflowError in the database driver
            "subscriptions[1].guild_id: input should be less than or equal to 9223372036854775807",
        ),
        (
            subscription_1(webhook_url="http://127.0.0.1:6379/api/webhooks/1/x"),
            "subscriptions[1].webhook_url: not a Discord webhook URL",
        ),
        (
            channel_0(daily_cap=10**30),
            "channels[0].daily_cap: input should be less than or equal to 1000",
        ),
        (
            pin_1(pypi_name="Django_Rest"),
            "pins[1].pypi_name: not a PyPI name in normal form (PEP 503), "
            "e.g. 'django-debug-toolbar'",
        ),
        (pin_1(specifier=">=4.2;rm -rf"), "pins[1].specifier: not a version specifier"),
        (pin_1(version="5.1 beta"), "pins[1].version: string should match pattern '^[\\w.+!-]+$'"),
        (pin_1(pypi_name="requests"), "pins[1]: duplicate of pins[0]"),
        (
            pin_1(guild_id=OTHER_GUILD),
            f"pins[1].guild_id: channel's guild is {GUILD} in subscriptions[0]",
        ),
        (valid() | {"version": 2}, "version: version 2 is not supported (only 1)"),
        (
            valid() | {"guild_id": OTHER_GUILD},
            f"subscriptions[0].guild_id: not the document's guild {OTHER_GUILD}",
        ),
    ],
)
def test_the_first_problem_is_named_in_one_line(document: dict[str, Any], error: str) -> None:
    with pytest.raises(TransferError) as raised:
        parse_document(json.dumps(document))

    assert str(raised.value) == error


def test_a_file_that_is_not_json_says_so() -> None:
    with pytest.raises(TransferError, match=r"^invalid JSON: .* line 1 column"):
        parse_document('{"format": ')


def test_a_valid_document_parses() -> None:
    document = parse_document(json.dumps(valid()))

    assert [s.target_id for s in document.subscriptions] == [FLATBLOCKS, CACHE_MACHINE]


def test_every_bypass_form_imports() -> None:
    entries = ["stale", "release:major", "release:minor", "release:patch", "release:pre"]

    [settings] = parse_document(json.dumps(channel_0(digest_bypass=entries))).channels

    assert settings.digest_bypass == entries


async def test_an_export_leaves_out_bypass_entries_an_old_import_stored_unchecked(
    database: Database,
) -> None:
    await configure(
        database,
        CHANNEL,
        guild=GUILD,
        updated_by=None,
        now=NOW,
        digest_bypass=["stale:major", "release:minor", "release:anything"],
    )

    document = await export_document(database, now=NOW)

    [settings] = document.channels
    assert settings.digest_bypass == ["release:minor"]
    assert parse_document(document_json(document, webhook_urls=True)) == document


async def test_a_stored_http_webhook_url_exports_and_imports_again(
    database: Database, tmp_path: Path
) -> None:
    """A local Discord (DISCORD_API_BASE) hands out http:// webhook URLs: they round-trip."""
    url = "http://127.0.0.1:8080/api/v10/webhooks/1/secret-token"
    await follow(database, CHANNEL, FLATBLOCKS, guild=GUILD, webhook_url=url)

    document = await export_backup(database, now=NOW)
    async with open_database(database.engine.dialect.name, tmp_path / "copy") as copy:
        text = document_json(document, webhook_urls=True)
        await import_document(
            copy, parse_document(text, test_host="127.0.0.1"), now=NOW, settings=LIMITS
        )
        restored = await export_document(copy, now=NOW)

    assert document.subscriptions[0].webhook_url == url
    assert comparable(restored) == comparable(document)


# -- what an import trusts ---------------------------------------------------------------------

VICTIM, ATTACKER = GUILD, OTHER_GUILD


def guild_file(guild: int, channel: int, **subscription: Any) -> str:
    """A document as a guild could hand it over: unsigned, its entries all in `guild`."""
    document = valid()
    document["subscriptions"] = [
        document["subscriptions"][0] | {"guild_id": guild, "channel_id": channel} | subscription
    ]
    document["channels"] = [document["channels"][0] | {"guild_id": guild, "channel_id": channel}]
    return json.dumps(document)


async def stored(database: Database) -> dict[str, Any]:
    async with database.session() as session:
        subs = await subscriptions.all_subscriptions(session)
        prefs = await channels.changed_preferences(session)
    return {
        "subscriptions": sorted(
            (s.guild_id, s.channel_id, s.target_id, s.webhook_url) for s in subs
        ),
        "channels": sorted((guild, p.channel_id, p.digest_mode) for guild, p in prefs),
    }


async def test_a_file_not_written_here_is_refused_without_guild(
    database: Database, djp_client: DjangoPackagesClient
) -> None:
    await populate(database, djp_client)
    before = await stored(database)
    attack = guild_file(VICTIM, CHANNEL, webhook_url="https://discord.com/api/webhooks/9/attacker")

    with pytest.raises(TransferError, match=r"not written by this installation.*--guild ID"):
        await import_document(database, parse_document(attack), now=NOW, settings=LIMITS)

    assert await stored(database) == before  # the victim's alerts still go where they went


async def test_a_signature_made_elsewhere_or_an_edit_is_not_trusted(
    database: Database, djp_client: DjangoPackagesClient
) -> None:
    await populate(database, djp_client)
    backup = json.loads(document_json(await export_backup(database, now=NOW), webhook_urls=True))
    backup["subscriptions"][0]["webhook_url"] = "https://discord.com/api/webhooks/9/attacker"
    before = await stored(database)

    with pytest.raises(TransferError, match="not written by this installation"):
        await import_document(
            database, parse_document(json.dumps(backup)), now=NOW, settings=LIMITS
        )

    assert await stored(database) == before


async def test_a_guild_file_may_hold_nothing_of_another_guild(
    database: Database, djp_client: DjangoPackagesClient
) -> None:
    await populate(database, djp_client)
    before = await stored(database)
    attack = guild_file(VICTIM, CHANNEL)  # handed over as the attacker's own server's file

    with pytest.raises(TransferError) as raised:
        await import_document(
            database, parse_document(attack), now=NOW, settings=LIMITS, guild=ATTACKER
        )

    assert str(raised.value) == (
        f"subscriptions[0].guild_id: not guild {ATTACKER} (--guild). Nothing was imported."
    )
    assert await stored(database) == before


@pytest.fixture
async def discord_http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5.0) as client:
        yield client


def resolver(http: httpx.AsyncClient) -> ResolveWebhook:
    return functools.partial(resolve_webhook, http, test_host=WEBHOOK_TEST_HOST)


async def test_a_guild_files_webhook_must_post_to_its_own_channel(
    database: Database, discord_scene: DiscordScene, discord_http: httpx.AsyncClient
) -> None:
    victim = discord_scene.guild
    elsewhere = discord_scene.fake.add_guild("Attacker's server").add_text_channel("loot")
    attacker_hook = discord_scene.fake.create_webhook(elsewhere.id)
    attack = guild_file(victim.id, discord_scene.alerts.id, webhook_url=attacker_hook.url)

    with pytest.raises(TransferError) as raised:
        await import_document(
            database,
            parse_document(attack, test_host=WEBHOOK_TEST_HOST),
            now=NOW,
            settings=LIMITS,
            guild=victim.id,
            resolve=resolver(discord_http),
        )

    assert str(raised.value) == (
        f"subscriptions[0].webhook_url: Discord says webhook {attacker_hook.id} posts to channel "
        f"{elsewhere.id}, not {discord_scene.alerts.id}. Nothing was imported."
    )
    assert await stored(database) == {"subscriptions": [], "channels": []}


async def test_a_guild_file_with_its_own_channels_webhook_imports(
    database: Database, discord_scene: DiscordScene, discord_http: httpx.AsyncClient
) -> None:
    hook = discord_scene.fake.create_webhook(discord_scene.alerts.id)
    guild, channel = discord_scene.guild.id, discord_scene.alerts.id
    text = guild_file(guild, channel, webhook_url=hook.url)

    summary = await import_document(
        database,
        parse_document(text, test_host=WEBHOOK_TEST_HOST),
        now=NOW,
        settings=LIMITS,
        guild=guild,
        resolve=resolver(discord_http),
    )

    assert summary.subscriptions_created == 1
    assert (await stored(database))["subscriptions"] == [(guild, channel, FLATBLOCKS, hook.url)]


def entries_file(count: int) -> str:
    """A compact document with `count` channel entries, one guild."""
    document = valid()
    document["subscriptions"] = []
    template = document["channels"][0]
    document["channels"] = [template | {"channel_id": CHANNEL + n} for n in range(count)]
    return json.dumps(document, separators=(",", ":"))


def test_a_file_larger_than_the_bound_is_refused_unparsed() -> None:
    text = entries_file(200_000)  # about 33 MB: the file that ran for 11 minutes
    assert len(text) > MAX_BYTES

    with pytest.raises(TransferError) as raised:
        parse_document(text)

    assert str(raised.value) == "The file is larger than 10 MiB: nothing imported."


def test_more_entries_than_the_bound_are_refused() -> None:
    text = entries_file(MAX_ENTRIES + 1)
    assert len(text) < MAX_BYTES

    with pytest.raises(TransferError) as raised:
        parse_document(text)

    assert str(raised.value) == "entries: 20,001, more than the 20,000 of one file"


async def test_a_large_import_lets_other_writers_in_between_its_chunks(tmp_path: Path) -> None:
    async with open_database("sqlite", tmp_path) as database:
        document = parse_document(entries_file(CHUNK_ENTRIES * 6))
        importing = asyncio.create_task(
            import_document(database, document, now=NOW, settings=LIMITS, guild=GUILD)
        )
        while not (await stored(database))["channels"] and not importing.done():  # noqa: ASYNC110
            await asyncio.sleep(0.01)  # until the first chunk is committed and visible
        # another writer, e.g. /watch add
        await follow(database, OTHER_CHANNEL, FLATBLOCKS, guild=OTHER_GUILD)
        wrote_during_import = not importing.done()
        summary = await importing

    assert wrote_during_import
    assert summary.channels == CHUNK_ENTRIES * 6
