"""`djp-sentinel poll [--once [--all]]`: the headless mode, or one cycle of it."""

from __future__ import annotations

import argparse

from bot.app.runtime import open_runtime
from bot.cli.common import empty_database
from bot.cli.output import data_console, note
from bot.cli.terminal import print_changes
from bot.config import Settings
from bot.core.plural import counted
from bot.delivery.webhook import webhook_http_client
from bot.process.once import OnceReport, poll_once


async def poll(args: argparse.Namespace, settings: Settings) -> int:
    if not args.once:
        return await serve(settings)
    async with (
        open_runtime(settings, metrics=False) as runtime,
        webhook_http_client(settings.http_timeout_seconds) as http,
    ):
        once = await poll_once(runtime, http, everything=args.all)
        empty = await empty_database(runtime)
    note(empty)
    report(once)
    return 0


async def serve(settings: Settings) -> int:
    """Refresh and deliver on schedule until stopped, serving `/healthz` and `/metrics`."""
    from bot.process.headless import run_headless

    await run_headless(settings)
    return 0


def report(once: OnceReport) -> None:
    """The changes on stdout, what was delivered after them; failures and notes on stderr."""
    console = data_console()
    if once.changes or not once.delivered.sent:
        print_changes(console, once.changes)
    else:  # what is delivered was found earlier (by `sync`, or a cycle that could not deliver)
        console.print("No new changes; delivering what an earlier sync or cycle found.")
    if once.unwatched:
        note(f"({counted(once.unwatched, 'change')} of packages nobody watches not shown: --all)")
    for target, error in once.refreshed.cycle.failures.items():
        note(f"failed {target}: {error}")
    if once.refreshed.stale_reports:
        reports = counted(once.refreshed.stale_reports, "weekly stale report")
        console.print(f"Queued {reports}.")
    delivered = once.delivered
    console.print(
        f"Delivered {counted(delivered.sent, 'alert')} in {counted(delivered.messages, 'message')}"
        + (f"; {delivered.waiting} wait for the bot (no webhook)" if delivered.waiting else "")
        + (f"; {delivered.retrying} will be retried" if delivered.retrying else "")
        + "."
    )
