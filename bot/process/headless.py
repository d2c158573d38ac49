"""Headless mode: refresh and deliver to webhook subscriptions, with no Discord gateway.

`djp-sentinel poll` runs this: the same poll cycle and outbox as the bot, posting through each
subscription's webhook URL. Alerts of subscriptions without a webhook wait for a bot to run.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from functools import partial
from typing import Any

import httpx

from bot import metrics
from bot.app.runtime import Runtime
from bot.process.jobs import (
    delivery_pass,
    delivery_registration,
    delivery_worker,
    refresh_pass,
    survive,
)
from bot.process.liveness import SLACK, Liveness
from bot.process.loops import Loop
from bot.process.retention import RETENTION_INTERVAL, retention_pass
from storage.coordination import Leadership

log = logging.getLogger(__name__)

#: Seconds between two passes over the outbox.
DELIVERY_INTERVAL = 5.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


async def serve_headless(
    runtime: Runtime,
    http: httpx.AsyncClient,
    *,
    liveness: Liveness | None = None,
    delivery_interval: float = DELIVERY_INTERVAL,
) -> None:
    """Refresh every `POLL_INTERVAL_SECONDS` and deliver every few seconds until SIGINT/SIGTERM.

    A stop signal stops the loops between passes (`bot.process.loops`), as a closing bot does. On
    PostgreSQL only the elected monitor refreshes, as with `run --role monitor`. Each pass
    beats in `liveness`, which `/healthz` reads.
    """
    liveness = liveness or Liveness()
    worker = delivery_worker(runtime, None, http)
    leadership = Leadership(runtime.database)
    registration = delivery_registration(runtime, delivery_interval)

    async def deliver() -> None:
        await delivery_pass(runtime, worker, registration)

    async def refresh() -> None:
        leading = await leadership.hold()
        metrics.LEADER.set(leading)
        if leading:
            await refresh_pass(runtime)
            delivery.wake()  # deliver what the cycle found now, not at the next tick

    def beating(name: str, seconds: float) -> Callable[[], None]:
        liveness.expect(name)
        return lambda: liveness.beat(name, seconds + SLACK)

    poll_interval = runtime.settings.poll_interval_seconds
    delivery = Loop(
        "delivery", deliver, delivery_interval, after_pass=beating("delivery", delivery_interval)
    )
    loops: list[Loop[Any]] = [
        Loop("refresh cycle", refresh, poll_interval, after_pass=beating("monitor", poll_interval)),
        delivery,
        Loop("retention", partial(retention_pass, runtime), RETENTION_INTERVAL),
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
        await leadership.release()
        with survive("leaving the delivery workers"):
            await registration.leave()
