"""The discord.py bot: resources injected, cogs loaded in `setup_hook`, no privileged intents."""

from __future__ import annotations

import logging
import pkgutil
from typing import Any

import discord
import httpx
from discord.ext import commands

import cogs
from bot.app.runtime import Runtime
from bot.discordbot.tree import SentinelTree

log = logging.getLogger(__name__)

#: Seconds between two passes over the alert outbox.
DELIVERY_INTERVAL = 5.0


def extensions() -> list[str]:
    """Every module under `cogs/`: each is an extension with a `setup` function."""
    return [f"{cogs.__name__}.{module.name}" for module in pkgutil.iter_modules(cogs.__path__)]


class SentinelBot(commands.Bot):
    """The bot; `runtime` (database, API client, monitor) and `http_client` are made in main.

    `http_client` posts to webhook subscriptions. `delivery_interval` is how often the outbox is
    emptied (tests make it short).
    """

    def __init__(
        self,
        runtime: Runtime,
        http_client: httpx.AsyncClient,
        *,
        delivery_interval: float = DELIVERY_INTERVAL,
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

    async def setup_hook(self) -> None:
        for extension in extensions():
            await self.load_extension(extension)
        await self.runtime.monitor.names.index("package")  # the first keystroke finds it ready
        guild_id = self.runtime.settings.dev_guild_id
        if guild_id is not None:
            guild = discord.Object(guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to the development guild %s", len(synced), guild_id)

    async def on_ready(self) -> None:
        log.info("connected as %s to %d guild(s)", self.user, len(self.guilds))
