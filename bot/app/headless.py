"""Headless mode: refresh and deliver to webhook subscriptions, with no Discord gateway.

`djp-sentinel poll` runs this: the same poll cycle and outbox as the bot, posting through each
subscription's webhook URL. Alerts of subscriptions without a webhook wait for a bot to run.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

import httpx

from bot.app.jobs import delivery_worker, refresh_pass
from bot.app.loops import Loop
from bot.app.runtime import Runtime
from bot.delivery.senders import RoutingSender
from bot.delivery.webhook import WebhookSender

log = logging.getLogger(__name__)

#: Seconds between two passes over the outbox.
DELIVERY_INTERVAL = 5.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


async def serve_headless(
    runtime: Runtime, http: httpx.AsyncClient, *, delivery_interval: float = DELIVERY_INTERVAL
) -> None:
    """Refresh every `POLL_INTERVAL_SECONDS` and deliver every few seconds until SIGINT/SIGTERM.

    A stop signal stops the loops between passes (`bot.app.loops`), as a closing bot does.
    """
    worker = delivery_worker(runtime, RoutingSender(None, WebhookSender(http)))
    delivery = Loop("delivery", worker.run_once, delivery_interval)

    async def refresh() -> None:
        await refresh_pass(runtime)
        delivery.wake()  # deliver what the cycle found now, not at the next tick

    loops: list[Loop[Any]] = [
        Loop("refresh cycle", refresh, runtime.settings.poll_interval_seconds),
        delivery,
    ]
    for each in loops:
        each.start()
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
        await asyncio.gather(*(each.stop() for each in loops))
