"""The HTTP endpoint of one process (`METRICS_PORT`): `/healthz` and Prometheus `/metrics`.

`/metrics` is prometheus-client's own handler: it negotiates the format (OpenMetrics for a
scraper that asks for it, the text format otherwise) and compresses when asked.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web
from prometheus_client.aiohttp import make_aiohttp_handler

from bot.errors import SentinelError
from bot.process.liveness import Liveness

log = logging.getLogger(__name__)


def metrics_app(liveness: Liveness) -> web.Application:
    async def healthz(_request: web.Request) -> web.Response:
        failing = liveness.failing()
        if failing:
            return web.Response(status=503, text=f"not working: {', '.join(failing)}\n")
        return web.Response(text="ok\n")

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", make_aiohttp_handler())
    return app


@asynccontextmanager
async def serving_metrics(liveness: Liveness, host: str, port: int | None) -> AsyncIterator[None]:
    """Serve `/healthz` and `/metrics` on `host:port` while inside; nothing when `port` is None."""
    if port is None:
        yield
        return
    runner = web.AppRunner(metrics_app(liveness), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    try:
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as exc:
            raise SentinelError(
                f"Cannot serve metrics on {host}:{port} (METRICS_PORT): {exc.strerror}."
            ) from None
        log.info("serving /healthz and /metrics on %s:%d", host, port)
        yield
    finally:
        await runner.cleanup()
