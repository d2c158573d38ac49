"""The fake's REST API under `/api/v10`: the routes discord.py calls, answered as Discord does."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.discord_http import (
    BODY,
    MISSING_ACCESS,
    MISSING_PERMISSIONS,
    UPLOADS,
    DiscordError,
    json_body,
    json_response,
    read_body,
    request_uploads,
)
from tests.fakes.discord_models import (
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    PostedMessage,
)
from tests.fakes.discord_ratelimits import RateLimits, rate_limited
from tests.fakes.discord_state import DiscordState
from tests.fakes.discord_webhooks import Webhooks

API_PREFIX = "/api/v10"
TOKEN_AUTHORISED = ("/interactions/", "/webhooks/")
CHAT_INPUT = 1
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class RecordedRequest:
    """One REST request the fake answered (path without the `/api/v10` prefix)."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int


@dataclass
class Fault:
    """An injected failure for the next `times` requests whose "METHOD /path" contains `match`."""

    match: str
    status: int
    times: int
    retry_after: float | None = None
    is_global: bool = False

    def response(self) -> web.Response:
        if self.retry_after is None:
            return json_response(
                {"message": f"{self.status}: Server Error", "code": 0}, self.status
            )
        return rate_limited(self.retry_after, "global" if self.is_global else "user")


@dataclass
class PostHold:
    """Hold the bot's `number`-th message post (counting from 1): before Discord creates the
    message, or, with `accepted`, after it created it but before the answer leaves. The test
    waits for `reached`, does what it wants (kill the bot), then `release()`s it; a post held
    before creation is then refused, as nobody is listening any more."""

    number: int
    accepted: bool
    reached: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def release(self) -> None:
        self.released.set()


