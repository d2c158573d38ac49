"""This process's place among the delivery workers sharing one database, and its share of
Discord's global budget.

A delivery pass beats at its start and every `BEAT_EVERY` seconds while it posts
(`storage.workers`); each beat counts the live workers and sets this process's pacer to its
share, `budget / live`, so N workers together stay within the budget. A worker joining others
waits one beat before posting, time for them to see it and shrink their shares; a worker that
stops cleanly leaves at once, one that dies stops counting after `LIVE_WITHIN`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from bot import metrics
from bot.core.clock import Clock
from bot.delivery import identity
from bot.delivery.identity import WorkerId
from bot.delivery.pacing import Pacer
from storage import workers
from storage.database import Database
from storage.workers import LIVE_WITHIN

#: Seconds between beats while a pass posts: how soon the others see a worker join.
BEAT_EVERY = 1.0


class Registration:
    """Joins the registry at the first beat, leaves it on `leave`; `live` is the count the
    last beat saw. Named as the worker's claims are (`bot.delivery.identity`)."""

    def __init__(
        self,
        database: Database,
        pacer: Pacer,
        *,
        budget: int,
        clock: Clock,
        delivery_interval: float,
        worker: WorkerId | None = None,
    ) -> None:
        self.database = database
        self.pacer = pacer
        self.budget = budget
        self.clock = clock
        self.live_within = max(LIVE_WITHIN, timedelta(seconds=3 * delivery_interval))
        self.name = str(worker or identity.current())
        self.live = 1
        self._joined = False

    async def beat(self) -> int:
        """Record that this worker is alive and take its share of the budget; how many
        workers are live (this one included)."""
        now = self.clock()
        async with self.database.transaction() as session:
            await workers.beat(session, self.name, now=now)
            self.live = await workers.live_count(session, now=now, within=self.live_within)
        self.pacer.rate = max(self.budget // self.live, 1)
        metrics.DELIVERY_WORKERS_LIVE.set(self.live)
        return self.live

    @asynccontextmanager
    async def beating(self) -> AsyncIterator[None]:
        """Beat now (and, joining others, wait a beat), then every `BEAT_EVERY` while inside."""
        await self.beat()
        if not self._joined and self.live > 1:
            await asyncio.sleep(BEAT_EVERY)
        self._joined = True
        task = asyncio.create_task(self._keep_beating())
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def leave(self) -> None:
        async with self.database.transaction() as session:
            await workers.leave(session, self.name)
        self._joined = False

    async def _keep_beating(self) -> None:
        while True:
            await asyncio.sleep(BEAT_EVERY)
            await self.beat()
