"""The gateway role: this process's shards, connected once it owns them.

On PostgreSQL the shards are owned through advisory locks (`storage.coordination`): a second
`run` for the same shards stands by as a hot spare, asking every `STANDBY_CHECK` seconds, and
connects as soon as the owner dies, so two processes never answer one interaction twice. The
owner checks its hold every `HOLD_CHECK` seconds; if it loses it (its database connection
ended), it stops rather than answer beside the spare that takes over, and its supervisor
restarts it as the next spare. On SQLite one process runs anyway, and owns its shards at once.
"""

from __future__ import annotations

import asyncio
import logging

import discord
import yarl

from bot.config import Settings
from bot.core.plural import counted
from bot.discordbot.bot import SentinelBot
from bot.errors import SentinelError
from storage.coordination import ShardOwnership

log = logging.getLogger(__name__)

#: Seconds between two attempts of a standby gateway to take its shards over.
STANDBY_CHECK = 1.0
#: Seconds between two checks of the owner that its shards are still its own: when its database
#: connection ends without the process dying, a spare may answer beside it for this long.
HOLD_CHECK = 1.0


class ShardsLost(SentinelError):
    """The database connection holding this process's shards ended: another may own them."""


async def discover_gateway(bot: SentinelBot, settings: Settings) -> None:
    """Ask Discord what discord.py would ask at connect, when the settings do not say it: the
    shard count (`SHARD_COUNT` unset: the shards must be known to be owned) and, with only the
    REST base overridden, the gateway that base announces."""
    announced = settings.discord_api_base and not settings.discord_gateway_url
    if settings.shard_count is not None and not announced:
        return
    shards, url, _limits = await bot.http.get_bot_gateway()
    if settings.shard_count is None:
        bot.shard_count = shards
    if not settings.discord_gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
        log.info("gateway announced by Discord: %s, %s", url, counted(shards, "shard"))


def ownership(bot: SentinelBot) -> ShardOwnership:
    """The locks of the shards this process connects (after `discover_gateway`)."""
    shard_ids = bot.shard_ids or range(bot.shard_count)
    return ShardOwnership(bot.runtime.database, bot.shard_count, list(shard_ids))


async def serve_gateway(bot: SentinelBot, shards: ShardOwnership) -> None:
    """Stand by until this process owns `shards`, then connect them; return once the bot is
    closed, and raise `ShardsLost` if the hold on them ended first. `/healthz` counts a spare
    as working."""
    standing_by = True
    bot.liveness.check("gateway", lambda: standing_by or bot.connected())
    try:
        if not await _own(shards, bot):
            return
        standing_by = False
        holding = asyncio.create_task(_keep(shards, bot), name="gateway hold")
        try:
            await bot.connect()
        finally:
            if shards.elected:  # else it is closing the bot for the lost hold: let it finish
                holding.cancel()
            await asyncio.gather(holding, return_exceptions=True)
        if not shards.elected:
            raise ShardsLost(
                f"Lost {shards.what} with the database connection: stopped, so that one "
                "process answers each interaction; start this one again to stand by."
            )
    finally:
        await shards.release()


async def _own(shards: ShardOwnership, bot: SentinelBot) -> bool:
    """Wait until this process owns `shards` (True), or the bot is closed first (False)."""
    if await shards.hold():
        return True
    log.info("standing by: another process holds %s; taking over when it stops", shards.what)
    while not bot.is_closed():
        await asyncio.sleep(STANDBY_CHECK)
        if await shards.hold():
            return True
    return False


async def _keep(shards: ShardOwnership, bot: SentinelBot) -> None:
    """Check the hold until it ends, then close the bot."""
    while await shards.hold():  # noqa: ASYNC110 (the database has no event to wait on)
        await asyncio.sleep(HOLD_CHECK)
    await bot.close()
