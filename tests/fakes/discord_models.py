"""The state a fake Discord holds: users, guilds, roles, channels, members, messages.

Each model renders the JSON payload Discord would send for it, shaped to what discord.py 2.x
parses (a missing required key crashes the client's gateway loop).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DISCORD_EPOCH_MS = 1_420_070_400_000

# Permission bits (https://discord.com/developers/docs/topics/permissions).
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_APPLICATION_COMMANDS = 1 << 31
ALL_PERMISSIONS = (1 << 53) - 1

EVERYONE_PERMISSIONS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | ADD_REACTIONS
    | USE_APPLICATION_COMMANDS
)
BOT_PERMISSIONS = VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | ATTACH_FILES | READ_MESSAGE_HISTORY

EPHEMERAL = 1 << 6
LOADING = 1 << 7
# Channel types.
GUILD_TEXT = 0
GUILD_VOICE = 2
PUBLIC_THREAD = 11


class Snowflakes:
    """Realistic, strictly increasing snowflake ids (timestamp in the top bits)."""

    def __init__(self) -> None:
        self._counter = itertools.count()

    def __call__(self) -> int:
        now_ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return (now_ms << 22) | (next(self._counter) & 0x3FFFFF)


def iso_now() -> str:
    """The current time as Discord writes timestamps."""
    return datetime.now(UTC).isoformat()


@dataclass
class FakeUser:
    id: int
    username: str
    bot: bool = False

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "username": self.username,
            "global_name": None if self.bot else self.username.title(),
            "discriminator": "0",
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
            "flags": 0,
            "avatar_decoration_data": None,
        }


@dataclass
class FakeAttachment:
    """A file a user attaches to a command option; the fake serves `content` at `url`, as
    Discord's CDN does (`FakeDiscord.attachment` makes one)."""

    id: int
    filename: str
    content: bytes
    url: str
    content_type: str = "text/plain; charset=utf-8"

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "filename": self.filename,
            "size": len(self.content),
            "url": self.url,
            "proxy_url": self.url,
            "content_type": self.content_type,
        }


@dataclass
class FakeRole:
    id: int
    name: str
    permissions: int = 0
    position: int = 0
    mentionable: bool = False
    managed: bool = False

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "color": 0,
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed,
            "mentionable": self.mentionable,
            "flags": 0,
        }


@dataclass
class Overwrite:
    """A channel permission overwrite for a role (type 0) or a member (type 1)."""

    id: int
    type: int
    allow: int = 0
    deny: int = 0

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "type": self.type,
            "allow": str(self.allow),
            "deny": str(self.deny),
        }


@dataclass
class FakeChannel:
    """A text channel, a voice channel (its chat takes messages and commands), or a public
    thread in a text channel (`parent_id`; it has no overwrites of its own: its parent's
    apply, as on Discord)."""

    id: int
    guild_id: int
    name: str
    position: int = 0
    topic: str | None = None
    overwrites: list[Overwrite] = field(default_factory=list)
    type: int = GUILD_TEXT
    parent_id: int | None = None
    owner_id: int | None = None

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    @property
    def is_thread(self) -> bool:
        return self.type == PUBLIC_THREAD

    def payload(self) -> dict[str, Any]:
        if self.is_thread:
            return self._thread_payload()
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [o.payload() for o in self.overwrites],
            "nsfw": False,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "parent_id": None,
            "flags": 0,
        }
        if self.type == GUILD_VOICE:
            data.update(bitrate=64000, user_limit=0, rtc_region=None, video_quality_mode=1)
        else:
            data["topic"] = self.topic
        return data

    def _thread_payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "parent_id": str(self.parent_id),
            "owner_id": str(self.owner_id),
            "name": self.name,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "message_count": 0,
            "member_count": 1,
            "total_message_sent": 0,
            "flags": 0,
            "applied_tags": [],
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": 1440,
                "archive_timestamp": iso_now(),
                "locked": False,
                "create_timestamp": iso_now(),
            },
        }


