"""Can the bot post alerts where a manager asks? Checked when a subscription is made, so the
first real release is not the first test, and answered with exactly what is missing.

Discord's own rules apply: without Send Messages, Embed Links is denied too, so both are named.
"""

from __future__ import annotations

import discord

from bot.discordbot.options import BadOption

#: What posting an alert needs: the permission's attribute and its name in Discord's UI.
TO_POST = {
    "view_channel": "View Channel",
    "send_messages": "Send Messages",
    "embed_links": "Embed Links",
}
MENTION_EVERYONE = "Mention Everyone"

AlertChannel = discord.TextChannel


def bot_permissions(interaction: discord.Interaction, channel: AlertChannel) -> discord.Permissions:
    """The bot's permissions in `channel`: from the interaction itself when it is this channel
    (Discord computed them), else from the cached guild."""
    if channel.id == interaction.channel_id:
        return interaction.app_permissions
    return channel.permissions_for(channel.guild.me)


def missing_to_post(
    interaction: discord.Interaction, channel: AlertChannel, role: discord.Role | None
) -> list[str]:
    """The permissions the bot lacks in `channel` to post alerts mentioning `role`."""
    permissions = bot_permissions(interaction, channel)
    missing = [label for name, label in TO_POST.items() if not getattr(permissions, name)]
    if role is not None and not role.mentionable and not permissions.mention_everyone:
        missing.append(f"{MENTION_EVERYONE} (or make the role {role.name} mentionable)")
    return missing


def check_alert_channel(
    interaction: discord.Interaction, channel: AlertChannel, role: discord.Role | None = None
) -> None:
    """Refuse (`BadOption`, answered privately) a channel the manager cannot configure or the
    bot cannot post alerts in; nothing is stored then."""
    member = interaction.user
    if isinstance(member, discord.Member) and not channel.permissions_for(member).manage_channels:
        raise BadOption(f"You need the Manage Channels permission in #{channel.name} for this.")
    missing = missing_to_post(interaction, channel, role)
    if missing:
        raise BadOption(
            f"I cannot post alerts in #{channel.name}: I need {', '.join(missing)} there. "
            "Nothing was changed: fix the channel's permissions and try again."
        )
