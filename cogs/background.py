"""The loops of a running bot, one per role of this process: refresh watched records (then
queue the weekly stale reports that fell due) while elected monitor, and deliver the outbox.

Each pass holds a lock, so a pass driven by hand (`poll_once`, `deliver_once`) never overlaps
the loop's own, and unloading waits for the pass in progress before cancelling the loop: a bot
that is closed stops between cycles. A pass that outlasts `STOP_GRACE` is cancelled; its open
transaction then rolls back, so no cycle is ever half-written.

A monitor standing by asks for the lock every `STANDBY_CHECK` seconds (or every poll interval,
if shorter), so it takes over within that time of the leader's death; its first cycle as leader
fetches only what fell due, so the API sees no more requests than with one monitor.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from discord.ext import commands, tasks

from bot import metrics
from bot.app.jobs import RefreshPass, delivery_pass, delivery_worker, refresh_pass, survive
from bot.app.roles import Role
from bot.delivery.senders import RoutingSender
from bot.delivery.webhook import WebhookSender
from bot.delivery.worker import DeliveryReport
from bot.discordbot.bot import SentinelBot
from bot.discordbot.sender import DiscordSender

log = logging.getLogger(__name__)

#: Seconds a closing bot waits for a pass in progress before cancelling it.
STOP_GRACE = 20.0
#: Seconds between two attempts of a standby monitor to take the lead.
STANDBY_CHECK = 10.0
#: Slack on top of a loop's interval before `/healthz` calls it stuck.
LIVENESS_SLACK = 60.0


async def stop_between_passes(loop: tasks.Loop[Any], busy: asyncio.Lock) -> None:
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

    @property
    def poll_interval(self) -> float:
        return self.bot.runtime.settings.poll_interval_seconds

    async def cog_load(self) -> None:
        if Role.MONITOR in self.bot.roles:
            self.poll.change_interval(seconds=min(self.poll_interval, STANDBY_CHECK))
            self.bot.liveness.expect("monitor")
            self.poll.start()
        if Role.DELIVERY in self.bot.roles:
            self.deliver.change_interval(seconds=self.bot.delivery_interval)
            self.bot.liveness.expect("delivery")
            self.deliver.start()

    async def cog_unload(self) -> None:
        await stop_between_passes(self.poll, self._polling)
        await stop_between_passes(self.deliver, self._delivering)

    async def poll_once(self) -> RefreshPass | None:
        """While this process is the elected monitor: one refresh cycle (due packages and grids
        fetched, changes written to the outbox), then the weekly stale reports that fell due.
        None when another process leads."""
        async with self._polling:
            leading = await self.bot.leadership.hold()
            metrics.LEADER.set(leading)
            return await refresh_pass(self.bot.runtime) if leading else None

    async def deliver_once(self) -> DeliveryReport:
        """One pass over the outbox: due alerts posted, failures settled."""
        async with self._delivering:
            return await delivery_pass(self.bot.runtime, self.worker)

    @tasks.loop(hours=6)
    async def poll(self) -> None:
        with survive("refresh cycle"):
            await self.poll_once()
        interval = self.poll_interval if self.bot.leadership.elected else STANDBY_CHECK
        interval = min(interval, self.poll_interval)
        if interval != self.poll.seconds:
            self.poll.change_interval(seconds=interval)
        self.bot.liveness.beat("monitor", interval + LIVENESS_SLACK)

    @tasks.loop(seconds=5)
    async def deliver(self) -> None:
        with survive("delivery"):
            await self.deliver_once()
        self.bot.liveness.beat("delivery", self.bot.delivery_interval + LIVENESS_SLACK)

    @poll.before_loop
    @deliver.before_loop
    async def until_ready(self) -> None:
        if Role.GATEWAY in self.bot.roles:
            await self.bot.wait_until_ready()


async def setup(bot: SentinelBot) -> None:
    await bot.add_cog(Background(bot))
