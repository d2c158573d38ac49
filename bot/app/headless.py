"""Headless mode: refresh and deliver to webhook subscriptions, with no Discord gateway.

`djp-sentinel poll` runs this: the same poll cycle and outbox as the bot, posting through each
subscription's webhook URL. Alerts of subscriptions without a webhook wait for a bot to run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable

import httpx

from bot.app.jobs import delivery_worker, refresh_pass, survive
from bot.app.runtime import Runtime
from bot.delivery.senders import RoutingSender
from bot.delivery.webhook import WebhookSender

log = logging.getLogger(__name__)

#: Seconds between two passes over the outbox.
DELIVERY_INTERVAL = 5.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


async def every(
    seconds: float,
    what: str,
    step: Callable[[], Awaitable[object]],
    *,
    wake: asyncio.Event | None = None,
) -> None:
    """Run `step` now and then every `seconds` (sooner when `wake` is set), surviving its
    failures, until cancelled."""
    while True:
        with survive(what):
            await step()
        if wake is None:
            await asyncio.sleep(seconds)
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), seconds)
        wake.clear()


async def serve_headless(
    runtime: Runtime, http: httpx.AsyncClient, *, delivery_interval: float = DELIVERY_INTERVAL
) -> None:
    """Refresh every `POLL_INTERVAL_SECONDS` and deliver every few seconds until SIGINT/SIGTERM.

    A stop signal cancels the loops between awaits; a cycle's open transaction then rolls
    back, so nothing is half-written.
    """
    worker = delivery_worker(runtime, RoutingSender(None, WebhookSender(http)))
    fresh_alerts = asyncio.Event()

    async def refresh() -> None:
        await refresh_pass(runtime)
        fresh_alerts.set()  # deliver what the cycle found now, not at the next tick

    loops = [
        asyncio.create_task(every(runtime.settings.poll_interval_seconds, "refresh", refresh)),
        asyncio.create_task(
            every(delivery_interval, "delivery", worker.run_once, wake=fresh_alerts)
        ),
    ]
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
        log.info("stop signal received: stopping")
    finally:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)
        for task in loops:
            task.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
