"""The discord.py bot: resources injected, cogs loaded in `setup_hook`, no privileged intents.

It is an `AutoShardedBot`: one process holds the shards `SHARD_IDS` of `SHARD_COUNT` (all the
shards Discord recommends when unset). Processes without the gateway role log in over REST
only: delivery posts through the same HTTP client, no gateway connection needed. Commands
are synced only where asked (`bot.discordbot.run`), never in `setup_hook`, which runs on every
login, `sync-commands` included.
"""

from __future__ import annotations

import asyncio
import logging
import pkgutil
from typing import Any

import discord
import httpx
from discord.ext import commands

import cogs
from bot import metrics
from bot.app.runtime import Runtime
from bot.core.plural import counted
from bot.discordbot.latency import observe_latency
from bot.discordbot.tree import SentinelTree
from bot.process.assembly import DELIVERY_INTERVAL
from bot.process.liveness import Liveness
from bot.process.roles import ALL_ROLES, Role

log = logging.getLogger(__name__)


def extensions() -> list[str]:
    """Every module under `cogs/`: each is an extension with a `setup` function."""
    return [f"{cogs.__name__}.{module.name}" for module in pkgutil.iter_modules(cogs.__path__)]


class SentinelBot(commands.AutoShardedBot):
    """The bot; `runtime` (database, API client, monitor) and `http_client` are made in main.

    `http_client` posts to webhook subscriptions. `delivery_interval` is how often the outbox is
    emptied (tests make it short). `roles` are the parts of the work this process does;
    `liveness` is what `/healthz` reads.
    """

    def __init__(
        self,
        runtime: Runtime,
        http_client: httpx.AsyncClient,
        *,
        delivery_interval: float = DELIVERY_INTERVAL,
        roles: frozenset[Role] = ALL_ROLES,
        liveness: Liveness | None = None,
        **options: Any,
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=discord.Intents(guilds=True),
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=SentinelTree,
            **options,
        )
        self.runtime = runtime
        self.http_client = http_client
        self.delivery_interval = delivery_interval
        self.roles = roles
        self.liveness = liveness or Liveness()
        self._connected_shards: set[int] = set()
        if Role.GATEWAY in roles:
            self.liveness.check("gateway", self.connected)

    def connected(self) -> bool:
        """Ready, and every shard of this process is connected."""
        return (
            self.is_ready() and not self.is_closed() and self._connected_shards >= set(self.shards)
        )

    def _shard_state(self, shard_id: int, *, connected: bool) -> None:
        if connected:
            self._connected_shards.add(shard_id)
        else:
            self._connected_shards.discard(shard_id)
        metrics.SHARDS_CONNECTED.set(len(self._connected_shards))

    async def on_shard_ready(self, shard_id: int) -> None:
        self._shard_state(shard_id, connected=True)

    async def on_shard_resumed(self, shard_id: int) -> None:
        self._shard_state(shard_id, connected=True)

    async def on_shard_disconnect(self, shard_id: int) -> None:
        self._shard_state(shard_id, connected=False)

    async def leave_gateway(self) -> None:
        """Close every gateway session now, without waiting for `close()`, which unloads the
        cogs first (their loops may wait on a database that no longer answers)."""
        await asyncio.gather(*(shard.disconnect() for shard in self.shards.values()))

    async def on_app_command_completion(
        self, interaction: discord.Interaction, _command: object
    ) -> None:
        observe_latency(interaction)

    async def setup_hook(self) -> None:
        for extension in extensions():
            await self.load_extension(extension)

    async def on_ready(self) -> None:
        log.info(
            "connected as %s to %s on %s (%s) of %s",
            self.user,
            counted(len(self.guilds), "guild"),
            counted(len(self.shards), "shard"),
            ", ".join(str(shard) for shard in sorted(self.shards)),
            self.shard_count,
        )
