"""The `djp-sentinel` command line (also `python -m bot`).

Every failure a user can cause or meet — an unknown slug, an unreachable API, a bad
`DATABASE_URL`, a missing token — prints one line on stderr and exits non-zero; tracebacks are
for bugs only.

Only argument parsing lives here, so `--help`, `--version` and usage errors start fast. Each
command lives in a module of its own (`COMMANDS`), imported once that command runs, and imports
only what it uses: `stale` never loads Discord, Alembic, Pillow, aiohttp, prometheus-client or
rapidfuzz (`tests/cli/test_cli_imports.py` checks).
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from bot import __version__
from bot.process.roles import Role, needs_discord, parse_roles

EXIT_FAILURE, EXIT_USAGE = 1, 2
#: `bot.app.grid_table.SortKey`, spelled out so that parsing stays light (a test checks).
SORT_KEYS = ("stars", "activity")
#: `bot.core.events.MIN_RELEASE_LEVELS`, spelled out so that parsing stays light (a test checks).
MIN_RELEASE_LEVELS = ("major", "minor", "patch")
#: Said instead of anything else on a system that is not POSIX (Windows has no `fcntl`).
UNSUPPORTED_SYSTEM = (
    "error: djp-sentinel runs on Linux, macOS and other POSIX systems, not on Windows "
    "(WSL works): see the README."
)
#: Commands that talk to Discord as the bot.
NEEDS_TOKEN = frozenset({"run", "sync-commands"})
#: Each command's handler, as "module:function", imported only when it runs.
COMMANDS = {
    "run": "bot.cli.discord_bot:run",
    "sync-commands": "bot.cli.discord_bot:sync_commands",
    "package": "bot.cli.package:package",
    "sync": "bot.cli.sync:sync",
    "poll": "bot.cli.poll:poll",
    "stale": "bot.cli.stale:stale",
    "readiness": "bot.cli.readiness:readiness",
    "status": "bot.cli.status:status",
    "webhook": "bot.cli.webhook:webhook",
    "grid": "bot.cli.grid:grid",
    "export": "bot.cli.transfer:export",
    "import": "bot.cli.transfer:restore",
    "db": "bot.cli.db:db",
    "check": "bot.cli.check:check",
}


class Parser(argparse.ArgumentParser):
    """The top-level parser: its help ends with the settings and the event names."""

    def format_help(self) -> str:
        return super().format_help() + "\n" + reference()


def reference() -> str:
    """The environment variables (from `bot.config.Settings`) and the events, for `--help`."""
    from bot.config import Settings
    from bot.core.event_meanings import MEANINGS

    lines = ["environment variables (also read from .env):"]
    width = max(map(len, Settings.model_fields)) + 2
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        shown = "unset" if default is None else default
        lines.append(f"  {name.upper():<{width}}{field.description or ''} [default: {shown}]")
    lines += ["", "events (for --events, /watch add events:):"]
    lines += [f"  {event:<12}{meaning}" for event, meaning in MEANINGS.items()]
    return "\n".join(lines) + "\n"


def role_list(value: str) -> list[Role]:
    """One `--role` value (a name or a comma-separated list) as roles, for argparse."""
    try:
        return sorted(parse_roles([value]))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def needs_token(args: argparse.Namespace) -> bool:
    """Every command of `NEEDS_TOKEN` does, but `run --role monitor`, which never calls Discord."""
    return args.command != "run" or needs_discord(parse_roles(getattr(args, "roles", [])))


def limit(value: str) -> int:
    """A `--limit` value: rows to show, 0 for all."""
    try:
        rows = int(value)
    except ValueError:
        rows = -1
    if rows < 0:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of rows (0 shows all)")
    return rows


def add_limit(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--limit",
        type=limit,
        metavar="N",
        help=f"show the first N {what} (0: all); default 25 in a table, all with --json",
    )


def django_version(value: str) -> str:
    """A `--django` value: "5.2", for argparse."""
    if re.fullmatch(r"\d+\.\d+", value) is None:
        raise argparse.ArgumentTypeError(f"{value!r} is not a Django version such as 5.2")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="djp-sentinel",
        description="Watch Django Packages and alert Discord channels about what changes.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=argparse.ArgumentParser
    )

    run = commands.add_parser("run", help="start the bot: gateway, monitor and delivery (default)")
    run.add_argument(
        "--role",
        dest="roles",
        type=role_list,
        action="extend",
        default=[],
        metavar="ROLE",
        help="what this process does: all (default), gateway, monitor, delivery; "
        "repeat or separate with commas (several processes need PostgreSQL)",
    )

    sync_commands = commands.add_parser("sync-commands", help="register the slash commands")
    sync_commands.add_argument(
        "--guild", type=int, metavar="ID", help="to this guild only (instant), not globally"
    )

    package = commands.add_parser("package", help="print a package summary")
    package.add_argument("slug", help="package slug or id, e.g. django-flatblocks")
    package.add_argument("--json", action="store_true", help="print JSON instead of a panel")
    package.add_argument(
        "--chart",
        metavar="FILE.png",
        type=Path,
        help="also write the 52-week commit chart /package shows, as a PNG",
    )

    commands.add_parser("sync", help="pull the whole catalog: packages, grids, categories")

    poll = commands.add_parser(
        "poll", help="run without a bot: refresh, and deliver to webhook subscriptions"
    )
    poll.add_argument(
        "--once",
        action="store_true",
        help="one cycle now: refresh what is watched, deliver what is due, print the changes",
    )
    poll.add_argument(
        "--all", action="store_true", help="with --once: print every change, watched or not"
    )

    webhook = commands.add_parser("webhook", help="follow packages through a Discord webhook")
    webhook_commands = webhook.add_subparsers(
        dest="webhook_command", metavar="ACTION", required=True
    )
    add = webhook_commands.add_parser("add", help="alert a webhook's channel about a target")
    add.add_argument(
        "url",
        help="the webhook URL (Channel Settings → Integrations → Webhooks); "
        "add ?thread_id=ID to post in a thread",
    )
    add.add_argument("target", help="package slug, or grid slug with --grid")
    add.add_argument("--grid", action="store_true", help="the target is a grid")
    add.add_argument(
        "--events", default="default", help='comma-separated events, "all" or "default"'
    )
    add.add_argument("--min-level", choices=MIN_RELEASE_LEVELS, default="patch")
    add.add_argument("--no-prereleases", action="store_true", help="ignore pre-releases")
    remove = webhook_commands.add_parser("remove", help="stop alerting a webhook's channel")
    remove.add_argument("webhook", help="the webhook's id (as `webhook list` shows) or its URL")
    remove.add_argument("target", help="package slug, or grid slug with --grid")
    remove.add_argument("--grid", action="store_true", help="the target is a grid")
    webhook_commands.add_parser("list", help="every subscription delivered through a webhook")

    stale = commands.add_parser("stale", help="list stale packages with the reasons")
    stale.add_argument("--grid", metavar="SLUG", help="only the members of this grid")
    add_limit(stale, "stale packages, quiet longest first")
    stale.add_argument("--json", action="store_true", help="print JSON instead of a table")

    ready = commands.add_parser(
        "readiness", help="which watched packages declare support for a Django version"
    )
    ready.add_argument(
        "django", nargs="?", metavar="X.Y", help="Django version (default: the newest release)"
    )
    ready.add_argument("--grid", metavar="SLUG", help="the members of this grid instead")
    ready.add_argument("--json", action="store_true", help="print JSON instead of a table")

    commands.add_parser(
        "status", help="how the bot is doing: the last refresh, alerts waiting, each source"
    )

    grid = commands.add_parser("grid", help="print a grid as a ranked table")
    grid.add_argument("slug", help="grid slug or id, e.g. flatpages")
    grid.add_argument(
        "--sort", choices=SORT_KEYS, default="stars", help="most stars, or latest commit, first"
    )
    add_limit(grid, "members")
    grid.add_argument("--json", action="store_true", help="print JSON instead of a table")

    export = commands.add_parser("export", help="print subscriptions and settings as JSON")
    export.add_argument("--guild", type=int, metavar="ID", help="only this guild's")

    load = commands.add_parser("import", help="restore subscriptions and settings from JSON")
    load.add_argument(
        "file",
        metavar="FILE",
        type=argparse.FileType("rb"),
        help="a document written by `export` (- for stdin)",
    )
    load.add_argument(
        "--guild",
        type=int,
        metavar="ID",
        help="import only this guild's entries: required for a file not written by this "
        "installation's `export` (a /settings export, another installation's)",
    )

    check = commands.add_parser(
        "check",
        help="check a requirements file: listings, latest versions, advisories (no database)",
    )
    check.add_argument("file", help="a requirements .txt or .in, a pyproject.toml or a uv.lock")
    check.add_argument(
        "--django", type=django_version, metavar="X.Y", help="a Django version to check against"
    )
    check.add_argument("--json", action="store_true", help="print JSON")

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_commands.add_parser("upgrade", help="apply migrations (also done at every start)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if os.name != "posix":
        print(UNSUPPORTED_SYSTEM, file=sys.stderr)
        return EXIT_USAGE
    from pydantic import ValidationError

    from bot.config import Settings, settings_problem

    try:
        settings = Settings()
    except ValidationError as exc:
        print(f"error: {settings_problem(exc)}.", file=sys.stderr)
        return EXIT_USAGE
    command = args.command or "run"
    if command in NEEDS_TOKEN and settings.token is None and needs_token(args):
        print(
            "error: DISCORD_TOKEN is not set: put it in .env (see .env.example) "
            f"or export it before `djp-sentinel {command}`.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    from bot.cli.running import Handler, run_command

    module, function = COMMANDS[command].split(":")
    handler: Handler = getattr(importlib.import_module(module), function)
    return run_command(handler, args, settings)
