"""Run the Discord bot: `djp-sentinel run [--role ...]` and `djp-sentinel sync-commands`.

Resources are built here, main-style, and handed to the bot: the `/healthz` + `/metrics`
endpoint (first, so a process waiting for Discord says so), the database, the Django Packages
client and monitor (`open_runtime`) and an HTTP client for webhook deliveries; the loops of the
process's roles are `bot.process.assembly`'s. A monitor-only process runs without Discord;
delivery logs in over REST; only the gateway role connects to the gateway, once it owns its
shards (`bot.discordbot.gateway`). SIGINT and SIGTERM close the bot, which stops its loops
between passes; the database is disposed last.

An unreachable Discord at start is not a crash: every start-up call is retried with capped
exponential backoff and one log line per failed attempt, so a process supervisor sees a process
waiting for the network, not a restart loop. A rejected token still ends it with one line.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any, TypeVar

import aiohttp
import discord
import yarl

from bot.app.runtime import open_runtime
from bot.config import Settings
from bot.core.plural import counted
from bot.delivery.webhook import webhook_http_client
from bot.discordbot.bot import SentinelBot
from bot.discordbot.gateway import discover_gateway, ownership, serve_gateway
from bot.discordbot.rate_limits import count_rate_limits
from bot.errors import SentinelError
from bot.process.headless import run_headless
from bot.process.liveness import Liveness
from bot.process.metrics_server import serving_metrics
from bot.process.roles import ALL_ROLES, Role, describe, needs_discord
from bot.process.stopping import stop_signal
from storage.coordination import sole_process

log = logging.getLogger(__name__)

WEBHOOK_TIMEOUT = 10.0
#: Seconds the gateway connection gets to end once the bot is closed: discord.py ends it only
#: when a reconnect backoff or a connection attempt under way is over, which may take a minute.
CLOSE_GRACE = 5.0
#: Waits between attempts to reach Discord at start: 1, 2, 4, ... seconds, never more than 60.
FIRST_RETRY_DELAY = 1.0
MAX_RETRY_DELAY = 60.0
#: What an unreachable (or overloaded) Discord raises; worth another attempt.
UNREACHABLE = (
    OSError,
    aiohttp.ClientError,
    asyncio.TimeoutError,
    discord.DiscordServerError,
    discord.GatewayNotFound,
)

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]


class TokenRejected(SentinelError):
    """Discord refused the bot token."""


def point_at(settings: Settings) -> None:
    """Send discord.py's REST calls and gateway connection where the settings say."""
    if settings.discord_api_base:
        discord.http.Route.BASE = settings.discord_api_base.rstrip("/")
    if settings.discord_gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


async def sync_tree(bot: SentinelBot, guild_id: int | None) -> int:
    """Register the slash commands globally, or to one guild (instant); return how many."""
    guild = discord.Object(guild_id) if guild_id is not None else None
    if guild is not None:
        bot.tree.copy_global_to(guild=guild)
    synced = await bot.tree.sync(guild=guild)
    where = f"to guild {guild_id}" if guild else "globally"
    log.info("synced %s %s", counted(len(synced), "command"), where)
    return len(synced)


def shard_options(settings: Settings) -> dict[str, Any]:
    """`SHARD_COUNT` and `SHARD_IDS` as `AutoShardedBot` takes them (unset: Discord's advice)."""
    options: dict[str, Any] = {}
    if settings.shard_count is not None:
        options["shard_count"] = settings.shard_count
    if settings.shard_ids is not None:
        options["shard_ids"] = list(settings.shard_ids)
    return options


async def until_reachable(
    step: Callable[[], Awaitable[T]], what: str, *, sleep: Sleep = asyncio.sleep
) -> T:
    """Run `step` until Discord answers it, waiting 1, 2, 4, ... s (at most `MAX_RETRY_DELAY`)
    between attempts and logging one line for each failed one. Anything but an unreachable
    Discord (a rejected token, a bug) is raised at once."""
    delay, attempt = FIRST_RETRY_DELAY, 0
    while True:
        attempt += 1
        try:
            return await step()
        except UNREACHABLE as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            log.warning(
                "Discord is unreachable for %s (%s): attempt %d failed, retrying in %.0f s",
                what,
                reason,
                attempt,
                delay,
            )
        await sleep(delay)
        delay = min(delay * 2, MAX_RETRY_DELAY)


async def _logged_in_bot(make: Callable[[], SentinelBot], token: str) -> SentinelBot:
    """A new bot from `make`, logged in over REST; closed again if the login fails."""
    bot = make()
    await bot.__aenter__()
    try:
        await bot.login(token)
    except discord.LoginFailure:
        await bot.close()
        raise TokenRejected(
            "Discord rejected DISCORD_TOKEN: copy the token again from the developer "
            "portal (Bot → Reset Token)."
        ) from None
    except BaseException:
        await bot.close()
        raise
    return bot