class RestApi:
    """Routes, auth, fault injection and request recording for one `DiscordState`."""

    def __init__(self, state: DiscordState, gateway_url: Callable[[], str]) -> None:
        self.state = state
        self.gateway_url = gateway_url
        self.requests: list[RecordedRequest] = []
        self.faults: list[Fault] = []
        self.limits = RateLimits()
        self.holds: list[PostHold] = []
        self.bot_posts = 0
        self.webhooks = Webhooks(state)

    def add_routes(self, app: web.Application) -> None:
        hooks = self.webhooks
        message = "/channels/{channel_id}/messages/{message_id}"
        hook_message = "/webhooks/{webhook_id}/{token}/messages/{message_id}"
        routes = [
            ("GET", "/users/@me", self.get_me),
            ("GET", "/oauth2/applications/@me", self.get_application),
            ("GET", "/gateway", self.get_gateway),
            ("GET", "/gateway/bot", self.get_gateway),
            ("GET", "/channels/{channel_id}", self.get_channel),
            ("POST", "/channels/{channel_id}/messages", self.post_message),
            ("GET", message, self.get_message),
            ("PATCH", message, self.edit_message),
            ("DELETE", message, self.delete_message),
            ("GET", "/applications/{app_id}/commands", self.get_commands),
            ("PUT", "/applications/{app_id}/commands", self.put_commands),
            ("GET", "/applications/{app_id}/guilds/{guild_id}/commands", self.get_commands),
            ("PUT", "/applications/{app_id}/guilds/{guild_id}/commands", self.put_commands),
            ("POST", "/interactions/{interaction_id}/{token}/callback", hooks.callback),
            ("GET", "/webhooks/{webhook_id}/{token}", hooks.describe),
            ("POST", "/webhooks/{webhook_id}/{token}", hooks.execute),
            ("GET", hook_message, hooks.get_message),
            ("PATCH", hook_message, hooks.edit_message),
            ("DELETE", hook_message, hooks.delete),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, API_PREFIX + path, handler)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Record the request, inject faults, check the bot token, and shape errors like Discord."""
        if not request.path.startswith(API_PREFIX):
            return await handler(request)
        path = request.path.removeprefix(API_PREFIX)
        request[BODY], request[UPLOADS] = await read_body(request)
        bot_token = request.headers.get("Authorization", "").startswith("Bot ")
        refused = self._answer_fault(f"{request.method} {path}") or self.limits.admit(
            request.method, path, bot_token=bot_token
        )
        response = refused or await self._handle(request, handler, path)
        if refused is None:
            response.headers.update(self.limits.headers(request.method, path))
        self.requests.append(
            RecordedRequest(
                request.method, path, dict(request.query), request[BODY], response.status
            )
        )
        return response

    async def _handle(
        self, request: web.Request, handler: Handler, path: str
    ) -> web.StreamResponse:
        try:
            if path != "/gateway" and not path.startswith(TOKEN_AUTHORISED):
                self._authorize(request)
            return await handler(request)
        except DiscordError as exc:
            return json_response(exc.body, exc.status)
        except web.HTTPException as exc:
            if exc.status in (404, 405):
                self.state.violate(
                    "route.unknown", f"{request.method} {path} is not served by the fake"
                )
            return json_response({"message": f"{exc.status}: {exc.reason}", "code": 0}, exc.status)

    def _authorize(self, request: web.Request) -> None:
        if request.headers.get("Authorization") != f"Bot {self.state.token}":
            self.state.violate("auth", f"{request.method} {request.path} without the bot token")
            raise DiscordError(401, 0, "401: Unauthorized")

    def _answer_fault(self, route: str) -> web.Response | None:
        fault = next((f for f in self.faults if f.times > 0 and f.match in route), None)
        if fault is None:
            return None
        fault.times -= 1
        return fault.response()

    def _require(self, channel_id: int, *needed: int) -> None:
        permissions = self.state.bot_permissions(channel_id)
        if not permissions & VIEW_CHANNEL:
            raise DiscordError(*MISSING_ACCESS)
        if any(not permissions & bit for bit in needed):
            raise DiscordError(*MISSING_PERMISSIONS)

    # --- identity --------------------------------------------------------------------------

    async def get_me(self, request: web.Request) -> web.Response:
        return json_response({**self.state.bot.payload(), "verified": True, "mfa_enabled": False})

    async def get_application(self, request: web.Request) -> web.Response:
        bot = self.state.bot
        owner = {**bot.payload(), "id": str(bot.id + 1), "username": "owner", "bot": False}
        return json_response(
            {
                "id": str(bot.id),
                "name": self.state.bot_name,
                "icon": None,
                "description": "",
                "summary": "",
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "owner": owner,
                "team": None,
                "flags": 0,
                "bot": bot.payload(),
                "interactions_endpoint_url": None,
                "integration_types_config": {"0": {}},
            }
        )

    async def get_gateway(self, request: web.Request) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1}
        return json_response(
            {"url": self.gateway_url(), "shards": self.state.shards, "session_start_limit": limit}
        )

    # --- channels and messages ---------------------------------------------------------------

    async def get_channel(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel_id"])
        self._require(channel_id)
        _, channel = self.state.find_channel(channel_id)
        return json_response(channel.payload())

    async def post_message(self, request: web.Request) -> web.Response:
        """Create a message; with `enforce_nonce`, a nonce the bot used in the last
        `nonce_window` seconds gets that message back instead of a new one, as on Discord."""
        channel_id = int(request.match_info["channel_id"])
        self._require(channel_id, SEND_MESSAGES)
        body = json_body(request)
        self.bot_posts += 1
        hold = next((h for h in self.holds if h.number == self.bot_posts), None)
        if hold is not None and not hold.accepted:
            await self._wait(hold)
            raise DiscordError(503, 0, "503: the client went away")
        earlier = self.state.message_with_nonce(body) if body.get("enforce_nonce") else None
        message = earlier or self.state.create_message(
            channel_id,
            body,
            request_uploads(request),
            author=self.state.bot.payload(),
            where=f"POST /channels/{channel_id}/messages",
        )
        if hold is not None:
            await self._wait(hold)
        return json_response(message.payload())

    @staticmethod
    async def _wait(hold: PostHold) -> None:
        hold.reached.set()
        await hold.released.wait()

    async def get_message(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel_id"])
        self._require(channel_id, READ_MESSAGE_HISTORY)
        message = self.state.message(int(request.match_info["message_id"]), channel_id)
        return json_response(message.payload())

    async def edit_message(self, request: web.Request) -> web.Response:
        message = self._own_message(request)
        where = f"PATCH /channels/{message.channel_id}/messages/{message.id}"
        self.state.edit_message(message, json_body(request), request_uploads(request), where)
        return json_response(message.payload())

    async def delete_message(self, request: web.Request) -> web.Response:
        self._own_message(request).deleted = True
        self.state.notify()
        return web.Response(status=204)

    def _own_message(self, request: web.Request) -> PostedMessage:
        channel_id = int(request.match_info["channel_id"])
        self._require(channel_id)
        message = self.state.message(int(request.match_info["message_id"]), channel_id)
        if message.author["id"] != str(self.state.bot.id):
            self.state.violate("message.not_author", f"{request.method} {request.path}")
            raise DiscordError(403, 50005, "Cannot edit a message authored by another user")
        return message

    # --- application commands ------------------------------------------------------------------

    async def get_commands(self, request: web.Request) -> web.Response:
        return json_response(self.state.commands.get(self._command_scope(request), []))

    async def put_commands(self, request: web.Request) -> web.Response:
        """Bulk overwrite: record what was synced and echo it back with ids."""
        scope = self._command_scope(request)
        synced = []
        for command in request[BODY] or []:
            command_id = self.state.command_ids.setdefault(
                (scope, command["name"]), self.state.new_id()
            )
            echoed = {
                "type": CHAT_INPUT,
                "default_member_permissions": None,
                "nsfw": False,
                **command,
                "id": str(command_id),
                "application_id": str(self.state.bot.id),
                "version": str(self.state.new_id()),
            }
            if scope is not None:
                echoed["guild_id"] = str(scope)
            synced.append(echoed)
        self.state.commands[scope] = synced
        self.state.notify()
        return json_response(synced)

    def _command_scope(self, request: web.Request) -> int | None:
        if request.match_info["app_id"] != str(self.state.bot.id):
            raise DiscordError(403, 50001, "Missing Access")
        guild_id = request.match_info.get("guild_id")
        return None if guild_id is None else int(guild_id)
