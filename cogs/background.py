"""The loops of a running bot (`bot.process.assembly`), posting as the bot user: loaded with
the bot, stopped between passes when it closes.

A pass driven by hand (`poll_once`, `deliver_once`) never overlaps the loop's own.
"""

from __future__ import annotations

from discord.ext import commands

from bot.delivery.worker import DeliveryReport
from bot.discordbot.bot import SentinelBot
from bot.discordbot.sender import DiscordSender
from bot.process.assembly import ProcessLoops
from bot.process.jobs import RefreshPass


class Background(commands.Cog):
    def __init__(self, bot: SentinelBot) -> None:
        self.loops = ProcessLoops(
            bot.runtime,
            bot.roles,
            bot.http_client,
            bot=DiscordSender(bot),
            liveness=bot.liveness,
            delivery_interval=bot.delivery_interval,
        )

    async def cog_load(self) -> None:
        self.loops.start()

    async def cog_unload(self) -> None:
        await self.loops.stop()

    async def poll_once(self) -> RefreshPass | None:
        """While this process is the elected monitor: one refresh cycle (due packages and grids
        fetched, changes written to the outbox), then the weekly stale reports that fell due.
        None when another process leads."""
        return await self.loops.refresh.run_once()

    async def deliver_once(self) -> DeliveryReport:
        """One pass over the outbox: due alerts posted, failures settled."""
        return await self.loops.delivery.run_once()


async def setup(bot: SentinelBot) -> None:
    await bot.add_cog(Background(bot))
