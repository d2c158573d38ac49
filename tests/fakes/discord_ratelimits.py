"""Discord's rate limits, enforced by the fake with Discord's headers.

- Global: at most `global_rate` requests per second for the bot token (interaction callbacks
  and webhooks are exempt, as on Discord); over it, a global 429.
- Per route: message posts in a channel, and executions of a webhook, are buckets of
  `route_limit` requests per `route_period` seconds (Discord's 5 per 5 s). Every answer on such
  a route carries `X-RateLimit-Limit/Remaining/Reset/Reset-After/Bucket`, which discord.py (and the
  webhook sender) read to wait before a bucket runs dry; over it, a 429 for that route.

Windows slide over arrival times; a refused request does not count.
"""

from __future__ import annotations

import math
import re
import time
from collections import deque
from dataclasses import dataclass, field

from aiohttp import web

from tests.fakes.discord_http import json_response

DISCORD_GLOBAL_RATE = 50
BUCKETED = re.compile(r"^POST (/channels/\d+/messages|/webhooks/\d+)(?:/[^/]+)?$")
EXEMPT = ("/interactions/", "/webhooks/")


def rate_limited(retry_after: float, scope: str, *, bucket: str | None = None) -> web.Response:
    """Discord's 429: discord.py retries it only with a `Via` header and JSON `retry_after`."""
    headers = {
        "Via": "1.1 google",
        "Retry-After": str(max(1, math.ceil(retry_after))),
        "X-RateLimit-Scope": scope,
    }
    if scope == "global":
        headers["X-RateLimit-Global"] = "true"
    if bucket is not None:
        headers["X-RateLimit-Bucket"] = bucket
    body = {
        "message": "You are being rate limited.",
        "retry_after": round(retry_after, 3),
        "global": scope == "global",
    }
    return json_response(body, 429, headers)


@dataclass
class RateLimits:
    global_rate: int | None = DISCORD_GLOBAL_RATE
    route_limit: int | None = 5
    route_period: float = 5.0
    _global: deque[float] = field(default_factory=deque)
    _routes: dict[str, deque[float]] = field(default_factory=dict)

    def admit(self, method: str, path: str, *, bot_token: bool) -> web.Response | None:
        """Count a request arriving now; a 429 if it is over a limit (then it does not count)."""
        now = time.monotonic()
        exempt = not bot_token or path.startswith(EXEMPT)
        if self.global_rate is not None and not exempt:
            _slide(self._global, now, 1.0)
            if len(self._global) >= self.global_rate:
                return rate_limited(self._global[0] + 1.0 - now, "global")
        route = self.route(method, path)
        if route is not None and self.route_limit is not None:
            used = self._routes.setdefault(route, deque())
            _slide(used, now, self.route_period)
            if len(used) >= self.route_limit:
                wait = used[0] + self.route_period - now
                return rate_limited(wait, "user", bucket=_bucket(route))
            used.append(now)
        if self.global_rate is not None and not exempt:
            self._global.append(now)
        return None

    def headers(self, method: str, path: str) -> dict[str, str]:
        """The rate-limit headers of an answer on a bucketed route, after it was counted."""
        route = self.route(method, path)
        if route is None or self.route_limit is None:
            return {}
        used = self._routes.get(route) or deque([time.monotonic()])
        reset_after = max(used[0] + self.route_period - time.monotonic(), 0.0)
        return {
            "X-RateLimit-Limit": str(self.route_limit),
            "X-RateLimit-Remaining": str(max(self.route_limit - len(used), 0)),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": _bucket(route),
        }

    @staticmethod
    def route(method: str, path: str) -> str | None:
        """The bucket a request falls in: a channel's message posts, or one webhook."""
        match = BUCKETED.match(f"{method} {path}")
        return None if match is None else match[1]


def _slide(window: deque[float], now: float, period: float) -> None:
    while window and window[0] <= now - period:
        window.popleft()


def _bucket(route: str) -> str:
    return format(abs(hash(route)) % 16**12, "012x")
