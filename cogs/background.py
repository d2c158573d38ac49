"""The loops of a running bot, one per role of this process: refresh watched records (then
queue the weekly stale reports that fell due) while elected monitor, and deliver the outbox.

Both run on the one loop runner (`bot.process.loops`), as headless mode does: a pass driven by hand
(`poll_once`, `deliver_once`) never overlaps the loop's own, and unloading stops each loop
between passes.

A monitor standing by asks for the lock every `STANDBY_CHECK` seconds (or every poll interval,
if shorter), so it takes over within that time of the leader's death; its first cycle as leader
fetches only what fell due, so the API sees no more requests than with one monitor.
"""

from __future__ import annotations

from functools import partial

from discord.ext import commands

from bot import metrics
from bot.delivery.worker import DeliveryReport
from bot.discordbot.bot import SentinelBot
from bot.discordbot.sender import DiscordSender
from bot.process.jobs import (
    RefreshPass,
    delivery_pass,
    delivery_registration,
    delivery_worker,
    refresh_pass,
    survive,
)
from bot.process.liveness import SLACK
from bot.process.loops import Loop
from bot.process.retention import RETENTION_INTERVAL, retention_pass
from bot.process.roles import Role

#: Seconds between two attempts of a standby monitor to take the lead.
STANDBY_CHECK = 10.0


class Background(commands.Cog):
    def __init__(self, bot: SentinelBot) -> None:
        self.bot = bot
        self.worker = delivery_worker(bot.runtime, DiscordSender(bot), bot.http_client)
        self.registration = delivery_registration(bot.runtime, bot.delivery_interval)
        self.polling = Loop(
            "refresh cycle",
            self._poll,
            self._poll_interval,
            ready=self._until_ready,
            after_pass=lambda: self._beat("monitor", self.polling.interval()),
        )
        self.delivering = Loop(
            "delivery",
            self._deliver,
            bot.delivery_interval,
            ready=self._until_ready,
            after_pass=lambda: self._beat("delivery", self.delivering.interval()),
        )
        self.pruning = Loop("retention", partial(retention_pass, bot.runtime), RETENTION_INTERVAL)

    @property
    def poll_interval(self) -> float:
        return self.bot.runtime.settings.poll_interval_seconds

    async def cog_load(self) -> None:
        if Role.MONITOR in self.bot.roles:
            self.bot.liveness.expect("monitor")
            self.polling.start()
            self.pruning.start()
        if Role.DELIVERY in self.bot.roles:
            self.bot.liveness.expect("delivery")
            self.delivering.start()

    async def cog_unload(self) -> None:
        await self.polling.stop()
        await self.delivering.stop()
        await self.pruning.stop()
        with survive("leaving the delivery workers"):
            await self.registration.leave()

    async def poll_once(self) -> RefreshPass | None:
        """While this process is the elected monitor: one refresh cycle (due packages and grids
        fetched, changes written to the outbox), then the weekly stale reports that fell due.
        None when another process leads."""
        return await self.polling.run_once()

    async def deliver_once(self) -> DeliveryReport:
        """One pass over the outbox: due alerts posted, failures settled."""
        return await self.delivering.run_once()

    async def _poll(self) -> RefreshPass | None:
        leading = await self.bot.leadership.hold()
        metrics.LEADER.set(leading)
        found = await refresh_pass(self.bot.runtime) if leading else None
        if found and (found.cycle.alerts_enqueued or found.stale_reports):
            self.delivering.wake()  # deliver what the cycle found now, not at the next tick
        return found

    async def _deliver(self) -> DeliveryReport:
        return await delivery_pass(self.bot.runtime, self.worker, self.registration)

    def _poll_interval(self) -> float:
        """The poll interval while leading; while standing by, `STANDBY_CHECK` if shorter."""
        if self.bot.leadership.elected:
            return self.poll_interval
        return min(self.poll_interval, STANDBY_CHECK)

    def _beat(self, name: str, interval: float) -> None:
        """Tell `/healthz` the loop is alive until its next pass is overdue."""
        self.bot.liveness.beat(name, interval + SLACK)

    async def _until_ready(self) -> None:
        if Role.GATEWAY in self.bot.roles:
            await self.bot.wait_until_ready()


async def setup(bot: SentinelBot) -> None:
    await bot.add_cog(Background(bot))
