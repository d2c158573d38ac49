"""A loopback fake of Discord (REST + gateway) that the real discord.py client connects to.

    async with FakeDiscord() as discord_fake:
        guild = discord_fake.add_guild("Django")
        alerts = guild.add_text_channel("alerts")
        discord_fake.add_member(guild, "ada")
        ...  # point discord.py at discord_fake.api_base / discord_fake.gateway_url, start the bot
        record = await discord_fake.run_command("package", {"slug": "django-flatblocks"})
        assert record.embeds and discord_fake.violations == []

The fake enforces Discord's limits (message and embed sizes, 25 autocomplete choices, the
3-second acknowledgement, ...): what Discord would refuse is refused with Discord's 400 and
recorded in `violations`. Every message records the pings its `allowed_mentions` let through.
Module map: models (payloads), limits (rules), state (records), rest and webhooks (routes),
gateway (websocket), interactions (dispatched interactions and what answered them).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Mapping, Sequence
from typing import Any, Self

from aiohttp import web

from tests.fakes.discord_gateway import Gateway, GatewayConnection
from tests.fakes.discord_interactions import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    MESSAGE_COMPONENT,
    InteractionRecord,
    OptionValue,
    command_options,
    find_component,
    interaction_payload,
    resolved_payload,
)
from tests.fakes.discord_models import (
    SEND_MESSAGES,
    FakeAttachment,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeRole,
    FakeUser,
    Overwrite,
    PostedMessage,
)
from tests.fakes.discord_ratelimits import RateLimits
from tests.fakes.discord_rest import API_PREFIX, Fault, PostHold, RecordedRequest, RestApi
from tests.fakes.discord_state import WAIT_TIMEOUT, DiscordState, FakeWebhook, Violation

DEFAULT_TOKEN = "fake-bot-token"
#: The fake listens here: its webhook URLs are http://127.0.0.1:PORT/…, which djp-sentinel
#: accepts only with this as its WEBHOOK_TEST_HOST setting.
WEBHOOK_TEST_HOST = "127.0.0.1"
MAX_UPLOAD_BYTES = 25 * 1024 * 1024
MEMBER_OVERWRITE = 1


class NoBotSession(RuntimeError):
    """An interaction no gateway session would receive: no connected shard owns its guild."""


class FakeDiscord:
    """One aiohttp server on 127.0.0.1 serving `/api/v10` and the `/gateway` websocket."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_name: str = "Sentinel",
        wait_timeout: float = WAIT_TIMEOUT,
        shards: int = 1,
        port: int = 0,
    ) -> None:
        """`wait_timeout` bounds every wait (`run_command`, `wait_for_messages`, ...), and only
        a failing test waits that long; `shards` is the shard count `GET /gateway/bot`
        recommends; `port` 0 is any free one (tests), a fixed one is for the console."""
        self.token = token
        self.state = DiscordState(token, bot_name, wait_timeout=wait_timeout, shards=shards)
        self.rest = RestApi(self.state, lambda: self.gateway_url)
        self.gateway = Gateway(
            token=token,
            bot=self.state.bot,
            guilds=lambda: self.state.guilds,
            resume_url=lambda: self.gateway_url,
            on_change=self.state.notify,
        )
        self._runner: web.AppRunner | None = None
        self._port = port
        self._attachments: dict[int, FakeAttachment] = {}

    async def __aenter__(self) -> Self:
        app = web.Application(middlewares=[self.rest.middleware], client_max_size=MAX_UPLOAD_BYTES)
        self.rest.add_routes(app)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/attachments/{id}/{filename}", self._serve_attachment)
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a console restarted at once
        sock.bind(("127.0.0.1", self._port))
        self._port = sock.getsockname()[1]
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.release_holds()
        await self.gateway.disconnect(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self._port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self._port}/gateway"

    def attachment(self, filename: str, content: bytes) -> FakeAttachment:
        """A file to pass as an attachment option, served as Discord's CDN serves uploads."""
        attachment_id = self.state.new_id()
        url = f"http://127.0.0.1:{self._port}/attachments/{attachment_id}/{filename}"
        attachment = FakeAttachment(attachment_id, filename, content, url)
        self._attachments[attachment_id] = attachment
        return attachment

    async def _serve_attachment(self, request: web.Request) -> web.Response:
        found = self._attachments.get(int(request.match_info["id"]))
        if found is None or found.filename != request.match_info["filename"]:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=found.content, content_type="application/octet-stream")

    # --- the world ---------------------------------------------------------------------------

    @property
    def bot_user(self) -> FakeUser:
        """The bot user; its id is also the application id."""
        return self.state.bot

    @property
    def application_id(self) -> int:
        return self.state.bot.id

    @property
    def guilds(self) -> list[FakeGuild]:
        return self.state.guilds

    def add_guild(self, name: str) -> FakeGuild:
        """A guild the bot is in; add channels and roles on the returned guild."""
        return self.state.add_guild(name)

    def add_member(
        self, guild: FakeGuild, username: str, roles: Sequence[FakeRole] = ()
    ) -> FakeMember:
        """A new user, member of `guild` with `roles` (their permissions add up)."""
        return self.state.add_member(guild, username, roles)

    def create_webhook(self, channel_id: int, name: str = "Sentinel alerts") -> FakeWebhook:
        """A channel webhook; `hook.url` is what a webhook sender posts to."""
        return self.state.create_webhook(channel_id, name, self.api_base)

    async def update_role(self, guild: FakeGuild, role: FakeRole) -> None:
        """Tell the bot that `role` changed (its mentionable flag, its permissions), as a server
        manager's edit does: a GUILD_ROLE_UPDATE; the bot sees the change once it is handled."""
        payload = {"guild_id": str(guild.id), "role": role.payload()}
        await self.gateway.dispatch("GUILD_ROLE_UPDATE", payload, guild.id)

    # --- rules ---------------------------------------------------------------------------------

    @property
    def ack_deadline(self) -> float:
        """Seconds the bot has to acknowledge an interaction (Discord: 3)."""
        return self.state.ack_deadline

    @ack_deadline.setter
    def ack_deadline(self, seconds: float) -> None:
        self.state.ack_deadline = seconds

    @property
    def rate_limits(self) -> RateLimits:
        """The global budget (50/s) and per-route buckets (5 posts per 5 s in a channel)."""
        return self.rest.limits

    @property
    def token_lifetime(self) -> float:
        """Seconds an interaction token accepts followups (Discord: 15 minutes)."""
        return self.state.token_lifetime

    @token_lifetime.setter
    def token_lifetime(self, seconds: float) -> None:
        self.state.token_lifetime = seconds

    # --- what happened ---------------------------------------------------------------------------

    @property
    def violations(self) -> list[Violation]:
        """Everything Discord would have refused; a well-behaved bot leaves this empty."""
        return self.state.violations

    @property
    def requests(self) -> list[RecordedRequest]:
        return self.rest.requests

    @property
    def interactions(self) -> list[InteractionRecord]:
        return self.state.interactions

    @property
    def connections(self) -> list[GatewayConnection]:
        return self.gateway.connections

    @property
    def synced_commands(self) -> dict[int | None, list[dict[str, Any]]]:
        """Commands last synced, globally (key None) and per guild id."""
        return self.state.commands

    def messages(self, channel_id: int, *, include_ephemeral: bool = False) -> list[PostedMessage]:
        """Messages in the channel, oldest first: posts, webhook and interaction messages."""
        return self.state.channel_messages(channel_id, include_ephemeral=include_ephemeral)

    async def wait_for_messages(self, channel_id: int, count: int) -> list[PostedMessage]:
        """Wait until the channel holds at least `count` messages; returns them all."""
        await self.state.wait_until(
            lambda: len(self.messages(channel_id)) >= count,
            f"{count} message(s) in channel {channel_id}",
        )
        return self.messages(channel_id)

    async def wait_for_sessions(self, count: int) -> list[GatewayConnection]:
        """Wait until `count` gateway sessions became ready (identified or resumed)."""
        await self.state.wait_until(
            lambda: sum(c.ready for c in self.connections) >= count,
            f"{count} ready gateway session(s)",
        )
        return [c for c in self.connections if c.ready]

    # --- controls --------------------------------------------------------------------------------

    def forbid_channel(self, channel_id: int) -> None:
        """Deny the bot Send Messages there: posts get 403 Missing Permissions (50013)."""
        _, channel = self.state.find_channel(channel_id)
        channel.overwrites.append(Overwrite(self.bot_user.id, MEMBER_OVERWRITE, deny=SEND_MESSAGES))

    def delete_channel(self, channel_id: int) -> None:
        """Delete the channel: its routes answer 404 Unknown Channel (10003)."""
        guild, channel = self.state.find_channel(channel_id)
        guild.channels.remove(channel)

    async def delete_channel_live(self, channel_id: int) -> None:
        """Delete the channel as a member would: gone, and CHANNEL_DELETE sent to the bot."""
        guild, channel = self.state.find_channel(channel_id)
        self.delete_channel(channel_id)
        await self.gateway.dispatch("CHANNEL_DELETE", channel.payload(), guild_id=guild.id)

    async def remove_bot(self, guild: FakeGuild) -> None:
        """The bot is kicked from (or leaves) `guild`: GUILD_DELETE without `unavailable`."""
        self.state.guilds.remove(guild)
        await self.gateway.dispatch("GUILD_DELETE", {"id": str(guild.id)}, guild_id=guild.id)

    def fail_next(self, route_substring: str, status: int = 500, times: int = 1) -> None:
        """Answer `status` to the next `times` requests whose "METHOD /path" has the substring."""
        self.rest.faults.append(Fault(route_substring, status, times))

    def rate_limit_next(
        self,
        route_substring: str,
        retry_after: float = 0.05,
        times: int = 1,
        *,
        is_global: bool = False,
    ) -> None:
        """Answer 429 like Discord (a `Via` header and JSON `retry_after`): discord.py retries."""
        self.rest.faults.append(Fault(route_substring, 429, times, retry_after, is_global))

    def hold_post(self, number: int, *, accepted: bool) -> PostHold:
        """Hold the bot's `number`-th message post from now on (see `PostHold`)."""
        hold = PostHold(self.rest.bot_posts + number, accepted)
        self.rest.holds.append(hold)
        return hold

    def release_holds(self) -> None:
        for hold in self.rest.holds:
            hold.release()

    async def disconnect_gateway(self, code: int = 4000) -> None:
        """Drop the bot's gateway sessions from the server side; discord.py RESUMEs."""
        await self.gateway.disconnect(code)

    # --- driving the bot -------------------------------------------------------------------------

    async def run_command(
        self,
        name: str,
        options: Mapping[str, OptionValue] | None = None,
        *,
        user: FakeMember | None = None,
        channel_id: int | None = None,
        subcommand: str | None = None,
    ) -> InteractionRecord:
        """Invoke `/name [subcommand]` as `user` and wait until it is answered.

        `name` may hold the whole path ("watch add"); a deferred answer is awaited until its
        followup or edit arrives. Member, role and channel option values are sent resolved.
        """
        path = [*name.split(), *(subcommand or "").split()]
        guild, channel, user = self._where(channel_id, user)
        options = options or {}
        data = self._command_data(guild, path, command_options(path, options))
        resolved = resolved_payload(guild, options, self.state.bot_member(guild))
        if resolved:
            data["resolved"] = resolved
        record = await self._dispatch(APPLICATION_COMMAND, " ".join(path), data, channel, user)
        await self.state.wait_until(lambda: record.complete, f"answer to /{record.name}")
        return record

    async def autocomplete(
        self,
        name: str,
        options: Mapping[str, OptionValue],
        *,
        focused: str,
        user: FakeMember | None = None,
        channel_id: int | None = None,
        subcommand: str | None = None,
    ) -> list[dict[str, Any]]:
        """Ask for choices while `focused` is being typed; returns the choices the bot sent."""
        path = [*name.split(), *(subcommand or "").split()]
        guild, channel, user = self._where(channel_id, user)
        data = self._command_data(guild, path, command_options(path, options, focused))
        record = await self._dispatch(AUTOCOMPLETE, " ".join(path), data, channel, user)
        await self.state.wait_until(lambda: record.answered, f"choices for /{record.name}")
        return record.choices or []

    async def click(
        self,
        message: PostedMessage,
        custom_id: str,
        *,
        user: FakeMember | None = None,
        values: list[str] | None = None,
    ) -> InteractionRecord:
        """Click a button (or pick select `values`) on `message`; waits for the answer."""
        component = find_component(message.components, custom_id)
        _, channel, user = self._where(message.channel_id, user)
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component["type"]}
        if values is not None:
            data["values"] = values
        record = await self._dispatch(MESSAGE_COMPONENT, custom_id, data, channel, user, message)
        await self.state.wait_until(lambda: record.complete, f"answer to a click on {custom_id!r}")
        return record

    def _where(
        self, channel_id: int | None, user: FakeMember | None
    ) -> tuple[FakeGuild, FakeChannel, FakeMember]:
        """The guild, channel and user of an interaction (default: first guild, channel, member)."""
        if channel_id is None:
            guild = self.guilds[0]
            channel = guild.channels[0]
        else:
            guild, channel = self.state.find_channel(channel_id)
        if user is None:
            user = next(m for m in guild.members if m.id != self.bot_user.id)
        return guild, channel, user

    def _command_data(
        self, guild: FakeGuild, path: list[str], options: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """`data` of a slash command; guild-synced commands carry the guild id, as on Discord."""
        root = path[0]
        in_guild = (guild.id, root) in self.state.command_ids
        scope = guild.id if in_guild else None
        command_id = self.state.command_ids.setdefault((scope, root), self.state.new_id())
        data: dict[str, Any] = {"id": str(command_id), "name": root, "type": 1, "options": options}
        if in_guild:
            data["guild_id"] = str(guild.id)
        return data

    async def _dispatch(
        self,
        kind: int,
        name: str,
        data: dict[str, Any],
        channel: FakeChannel,
        user: FakeMember,
        message: PostedMessage | None = None,
    ) -> InteractionRecord:
        guild, _ = self.state.find_channel(channel.id)
        payload = interaction_payload(
            interaction_id=self.state.new_id(),
            kind=kind,
            application_id=self.application_id,
            guild=guild,
            channel=channel,
            user=user,
            bot=self.state.bot_member(guild),
            data=data,
            message=message,
        )
        record = InteractionRecord(
            id=int(payload["id"]),
            token=payload["token"],
            type=kind,
            name=name,
            guild=guild,
            channel_id=channel.id,
            user=user,
            payload=payload,
        )
        self.state.interactions.append(record)
        record.dispatched_at = asyncio.get_running_loop().time()
        if not await self.gateway.dispatch("INTERACTION_CREATE", payload, guild.id):
            raise NoBotSession(f"no bot session holds the shard of server {guild.id}")
        return record
