"""The HTTP endpoint of one process (`METRICS_PORT`): `/healthz` and Prometheus `/metrics`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.errors import SentinelError
from bot.process.liveness import Liveness

log = logging.getLogger(__name__)


def metrics_app(liveness: Liveness) -> web.Application:
    async def healthz(_request: web.Request) -> web.Response:
        failing = liveness.failing()
        if failing:
            return web.Response(status=503, text=f"not working: {', '.join(failing)}\n")
        return web.Response(text="ok\n")

    async def metrics(_request: web.Request) -> web.Response:
        response = web.Response(body=generate_latest())
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
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
