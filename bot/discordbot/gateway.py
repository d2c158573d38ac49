"""The gateway role: this process's shards, connected once it owns them.

On PostgreSQL the shards are owned through advisory locks (`storage.coordination`): a second
`run` for the same shards stands by as a hot spare, asking every `STANDBY_CHECK` seconds, and
takes them over once the owner dies, so two processes never answer one interaction twice.

The locks are a lease, fenced by time: the owner confirms its hold every `HOLD_CHECK` seconds,
and stops its gateway when a confirmation has not come back within `LEASE - MARGIN` seconds of
the last one's start (its database connection ended, or hangs); a spare that takes the locks
waits `LEASE` seconds before it connects. The locks were still the owner's when its last
confirmation began, so the owner has stopped `MARGIN` seconds before the spare may connect,
whether or not it could hear from the database. A stopped owner's supervisor restarts it as the
next spare. On SQLite one process runs anyway, and owns its shards at once.
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
#: Seconds between two confirmations of the owner that its shards are still its own.
HOLD_CHECK = 1.0
#: Seconds a new owner waits, holding the locks, before it connects: the lease of the previous
#: owner, who may still be connected without knowing its locks went with its connection.
LEASE = 5.0
#: Seconds before the lease ends by which an owner that could not confirm its hold has stopped
#: (time for `close()`, and for the two clocks' rates to differ).
MARGIN = 2.0


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
    """Wait until this process owns `shards` and the previous owner's lease has run out (True),
    or the bot is closed first (False)."""
    if not await shards.hold():
        log.info("standing by: another process holds %s; taking over when it stops", shards.what)
    while not bot.is_closed():
        if shards.elected and await _lease_waited(shards):
            return True
        await asyncio.sleep(STANDBY_CHECK)
        await shards.hold()
    return False


async def _lease_waited(shards: ShardOwnership) -> bool:
    """Wait out `LEASE` holding the locks (not on SQLite: one process); whether they are still
    ours after it."""
    if not shards.shared:
        return True
    log.info(
        "holding %s: connecting in %.0f s, once a previous owner has stopped", shards.what, LEASE
    )
    await asyncio.sleep(LEASE)
    return await shards.hold()


async def _keep(shards: ShardOwnership, bot: SentinelBot) -> None:
    """Confirm the hold until it ends (then close the bot), or until a confirmation has not
    come back by `LEASE - MARGIN` after the last one began (then leave the gateway at once, and
    close the bot as far as a silent database lets it)."""
    while True:
        deadline = shards.confirmed_at + LEASE - MARGIN
        try:
            async with asyncio.timeout_at(deadline):
                if not await shards.hold():
                    break
        except TimeoutError:
            log.warning(
                "no word from the database on %s for %.0f s: stopping the gateway before a "
                "spare may take over",
                shards.what,
                LEASE - MARGIN,
            )
            await bot.leave_gateway()
            await shards.abandon()
            break
        await asyncio.sleep(HOLD_CHECK)
    await bot.close()
