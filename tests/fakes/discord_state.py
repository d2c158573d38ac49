"""Everything the fake Discord knows and records, shared by its REST API, gateway and drivers."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.discord_http import UNKNOWN_CHANNEL, UNKNOWN_MESSAGE, DiscordError, Upload
from tests.fakes.discord_interactions import InteractionRecord
from tests.fakes.discord_limits import Problem, effective_mentions, form_error, message_problems
from tests.fakes.discord_models import (
    BOT_PERMISSIONS,
    LOADING,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeRole,
    FakeUser,
    PostedMessage,
    Snowflakes,
    iso_now,
)

CDN = "https://cdn.discordapp.com"
#: The longest a test waits for the bot to do something: generous, because a bot in a process
#: of its own may take seconds to start on a busy machine, and only a failing test waits it out.
WAIT_TIMEOUT = 30.0


@dataclass(frozen=True)
class Violation:
    """Something Discord would have refused or punished, with a stable `rule` name."""

    rule: str
    detail: str


@dataclass
class FakeWebhook:
    """A channel webhook, executed without a bot at `POST /webhooks/{id}/{token}`."""

    id: int
    token: str
    channel_id: int
    name: str
    url: str


@dataclass
class DiscordState:
    """The bot's world (guilds, channels, members) and every message and interaction."""

    token: str
    bot_name: str = "Sentinel"
    ack_deadline: float = 3.0
    token_lifetime: float = 15 * 60.0
    wait_timeout: float = WAIT_TIMEOUT
    #: The shard count `GET /gateway/bot` recommends.
    shards: int = 1
    new_id: Snowflakes = field(default_factory=Snowflakes)
    guilds: list[FakeGuild] = field(default_factory=list)
    messages: dict[int, PostedMessage] = field(default_factory=dict)
    interactions: list[InteractionRecord] = field(default_factory=list)
    webhooks: dict[int, FakeWebhook] = field(default_factory=dict)
    commands: dict[int | None, list[dict[str, Any]]] = field(default_factory=dict)
    command_ids: dict[tuple[int | None, str], int] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)
    #: Seconds a bot message's nonce is remembered ("the past few minutes" on Discord).
    nonce_window: float = 300.0
    #: Nonce → (message id, monotonic time it was posted), for `enforce_nonce`.
    nonces: dict[str, tuple[int, float]] = field(default_factory=dict)
    _changed: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    def __post_init__(self) -> None:
        self.bot = FakeUser(self.new_id(), self.bot_name.lower(), bot=True)

    # --- world -------------------------------------------------------------------------

    def add_guild(self, name: str) -> FakeGuild:
        """A guild the bot is in, through its managed integration role."""
        guild = FakeGuild(self.new_id(), name, self.new_id)
        bot_role = guild.add_role(self.bot_name, BOT_PERMISSIONS, managed=True)
        guild.add_member(self.bot, [bot_role])
        self.guilds.append(guild)
        return guild

    def add_member(
        self, guild: FakeGuild, username: str, roles: Sequence[FakeRole] = ()
    ) -> FakeMember:
        return guild.add_member(FakeUser(self.new_id(), username), roles)

    def bot_member(self, guild: FakeGuild) -> FakeMember:
        member = guild.member(self.bot.id)
        assert member is not None
        return member

    def find_channel(self, channel_id: int) -> tuple[FakeGuild, FakeChannel]:
        for guild in self.guilds:
            channel = guild.channel(channel_id)
            if channel is not None:
                return guild, channel
        raise DiscordError(*UNKNOWN_CHANNEL)

    def bot_permissions(self, channel_id: int) -> int:
        guild, channel = self.find_channel(channel_id)
        return guild.permissions(self.bot_member(guild), channel)

    def user_payload(self, user_id: int) -> dict[str, Any]:
        for guild in self.guilds:
            member = guild.member(user_id)
            if member is not None:
                return member.user.payload()
        return FakeUser(user_id, f"unknown-{user_id}").payload()

    def create_webhook(self, channel_id: int, name: str, api_base: str) -> FakeWebhook:
        self.find_channel(channel_id)
        hook_id, token = self.new_id(), secrets.token_urlsafe(51)
        hook = FakeWebhook(
            hook_id, token, channel_id, name, f"{api_base}/webhooks/{hook_id}/{token}"
        )
        self.webhooks[hook_id] = hook
        return hook

    # --- messages ------------------------------------------------------------------------

    def check(self, problems: list[Problem], where: str) -> None:
        """Record `problems` as violations and refuse the request like Discord does."""
        if not problems:
            return
        for problem in problems:
            location = f"{where}: {problem.path}" if problem.path else where
            self.violate(problem.rule, f"{location}: {problem.message}")
        error = form_error(problems)
        raise DiscordError(400, error.pop("code"), error.pop("message"), **error)

    def create_message(
        self,
        channel_id: int,
        body: dict[str, Any],
        uploads: dict[int, Upload],
        *,
        author: dict[str, Any],
        where: str,
        **fields: Any,
    ) -> PostedMessage:
        """Validate `body`, store it as a new message in `channel_id`, and return it."""
        self.check(message_problems(body, has_files=bool(uploads)), where)
        return self.store_message(channel_id, body, uploads, author=author, **fields)

    def message_with_nonce(self, body: dict[str, Any]) -> PostedMessage | None:
        """The bot's message posted with `body`'s nonce within `nonce_window`, if any."""
        nonce = body.get("nonce")
        known = self.nonces.get(str(nonce)) if nonce is not None else None
        if known is None or time.monotonic() - known[1] > self.nonce_window:
            return None
        return self.messages.get(known[0])

    def store_message(
        self,
        channel_id: int,
        body: dict[str, Any],
        uploads: dict[int, Upload],
        *,
        author: dict[str, Any],
        **fields: Any,
    ) -> PostedMessage:
        """Store a message without validating it (for Discord's own placeholders)."""
        guild, _ = self.find_channel(channel_id)
        message = PostedMessage(self.new_id(), channel_id, guild.id, author, **fields)
        message.flags |= body.get("flags") or 0
        message.nonce = body.get("nonce")
        self.apply(message, body, uploads)
        self.messages[message.id] = message
        if message.nonce is not None and author.get("id") == str(self.bot.id):
            self.nonces[str(message.nonce)] = (message.id, time.monotonic())
        return message

    def edit_message(
        self,
        message: PostedMessage,
        body: dict[str, Any],
        uploads: dict[int, Upload],
        where: str,
        *,
        partial: bool = True,
    ) -> PostedMessage:
        """Validate and apply an edit; the first edit of a deferred placeholder fills it in."""
        self.check(message_problems(body, has_files=bool(uploads), partial=partial), where)
        if message.loading:
            message.flags &= ~LOADING
        else:
            message.edited_timestamp = iso_now()
        self.apply(message, body, uploads)
        return message

    def apply(
        self, message: PostedMessage, body: dict[str, Any], uploads: dict[int, Upload]
    ) -> None:
        """Copy the fields present in `body`; mentions are recomputed when content is sent."""
        if "content" in body:
            message.content = body["content"] or ""
        if "embeds" in body:
            message.embeds = body["embeds"] or []
        if "components" in body:
            message.components = body["components"] or []
        if "attachments" in body or uploads:
            self._attach(message, body.get("attachments") or [], uploads)
        if "content" in body:
            message.allowed_mentions = body.get("allowed_mentions")
            message.mentions = effective_mentions(message.content, message.allowed_mentions)
            message.mentioned_users = [self.user_payload(u) for u in sorted(message.mentions.users)]
        self.notify()

    def _attach(
        self, message: PostedMessage, wanted: list[dict[str, Any]], uploads: dict[int, Upload]
    ) -> None:
        kept = {str(a["id"]) for a in wanted}
        attachments = [a for a in message.attachments if a["id"] in kept]
        for index, upload in uploads.items():
            attachment_id = self.new_id()
            url = f"{CDN}/attachments/{message.channel_id}/{attachment_id}/{upload.filename}"
            attachments.append(
                {
                    "id": str(attachment_id),
                    "filename": upload.filename,
                    "size": len(upload.data),
                    "url": url,
                    "proxy_url": url,
                    "content_type": upload.content_type,
                    "description": next(
                        (w.get("description") for w in wanted if w.get("id") == index), None
                    ),
                }
            )
            message.files[upload.filename] = upload.data
        message.attachments = attachments

    def message(self, message_id: int, channel_id: int | None = None) -> PostedMessage:
        message = self.messages.get(message_id)
        if message is None or message.deleted:
            raise DiscordError(*UNKNOWN_MESSAGE)
        if channel_id is not None and message.channel_id != channel_id:
            raise DiscordError(*UNKNOWN_MESSAGE)
        return message

    def channel_messages(self, channel_id: int, *, include_ephemeral: bool) -> list[PostedMessage]:
        return [
            m
            for m in self.messages.values()
            if m.channel_id == channel_id
            and not m.deleted
            and not m.loading
            and (include_ephemeral or not m.ephemeral)
        ]

    # --- records -------------------------------------------------------------------------

    def violate(self, rule: str, detail: str) -> None:
        self.violations.append(Violation(rule, detail))
        self.notify()

    def interaction_by_token(self, token: str) -> InteractionRecord | None:
        return next((r for r in self.interactions if r.token == token), None)

    def notify(self) -> None:
        """Wake everything waiting in `wait_until`."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_until(self, predicate: Callable[[], bool], what: str) -> None:
        """Wait (at most `wait_timeout` seconds) until `predicate()` holds; `what` names it."""
        try:
            async with asyncio.timeout(self.wait_timeout):
                while True:
                    changed = self._changed
                    if predicate():
                        return
                    await changed.wait()
        except TimeoutError:
            raise TimeoutError(f"fake Discord: no {what} within {self.wait_timeout}s") from None
