"""The core stays free of Discord: it must run headless, from the CLI or a webhook."""

from __future__ import annotations

import subprocess
import sys

CORE_MODULES = (
    "bot.client",
    "bot.records",
    "bot.health",
    "bot.events",
    "bot.monitor",
    "bot.staleness",
    "bot.stale_report",
    "bot.grid_table",
    "bot.render",
    "bot.summaries",
    "bot.alert_messages",
    "bot.discord_limits",
    "bot.digest",
    "bot.delivery",
    "bot.senders",
    "bot.webhook_sender",
    "bot.webhook_subscriptions",
    "bot.transfer",
    "bot.jobs",
    "bot.headless",
    "bot.cli",
    "storage",
    "storage.database",
    "storage.packages",
    "storage.grids",
    "storage.subscriptions",
    "storage.channels",
    "storage.outbox",
    "storage.delivery_queries",
    "storage.cycles",
)


def test_core_modules_do_not_import_discord() -> None:
    probe = (
        f"import importlib, sys\n"
        f"for name in {CORE_MODULES!r}: importlib.import_module(name)\n"
        f"print(sorted(m for m in sys.modules if m == 'discord' or m.startswith('discord.')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
