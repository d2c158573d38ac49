"""This process's place among the delivery workers sharing one database.

Every pass beats (`storage.workers`); the number of workers that beat recently is how many
ways Discord's global request budget is split, so N workers together stay within it.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable
from datetime import datetime, timedelta

from bot import metrics
from storage import workers
from storage.database import Database

#: A worker that has not beaten for this long (or three delivery intervals) is no longer live.
LIVE_WITHIN = timedelta(seconds=30)


class Registration:
    """Joins the registry at the first `beat`, leaves it on `leave`; `live` is the count the
    last beat saw. The name is unique per process start, so a restarted worker is new."""

    def __init__(
        self, database: Database, *, clock: Callable[[], datetime], delivery_interval: float
    ) -> None:
        self.database = database
        self.clock = clock
        self.live_within = max(LIVE_WITHIN, timedelta(seconds=3 * delivery_interval))
        self.name = f"{socket.gethostname()[:80]}:{os.getpid()}:{secrets.token_hex(4)}"
        self.live = 1

    async def beat(self) -> int:
        """Record that this worker is alive; how many workers are (this one included)."""
        now = self.clock()
        async with self.database.transaction() as session:
            await workers.beat(session, self.name, now=now)
            self.live = await workers.live_count(session, now=now, within=self.live_within)
        metrics.DELIVERY_WORKERS_LIVE.set(self.live)
        return self.live

    async def leave(self) -> None:
        async with self.database.transaction() as session:
            await workers.leave(session, self.name)
