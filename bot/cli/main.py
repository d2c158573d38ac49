"""The `djp-sentinel` command line (also `python -m bot`).

Every failure a user can cause or meet — an unknown slug, an unreachable API, a bad
`DATABASE_URL`, a missing token — prints one line on stderr and exits non-zero; tracebacks are
for bugs only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bot import __version__
from bot.app import webhook_subscriptions
from bot.app.grid_table import SORT_KEYS, load_grid_table
from bot.app.headless import serve_headless
from bot.app.jobs import refresh_pass
from bot.app.liveness import Liveness
from bot.app.lookup import not_found
from bot.app.metrics_server import serving_metrics
from bot.app.roles import Role, parse_roles
from bot.app.runtime import Runtime, open_runtime
from bot.app.summaries import look_up_package
from bot.app.transfer import document_json, export_document, import_document, parse_document
from bot.cli.terminal import (
    print_card,
    print_changes,
    print_grid_table,
    print_stale,
    print_webhook_watches,
)
from bot.config import Settings, settings_problem
from bot.core.events import MIN_RELEASE_LEVELS, AlertPreferences, UnknownEvent, parse_events
from bot.core.health import Health
from bot.core.records import PackageRecord
from bot.delivery.webhook import webhook_http_client
from bot.errors import NotFound, SentinelError
from bot.logs import configure_logging, redact
from bot.messages.cards import package_card, package_links
from bot.refresh.names import Kind
from bot.refresh.staleness import ChannelStaleness, stale_packages
from storage import grids, packages
from storage.coordination import sole_process
from storage.database import Database
from storage.models import TargetKind

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2

Handler = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]


class UserError(SentinelError):
    """A mistake in what the user asked for (e.g. an unknown grid)."""


@asynccontextmanager
async def suggesting(runtime: Runtime, kind: Kind, text: str) -> AsyncIterator[None]:
    """Turn "not on Django Packages" into a `UserError` naming the closest slugs."""
    try:
        yield
    except NotFound:
        raise UserError(await not_found(runtime, kind, text)) from None


def role_list(value: str) -> list[Role]:
    """One `--role` value (a name or a comma-separated list) as roles, for argparse."""
    try:
        return sorted(parse_roles([value]))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="djp-sentinel",
        description="Watch Django Packages and alert Discord channels about what changes.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

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

    commands.add_parser("sync", help="pull the whole catalog: packages, grids, categories")

    poll = commands.add_parser(
        "poll", help="run without a bot: refresh, and deliver to webhook subscriptions"
    )
    poll.add_argument(
        "--once", action="store_true", help="refresh everything watched now, print the changes"
    )

    webhook = commands.add_parser("webhook", help="follow packages through a Discord webhook")
    webhook_commands = webhook.add_subparsers(
        dest="webhook_command", metavar="ACTION", required=True
    )
    add = webhook_commands.add_parser("add", help="alert a webhook's channel about a target")
    add.add_argument("url", help="the webhook URL (Channel Settings → Integrations → Webhooks)")
    add.add_argument("target", help="package slug, or grid slug with --grid")
    add.add_argument("--grid", action="store_true", help="the target is a grid")
    add.add_argument(
        "--events", default="default", help='comma-separated events, "all" or "default"'
    )
    add.add_argument("--min-level", choices=MIN_RELEASE_LEVELS, default="patch")
    add.add_argument("--no-prereleases", action="store_true", help="ignore pre-releases")
    remove = webhook_commands.add_parser("remove", help="stop alerting a webhook's channel")
    remove.add_argument("url")
    remove.add_argument("target")
    remove.add_argument("--grid", action="store_true", help="the target is a grid")
    webhook_commands.add_parser("list", help="every subscription delivered through a webhook")

    stale = commands.add_parser("stale", help="list stale packages with the reasons")
    stale.add_argument("--grid", metavar="SLUG", help="only the members of this grid")

    grid = commands.add_parser("grid", help="print a grid as a ranked table")
    grid.add_argument("slug", help="grid slug or id, e.g. flatpages")
    grid.add_argument(
        "--sort", choices=SORT_KEYS, default="stars", help="most stars, or latest commit, first"
    )

    export = commands.add_parser("export", help="print subscriptions and settings as JSON")
    export.add_argument("--guild", type=int, metavar="ID", help="only this guild's")

    load = commands.add_parser("import", help="restore subscriptions and settings from JSON")
    load.add_argument(
        "file",
        metavar="FILE",
        type=argparse.FileType("rb"),
        help="a document written by `export` (- for stdin)",
    )

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_commands.add_parser("upgrade", help="apply migrations (also done at every start)")
    return parser


def _console() -> Console:
    return Console(highlight=False, soft_wrap=False)


async def cmd_package(args: argparse.Namespace, settings: Settings) -> int:
    async with open_runtime(settings) as runtime, suggesting(runtime, "package", args.slug):
        lookup = await look_up_package(runtime, args.slug)
    summary = lookup.summary
    if args.json:
        document = {
            "record": summary.record.model_dump(mode="json"),
            "health": {"state": summary.health.state, "reasons": list(summary.health.reasons)},
            "category": summary.category,
            "grids": [{"slug": g.slug, "title": g.title} for g in summary.grids],
            "links": {link.label: link.url for link in package_links(summary)},
            "from_cache": lookup.from_cache,
        }
        print(json.dumps(document, indent=2))
        return EXIT_OK
    console = _console()
    if lookup.from_cache:
        console.print("[yellow]Django Packages is unreachable: showing the stored copy.[/yellow]")
    print_card(console, package_card(summary))
    return EXIT_OK


async def cmd_sync(args: argparse.Namespace, settings: Settings) -> int:
    console = _console()
    async with open_runtime(settings) as runtime:
        if console.is_terminal:
            with Progress(
                TextColumn("Syncing packages"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            ) as bar:
                task = bar.add_task("sync", total=None)
                report = await runtime.monitor.sync_catalog(
                    lambda done, total: bar.update(task, completed=done, total=total)
                )
        else:
            report = await runtime.monitor.sync_catalog()
    console.print(
        f"Synced {report.packages_fetched} packages and {report.grids_fetched} grids "
        f"in {report.requests} requests; {len(report.changes)} changes, "
        f"{len(report.failures)} skipped."
    )
    for target, error in report.failures.items():
        console.print(f"[yellow]skipped {target}: {error}[/yellow]")
    return EXIT_OK if "catalog" not in report.failures else EXIT_FAILURE


async def cmd_poll(args: argparse.Namespace, settings: Settings) -> int:
    if not args.once:
        liveness = Liveness()
        with sole_process(settings.database_url):
            async with (
                open_runtime(settings) as runtime,
                webhook_http_client(settings.http_timeout_seconds) as http,
                serving_metrics(liveness, settings.metrics_host, settings.metrics_port),
            ):
                await serve_headless(runtime, http, liveness=liveness)
        return EXIT_OK
    async with open_runtime(settings) as runtime:
        refreshed = await refresh_pass(runtime, everything=True)
    console = _console()
    print_changes(console, refreshed.cycle.changes)
    for target, error in refreshed.cycle.failures.items():
        console.print(f"[yellow]failed {target}: {error}[/yellow]")
    if refreshed.stale_reports:
        plural = "s" if refreshed.stale_reports != 1 else ""
        console.print(f"Queued {refreshed.stale_reports} weekly stale report{plural}.")
    return EXIT_OK


async def cmd_webhook(args: argparse.Namespace, settings: Settings) -> int:
    kind = TargetKind.GRID if getattr(args, "grid", False) else TargetKind.PACKAGE
    console = _console()
    async with open_runtime(settings) as runtime:
        if args.webhook_command == "list":
            print_webhook_watches(console, await webhook_subscriptions.webhook_watches(runtime))
        elif args.webhook_command == "remove":
            if not await webhook_subscriptions.unwatch(runtime, args.url, args.target, kind=kind):
                raise UserError(f"That webhook does not follow the {kind} {args.target!r}.")
            console.print(f"The webhook no longer follows the {kind} {escape(args.target)}.")
        else:
            try:
                events = parse_events(args.events)
            except UnknownEvent as exc:
                raise UserError(str(exc)) from None
            preferences = AlertPreferences(events, args.min_level, not args.no_prereleases)
            async with httpx.AsyncClient(timeout=settings.http_timeout_seconds) as http:
                title, outcome = await webhook_subscriptions.watch(
                    runtime, http, args.url, args.target, kind=kind, preferences=preferences
                )
            verb = {
                "created": "now follows",
                "updated": "still follows, with updated settings,",
                "unchanged": "already follows",
            }[outcome]
            console.print(f"The webhook's channel {verb} {escape(title)}.")
    return EXIT_OK


async def cmd_stale(args: argparse.Namespace, settings: Settings) -> int:
    async with open_runtime(settings) as runtime:
        rows = await _stale_rows(runtime, args.grid)
    print_stale(_console(), rows)
    return EXIT_OK


async def _stale_rows(
    runtime: Runtime, grid_slug: str | None
) -> list[tuple[PackageRecord, Health]]:
    now = runtime.clock()
    async with runtime.database.session() as session:
        if grid_slug is None:
            candidates = await packages.all_packages(session)
        else:
            grid = await grids.find_grid(session, grid_slug)
            if grid is None:
                raise UserError(f"No grid {grid_slug!r} stored yet: run `djp-sentinel sync` first.")
            candidates = await packages.packages_in_grid(session, grid.id)
    staleness = ChannelStaleness(runtime.settings.stale_after_days)
    return stale_packages((stored.record for stored in candidates), staleness, now)


async def cmd_grid(args: argparse.Namespace, settings: Settings) -> int:
    async with open_runtime(settings) as runtime, suggesting(runtime, "grid", args.slug):
        table = await load_grid_table(runtime, args.slug, sort=args.sort)
    console = _console()
    if table.from_cache:
        console.print("[yellow]Django Packages is unreachable: showing the stored copy.[/yellow]")
    print_grid_table(console, table)
    return EXIT_OK


async def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    async with open_runtime(settings) as runtime:
        document = await export_document(runtime.database, now=runtime.clock(), guild_id=args.guild)
    sys.stdout.write(document_json(document, webhook_urls=True))
    return EXIT_OK


async def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    with args.file:
        document = parse_document(args.file.read())  # all checked before the database is opened
    async with open_runtime(settings) as runtime:
        summary = await import_document(runtime.database, document, now=runtime.clock())
    print(summary.describe())
    return EXIT_OK


async def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    database = Database.from_url(settings.database_url)
    try:
        await database.upgrade()
    finally:
        await database.dispose()
    print("Database is up to date.")
    return EXIT_OK


def _missing_token(command: str) -> int:
    print(
        "error: DISCORD_TOKEN is not set: put it in .env (see .env.example) "
        f"or export it before `djp-sentinel {command}`.",
        file=sys.stderr,
    )
    return EXIT_USAGE


async def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    if settings.token is None:
        return _missing_token("run")
    from bot.discordbot.run import run_bot  # imported here: the core never needs discord

    return await run_bot(settings, parse_roles(getattr(args, "roles", [])))


async def cmd_sync_commands(args: argparse.Namespace, settings: Settings) -> int:
    if settings.token is None:
        return _missing_token("sync-commands")
    from bot.discordbot.run import sync_commands

    return await sync_commands(settings, args.guild)


HANDLERS: dict[str, Handler] = {
    "run": cmd_run,
    "sync-commands": cmd_sync_commands,
    "package": cmd_package,
    "sync": cmd_sync,
    "poll": cmd_poll,
    "stale": cmd_stale,
    "webhook": cmd_webhook,
    "grid": cmd_grid,
    "export": cmd_export,
    "import": cmd_import,
    "db": cmd_db,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        print(f"error: {settings_problem(exc)}.", file=sys.stderr)
        return EXIT_USAGE
    secrets = [settings.token] if settings.token else []
    configure_logging(settings.log_level, secrets=secrets)
    handler = HANDLERS[args.command or "run"]
    try:
        return asyncio.run(handler(args, settings))
    except SentinelError as exc:
        print(f"error: {redact(exc.user_message, secrets)}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130
