"""The two loops of a running bot: refresh watched records (then queue the weekly stale
reports that fell due), and deliver the outbox.

Each pass holds a lock, so a pass driven by hand (`poll_once`, `deliver_once`) never overlaps
the loop's own, and unloading waits for the pass in progress before cancelling the loop: a bot
that is closed stops between cycles. A pass that outlasts `STOP_GRACE` is cancelled; its open
transaction then rolls back, so no cycle is ever half-written.
"""

from __future__ import annotations

import asyncio
import logging

from discord.ext import commands, tasks

from bot.app.jobs import RefreshPass, delivery_worker, refresh_pass, survive
from bot.delivery.senders import RoutingSender
from bot.delivery.webhook import WebhookSender
from bot.delivery.worker import DeliveryReport
from bot.discordbot.bot import SentinelBot
from bot.discordbot.sender import DiscordSender

log = logging.getLogger(__name__)

#: Seconds a closing bot waits for a pass in progress before cancelling it.
STOP_GRACE = 20.0


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
        sender = RoutingSender(DiscordSender(bot), WebhookSender(bot.http_client))
        self.worker = delivery_worker(bot.runtime, sender)
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

    async def poll_once(self) -> RefreshPass:
        """One refresh cycle (due packages and grids fetched, changes written to the outbox),
        then the weekly stale reports that fell due."""
        async with self._polling:
            return await refresh_pass(self.bot.runtime)

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
