"""`djp-sentinel run` as a user starts it: a real process, real signals and exit codes; and
`sync-commands`, run in-process."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
from yarl import URL

from bot.discordbot.run import TokenRejected, until_reachable
from storage import cycles
from tests.fakes.cable import Cable
from tests.fakes.discord_api import WEBHOOK_TEST_HOST
from tests.fakes.discord_interactions import InteractionRecord
from tests.fakes.discord_models import MANAGE_CHANNELS
from tests.fakes.discord_runner import DiscordScene
from tests.fakes.djp_api import FakeDjangoPackages
from tests.plugins.cli import djp_sentinel
from tests.plugins.database import follow, migrated

ROOT = Path(__file__).resolve().parents[2]
EXIT_TIMEOUT = 20.0
FLATBLOCKS = 265


def environment(tmp_path: Path, **settings: str) -> dict[str, str]:
    """The current environment without any djp-sentinel setting, plus `settings`."""
    names = ("DISCORD_", "DATABASE_URL", "DJP_API_URL", "DEV_GUILD_ID", "POLL_INTERVAL")
    env = {k: v for k, v in os.environ.items() if not k.startswith(names)}
    env.update(PYTHONPATH=str(ROOT), DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/s.db")
    env.update(PYPI_URL="", ENDOFLIFE_URL="")  # off: nothing here may reach the internet
    env.update(settings)
    return env


async def start(tmp_path: Path, *args: str, **settings: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=tmp_path,  # no .env here
        env=environment(tmp_path, **settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def finish(process: asyncio.subprocess.Process) -> tuple[int, str, str]:
    out, err = await asyncio.wait_for(process.communicate(), EXIT_TIMEOUT)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def fakes(
    scene: DiscordScene, djp_api: FakeDjangoPackages, token: str | None = None
) -> dict[str, str]:
    """Settings pointing the bot at both fakes; the gateway is discovered from the REST base."""
    return {
        "DISCORD_TOKEN": token or scene.fake.token,
        "DISCORD_API_BASE": scene.fake.api_base,
        "WEBHOOK_TEST_HOST": WEBHOOK_TEST_HOST,
        "DJP_API_URL": djp_api.base_url,
        "OSV_API_URL": "",
        "POLL_INTERVAL_SECONDS": "3600",
    }


async def test_run_without_a_token_explains_in_one_line(tmp_path: Path) -> None:
    code, out, err = await finish(await start(tmp_path, "run"))

    assert code == 2
    assert out == ""
    [line] = err.splitlines()
    assert line.startswith("error: DISCORD_TOKEN is not set")


async def test_a_rejected_token_is_one_line_and_exit_1(
    tmp_path: Path, discord_scene: DiscordScene, djp_api: FakeDjangoPackages
) -> None:
    settings = fakes(discord_scene, djp_api, token="not-the-token")

    code, _, err = await finish(await start(tmp_path, "run", **settings))

    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 1
    assert errors == [err.splitlines()[-1]]  # log lines before it, then one error line
    assert errors[0].startswith("error: Discord rejected DISCORD_TOKEN")
    assert "Traceback" not in err


async def serve_one_command(
    tmp_path: Path, scene: DiscordScene, djp_api: FakeDjangoPackages, **settings: str
) -> tuple[InteractionRecord, int, str]:
    """`run` started, `/package django-flatblocks` used once it is connected, then SIGTERM:
    the command's record, the exit code and stderr."""
    process = await start(tmp_path, "run", **fakes(scene, djp_api), **settings)
    try:
        await scene.fake.wait_for_sessions(1)
        record = await scene.as_member("package", slug="django-flatblocks")
    finally:
        process.send_signal(signal.SIGTERM)
    code, _, err = await finish(process)
    return record, code, err


@pytest.mark.usefixtures("discord_rules_kept")
async def test_run_serves_commands_then_stops_cleanly_on_sigterm(
    tmp_path: Path, discord_scene: DiscordScene, djp_api: FakeDjangoPackages
) -> None:
    record, code, err = await serve_one_command(tmp_path, discord_scene, djp_api)

    assert record.embeds[0]["title"] == "django-flatblocks"
    assert code == 0, err
    assert "Traceback" not in err
    assert "voice will NOT be supported" not in err
    assert discord_scene.fake.synced_commands == {}  # never synced on a plain start


def command_syncs(scene: DiscordScene) -> list[str]:
    """The scope of every bulk overwrite of the commands: "global" or a guild id."""
    scopes = []
    for request in scene.fake.requests:
        parts = request.path.strip("/").split("/")
        if request.method == "PUT" and parts[-1] == "commands":
            scopes.append(parts[parts.index("guilds") + 1] if "guilds" in parts else "global")
    return scopes


@pytest.mark.usefixtures("discord_rules_kept")
async def test_run_with_a_development_guild_syncs_it_once(
    tmp_path: Path, discord_scene: DiscordScene, djp_api: FakeDjangoPackages
) -> None:
    fake, guild = discord_scene.fake, discord_scene.guild
    record, code, err = await serve_one_command(
        tmp_path, discord_scene, djp_api, DEV_GUILD_ID=str(guild.id)
    )

    assert code == 0, err
    assert record.embeds[0]["title"] == "django-flatblocks"
    assert command_syncs(discord_scene) == [str(guild.id)]
    assert len(fake.synced_commands[guild.id]) == 8


