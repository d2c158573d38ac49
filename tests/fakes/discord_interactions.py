"""Interactions the fake dispatches: INTERACTION_CREATE payloads and what the bot answered."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.discord_models import (
    EPHEMERAL,
    FakeAttachment,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeRole,
    Mentions,
    PostedMessage,
)

APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE = 2, 3, 4
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
CHANNEL_MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE = 4, 5, 6, 7
AUTOCOMPLETE_RESULT = 8
#: Discord also allows a modal (callback type 9); the bot opens none, so the fake leaves it out.
ALLOWED_RESPONSES = {
    APPLICATION_COMMAND: {CHANNEL_MESSAGE, DEFERRED_MESSAGE},
    MESSAGE_COMPONENT: {CHANNEL_MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE},
    AUTOCOMPLETE: {AUTOCOMPLETE_RESULT},
}
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024

OptionValue = str | int | float | bool | FakeMember | FakeRole | FakeChannel | FakeAttachment


@dataclass
class InteractionRecord:
    """One interaction the fake dispatched, and everything the bot answered to it."""

    id: int
    token: str
    type: int
    name: str
    guild: FakeGuild = field(repr=False)
    channel_id: int
    user: FakeMember
    payload: dict[str, Any] = field(repr=False)
    dispatched_at: float = 0.0
    response_type: int | None = None
    response: dict[str, Any] | None = field(default=None, repr=False)
    ack_seconds: float | None = None
    message: PostedMessage | None = None
    followups: list[PostedMessage] = field(default_factory=list)
    choices: list[dict[str, Any]] | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def answered(self) -> bool:
        """The bot tried to acknowledge it (accepted or rejected)."""
        return self.response_type is not None or bool(self.errors)

    @property
    def complete(self) -> bool:
        """Nothing more is expected: answered, and a deferred message was filled in."""
        if self.response_type == DEFERRED_MESSAGE:
            return self.message is not None and not self.message.loading
        return self.answered

    @property
    def deferred(self) -> bool:
        return self.response_type in (DEFERRED_MESSAGE, DEFERRED_UPDATE)

    @property
    def reply(self) -> PostedMessage | None:
        """The message the user sees as the answer: the original response, else a followup."""
        return self.message or next(iter(self.followups), None)

    @property
    def content(self) -> str | None:
        return self.reply.content if self.reply else None

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return self.reply.embeds if self.reply else []

    @property
    def components(self) -> list[dict[str, Any]]:
        return self.reply.components if self.reply else []

    @property
    def attachments(self) -> list[dict[str, Any]]:
        return self.reply.attachments if self.reply else []

    @property
    def flags(self) -> int:
        return self.reply.flags if self.reply else 0

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def allowed_mentions(self) -> dict[str, Any] | None:
        return self.reply.allowed_mentions if self.reply else None

    @property
    def mentions(self) -> Mentions:
        return self.reply.mentions if self.reply else Mentions()


def option_type(value: OptionValue) -> int:
    """Discord's option type for a Python value (bool before int: bool is an int)."""
    types: list[tuple[type, int]] = [
        (bool, 5),
        (int, 4),
        (float, 10),
        (str, 3),
        (FakeMember, 6),
        (FakeChannel, 7),
        (FakeRole, 8),
        (FakeAttachment, 11),
    ]
    return next(code for kind, code in types if isinstance(value, kind))


def _option_value(value: OptionValue) -> str | int | float | bool:
    if isinstance(value, FakeMember | FakeRole | FakeChannel | FakeAttachment):
        return str(value.id)
    return value


def resolved_payload(
    guild: FakeGuild, values: Mapping[str, OptionValue], bot: FakeMember
) -> dict[str, Any]:
    """The `resolved` map Discord sends with user, role, channel and attachment options."""
    resolved: dict[str, dict[str, Any]] = {}
    for value in values.values():
        key = str(getattr(value, "id", ""))
        if isinstance(value, FakeMember):
            member = value.payload(with_user=False)
            member["permissions"] = str(guild.permissions(value))
            resolved.setdefault("users", {})[key] = value.user.payload()
            resolved.setdefault("members", {})[key] = member
        elif isinstance(value, FakeRole):
            resolved.setdefault("roles", {})[key] = value.payload()
        elif isinstance(value, FakeChannel):
            channel = {**value.payload(), "permissions": str(guild.permissions(bot, value))}
            resolved.setdefault("channels", {})[key] = channel
        elif isinstance(value, FakeAttachment):
            resolved.setdefault("attachments", {})[key] = value.payload()
    return resolved


def command_options(
    path: list[str], values: Mapping[str, OptionValue], focused: str | None = None
) -> list[dict[str, Any]]:
    """Options for `/root [group] sub` with `values`, nested the way Discord nests them."""
    options: list[dict[str, Any]] = []
    for name, value in values.items():
        option: dict[str, Any] = {"name": name, "type": option_type(value)}
        option["value"] = _option_value(value)
        if name == focused:
            option.update(type=3, value=str(value), focused=True)
        options.append(option)
    for depth, name in reversed(list(enumerate(path[1:]))):
        kind = SUB_COMMAND if depth == len(path) - 2 else SUB_COMMAND_GROUP
        options = [{"name": name, "type": kind, "options": options}]
    return options


def interaction_payload(
    *,
    interaction_id: int,
    kind: int,
    application_id: int,
    guild: FakeGuild,
    channel: FakeChannel,
    user: FakeMember,
    bot: FakeMember,
    data: dict[str, Any],
    message: PostedMessage | None = None,
) -> dict[str, Any]:
    """An INTERACTION_CREATE payload from `user` in `channel`."""
    member = user.payload()
    member["permissions"] = str(guild.permissions(user, channel))
    payload: dict[str, Any] = {
        "id": str(interaction_id),
        "application_id": str(application_id),
        "type": kind,
        "data": data,
        "guild_id": str(guild.id),
        "guild": {"id": str(guild.id), "locale": "en-US", "features": []},
        "channel_id": str(channel.id),
        "channel": {**channel.payload(), "permissions": member["permissions"]},
        "member": member,
        "token": f"aW50ZXJhY3Rpb246{secrets.token_urlsafe(64)}",
        "version": 1,
        "app_permissions": str(guild.permissions(bot, channel)),
        "locale": "en-US",
        "guild_locale": "en-US",
        "entitlements": [],
        "entitlement_sku_ids": [],
        "authorizing_integration_owners": {"0": str(guild.id)},
        "context": 0,
        "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
    }
    if message is not None:
        payload["message"] = message.payload()
    return payload


def find_component(rows: list[dict[str, Any]], custom_id: str) -> dict[str, Any]:
    """The enabled component with `custom_id` (a user can click nothing else)."""
    for row in rows:
        for item in row.get("components") or []:
            if item.get("custom_id") == custom_id and not item.get("disabled"):
                return item
    raise LookupError(f"no enabled component with custom_id {custom_id!r} on this message")
