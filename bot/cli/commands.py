"""What each `djp-sentinel` command does, once `bot.cli.main` has parsed it."""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import logging
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from bot.app import webhook_subscriptions
from bot.app.grid_table import GridTable, load_grid_table
from bot.app.lookup import not_found
from bot.app.runtime import Runtime, open_runtime
from bot.app.summaries import look_up_package
from bot.app.transfer import (
    MAX_BYTES,
    document_json,
    export_backup,
    import_document,
    parse_document,
)
from bot.cli.main import EXIT_FAILURE, EXIT_OK
from bot.cli.terminal import (
    SyncProgress,
    print_card,
    print_changes,
    print_grid_table,
    print_stale,
    print_webhook_watches,
)
from bot.config import Settings
from bot.core.events import AlertPreferences, UnknownEvent, parse_events
from bot.core.health import Health
from bot.core.records import PackageRecord
from bot.delivery.webhook import resolve_webhook, webhook_http_client
from bot.errors import NotFound, SentinelError
from bot.logs import configure_logging, redact
from bot.messages.cards import PackageSummary, package_card, package_links
from bot.messages.chart import package_chart
from bot.process.headless import serve_headless
from bot.process.liveness import Liveness
from bot.process.metrics_server import serving_metrics
from bot.process.once import poll_once
from bot.process.roles import parse_roles
from bot.refresh.names import Kind
from bot.refresh.staleness import ChannelStaleness, stale_packages
from storage import grids, packages
from storage.coordination import sole_process
from storage.database import Database
from storage.models import TargetKind

log = logging.getLogger(__name__)

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


def _console() -> Console:
    return Console(highlight=False, soft_wrap=False)


def _json(document: Any) -> None:
    print(json.dumps(document, indent=2))


def database_name(database: Database) -> str:
    """The file of a SQLite database, or the URL (password hidden) of any other."""
    url = database.engine.url
    if url.get_backend_name() == "sqlite" and url.database:
        return str(Path(url.database).resolve())
    return database.url


async def empty_database(runtime: Runtime) -> str | None:
    """A line naming the database when it holds no packages yet (a wrong file, or no sync)."""
    async with runtime.database.session() as session:
        if await packages.package_count(session):
            return None
    return (
        f"The database {database_name(runtime.database)} holds no packages yet: "
        "run `djp-sentinel sync`, or point DATABASE_URL at the one the bot uses."
    )


def _note(console: Console, line: str | None) -> None:
    if line:
        console.print(f"[yellow]{escape(line)}[/yellow]")


async def cmd_package(args: argparse.Namespace, settings: Settings) -> int:
    async with open_runtime(settings) as runtime, suggesting(runtime, "package", args.slug):
        lookup = await look_up_package(runtime, args.slug)
    summary = lookup.summary
    if args.chart is not None:
        write_chart(args.chart, summary)
    if args.json:
        _json(
            {
                "record": summary.record.model_dump(mode="json"),
                "health": {
                    "state": summary.health.state,
                    "reasons": list(summary.health.reasons),
                },
                "category": summary.category,
                "grids": [{"slug": g.slug, "title": g.title} for g in summary.grids],
                "links": {link.label: link.url for link in package_links(summary)},
                "from_cache": lookup.from_cache,
            }
        )
        return EXIT_OK
    console = _console()
    if lookup.from_cache:
        console.print("[yellow]Django Packages is unreachable: showing the stored copy.[/yellow]")
    print_card(console, package_card(summary))
    return EXIT_OK


def write_chart(path: Path, summary: PackageSummary) -> None:
    """Write the package's commit chart to `path`; a package without commit data has none."""
    chart = package_chart(summary)
    if chart is None:
        raise UserError(f"{summary.record.slug} has no commit data: no chart written.")
    try:
        path.write_bytes(chart)
    except OSError as exc:
        raise UserError(f"Cannot write the chart to {path}: {exc.strerror}.") from None
    print(f"Wrote the commit chart to {path} ({len(chart):,} bytes).", file=sys.stderr)


async def cmd_sync(args: argparse.Namespace, settings: Settings) -> int:
    console = _console()
    async with open_runtime(settings) as runtime:
        with SyncProgress(console) as progress:
            report = await runtime.monitor.sync_catalog(progress.update)
    console.print(
        f"Synced {report.packages_fetched} packages, {report.grids_fetched} grids and "
        f"{report.categories_fetched} categories in {report.requests} requests; "
        f"{len(report.changes)} changes, {len(report.failures)} skipped."
    )
    for target, error in report.failures.items():
        console.print(f"[yellow]skipped {escape(target)}: {escape(error)}[/yellow]")
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
    async with (
        open_runtime(settings) as runtime,
        webhook_http_client(settings.http_timeout_seconds) as http,
    ):
        once = await poll_once(runtime, http, everything=args.all)
        empty = await empty_database(runtime)
    console = _console()
    _note(console, empty)
    cycle = once.refreshed.cycle
    print_changes(console, once.changes)
    if once.unwatched:
        plural = "s" if once.unwatched != 1 else ""
        console.print(
            f"({once.unwatched} change{plural} of packages nobody watches not shown: --all)"
        )
    for target, error in cycle.failures.items():
        console.print(f"[yellow]failed {escape(target)}: {escape(error)}[/yellow]")
    if once.refreshed.stale_reports:
        plural = "s" if once.refreshed.stale_reports != 1 else ""
        console.print(f"Queued {once.refreshed.stale_reports} weekly stale report{plural}.")
    delivered = once.delivered
    console.print(
        f"Delivered {delivered.sent} alert{'s' if delivered.sent != 1 else ''} "
        f"in {delivered.messages} message{'s' if delivered.messages != 1 else ''}"
        + (f"; {delivered.waiting} wait for the bot (no webhook)" if delivered.waiting else "")
        + (f"; {delivered.retrying} will be retried" if delivered.retrying else "")
        + "."
    )
    return EXIT_OK