async def test_a_global_sync_leaves_the_development_guild_alone(
    tmp_path: Path, discord_scene: DiscordScene, djp_api: FakeDjangoPackages
) -> None:
    guild = discord_scene.guild
    settings = fakes(discord_scene, djp_api) | {"DEV_GUILD_ID": str(guild.id)}

    code, out, err = await finish(await start(tmp_path, "sync-commands", **settings))

    assert code == 0, err
    assert out.strip() == "Synced 8 commands globally."
    assert command_syncs(discord_scene) == ["global"]
    assert guild.id not in discord_scene.fake.synced_commands


async def test_sync_commands_registers_the_tree_with_one_guild(
    tmp_path: Path, discord_scene: DiscordScene, djp_api: FakeDjangoPackages
) -> None:
    guild = discord_scene.guild

    env = environment(tmp_path, **fakes(discord_scene, djp_api))

    result = await djp_sentinel(env, tmp_path, "sync-commands", "--guild", str(guild.id))

    assert result.code == 0, result.err
    assert result.out.strip() == f"Synced 8 commands to guild {guild.id}."
    synced = {c["name"]: c for c in discord_scene.fake.synced_commands[guild.id]}
    assert set(synced) == {
        "package",
        "watch",
        "grid",
        "stale",
        "readiness",
        "status",
        "settings",
        "help",
    }
    hidden = {name for name, c in synced.items() if c["default_member_permissions"]}
    assert hidden == {"settings"}  # /watch and /grid mix members' and managers' subcommands
    assert int(synced["settings"]["default_member_permissions"]) == MANAGE_CHANNELS
    assert discord_scene.fake.connections == []  # REST only, no gateway


async def test_sync_commands_does_none_of_the_bot_s_work(
    tmp_path: Path, discord_scene: DiscordScene, djp_api: FakeDjangoPackages
) -> None:
    """It may run beside the bot (the README's first hour does): no refresh, no delivery."""
    env = environment(tmp_path, **fakes(discord_scene, djp_api))
    async with migrated(env["DATABASE_URL"]) as database:
        await follow(database, channel=discord_scene.alerts.id, target_id=FLATBLOCKS)

    result = await djp_sentinel(env, tmp_path, "sync-commands")

    assert result.code == 0, result.err
    assert djp_api.requests == []
    async with migrated(env["DATABASE_URL"]) as database, database.session() as session:
        assert await cycles.last_cycle(session) is None


async def unreachable_lines(process: asyncio.subprocess.Process, count: int) -> list[str]:
    """Read stderr until `count` "Discord is unreachable" lines have been logged."""
    assert process.stderr is not None
    found: list[str] = []
    while len(found) < count:
        line = (await asyncio.wait_for(process.stderr.readline(), EXIT_TIMEOUT)).decode()
        assert line, "the process ended while Discord was unreachable"
        if "Discord is unreachable" in line:
            found.append(line)
    return found


@pytest.mark.parametrize("command", ["sync-commands", "run"])
async def test_an_unreachable_discord_is_waited_for_with_one_line_per_attempt(
    tmp_path: Path, discord_scene: DiscordScene, djp_api: FakeDjangoPackages, command: str
) -> None:
    fake = discord_scene.fake
    async with Cable(URL(fake.api_base).port or 0) as cable:
        settings = fakes(discord_scene, djp_api) | {
            "DISCORD_API_BASE": f"http://127.0.0.1:{cable.port}/api/v10"
        }
        process = await start(tmp_path, command, **settings)
        waits = await unreachable_lines(process, 2)
        await cable.plug_in()
        if command == "run":
            await fake.wait_for_sessions(1)
            process.send_signal(signal.SIGTERM)
        code, out, err = await finish(process)

    assert code == 0, err
    assert [line.split("attempt ")[1].strip() for line in waits] == [
        "1 failed, retrying in 1 s",
        "2 failed, retrying in 2 s",
    ]
    assert "Traceback" not in err
    assert fake.token not in err
    if command == "sync-commands":
        assert out.strip() == "Synced 8 commands globally."


async def test_no_traceback_shows_a_secret(tmp_path: Path) -> None:
    """Uncaught errors are logged through the redacting handler, tracebacks included."""
    hook = "https://discord.com/api/webhooks/123/hook-secret"
    token = "MTA1Mjk4MDAxMjM0NTY3ODk.GaBcDe.abcdefghijklmnopqrstuvwxyz012345"
    script = (
        "from bot.logs import configure_logging\n"
        "configure_logging('INFO', secrets=['plain-secret'])\n"
        f"raise RuntimeError('posting to {hook} as {token} with plain-secret failed')\n"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        script,
        cwd=tmp_path,
        env=environment(tmp_path),
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), EXIT_TIMEOUT)
    text = err.decode()

    assert process.returncode == 1
    assert "Traceback" in text
    assert "RuntimeError" in text
    assert "/webhooks/123/***" in text
    for secret in ("hook-secret", token, "plain-secret"):
        assert secret not in text


async def test_start_up_waits_double_each_time_up_to_a_minute() -> None:
    waits: list[float] = []
    attempts = 0

    async def login() -> str:
        nonlocal attempts
        attempts += 1
        if attempts < 9:
            raise OSError("Connect call failed")
        return "logged in"

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    assert await until_reachable(login, "the login", sleep=sleep) == "logged in"
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60]


async def test_anything_but_an_unreachable_discord_is_not_retried() -> None:
    async def login() -> None:
        raise TokenRejected("Discord rejected DISCORD_TOKEN.")

    async def sleep(seconds: float) -> None:
        raise AssertionError("a rejected token must not be retried")

    with pytest.raises(TokenRejected):
        await until_reachable(login, "the login", sleep=sleep)
