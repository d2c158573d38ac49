"""Webhook-route quotas (`MAX_WEBHOOK_ROUTES_PER_*`): `webhook add` and `import` refuse, in
one sentence, what would pass a channel's or a server's limit, and change nothing."""

from __future__ import annotations

import json
from pathlib import Path

from tests.fakes.discord_runner import DiscordScene
from tests.fakes.djp_api import FakeDjangoPackages
from tests.plugins.cli import djp_sentinel

LIMITS = {"MAX_WEBHOOK_ROUTES_PER_CHANNEL": "1", "MAX_WEBHOOK_ROUTES_PER_GUILD": "2"}
FREE = "remove one with `djp-sentinel webhook remove` first."


async def test_webhook_add_refuses_past_the_channel_and_server_quotas(
    cli_env: dict[str, str], tmp_path: Path, discord_scene: DiscordScene
) -> None:
    env = cli_env | LIMITS
    fake, guild = discord_scene.fake, discord_scene.guild
    first, second = (
        fake.create_webhook(discord_scene.alerts.id),
        fake.create_webhook(discord_scene.general.id),
    )
    third = fake.create_webhook(guild.add_text_channel("more-releases").id)

    added = await djp_sentinel(env, tmp_path, "webhook", "add", first.url, "django-flatblocks")
    full_channel = await djp_sentinel(
        env, tmp_path, "webhook", "add", first.url, "django-cache-machine"
    )
    changed = await djp_sentinel(
        env, tmp_path, "webhook", "add", first.url, "django-flatblocks", "--min-level", "minor"
    )
    elsewhere = await djp_sentinel(env, tmp_path, "webhook", "add", second.url, "django-flatblocks")
    full_server = await djp_sentinel(
        env, tmp_path, "webhook", "add", third.url, "django-flatblocks"
    )
    listed = await djp_sentinel(env | {"COLUMNS": "200"}, tmp_path, "webhook", "list")

    assert (added.code, changed.code, elsewhere.code) == (0, 0, 0), changed.err
    assert full_channel.code == 1
    assert full_channel.err.strip() == (
        f"error: This channel has reached its limit of webhook routes (1): {FREE}"
    )
    assert full_server.code == 1
    assert full_server.err.strip() == (
        f"error: This server has reached its limit of webhook routes across its channels (2): "
        f"{FREE}"
    )
    routes = [line for line in listed.out.splitlines() if "django-" in line]
    assert len(routes) == 2
    assert "cache-machine" not in listed.out


async def test_an_import_past_a_quota_is_refused_and_changes_nothing(
    cli_env: dict[str, str], tmp_path: Path, discord_scene: DiscordScene
) -> None:
    env = cli_env | LIMITS
    fake, guild = discord_scene.fake, discord_scene.guild
    hook = fake.create_webhook(discord_scene.alerts.id)
    await djp_sentinel(env, tmp_path, "webhook", "add", hook.url, "django-flatblocks")
    before = await djp_sentinel(env, tmp_path, "export", "--guild", str(guild.id))
    entries = [
        {
            "guild_id": guild.id,
            "channel_id": channel.id,
            "target_kind": "package",
            "target_id": 155,
            "events": ["release"],
            "min_release_level": "patch",
            "include_prereleases": True,
            "webhook_url": fake.create_webhook(channel.id).url,
        }
        for channel in (discord_scene.general, guild.add_text_channel("more-releases"))
    ]
    (tmp_path / "routes.json").write_text(
        json.dumps({"exported_at": "2026-02-20T12:00:00Z", "subscriptions": entries})
    )

    refused = await djp_sentinel(env, tmp_path, "import", "routes.json", "--guild", str(guild.id))
    after = await djp_sentinel(env, tmp_path, "export", "--guild", str(guild.id))
    one_fits = await djp_sentinel(
        env | {"MAX_WEBHOOK_ROUTES_PER_GUILD": "3"},
        tmp_path,
        "import",
        "routes.json",
        "--guild",
        str(guild.id),
    )

    assert refused.code == 1
    assert refused.err.strip() == (
        f"error: Server {guild.id} has room for 1 more webhook route across its channels, "
        f"not 2 (its limit is 2): {FREE} Nothing was imported."
    )
    assert refused.out == ""
    assert json.loads(after.out)["subscriptions"] == json.loads(before.out)["subscriptions"]
    assert one_fits.code == 0, one_fits.err
    assert one_fits.out.startswith("Imported 2 subscriptions (2 new)")


async def test_webhook_add_past_a_quota_asks_django_packages_nothing(
    cli_env: dict[str, str],
    tmp_path: Path,
    discord_scene: DiscordScene,
    djp_api: FakeDjangoPackages,
) -> None:
    env = cli_env | LIMITS
    hook = discord_scene.fake.create_webhook(discord_scene.alerts.id)
    await djp_sentinel(env, tmp_path, "webhook", "add", hook.url, "django-flatblocks")
    djp_api.reset_log()

    refused = await djp_sentinel(env, tmp_path, "webhook", "add", hook.url, "django-valkey")

    assert refused.code == 1
    assert refused.err.strip() == (
        f"error: This channel has reached its limit of webhook routes (1): {FREE}"
    )
    assert djp_api.requests == []
