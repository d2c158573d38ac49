"""Shared option types and checks for slash commands: who may, how often, and event lists."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Literal, TypeVar, get_args

import discord
from discord import app_commands

from bot.core import bypass, events
from bot.core.events import DEFAULT_EVENTS, Event
from bot.core.slugs import MAX_SLUG_LENGTH
from bot.messages.limits import AUTOCOMPLETE_CHOICES, CHOICE_NAME, truncate

#: The check on every subcommand that changes a channel's subscriptions or settings.
manager_only = app_commands.checks.has_permissions(manage_channels=True)


def lookup_cooldown() -> Callable[[T], T]:
    """A per-user bucket of its own for one lookup that may reach Django Packages (a
    volunteer-run site): 5 per 30 s, plenty to read, too few to hammer it."""
    return app_commands.checks.cooldown(5, 30.0)


def sample_cooldown() -> Callable[[T], T]:
    """A per-channel bucket for `/watch test`: every sample is a post in the channel (a ping
    too, when asked), so 2 a minute whoever asks, on top of each member's own bucket."""
    return app_commands.checks.cooldown(2, 60.0, key=lambda interaction: interaction.channel_id)


def setup_cooldown() -> Callable[[T], T]:
    """A per-user bucket of its own for one manager's configuration command: 30 a minute, so
    setting up a channel in one go is never throttled, only a runaway script is."""
    return app_commands.checks.cooldown(30, 60.0)


DigestModeName = Literal["immediate", "daily", "weekly"]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAY_VALUES: tuple[Weekday, ...] = get_args(Weekday)
Switch = Literal["on", "off"]

T = TypeVar("T")

#: The longest text a slug option takes: a slug's own limit (Discord enforces `max_length`).
Slug = app_commands.Range[str, 1, MAX_SLUG_LENGTH]
#: A followed target as autocomplete sends it, "package:<slug>" or "grid:<slug>".
TargetKey = app_commands.Range[str, 1, len("package:") + MAX_SLUG_LENGTH]
#: A list of event names, or of digest-bypass entries: every one of them fits.
LIST_LENGTH = 200
Entries = app_commands.Range[str, 1, LIST_LENGTH]

_SEPARATORS = re.compile(r"[\s,]+")
_EVENT_VALUES = frozenset(event.value for event in Event)


class BadOption(app_commands.AppCommandError):
    """An option value the user can fix; `str(error)` tells them how."""


class EventsTransformer(app_commands.Transformer):
    """A comma-separated list of event names ("release, stale"), or "all" / "default"."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.string

    @property
    def max_value(self) -> int:
        """Discord's `max_length` for this string option."""
        return LIST_LENGTH

    async def transform(self, interaction: discord.Interaction, value: str, /) -> frozenset[Event]:
        return parse_events(value)

    async def autocomplete(  # type: ignore[override]
        self, interaction: discord.Interaction, value: str, /
    ) -> list[app_commands.Choice[str]]:
        return [
            app_commands.Choice(name=truncate(text, CHOICE_NAME), value=truncate(text, CHOICE_NAME))
            for text in complete_events(value)
        ]


class MentionRoleTransformer(app_commands.Transformer):
    """A role alerts may mention: refused, in one sentence, when pinging it makes no sense, is
    not the member's to do, or cannot work (`check_mention_role`, with the permissions of the
    channel the command runs in; another target channel is checked again for its own)."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.role

    async def transform(self, interaction: discord.Interaction, value: Any, /) -> discord.Role:
        if not isinstance(value, discord.Role):
            raise BadOption("Pick a role of this server.")
        check_mention_role(value, interaction.permissions, interaction.app_permissions)
        return value


def check_mention_role(
    role: discord.Role,
    member_permissions: discord.Permissions,
    bot_permissions: discord.Permissions,
) -> None:
    """Refuse `@everyone` (pinging the whole server is never a manager's package alert), an
    app's or integration's own role (it holds only that app), and a role that is not
    mentionable unless both the member (Discord's own rule for them: the bot must not ping
    for them what they could not) and the bot have Mention Everyone where the alerts go."""
    if role.is_default():
        raise BadOption(
            "@everyone cannot be an alert's role: pick a role people can join for these alerts."
        )
    if role.managed and not role.is_premium_subscriber():
        raise BadOption(
            f"The role {role.name} belongs to an app or integration, so it cannot be an alert's "
            "role: pick a role people can join."
        )
    if role.mentionable:
        return
    if not member_permissions.mention_everyone:
        raise BadOption(
            f"You cannot mention the role {role.name} yourself (it is not mentionable and you "
            "do not have Mention Everyone), so alerts cannot mention it for you: ask a server "
            "manager, or make the role mentionable."
        )
    if not bot_permissions.mention_everyone:
        raise BadOption(
            f"I cannot mention the role {role.name}: allow anyone to mention it (Server "
            "Settings → Roles) or give me Mention Everyone, then try again."
        )


MentionRole = app_commands.Transform[discord.Role, MentionRoleTransformer]


def parse_events(value: str) -> frozenset[Event]:
    """`bot.core.events.parse_events`, its complaint worded for the user."""
    try:
        return events.parse_events(value)
    except events.UnknownEvent as exc:
        raise BadOption(str(exc)) from None


def parse_bypass(value: str) -> tuple[str, ...]:
    """Digest-bypass entries: "stale, release:major" → ("stale", "release:major"); "none" → ().

    An entry is an event name, or `release:LEVEL` for releases of that level and above
    (`bot.core.bypass`, whose complaint is worded here for the user).
    """
    entries = [entry.lower() for entry in _SEPARATORS.split(value) if entry]
    if entries == ["none"]:
        return ()
    try:
        return bypass.validate(entries)
    except bypass.UnknownBypass as exc:
        raise BadOption(
            f"Unknown digest bypass {exc.entry!r}: use {bypass.ENTRY_FORMS}, or none."
        ) from None


def complete_events(value: str) -> list[str]:
    """Suggestions that finish the last name typed, keeping the ones before it."""
    *typed, partial = value.lower().split(",")
    chosen = [name.strip() for name in typed if name.strip() in _EVENT_VALUES]
    prefix = "".join(f"{name}, " for name in chosen)
    suggestions = [
        f"{prefix}{event.value}"
        for event in Event
        if event.value not in chosen and event.value.startswith(partial.strip())
    ]
    if not chosen:
        suggestions += [word for word in ("default", "all") if word.startswith(partial.strip())]
    return suggestions[:AUTOCOMPLETE_CHOICES]


def describe_events(names: list[str] | frozenset[Event]) -> str:
    """Events in words: every event, every event but repo, or their names."""
    wanted = {str(name) for name in names}
    if wanted == {event.value for event in Event}:
        return "every event"
    if wanted == {event.value for event in DEFAULT_EVENTS}:
        return "every event but repo"
    return ", ".join(event.value for event in Event if event.value in wanted) or "no events"
