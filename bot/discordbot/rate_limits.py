"""Count Discord's 429 answers for `/metrics`; discord.py itself waits them out and retries."""

from __future__ import annotations

from types import SimpleNamespace

import aiohttp

from bot import metrics


def count_rate_limits() -> aiohttp.TraceConfig:
    """A trace for discord.py's HTTP session (`http_trace=`) counting every 429 it receives."""

    async def on_request_end(
        _session: aiohttp.ClientSession,
        _context: SimpleNamespace,
        params: aiohttp.TraceRequestEndParams,
    ) -> None:
        if params.response.status == 429:
            metrics.DISCORD_RATE_LIMITED.labels("bot").inc()

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(on_request_end)
    return trace