@asynccontextmanager
async def logged_in(
    settings: Settings, roles: frozenset[Role] = ALL_ROLES, liveness: Liveness | None = None
) -> AsyncIterator[SentinelBot]:
    """A bot for `roles` built on fresh resources and logged in over REST (no gateway yet); an
    unreachable Discord is waited for (`until_reachable`), a rejected token raises
    `TokenRejected`."""
    token = settings.token
    assert token is not None, "checked by the CLI"
    point_at(settings)
    async with (
        open_runtime(settings, label=describe(roles) or "cli") as runtime,
        webhook_http_client(WEBHOOK_TIMEOUT) as http_client,
    ):
        bot = await until_reachable(
            lambda: _logged_in_bot(
                lambda: SentinelBot(
                    runtime,
                    http_client,
                    roles=roles,
                    liveness=liveness,
                    http_trace=count_rate_limits(),
                    **shard_options(settings),
                ),
                token,
            ),
            "the login",
        )
        try:
            yield bot
        finally:
            await bot.close()


async def run_bot(settings: Settings, roles: frozenset[Role] = ALL_ROLES) -> int:
    """Do this process's roles until SIGINT or SIGTERM; 0 on a clean stop.

    On SQLite the process first takes the database's process lock: a second long-running
    process is refused with one line. `/healthz` and `/metrics` are served from the start. A
    monitor-only process never contacts Discord; the others log in over REST, and only a
    gateway process connects to the gateway, once it owns its shards (`serve_gateway`). With
    `DEV_GUILD_ID`, a gateway process syncs the commands to that guild once, before that.
    """
    if not needs_discord(roles):
        await run_headless(settings, roles)
        return 0
    liveness = Liveness()
    with sole_process(settings.database_url):
        async with serving_metrics(liveness, settings.metrics_host, settings.metrics_port):
            log.info("running as %s", describe(roles))
            await serve_with_discord(settings, roles, liveness)
    return 0


async def serve_with_discord(
    settings: Settings, roles: frozenset[Role], liveness: Liveness
) -> None:
    """Log in (and, for the gateway, ask what it needs first) while `/healthz` says the process
    waits for Discord; then run until stopped."""
    async with AsyncExitStack() as stack:
        with liveness.waiting_for("Discord"):
            bot = await stack.enter_async_context(logged_in(settings, roles, liveness))
            gateway = await prepare_gateway(bot, settings) if Role.GATEWAY in roles else None
        await serve_until_signalled(bot, gateway)


async def prepare_gateway(bot: SentinelBot, settings: Settings) -> Awaitable[None]:
    """What a gateway process asks Discord before it connects (the development guild's
    commands, the shards and their gateway); the connection itself, to await."""
    if settings.dev_guild_id is not None:
        guild_id = settings.dev_guild_id
        await until_reachable(lambda: sync_tree(bot, guild_id), "the command sync")
    await until_reachable(lambda: discover_gateway(bot, settings), "the gateway address")
    return serve_gateway(bot, ownership(bot))


async def sync_commands(settings: Settings, guild_id: int | None) -> int:
    """Register the slash commands over REST only, globally or to `guild_id`, then exit (the
    development guild is left alone: it is synced by `run`). The bot has no role: no refresh
    or delivery loop starts, since this may run beside the bot (and its process lock)."""
    async with logged_in(settings, roles=frozenset()) as bot:
        count = await until_reachable(lambda: sync_tree(bot, guild_id), "the command sync")
    where = f"to guild {guild_id}" if guild_id else "globally"
    print(f"Synced {counted(count, 'command')} {where}.")
    return 0


async def serve_until_signalled(bot: discord.Client, gateway: Awaitable[None] | None) -> None:
    """Run until a stop signal arrives (or the `gateway` work, if any, ends), then close the
    bot; the gateway work gets `CLOSE_GRACE` seconds to end, then is cancelled."""
    async with stop_signal() as stop:
        stopping = asyncio.create_task(stop.wait())
        connection = asyncio.ensure_future(gateway) if gateway is not None else None
        try:
            await asyncio.wait(
                {stopping, *filter(None, [connection])}, return_when=asyncio.FIRST_COMPLETED
            )
            if stop.is_set():
                log.info("stop signal received: closing")
            await bot.close()
            if connection is not None:
                await _ended(connection)
        finally:
            stopping.cancel()


async def _ended(connection: asyncio.Future[None]) -> None:
    """Wait up to `CLOSE_GRACE` for the gateway work to end (raising what it raised); cancel it
    if discord.py still waits to reconnect by then."""
    try:
        await asyncio.wait_for(connection, CLOSE_GRACE)
    except TimeoutError:
        log.info("the gateway was still reconnecting %.0f s after closing: cancelled", CLOSE_GRACE)
