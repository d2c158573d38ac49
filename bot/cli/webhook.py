"""`djp-sentinel webhook add|remove|list`: subscriptions delivered through Discord webhooks."""

from __future__ import annotations

import argparse

from bot.app import webhook_subscriptions
from bot.app.runtime import Runtime, open_runtime
from bot.cli.common import UserError, empty_database, suggesting
from bot.cli.output import data_console, note
from bot.cli.terminal import print_webhook_watches
from bot.config import Settings
from bot.core.events import AlertPreferences, UnknownEvent, parse_events
from bot.delivery.webhook import webhook_http_client
from storage.models import TargetKind

VERBS = {
    "created": "now follows",
    "updated": "still follows, with updated settings,",
    "unchanged": "already follows",
}


async def webhook(args: argparse.Namespace, settings: Settings) -> int:
    kind = TargetKind.GRID if getattr(args, "grid", False) else TargetKind.PACKAGE
    async with open_runtime(settings, metrics=False) as runtime:
        if args.webhook_command == "list":
            watches = await webhook_subscriptions.webhook_watches(runtime)
            if not watches:
                note(await empty_database(runtime))
            print_webhook_watches(data_console(), watches)
        elif args.webhook_command == "remove":
            if not await webhook_subscriptions.unwatch(
                runtime, args.webhook, args.target, kind=kind
            ):
                raise UserError(f"That webhook does not follow the {kind} {args.target!r}.")
            print(f"The webhook no longer follows the {kind} {args.target}.")
        else:
            await add(runtime, args, kind)
    return 0


async def add(runtime: Runtime, args: argparse.Namespace, kind: TargetKind) -> None:
    try:
        events = parse_events(args.events)
    except UnknownEvent as exc:
        raise UserError(str(exc)) from None
    preferences = AlertPreferences(events, args.min_level, not args.no_prereleases)
    async with (
        webhook_http_client(runtime.settings.http_timeout_seconds) as http,
        suggesting(runtime, kind.value, args.target),
    ):
        title, outcome = await webhook_subscriptions.watch(
            runtime, http, args.url, args.target, kind=kind, preferences=preferences
        )
    print(f"The webhook's channel {VERBS[outcome]} {title}.")
