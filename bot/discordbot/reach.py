"""Can the bot post alerts where a manager asks? Checked when a subscription is made, so the
first real release is not the first test, and answered with exactly what is missing.

Discord's own rules apply: without Send Messages, Embed Links is denied too, so both are named.
"""

from __future__ import annotations

import discord

from bot.discordbot.options import BadOption, check_mention_role
from bot.discordbot.permissions import AlertChannel, check_manages

#: What posting an alert needs: the permission's attribute and its name in Discord's UI.
TO_POST = {
    "view_channel": "View Channel",
    "send_messages": "Send Messages",
    "embed_links": "Embed Links",
}


def bot_permissions(interaction: discord.Interaction, channel: AlertChannel) -> discord.Permissions:
    """The bot's permissions in `channel`: from the interaction itself when it is this channel
    (Discord computed them), else from the cached guild."""
    if channel.id == interaction.channel_id:
        return interaction.app_permissions
    return channel.permissions_for(channel.guild.me)


def missing_to_post(interaction: discord.Interaction, channel: AlertChannel) -> list[str]:
    """The permissions the bot lacks in `channel` to post alerts."""
    permissions = bot_permissions(interaction, channel)
    return [label for name, label in TO_POST.items() if not getattr(permissions, name)]


def check_alert_channel(
    interaction: discord.Interaction, channel: AlertChannel, role: discord.Role | None = None
) -> None:
    """Refuse (`BadOption`, answered privately) a channel the manager cannot configure or the
    bot cannot post alerts in, and a role that neither may mention there; nothing is stored
    then."""
    check_manages(interaction, channel)
    missing = missing_to_post(interaction, channel)
    if missing:
        raise BadOption(
            f"I cannot post alerts in #{channel.name}: I need {', '.join(missing)} there. "
            "Nothing was changed: fix the channel's permissions and try again."
        )
    if role is not None and channel.id != interaction.channel_id:
        member = interaction.user
        assert isinstance(member, discord.Member), "guild-only"
        check_mention_role(
            role, channel.permissions_for(member), bot_permissions(interaction, channel)
        )