@dataclass
class FakeMember:
    user: FakeUser
    roles: list[FakeRole] = field(default_factory=list)
    joined_at: str = field(default_factory=iso_now)

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def mention(self) -> str:
        return self.user.mention

    def payload(self, *, with_user: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "nick": None,
            "avatar": None,
            "banner": None,
            "roles": [str(r.id) for r in self.roles],
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user.payload()
        return data


@dataclass
class FakeGuild:
    """A guild with its roles, text channels and members; ids come from `new_id`."""

    id: int
    name: str
    new_id: Snowflakes = field(repr=False)
    everyone: FakeRole = field(init=False)
    roles: list[FakeRole] = field(default_factory=list)
    channels: list[FakeChannel] = field(default_factory=list)
    threads: list[FakeChannel] = field(default_factory=list)
    members: list[FakeMember] = field(default_factory=list)
    owner_id: int = field(init=False)

    def __post_init__(self) -> None:
        self.owner_id = self.new_id()
        self.everyone = FakeRole(self.id, "@everyone", EVERYONE_PERMISSIONS)
        self.roles.append(self.everyone)

    def add_role(
        self, name: str, permissions: int = 0, *, mentionable: bool = False, managed: bool = False
    ) -> FakeRole:
        role = FakeRole(self.new_id(), name, permissions, len(self.roles), mentionable, managed)
        self.roles.append(role)
        return role

    def add_text_channel(self, name: str, *, topic: str | None = None) -> FakeChannel:
        channel = FakeChannel(self.new_id(), self.id, name, len(self.channels), topic)
        self.channels.append(channel)
        return channel

    def add_voice_channel(self, name: str) -> FakeChannel:
        """A voice channel; its text chat takes messages and slash commands."""
        channel = FakeChannel(self.new_id(), self.id, name, len(self.channels), type=GUILD_VOICE)
        self.channels.append(channel)
        return channel

    def add_thread(self, parent: FakeChannel, name: str) -> FakeChannel:
        """An active public thread in `parent`, started by the guild's owner."""
        thread = FakeChannel(
            self.new_id(),
            self.id,
            name,
            type=PUBLIC_THREAD,
            parent_id=parent.id,
            owner_id=self.owner_id,
        )
        self.threads.append(thread)
        return thread

    def add_member(self, user: FakeUser, roles: Sequence[FakeRole] = ()) -> FakeMember:
        member = FakeMember(user, list(roles))
        self.members.append(member)
        return member

    def channel(self, channel_id: int) -> FakeChannel | None:
        """A channel or thread of the guild."""
        return next((c for c in [*self.channels, *self.threads] if c.id == channel_id), None)

    def member(self, user_id: int) -> FakeMember | None:
        return next((m for m in self.members if m.id == user_id), None)

    def permissions(self, member: FakeMember, channel: FakeChannel | None = None) -> int:
        """The member's permissions, resolved through the channel's overwrites (Discord's order)."""
        base = self.everyone.permissions
        for role in member.roles:
            base |= role.permissions
        if base & ADMINISTRATOR:
            return ALL_PERMISSIONS
        if channel is None:
            return base
        if channel.parent_id is not None:  # a thread: its parent's overwrites apply
            channel = self.channel(channel.parent_id) or channel
        role_ids = {self.id, *(r.id for r in member.roles)}
        layers = (
            [o for o in channel.overwrites if o.type == 0 and o.id == self.id],
            [o for o in channel.overwrites if o.type == 0 and o.id in role_ids - {self.id}],
            [o for o in channel.overwrites if o.type == 1 and o.id == member.id],
        )
        for layer in layers:
            deny = allow = 0
            for overwrite in layer:
                deny |= overwrite.deny
                allow |= overwrite.allow
            base = (base & ~deny) | allow
        return base

    def payload(self) -> dict[str, Any]:
        """The full GUILD_CREATE payload."""
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "features": [],
            "large": False,
            "unavailable": False,
            "joined_at": iso_now(),
            "member_count": len(self.members),
            "roles": [r.payload() for r in self.roles],
            "channels": [c.payload() for c in self.channels],
            "members": [m.payload() for m in self.members],
            "emojis": [],
            "stickers": [],
            "threads": [t.payload() for t in self.threads],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "premium_progress_bar_enabled": False,
        }


@dataclass(frozen=True)
class Mentions:
    """Who a message pings: `@everyone`/`@here`, user ids and role ids."""

    everyone: bool = False
    users: frozenset[int] = frozenset()
    roles: frozenset[int] = frozenset()

    @property
    def nobody(self) -> bool:
        return not (self.everyone or self.users or self.roles)


@dataclass
class PostedMessage:
    """A message as the fake stored it; `payload()` is what Discord returns for it."""

    id: int
    channel_id: int
    guild_id: int | None
    author: dict[str, Any]
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    allowed_mentions: dict[str, Any] | None = None
    mentions: Mentions = field(default_factory=Mentions)
    mentioned_users: list[dict[str, Any]] = field(default_factory=list)
    flags: int = 0
    type: int = 0
    webhook_id: int | None = None
    interaction_id: int | None = None
    timestamp: str = field(default_factory=iso_now)
    edited_timestamp: str | None = None
    deleted: bool = False
    nonce: str | int | None = None

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        """Still the "thinking…" placeholder of a deferred interaction response."""
        return bool(self.flags & LOADING)

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "channel_id": str(self.channel_id),
            "author": self.author,
            "content": self.content,
            "timestamp": self.timestamp,
            "edited_timestamp": self.edited_timestamp,
            "tts": False,
            "mention_everyone": self.mentions.everyone,
            "mentions": self.mentioned_users,
            "mention_roles": [str(rid) for rid in sorted(self.mentions.roles)],
            "attachments": self.attachments,
            "embeds": self.embeds,
            "components": self.components,
            "pinned": False,
            "flags": self.flags,
        }
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        if self.nonce is not None:
            data["nonce"] = self.nonce
        if self.webhook_id is not None:
            data["webhook_id"] = str(self.webhook_id)
            data["application_id"] = str(self.webhook_id)
        return data
