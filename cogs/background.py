"""The two loops of a running bot: refresh watched records, and deliver the outbox.

Each pass holds a lock, so a pass driven by hand (`poll_once`, `deliver_once`) never overlaps
the loop's own, and unloading waits for the pass in progress before cancelling the loop: a bot
that is closed stops between cycles. A pass that outlasts `STOP_GRACE` is cancelled; its open
transaction then rolls back, so no cycle is ever half-written.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import discord
import httpx
from discord.ext import commands, tasks
from sqlalchemy.exc import SQLAlchemyError

from bot.delivery import DeliveryReport, DeliveryWorker
from bot.discordbot.bot import SentinelBot
from bot.discordbot.sender import DiscordSender
from bot.errors import SentinelError
from bot.monitor import CycleReport
from bot.render import site_root
from bot.senders import RoutingSender
from bot.webhook_sender import WebhookSender

log = logging.getLogger(__name__)

#: Seconds a closing bot waits for a pass in progress before cancelling it.
STOP_GRACE = 20.0
EXPECTED = (SentinelError, httpx.HTTPError, SQLAlchemyError, discord.HTTPException)


@contextmanager
def survive(what: str) -> Iterator[None]:
    """Log a failed pass instead of letting it end the loop (discord.py would stop it)."""
    try:
        yield
    except EXPECTED as exc:
        log.warning("%s failed, will try again next time: %s", what, exc)
    except Exception:
        log.exception("%s failed unexpectedly, will try again next time", what)


async def stop_between_passes(loop: tasks.Loop, busy: asyncio.Lock) -> None:
    """Cancel `loop` once the pass in progress has finished (or after `STOP_GRACE`)."""
    try:
        async with asyncio.timeout(STOP_GRACE), busy:
            loop.cancel()
            return
    except TimeoutError:
        log.warning("a pass was still running after %.0f s: cancelling it", STOP_GRACE)
    loop.cancel()


class Background(commands.Cog):
    def __init__(self, bot: SentinelBot) -> None:
        self.bot = bot
        runtime = bot.runtime
        sender = RoutingSender(DiscordSender(bot), WebhookSender(bot.http_client))
        self.worker = DeliveryWorker(
            runtime.database,
            sender,
            site_url=site_root(runtime.settings.djp_api_url),
            clock=runtime.monitor.clock,  # one clock: alerts are due when the monitor says
        )
        self._polling = asyncio.Lock()
        self._delivering = asyncio.Lock()

    async def cog_load(self) -> None:
        self.poll.change_interval(seconds=self.bot.runtime.settings.poll_interval_seconds)
        self.deliver.change_interval(seconds=self.bot.delivery_interval)
        self.poll.start()
        self.deliver.start()

    async def cog_unload(self) -> None:
        await stop_between_passes(self.poll, self._polling)
        await stop_between_passes(self.deliver, self._delivering)

    async def poll_once(self) -> CycleReport:
        """One refresh cycle: due packages and grids fetched, changes written to the outbox."""
        async with self._polling:
            report = await self.bot.runtime.monitor.run_cycle()
        log.info(
            "cycle (%s): %d packages, %d grids, %d changes, %d alerts, %d failures",
            report.plan,
            report.packages_fetched,
            report.grids_fetched,
            len(report.changes),
            report.alerts_enqueued,
            len(report.failures),
        )
        return report

    async def deliver_once(self) -> DeliveryReport:
        """One pass over the outbox: due alerts posted, failures settled."""
        async with self._delivering:
            return await self.worker.run_once()

    @tasks.loop(hours=6)
    async def poll(self) -> None:
        with survive("refresh cycle"):
            await self.poll_once()

    @tasks.loop(seconds=5)
    async def deliver(self) -> None:
        with survive("delivery"):
            await self.deliver_once()

    @poll.before_loop
    @deliver.before_loop
    async def until_ready(self) -> None:
        await self.bot.wait_until_ready()


async def setup(bot: SentinelBot) -> None:
    await bot.add_cog(Background(bot))