async def cmd_webhook(args: argparse.Namespace, settings: Settings) -> int:
    kind = TargetKind.GRID if getattr(args, "grid", False) else TargetKind.PACKAGE
    console = _console()
    async with open_runtime(settings) as runtime:
        if args.webhook_command == "list":
            watches = await webhook_subscriptions.webhook_watches(runtime)
            if not watches:
                _note(console, await empty_database(runtime))
            print_webhook_watches(console, watches)
        elif args.webhook_command == "remove":
            removed = await webhook_subscriptions.unwatch(
                runtime, args.webhook, args.target, kind=kind
            )
            if not removed:
                raise UserError(f"That webhook does not follow the {kind} {args.target!r}.")
            console.print(f"The webhook no longer follows the {kind} {escape(args.target)}.")
        else:
            try:
                events = parse_events(args.events)
            except UnknownEvent as exc:
                raise UserError(str(exc)) from None
            preferences = AlertPreferences(events, args.min_level, not args.no_prereleases)
            async with (
                webhook_http_client(settings.http_timeout_seconds) as http,
                suggesting(runtime, kind.value, args.target),
            ):
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
        empty = await empty_database(runtime)
    if args.json:
        _json([_stale_json(record, health) for record, health in rows])
        return EXIT_OK
    console = _console()
    _note(console, empty)
    print_stale(console, rows)
    return EXIT_OK


def _stale_json(record: PackageRecord, health: Health) -> dict[str, Any]:
    last = health.last_commit
    return {
        "slug": record.slug,
        "title": record.title,
        "last_commit": last.date().isoformat() if last else None,
        "state": health.state,
        "reasons": list(health.reasons),
    }


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
                message = await not_found(runtime, "grid", grid_slug)
                raise UserError(f"{message} (Grids are stored by `djp-sentinel sync`.)")
            candidates = await packages.packages_in_grid(session, grid.id)
    staleness = ChannelStaleness(runtime.settings.stale_after_days)
    return stale_packages((stored.record for stored in candidates), staleness, now)


async def cmd_grid(args: argparse.Namespace, settings: Settings) -> int:
    async with open_runtime(settings) as runtime, suggesting(runtime, "grid", args.slug):
        table = await load_grid_table(runtime, args.slug, sort=args.sort)
    if args.json:
        _json(_grid_json(table))
        return EXIT_OK
    console = _console()
    if table.from_cache:
        console.print("[yellow]Django Packages is unreachable: showing the stored copy.[/yellow]")
    print_grid_table(console, table)
    return EXIT_OK


def _grid_json(table: GridTable) -> dict[str, Any]:
    return {
        "slug": table.slug,
        "title": table.title,
        "sort": table.sort,
        "from_cache": table.from_cache,
        "packages": [
            {
                "rank": row.rank,
                "slug": row.slug,
                "title": row.title,
                "stars": row.stars,
                "version": row.version,
                "last_commit": row.last_commit.date().isoformat() if row.last_commit else None,
                "health": row.health.state,
                "reasons": list(row.health.reasons),
            }
            for row in table.rows
        ],
    }


async def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    async with open_runtime(settings) as runtime:
        document = await export_backup(runtime.database, now=runtime.clock(), guild_id=args.guild)
        if not document.subscriptions:
            name = database_name(runtime.database)
            print(f"note: no subscriptions in {name}.", file=sys.stderr)
    sys.stdout.write(document_json(document, webhook_urls=True))
    return EXIT_OK


async def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    test_host = settings.webhook_test_host
    with args.file:
        text = args.file.read(MAX_BYTES + 1)  # a larger file is refused unread
    document = parse_document(text, test_host=test_host)  # checked before opening the database
    async with (
        open_runtime(settings) as runtime,
        webhook_http_client(settings.http_timeout_seconds) as http,
    ):
        summary = await import_document(
            runtime.database,
            document,
            now=runtime.clock(),
            guild=args.guild,
            resolve=functools.partial(resolve_webhook, http, test_host=test_host),
        )
    print(summary.describe())
    return EXIT_OK


async def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    database = Database.from_url(settings.database_url)
    try:
        applied = await database.upgrade()
        name = database_name(database)
    finally:
        await database.dispose()
    if not applied:
        print(f"The database {name} is up to date: no migration to apply.")
        return EXIT_OK
    print(f"Applied {len(applied)} migration{'s' if len(applied) != 1 else ''} to {name}:")
    for migration in applied:
        print(f"  {migration}")
    return EXIT_OK


async def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.discordbot.run import run_bot  # imported here: only the bot needs discord

    return await run_bot(settings, parse_roles(getattr(args, "roles", [])))


async def cmd_sync_commands(args: argparse.Namespace, settings: Settings) -> int:
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


def run_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run the parsed command; a `SentinelError` is one line on stderr and exit 1."""
    secrets = settings.secrets
    configure_logging(settings.log_level, secrets=secrets, log_format=settings.log_format)
    handler = HANDLERS[args.command or "run"]
    try:
        return asyncio.run(handler(args, settings))
    except SentinelError as exc:
        print(f"error: {redact(exc.user_message, secrets)}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130
