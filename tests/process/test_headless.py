"""Running without a bot: webhook subscriptions from the CLI, delivered by `djp-sentinel poll`."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from tests.fakes.discord_runner import DiscordScene
from tests.fakes.djp_api import FakeDjangoPackages
from tests.plugins.cli import djp_sentinel
from tests.plugins.fleet import free_port, until_healthy


async def test_a_webhook_subscription_is_delivered_without_a_bot(
    cli_env: dict[str, str],
    tmp_path: Path,
    djp_api: FakeDjangoPackages,
    discord_scene: DiscordScene,
) -> None:
    fake = discord_scene.fake
    hook = fake.create_webhook(discord_scene.alerts.id, name="djp-sentinel")
    port = free_port()
    env = cli_env | {"POLL_INTERVAL_SECONDS": "1", "METRICS_PORT": str(port)}

    added = await djp_sentinel(env, tmp_path, "webhook", "add", hook.url, "django-flatblocks")
    listed = await djp_sentinel(env, tmp_path, "webhook", "list")
    djp_api.update_package(265, pypi_version="1.1.0")
    poll = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "poll", env=env, cwd=tmp_path
    )
    try:
        [alert] = await fake.wait_for_messages(discord_scene.alerts.id, 1)
        health = await until_healthy(port)
    finally:
        poll.send_signal(signal.SIGTERM)
        stopped = await asyncio.wait_for(poll.wait(), timeout=30)
    removed = await djp_sentinel(env, tmp_path, "webhook", "remove", hook.url, "django-flatblocks")

    assert added.code == 0, added.err
    assert "now follows django-flatblocks" in added.out
    assert str(hook.id) in listed.out
    assert "package django-flatblocks" in listed.out
    assert hook.token not in listed.out
    assert alert.webhook_id == hook.id
    assert "1.1.0" in alert.embeds[0]["title"]
    assert alert.mentions.nobody
    assert health.text == "ok\n"
    assert stopped == 0
    assert removed.code == 0, removed.err
    assert fake.violations == []


async def test_a_webhook_url_that_is_not_one_is_refused(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    result = await djp_sentinel(
        cli_env, tmp_path, "webhook", "add", "https://example.com/hook", "django-flatblocks"
    )

    assert result.code == 1
    assert result.err.startswith("error: That is not a Discord webhook URL")
