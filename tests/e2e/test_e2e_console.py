"""The fake Discord's console (`python -m tests.fakes.discord_console`): what a newcomer types
reaches the real bot as Discord would send it, and the bot's answers come back as text."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.discord_console import Console
from tests.plugins.app import Stage

ROOT = Path(__file__).parents[2]
REQUIREMENTS = ROOT / "tests" / "data" / "requirements" / "requirements.txt"
pytestmark = pytest.mark.usefixtures("discord_rules_kept")


async def test_slash_commands_typed_in_the_console_reach_the_bot(stage: Stage) -> None:
    console = Console(stage.scene)
    before_sync = await console.execute("/package slug:django-flatblocks")
    await stage.bot.tree.sync()

    watch = await console.execute("/watch add slug:django-flatblocks events:release, stale")
    refused = await console.execute("#general @member /watch add slug:django-flatblocks")
    choices = await console.execute("?/watch add slug:flatblcoks   # what autocomplete offers")
    imported = await console.execute(f"/watch import file:{REQUIREMENTS}")
    help_page = await console.execute("/help")
    next_page = await console.execute("click Next")
    await console.execute("/watch test")

    assert before_sync == [
        "console: no slash command is registered yet: run "
        f"`djp-sentinel sync-commands --guild {stage.scene.guild.id}`"
    ]
    assert "  Now watching **django-flatblocks** (django-flatblocks) here." in watch
    assert "  events: release, stale · every release" in watch
    assert refused == ["  You need the Manage Channels permission for this: ask a server manager."]
    assert choices[0] == "choice: django-flatblocks"
    assert "  Now watching (1): **django-debug-toolbar** (3.2)." in imported
    assert "  [buttons: Previous, Next]" in help_page
    assert "  djp-sentinel: events" in next_page
    await stage.scene.fake.state.wait_until(lambda: bool(stage.alerts()), "the sample alert")
    posts = console.new_posts()
    assert posts[:2] == [
        "[#alerts] new message:",
        "  🧪 A sample alert from /watch test: real alerts look like this.",
    ]
    assert console.new_posts() == []  # each post is printed once


async def test_what_cannot_be_sent_is_one_console_line(stage: Stage) -> None:
    console = Console(stage.scene)
    await stage.bot.tree.sync()

    lines = [
        "/nosuch",
        "/watch",
        "/watch add",
        "/settings digest mode:daily hour:eight",
        "/settings digest mode:daily hour:25",
        "/settings digest mode:hourly",
        "/settings cap per_day:0",
        "/watch add slug:" + "x" * 101,
        "/watch add slug:django-flatblocks channel:#nowhere",
        "/watch import file:/no/such/requirements.txt",
        "click Next",
        "package django-flatblocks",
    ]
    answers = [await console.execute(line) for line in lines]

    assert answers == [
        [
            "console: no command /nosuch (known here: grid, help, package, readiness, settings, "
            "stale, status, watch)"
        ],
        ["console: /watch needs a subcommand"],
        ["console: /watch add needs slug"],
        ["console: hour: 'eight' is not a number"],
        ["console: hour: give 0 to 23"],
        ["console: mode: choose one of immediate, daily, weekly"],
        ["console: per_day: give 1 to 1000"],
        ["console: slug: give 1 to 100 characters"],
        ["console: no channel '#nowhere': the server has #alerts and #general"],
        ["console: file: cannot read '/no/such/requirements.txt' (No such file or directory)"],
        ["console: nothing to click yet: run a command first"],
        ["console: not a command: 'package django-flatblocks' (type help)"],
    ]


async def test_the_console_says_which_gateway_sessions_are_open(stage: Stage) -> None:
    fake = stage.scene.fake
    console = Console(stage.scene)
    await stage.bot.tree.sync()
    connected = console.session_changes()
    unchanged = console.session_changes()

    await stage.bot.close()
    await fake.state.wait_until(lambda: not fake.gateway.live, "the bot's session closed")
    unanswered = await console.execute("/package slug:django-flatblocks")

    assert [line.split(" UTC] ")[1] for line in connected] == [
        "gateway sessions open: 1 (shard 0 of 1)"
    ]
    assert unchanged == []
    assert [line.split(" UTC] ")[1] for line in console.session_changes()] == [
        "gateway sessions open: 0"
    ]
    assert await console.execute("sessions") == ["gateway sessions open: 0"]
    assert unanswered == [
        f"console: no bot session holds the shard of server {stage.scene.guild.id}: is a "
        "gateway process running for it? (gateway sessions open: 0)"
    ]
