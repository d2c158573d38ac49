"""Who may do what, as Discord itself would judge the member: where a command runs, who may
configure another channel or read the whole server, and whose role mentions are allowed.

Channel overwrites grant a permission in that channel only; what reaches beyond the channel a
command runs in needs the permission server-wide (`Member.guild_permissions`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import discord
from discord import app_commands

from bot.discordbot.options import BadOption, check_mention_role

T = TypeVar("T")

AlertChannel = discord.TextChannel


def _command(interaction: discord.Interaction) -> str:
    return f"/{interaction.command.qualified_name}" if interaction.command else "this command"


def text_channel_of(interaction: discord.Interaction) -> AlertChannel:
    """The text channel a command runs in; a thread or a voice channel's chat is refused with
    one sentence saying where to run it (alerts and settings belong to text channels)."""
    channel = interaction.channel
    if isinstance(channel, AlertChannel):
        return channel
    command = _command(interaction)
    if isinstance(channel, discord.Thread):
        parent = f"#{channel.parent.name}" if channel.parent else "its channel"
        raise BadOption(
            f"Threads have no alerts or settings of their own: run {command} in {parent} "
            "(or another text channel) instead."
        )
    raise BadOption(
        f"{command} works in text channels only, not in a voice channel's chat: run it in the "
        "text channel that should get the alerts."
    )


def text_channel_only() -> Callable[[T], T]:
    """A check: the command runs in a text channel (`text_channel_of`)."""

    def predicate(interaction: discord.Interaction) -> bool:
        text_channel_of(interaction)
        return True

    return app_commands.check(predicate)


def server_wide(interaction: discord.Interaction) -> discord.Permissions:
    """The member's permissions for the whole server: their roles, no channel overwrite."""
    member = interaction.user
    if not isinstance(member, discord.Member):
        raise app_commands.NoPrivateMessage()
    return member.guild_permissions


def server_manager_only() -> Callable[[T], T]:
    """A check for what reads every channel of the server (`/settings export`): Manage Server,
    held server-wide, since a channel overwrite grants it for one channel only."""

    def predicate(interaction: discord.Interaction) -> bool:
        if not server_wide(interaction).manage_guild:
            raise BadOption(
                f"{_command(interaction)} covers every channel of this server, so it needs the "
                "Manage Server permission server-wide: ask a server manager."
            )
        return True

    return app_commands.check(predicate)


def check_manages(interaction: discord.Interaction, channel: AlertChannel) -> None:
    """Refuse configuring `channel` unless the member manages it: Manage Channels there, and
    server-wide when it is not the channel the command runs in."""
    member = interaction.user
    assert isinstance(member, discord.Member), "guild-only"
    if not channel.permissions_for(member).manage_channels:
        raise BadOption(f"You need the Manage Channels permission in #{channel.name} for this.")
    if channel.id != interaction.channel_id and not member.guild_permissions.manage_channels:
        raise BadOption(
            f"Setting up alerts in another channel (#{channel.name}) needs the Manage Channels "
            "permission server-wide: run the command in that channel instead."
        )


def check_stored_role(interaction: discord.Interaction, role_id: int) -> None:
    """Refuse pinging a subscription's stored role now, unless the member (and the bot) may
    mention it here today: it may have been made unmentionable since it was chosen."""
    role = interaction.guild.get_role(role_id) if interaction.guild else None
    if role is None:
        raise BadOption(
            "The role this subscription mentions no longer exists: pick another with "
            "/settings alerts, or run the test without ping."
        )
    check_mention_role(role, interaction.permissions, interaction.app_permissions)
