"""Processes without a Discord connection: headless `djp-sentinel poll` and `run --role monitor`.

`poll` refreshes and delivers to webhook subscriptions: the same poll cycle and outbox as the
bot, posting through each subscription's webhook URL. Alerts of subscriptions without a webhook
wait for a bot to run. A monitor-only `run` needs nothing from Discord at all.
"""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack

import httpx

from bot.app.runtime import Runtime, open_runtime
from bot.config import Settings
from bot.delivery.webhook import webhook_http_client
from bot.process.assembly import ProcessLoops
from bot.process.liveness import Liveness
from bot.process.metrics_server import serving_metrics
from bot.process.roles import Role, describe
from bot.process.stopping import stop_signal
from storage.coordination import sole_process

log = logging.getLogger(__name__)

#: What `djp-sentinel poll` does.
HEADLESS_ROLES = frozenset({Role.MONITOR, Role.DELIVERY})


async def serve_headless(
    runtime: Runtime,
    http: httpx.AsyncClient,
    *,
    roles: frozenset[Role] = HEADLESS_ROLES,
    liveness: Liveness | None = None,
) -> None:
    """Run the loops of `roles` (`bot.process.assembly`) until SIGINT/SIGTERM, with webhooks as
    the only way to post.

    A stop signal stops the loops between passes, as a closing bot does. On PostgreSQL only the
    elected monitor refreshes, as with `run --role monitor`. Each pass beats in `liveness`,
    which `/healthz` reads.
    """
    loops = ProcessLoops(runtime, roles, http, liveness=liveness)
    async with stop_signal() as stop:
        loops.start()
        try:
            await stop.wait()
            log.info("stop signal received: stopping")
        finally:
            await loops.stop()


async def run_headless(settings: Settings, roles: frozenset[Role] = HEADLESS_ROLES) -> None:
    """A process without Discord, from start to stop: the SQLite process lock, `/healthz` and
    `/metrics` from the start (waiting for the database while it opens), then `serve_headless`.
    """
    liveness = Liveness()
    with sole_process(settings.database_url):
        async with (
            serving_metrics(liveness, settings.metrics_host, settings.metrics_port),
            AsyncExitStack() as stack,
        ):
            log.info("running as %s", describe(roles))
            with liveness.waiting_for("the database"):
                runtime = await stack.enter_async_context(
                    open_runtime(settings, label=describe(roles))
                )
            http = webhook_http_client(settings.http_timeout_seconds)
            await stack.enter_async_context(http)
            await serve_headless(runtime, http, roles=roles, liveness=liveness)
